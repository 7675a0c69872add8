"""`map`'s options, converted without pydantic, give what Typer's own adapters give: values and errors alike."""

from __future__ import annotations

import typer.main
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from backoffice.cli.app import map_app
from backoffice.cli.map_params import PlainParam

SAMPLES = ["0", "1", "10", "-1", "010", " 5", "5 ", "+5", "1_000", "2.5", ".5", "1e-1", "0.8", "1.", "x", "",
           "role", "ROLE", "resource", "events", "instances", "skip", "fail", "log.csv", "/tmp/a b/log.xes",
           "-", "UTC", "2024-01-01", "é", True, False, None]


def outcome(runtime, value, param, ctx):
    try:
        return "value", runtime.coerce(value, param=param, ctx=ctx)
    except BadParameter as exc:
        return "error", exc.format_message()


def test_every_option_of_map_converts_as_typers_adapter_does():
    group = typer.main.get_command(map_app)
    command = group.commands["map"]
    ctx = command.make_context("map", ["log.csv"], parent=group.make_context("backoffice", ["map", "log.csv"]))
    params = [*group.get_params(ctx), *command.get_params(ctx)]
    plain = [param for param in params if isinstance(param._runtime_param, PlainParam)]
    # Every option of map and of its group, --help included, takes the plain way.
    assert len(plain) == len(params) and len(params) > 35
    compared = 0
    for param in params:
        ours, typers = param._runtime_param, build_runtime_param(param.type_descriptor)
        for value in [*SAMPLES, param.default]:
            assert outcome(ours, value, param, ctx) == outcome(typers, value, param, ctx), (param.name, value)
            compared += 1
    assert compared > 1000
