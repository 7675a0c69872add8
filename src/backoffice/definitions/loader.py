"""Read a workflow definition from YAML, and report every problem with its line and column.

`check_definition` reads a file, validates it against the model and runs the checks of
`checks.py`, returning every error and warning of the file in one run; `load_definition`
returns the definition or raises `DefinitionError` with all of its problems.

ruamel.yaml keeps where each key and value is, so a pydantic error (a path of keys and
indices) maps back to a line and column, and a CEL error inside an expression maps to its
place within the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import (DoubleQuotedScalarString, FoldedScalarString, LiteralScalarString,
                                      SingleQuotedScalarString)

from backoffice.definitions.checks import Tolerance, run_checks
from backoffice.definitions.expressions import FieldTree
from backoffice.definitions.model import Definition
from backoffice.limits import check_file_size, check_yaml
from backoffice.errors import DefinitionError, DefinitionProblem, InputRefused, UserError, suggest

Path_ = tuple[Any, ...]
# Parts of a definition that are collections: one broken item is set aside and the rest checked.
_COLLECTIONS = frozenset({"states", "transitions", "roles", "people", "queues", "routing", "approvals",
                          "exceptions", "controls", "timers", "automated_steps", "monitoring"})
# Stand-ins for broken required parts, so the rest of the file can still be checked; the
# checks are told which parts are stand-ins and say nothing about them.
_PLACEHOLDERS: dict[str, Any] = {
    "id": "broken", "title": "-", "version": 1, "purpose": "-", "owner": {"person": "placeholder"},
    "trigger": {"event": "-", "system": "-"}, "scope": {"starts": ["-"]}, "inputs": {"fields": {}},
    "systems": ["-"], "systems_of_record": {}, "roles": {}, "proof_of_completion": {"record": "-"},
    "states": {"-": {"kind": "intake"}}, "transitions": [{"from": "-", "to": "-"}],
}


@dataclass(frozen=True)
class CheckReport:
    """Everything `check` found in one file: errors, warnings, and the definition when it is usable."""

    path: Path
    errors: tuple[DefinitionProblem, ...]
    warnings: tuple[DefinitionProblem, ...]
    definition: Definition | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def problems(self) -> tuple[DefinitionProblem, ...]:
        """Errors and warnings in the order of the file."""
        return tuple(sorted(self.errors + self.warnings, key=lambda p: (p.line, p.column)))


@dataclass
class SourceMap:
    """Where each key and value of a YAML document is (1-based line and column), by path."""

    path: str
    lines: list[str]
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    styles: dict[Path_, str] = field(default_factory=dict)
    # For a collection whose broken items were set aside: the model's index -> the file's index.
    kept_indices: dict[str, list[int]] = field(default_factory=dict)

    def where(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Return the line and column of a path's key (key=True) or value; a missing path gives its parent's."""
        path = self._in_file(path)
        while path:
            found = (self.keys.get(path) if key else None) or self.values.get(path)
            if found:
                return found
            # A missing part is placed at its parent: on the parent's value when that is one
            # word (a state written where a list was allowed), else on the parent's key.
            path = path[:-1]
            key = path not in self.styles
        return (1, 1)

    def where_in_expression(self, path: Path_, offset: int) -> tuple[int, int]:
        """Return the line and column of the character `offset` of the expression at `path`."""
        path = self._in_file(path)
        if path not in self.values:
            return self.where(path)
        line, column = self.values[path]
        style = self.styles.get(path, "plain")
        if style in ("literal", "folded"):
            # The block's lines are indented deeper than its key; the first one sets the indentation.
            parent_indent = self.keys.get(path, (line, 1))[1] - 1
            segments, block_indent = [], None
            for number in range(line + 1, len(self.lines) + 1):
                text = self.lines[number - 1]
                indent = len(text) - len(text.lstrip())
                if text.strip() and indent <= parent_indent:
                    break
                if block_indent is None and text.strip():
                    block_indent = indent
                segments.append((number, (block_indent or 0) + 1, text[block_indent or 0:]))
        else:
            first = column + (1 if style in ("single", "double") else 0)
            segments = [(line, first, self.lines[line - 1][first - 1:])]
            segments += [(n, len(t) - len(t.lstrip()) + 1, t.strip())
                         for n, t in enumerate(self.lines[line:], start=line + 1)]
        remaining = offset
        for number, start, text in segments:
            if remaining <= len(text):
                return (number, start + remaining)
            remaining -= len(text) + 1
        return (line, column)

    def _in_file(self, path: Path_) -> Path_:
        if len(path) >= 2 and path[0] in self.kept_indices and isinstance(path[1], int):
            kept = self.kept_indices[path[0]]
            if path[1] < len(kept):
                return (path[0], kept[path[1]]) + tuple(path[2:])
        return tuple(path)


