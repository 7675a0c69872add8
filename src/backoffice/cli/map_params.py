"""The `map` command's options converted without a pydantic TypeAdapter each, the same values and errors.

Typer converts every parameter of a command, its defaults included, through a pydantic
TypeAdapter built for it on first use: for `map`'s 39 options, pydantic's import and 39
schemas, some 0.07 s of CPU at the start of every map. Values of the kinds `map` takes
(text, paths, choices, whole and plain decimal numbers) are converted here as Typer's
adapters convert them, by Typer's own functions; anything else, and every value these
refuse, goes to Typer's adapter, so errors read as they always have.
"""

from __future__ import annotations

import re
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any

import typer.core
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path

_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


class _Refused(Exception):
    """This value is left to Typer's own adapter."""


def _plain(annotation: Any) -> Any:
    """The annotation without Optional: X for X | None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kept = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(kept) == 1:
            return kept[0]
    return annotation


def _converter(annotation: Any, info: Any):
    """A function converting one value as Typer's adapter does, raising _Refused otherwise; None if no such kind."""
    kind = _plain(annotation)
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return None
    if kind in (str, bool):
        # Text and flags arrive from click already as what they are: take them as they are.
        def exactly(value, param, ctx, kind=kind):
            if type(value) is kind:
                return value
            raise _Refused
        return exactly
    if kind in (int, float):
        if getattr(info, "min", None) is not None or getattr(info, "max", None) is not None or \
                getattr(info, "clamp", False):
            return None
        pattern = _WHOLE if kind is int else _DECIMAL

        def number(value, param, ctx):
            if type(value) is kind:
                return value
            if type(value) is str and pattern.fullmatch(value):
                return kind(value)
            raise _Refused
        return number
    if isinstance(kind, type) and issubclass(kind, Enum):
        choices = list(kind)

        def choice(value, param, ctx):
            try:
                return coerce_cli_choice(value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx)
            except ValueError as exc:
                raise _Refused from exc
        return choice
    if kind is Path and getattr(info, "path_type", None) in (None, Path):
        def path(value, param, ctx):
            if type(value) is str:
                value = Path(value)  # what pydantic's Path adapter makes of text
            if not isinstance(value, Path):
                raise _Refused
            return coerce_cli_path(value, info, path_type=Path, param=param, ctx=ctx)
        return path
    return None


class PlainParam(RuntimeParam):
    """One option's conversion: Typer's functions for the kinds above, Typer's adapter for the rest."""

    def __init__(self, descriptor: Any, convert: Any) -> None:
        super().__init__(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)
        object.__setattr__(self, "_descriptor", descriptor)
        object.__setattr__(self, "_convert", convert)
        object.__setattr__(self, "_typer", None)

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            return self._convert(value, param, ctx)
        except _Refused:
            pass
        if self._typer is None:
            object.__setattr__(self, "_typer", build_runtime_param(self._descriptor))
        return self._typer._coerce_value(value, param=param, ctx=ctx)


def _convert_plainly(params: list[Any]) -> None:
    for param in params:
        if isinstance(param, typer.core._TyperParameter) and param._runtime_param is None:
            descriptor = param.type_descriptor
            if descriptor.file_annotation is None and not param.multiple and param.nargs == 1:
                convert = _converter(descriptor.annotation, descriptor.parameter_info)
                if convert is not None:
                    param._runtime_param = PlainParam(descriptor, convert)


class PlainParamsCommand(typer.core.TyperCommand):
    """A Typer command whose options of plain kinds are converted without pydantic (see the module's text)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _convert_plainly(self.get_params(ctx))  # --help too
        return super().parse_args(ctx, args)


class PlainParamsGroup(typer.core.TyperGroup):
    """A Typer group whose own options (--debug, --version, --help) are converted as PlainParamsCommand's."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _convert_plainly(self.get_params(ctx))
        return super().parse_args(ctx, args)
