"""Reading definition files: positions of keys, values and expressions; errors for unreadable files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from backoffice.definitions import LIBRARY, Definition, check_definition, load_definition
from backoffice.definitions.loader import SourceMap, _plain
from backoffice.errors import DefinitionError, UserError
from ruamel.yaml import YAML


def source_of(text: str) -> tuple[object, SourceMap]:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    source = SourceMap("f.yaml", text.splitlines())
    return _plain(yaml.load(text), (), source), source


def test_load_definition_returns_the_template_as_a_definition():
    definition = load_definition(LIBRARY / "service-request.yaml")
    assert isinstance(definition, Definition)
    assert definition.intake_state == "new"
    assert [t.to for t in definition.allowed_transitions("in-progress")] == [
        "waiting-on-requester", "blocked", "done"]


def test_load_definition_raises_with_every_problem(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text((LIBRARY / "service-request.yaml").read_text()
                    .replace("version: 1", "version: first")
                    .replace("{from: blocked, to: in-progress", "{from: blocked, to: in-progres"))
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    assert isinstance(caught.value, UserError)
    assert sorted(p.code for p in caught.value.problems) == ["invalid-value", "undefined-state"]
    assert "2 problems" in caught.value.message and str(path) in caught.value.message


def test_positions_of_keys_values_and_items_are_one_based():
    _, source = source_of("a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n")
    assert source.where(("a",), key=True) == (1, 1) and source.where(("a",)) == (1, 4)
    assert source.where(("b", "c", 1)) == (3, 10)
    assert source.where(("b", "d", 0, "e"), key=True) == (5, 7)


def test_a_missing_part_is_placed_at_its_parent():
    _, source = source_of("a:\n  b: word\n")
    assert source.where(("a", "missing"), key=True) == (1, 1)
    # A word where a list was allowed: item 0 is the word itself.
    assert source.where(("a", "b", 0)) == (2, 6)


@pytest.mark.parametrize(("text", "offset", "expected"), [
    ("g: data.x > 1\n", 5, (1, 9)),
    ("g: 'data.x > 1'\n", 5, (1, 10)),
    ('g: "data.x > 1"\n', 0, (1, 5)),
    ("g: |\n  data.x > 1 &&\n    data.y\n", 16, (3, 5)),
    ("k:\n  g: >\n    data.x\n    && data.y\nz: 1\n", 10, (4, 8)),
])
def test_an_offset_inside_an_expression_maps_to_the_file(text, offset, expected):
    data, source = source_of(text)
    path = ("k", "g") if "k" in data else ("g",)
    assert source.where_in_expression(path, offset) == expected


def test_the_indices_of_items_set_aside_are_translated():
    _, source = source_of("t:\n  - a\n  - b\n  - c\n")
    source.kept_indices["t"] = [0, 2]
    assert source.where(("t", 1)) == (4, 5)


def test_a_missing_file_is_one_problem(tmp_path):
    report = check_definition(tmp_path / "absent.yaml")
    (problem,) = report.errors
    assert problem.code == "unreadable" and (problem.line, problem.column) == (1, 1)


def test_a_file_that_is_not_utf8_is_one_problem(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes("title: Caf\xe9\n".encode("latin-1"))
    (problem,) = check_definition(path).errors
    assert "not UTF-8" in problem.message


def test_an_empty_file_or_a_list_is_no_definition(tmp_path):
    for text in ("", "- a\n- b\n"):
        path = tmp_path / "odd.yaml"
        path.write_text(text)
        (problem,) = check_definition(path).errors
        assert problem.code == "not-a-mapping" and "id, title" in problem.expected


def test_missing_required_fields_name_what_is_expected(tmp_path):
    path = tmp_path / "thin.yaml"
    path.write_text("id: thin\ntitle: Thin\nversion: 1\n")
    report = check_definition(path)
    missing = {p.message.split("'")[1]: p for p in report.errors if p.code == "missing-field"}
    assert {"purpose", "owner", "trigger", "states", "transitions"} <= set(missing)
    assert "accountable" in missing["owner"].expected


def test_a_value_of_the_wrong_kind_lists_the_allowed_values(tmp_path):
    path = tmp_path / "kind.yaml"
    path.write_text((LIBRARY / "service-request.yaml").read_text().replace("{kind: done, title: Done}",
                                                                           "{kind: finished, title: Done}"))
    (problem,) = check_definition(path).errors
    assert problem.code == "invalid-value" and "states.done.kind" in problem.message
    assert "'done'" in problem.expected and "'cancelled'" in problem.expected
    line = path.read_text().splitlines()[problem.line - 1]
    assert line[problem.column - 1:].startswith("finished")


def test_a_value_that_fits_no_member_of_a_union_is_one_problem(tmp_path):
    path = tmp_path / "ends.yaml"
    path.write_text((LIBRARY / "service-request.yaml").read_text().replace("ends: cancelled", "ends: [x]", 1))
    (problem,) = check_definition(path).errors
    assert "boolean" in problem.expected and "string" in problem.expected


def test_the_contract_module_reads_the_inputs_when_there_is_one(tmp_path):
    contract = tmp_path / "c.v1.yaml"
    contract.write_text(textwrap.dedent("""\
        name: c
        version: 1.0.0
        description: C.
        producer: p
        schema:
          summary: {type: string, required: true}
        """))
    text = (LIBRARY / "service-request.yaml").read_text()
    start, end = text.index("inputs:\n"), text.index("systems:")
    path = tmp_path / "d.yaml"
    path.write_text(text[:start] + "inputs: {contract: c.v1.yaml}\n" + text[end:])
    report = check_definition(path)
    # The template reads data.urgency, data.category ... which this contract lacks.
    assert report.errors and {p.code for p in report.errors} <= {"unknown-reference", "unknown-data-field"}
    assert all(Path(p.path) == path for p in report.errors)


def test_a_control_character_yaml_forbids_is_a_problem_at_its_line_not_a_crash(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: purchase\ntitle: Pur\x1fchase\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as refused:
        load_definition(path)
    problem = refused.value.problems[0]
    assert (problem.line, problem.column) == (2, 11)
    assert "'\\x1f'" in problem.message