def load_definition(path: Path | str) -> Definition:
    """Read a definition file and check it whole.

    Raises:
        DefinitionError: the file has errors; every one found is in `problems`.
    """
    report = check_definition(path)
    if report.errors or report.definition is None:
        raise DefinitionError(path, report.errors)
    return report.definition


def check_definition(path: Path | str) -> CheckReport:
    """Read a definition file and return all its errors and warnings, never stopping at the first."""
    path = Path(path)
    document, source, problems = _read(path)
    if document is None:
        return CheckReport(path, tuple(problems), ())
    definition, tolerance, problems = _validate(document, source)
    if definition is None:
        return CheckReport(path, tuple(problems), ())
    data_fields, contract_problems = _data_fields(definition, path, source, tolerance)
    problems += contract_problems
    problems += run_checks(definition, source, tolerance, data_fields)
    errors = tuple(p for p in problems if p.severity == "error")
    warnings = tuple(p for p in problems if p.severity == "warning")
    return CheckReport(path, errors, warnings, None if errors else definition)


def _problem(source: SourceMap | str, where: tuple[int, int], code: str, message: str,
             expected: str | None) -> DefinitionProblem:
    name = source.path if isinstance(source, SourceMap) else source
    return DefinitionProblem(name, where[0], where[1], message, expected, code)


def _read(path: Path) -> tuple[Any, SourceMap, list[DefinitionProblem]]:
    source = SourceMap(str(path), [])
    try:
        # Bounded before anything is built: a file past the size limit is not read, and an alias bomb not expanded.
        check_file_size(path, "the definition")
        text = path.read_text(encoding="utf-8")
        check_yaml(text, str(path))
    except InputRefused as exc:
        return None, source, [_problem(source, (1, 1), "too-large", f"{exc.problem}", exc.expected)]
    except FileNotFoundError:
        return None, source, [_problem(source, (1, 1), "unreadable", "cannot open the file (no such file)",
                                       "a workflow definition YAML file")]
    except UnicodeDecodeError as exc:
        return None, source, [_problem(source, (1, 1), "unreadable", f"the file is not UTF-8 (byte {exc.start})",
                                       "UTF-8 text")]
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        return None, source, [_problem(source, (1, 1), "unreadable", f"cannot open the file ({reason})",
                                       "a workflow definition YAML file")]
    source.lines = text.splitlines()
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        return None, source, [_yaml_problem(source, exc)]
    except ReaderError as exc:
        # A character YAML forbids (a control character, a lone surrogate): where it is, by offset.
        before = text[:exc.position]
        where = (before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        character = chr(exc.character) if isinstance(exc.character, int) else exc.character
        return None, source, [_problem(source, where, "unreadable", f"the character {character!r} is "
                                       f"not allowed in YAML", "printable text (no control characters)")]
    if not isinstance(tree, CommentedMap):
        return None, source, [_problem(source, (1, 1), "not-a-mapping",
                                       "the file holds no definition" if tree is None else
                                       "the file holds a list or a value, not a definition",
                                       "a YAML mapping with id, title, version, owner, states, transitions ...")]
    return _plain(tree, (), source), source, []


def _yaml_problem(source: SourceMap, exc: MarkedYAMLError) -> DefinitionProblem:
    mark = exc.problem_mark or exc.context_mark
    where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = str(exc.problem or "")
    if "duplicate key" in problem:
        return _problem(source, where, "duplicate-key", problem.replace("found duplicate", "duplicate"),
                        "each key once in a mapping")
    expected = "valid YAML (check the indentation, quotes and brackets)"
    if problem.startswith("expected ") and ", but " in problem:
        expected, problem = problem.removeprefix("expected ").split(", but ", 1)
    context = f" {exc.context}" if exc.context else ""
    if exc.context_mark and exc.context:
        context += f" (opened at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
    return _problem(source, where, "yaml-syntax", f"YAML syntax error: {problem}{context}", expected)


def _plain(node: Any, path: Path_, source: SourceMap) -> Any:
    """Return plain Python values for a ruamel tree, noting where each key and value is."""
    if isinstance(node, CommentedMap):
        result = {}
        for key, value in node.items():
            plain_key = _plain(key, path, source) if not isinstance(key, str) else str(key)
            child = path + (plain_key,)
            line, column = node.lc.key(key)
            source.keys[child] = (line + 1, column + 1)
            line, column = node.lc.value(key)
            source.values[child] = (line + 1, column + 1)
            result[plain_key] = _plain(value, child, source)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = path + (index,)
            line, column = node.lc.item(index)
            source.values[child] = (line + 1, column + 1)
            items.append(_plain(value, child, source))
        return items
    if isinstance(node, str):
        source.styles[path] = {LiteralScalarString: "literal", FoldedScalarString: "folded",
                               SingleQuotedScalarString: "single",
                               DoubleQuotedScalarString: "double"}.get(type(node), "plain")
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _validate(document: dict[str, Any], source: SourceMap
              ) -> tuple[Definition | None, Tolerance, list[DefinitionProblem]]:
    context = {"defer_expression_errors": True}
    try:
        return Definition.model_validate(document, context=context), Tolerance(), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    problems = _merge([_pydantic_problem(error, document, source) for error in errors])
    # Set the broken parts aside and validate the rest, so that references, the state graph
    # and expressions are still checked in this same run.
    repaired = dict(document)
    pruned: dict[str, set[Any]] = {}
    broken: set[str] = set()
    for error in errors:
        path, _ = _data_path(document, error["loc"])
        loc = error["loc"]
        section = path[0] if path else (loc[0] if loc else None)
        if section is None:
            continue
        if section in _COLLECTIONS and len(path) >= 2:
            pruned.setdefault(section, set()).add(path[1])
        else:
            broken.add(str(section))
    for section in broken:
        if section in _PLACEHOLDERS:
            repaired[section] = _PLACEHOLDERS[section]
        else:
            repaired.pop(section, None)
    for section, removed in pruned.items():
        if section in broken:
            continue
        items = repaired.get(section)
        if isinstance(items, dict):
            repaired[section] = {k: v for k, v in items.items() if k not in removed}
        elif isinstance(items, list):
            source.kept_indices[section] = [i for i in range(len(items)) if i not in removed]
            repaired[section] = [items[i] for i in source.kept_indices[section]]
    tolerance = Tolerance(broken=frozenset(broken), pruned={k: frozenset(v) for k, v in pruned.items()},
                          pruned_names={k: frozenset(str(x) for x in v) for k, v in pruned.items()
                                        if isinstance(document.get(k), dict)})
    try:
        return Definition.model_validate(repaired, context=context), tolerance, problems
    except ValidationError:
        return None, tolerance, problems


def _data_path(document: Any, loc: tuple[Any, ...]) -> tuple[Path_, list[Any]]:
    """Split a pydantic location into the path that exists in the document and the rest."""
    path: list[Any] = []
    current = document
    rest: list[Any] = []
    for element in loc:
        if isinstance(current, dict) and element in current:
            current = current[element]
            path.append(element)
        elif isinstance(current, list) and isinstance(element, int) and 0 <= element < len(current):
            current = current[element]
            path.append(element)
        else:
            rest.append(element)
    return tuple(path), rest


def _render(path: Path_) -> str:
    text = ""
    for element in path:
        text += f"[{element}]" if isinstance(element, int) else (f".{element}" if text else str(element))
    return text or "the definition"


def _pydantic_problem(error: dict[str, Any], document: Any, source: SourceMap) -> tuple[Path_, DefinitionProblem]:
    kind, loc, message = error["type"], error["loc"], error["msg"]
    path, rest = _data_path(document, loc)
    label = _render(path)
    if kind == "missing":
        name = str(rest[-1]) if rest else str(loc[-1])
        model = _type_at(path)
        described = _description(model, name)
        where = source.where(path, key=True) if path else (1, 1)
        inside = f" in {label}" if path else ""
        return path, _problem(source, where, "missing-field", f"missing field {name!r}{inside}",
                              f"{name}: {described}" if described else f"a {name} field")
    if kind == "extra_forbidden":
        name = str(path[-1]) if path else str(loc[-1])
        model = _type_at(path[:-1])
        allowed = _field_names(model)
        close = _closest(name, allowed)
        hint = f"; did you mean {close!r}?" if close else ""
        inside = f" in {_render(path[:-1])}" if len(path) > 1 else ""
        return path, _problem(source, source.where(path, key=True), "unknown-field",
                              f"unknown field {name!r}{inside}{hint}",
                              f"one of {', '.join(allowed)}" if allowed else "no other field here")
    described = _description(_type_at(path[:-1]), str(path[-1])) if path else None
    where = source.where(path)
    if kind == "value_error":
        text = message.removeprefix("Value error, ")
        problem, _, expected = text.partition("; expected ")
        return path, _problem(source, where, "invalid-value", f"{label}: {problem}",
                              expected or described or "a valid value")
    value = error.get("input")
    shown = repr(value) if isinstance(value, (str, int, float, bool)) or value is None else type(value).__name__
    if message.startswith("Input should be "):
        expected = message.removeprefix("Input should be ")
        return path, _problem(source, where, "invalid-value", f"{label}: {shown} is not valid", expected)
    ctx = error.get("ctx") or {}
    if kind in ("too_short", "string_too_short"):
        return path, _problem(source, where, "invalid-value", f"{label} is empty",
                              described or f"at least {ctx.get('min_length', 1)}")
    if kind == "string_pattern_mismatch":
        return path, _problem(source, where, "invalid-value", f"{label}: {shown} is not valid",
                              described or f"text matching {ctx.get('pattern')}")
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return path, _problem(source, where, "invalid-value", f"{label}: {shown} is too small",
                              f"a number of at least {bound}")
    return path, _problem(source, where, "invalid-value", f"{label}: {message[0].lower()}{message[1:]}",
                          described or "a valid value")


def _closest(name: str, choices: list[str]) -> str | None:
    # A swap of two letters (statse) is the commonest slip: prefer the choice with the same letters.
    return next((c for c in choices if sorted(c) == sorted(name)), None) or suggest(name, choices)


def _merge(found: list[tuple[Path_, DefinitionProblem]]) -> list[DefinitionProblem]:
    # A value that fits no member of a union gets one error per member: say them as one.
    merged: dict[tuple[Any, ...], DefinitionProblem] = {}
    for path, problem in found:
        key = (path, problem.code, problem.line, problem.column,
               None if problem.code == "invalid-value" else problem.message)
        if key in merged and problem.code == "invalid-value":
            earlier = merged[key]
            if problem.expected and problem.expected not in (earlier.expected or ""):
                merged[key] = DefinitionProblem(earlier.path, earlier.line, earlier.column, earlier.message,
                                                f"{earlier.expected} or {problem.expected}", earlier.code)
        elif key not in merged:
            merged[key] = problem
    return list(merged.values())


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            structured = [a for a in members if _is_model(a) or get_origin(_strip(a)) in (dict, list)]
            annotation = (structured or members)[0]
        else:
            return annotation


def _strip(annotation: Any) -> Any:
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _type_at(path: Path_) -> Any:
    """Return the type the model expects at a path of the document (None when unknown)."""
    current: Any = Definition
    for element in path:
        current = _unwrap(current)
        if _is_model(current):
            field = next((f for name, f in current.model_fields.items() if (f.alias or name) == element), None)
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list:
            current = get_args(current)[0]
        else:
            return None
    return _unwrap(current)


def _field_names(model: Any) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()] if _is_model(model) else []


def _description(model: Any, name: str) -> str | None:
    if not _is_model(model):
        return None
    field = next((f for n, f in model.model_fields.items() if (f.alias or n) == name), None)
    return field.description if field else None


def _data_fields(definition: Definition, path: Path, source: SourceMap, tolerance: Tolerance
                 ) -> tuple[FieldTree | None, list[DefinitionProblem]]:
    """Return the fields the case data has (from the contract or the inline fields), or None when unknown."""
    if "inputs" in tolerance.broken:
        return None, []
    if definition.inputs.fields is not None:
        return {name: None for name in definition.inputs.fields}, []
    contract_path = (path.parent / definition.inputs.contract).resolve()
    where = source.where(("inputs", "contract"))
    try:
        return _contract_fields(contract_path), []
    except UserError as exc:
        problems = getattr(exc, "problems", None)
        if problems:
            detail = f"it has {len(problems)} problems, the first: {getattr(problems[0], 'message', problems[0])}"
        else:
            detail = getattr(exc, "problem", None) or exc.message.splitlines()[0]
        return None, [_problem(source, where, "contract-unreadable",
                               f"cannot use the data contract {definition.inputs.contract} ({detail})",
                               "a valid data contract file, relative to this definition")]


def _contract_fields(path: Path) -> FieldTree:
    try:
        from backoffice.definitions.contract_reader import load_contract
    except ImportError:  # the contracts module is built alongside; read the schema's names ourselves
        return _raw_contract_fields(path)
    contract = load_contract(path)
    return _field_tree(getattr(contract, "fields", ()))


def _field_tree(fields: Any) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for contract_field in fields or ():
        children = getattr(contract_field, "fields", ())
        tree[contract_field.name] = _field_tree(children) if children else None
    return tree


def _raw_contract_fields(path: Path) -> FieldTree:
    from backoffice.errors import ContractFileError
    try:
        check_file_size(path, "the contract")
        text = path.read_text(encoding="utf-8")
        check_yaml(text, str(path))
        document = YAML(typ="safe").load(text)
    except (OSError, UnicodeDecodeError, MarkedYAMLError) as exc:
        raise ContractFileError(path, f"cannot read the file ({exc})", expected="a data contract YAML file") from exc

    def tree(schema: Any) -> dict[str, Any]:
        return {str(name): (tree(spec["fields"]) if isinstance(spec, dict) and isinstance(spec.get("fields"), dict)
                            else None) for name, spec in (schema or {}).items()}
    schema = document.get("schema") if isinstance(document, dict) else None
    if not isinstance(schema, dict):
        raise ContractFileError(path, "no schema in the contract", expected="schema: field name -> field")
    return tree(schema)
