"""Read a data contract's YAML into a `Contract`: every problem found, with its line and column.

The format is described in `backoffice.definitions.contracts`. The reader refuses unknown keys
(with a suggestion), wrong types and bad patterns, and collects every problem of a file before
raising one `InvalidContract` that lists them, so a writer fixes a contract in one pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from backoffice.definitions.contracts import (ChangeRules, Contract, Field, FieldType, QualityKind, QualityRule,
                                              TextFormat, Version, inside_array, walk_fields)
from backoffice.errors import ContractFileError, InvalidContract, suggest
from backoffice.limits import check_file_size, check_yaml
from backoffice.textfiles import read_utf8


def load_contract(path: Path | str) -> Contract:
    """Read a contract file, checking every part of it.

    Raises:
        ContractFileError: the file is missing, not YAML, or holds one mistake (with line and column).
        InvalidContract: it holds several mistakes; each is in `problems`.
    """
    path = Path(path)
    check_file_size(path, "the contract")
    return parse_contract(read_utf8(path, ContractFileError, expected="a data contract YAML file"), path=path)


def parse_contract(text: str, *, path: Path | str = "<contract>") -> Contract:
    """Read a contract from YAML text; `path` names it in errors. Raises as `load_contract` does."""
    check_yaml(text, str(path))
    try:
        # A loader per call: ruamel's YAML objects keep state between loads.
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ContractFileError(path, f"not valid YAML: {exc.problem or exc.context}",
                                line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
                                expected="a YAML mapping of contract keys") from exc
    except YAMLError as exc:
        raise ContractFileError(path, f"not valid YAML: {exc}", expected="a YAML mapping") from exc
    if document is None:
        raise ContractFileError(path, "the file is empty", expected="a contract: " + ", ".join(_TOP_REQUIRED))
    reader = _ContractReader(path)
    contract = reader.contract(document)
    if len(reader.problems) == 1:
        raise reader.problems[0]
    if reader.problems:
        raise InvalidContract(path, reader.problems)
    assert contract is not None, "a contract that could not be built always has a problem recorded"
    return contract


# --- reading the YAML: every mistake is recorded with its line and column, and reading goes on ---

_TOP_KEYS = ("name", "version", "description", "producer", "consumers", "freshness", "additional_fields",
             "schema", "quality", "change")
_TOP_REQUIRED = ("name", "version", "description", "producer", "schema")
_COMMON_KEYS = ("type", "description", "required", "nullable")
_TYPE_KEYS = {
    FieldType.STRING: ("format", "enum", "min_length", "max_length", "pattern"),
    FieldType.INTEGER: ("enum", "minimum", "maximum"),
    FieldType.NUMBER: ("enum", "minimum", "maximum"),
    FieldType.BOOLEAN: (), FieldType.DATE: (), FieldType.DATETIME: (),
    FieldType.OBJECT: ("fields", "additional_fields"),
    FieldType.ARRAY: ("items", "min_items", "max_items"),
}
_FIELD_KEYS = _COMMON_KEYS + tuple(dict.fromkeys(key for keys in _TYPE_KEYS.values() for key in keys))
_CHANGE_KEYS = ("approvers", "breaking_approvers", "notice")
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DURATION = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

_Mark = tuple[int, int]  # ruamel's 0-based (line, column)


class _Entry(NamedTuple):
    value: Any
    key_mark: _Mark
    mark: _Mark


class _ContractReader:
    """Build a Contract from ruamel's round-trip nodes, recording every mistake instead of stopping at the first."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.problems: list[ContractFileError] = []

    def fail(self, mark: _Mark | None, key: str, problem: str, expected: str | None = None) -> None:
        line, column = (mark[0] + 1, mark[1] + 1) if mark else (None, None)
        self.problems.append(ContractFileError(self.path, f"{key}: {problem}" if key else problem, line=line,
                                               column=column, key=key or None, expected=expected))

    def mapping(self, node: Any, mark: _Mark, key: str, allowed: Iterable[str], required: Iterable[str] = (),
                shape: str = "a mapping of keys to values") -> dict[str, _Entry] | None:
        allowed = tuple(allowed)
        if not isinstance(node, CommentedMap):
            self.fail(mark, key, f"got {_shown(node)}", shape)
            return None
        entries: dict[str, _Entry] = {}
        for name in node:
            if name in allowed:
                entries[name] = _Entry(node[name], node.lc.key(name), node.lc.value(name))
            else:
                hint = suggest(str(name), allowed)
                self.fail(node.lc.key(name), key, f"unknown key {name!r}" + (f" (did you mean {hint!r}?)" if hint
                                                                            else ""), "one of " + ", ".join(allowed))
        for name in required:
            if name not in node:
                self.fail((node.lc.line, node.lc.col), key, f"missing key {name!r}")
        return entries

    def text(self, entry: _Entry, key: str) -> str | None:
        if isinstance(entry.value, str) and entry.value.strip():
            return str(entry.value)
        self.fail(entry.mark, key, f"got {_shown(entry.value)}", "non-empty text")
        return None

    def flag(self, entry: _Entry, key: str) -> bool | None:
        if isinstance(entry.value, bool):
            return entry.value
        self.fail(entry.mark, key, f"got {_shown(entry.value)}", "true or false")
        return None

    def number(self, entry: _Entry, key: str) -> int | float | None:
        if isinstance(entry.value, int) and not isinstance(entry.value, bool):
            return int(entry.value)
        if isinstance(entry.value, float) and math.isfinite(entry.value):
            return float(entry.value)
        self.fail(entry.mark, key, f"got {_shown(entry.value)}", "a finite number")
        return None

    def count(self, entry: _Entry, key: str) -> int | None:
        if isinstance(entry.value, int) and not isinstance(entry.value, bool) and entry.value >= 0:
            return int(entry.value)
        self.fail(entry.mark, key, f"got {_shown(entry.value)}", "a whole number, 0 or more")
        return None

    def duration(self, entry: _Entry, key: str) -> timedelta | None:
        match = _DURATION.fullmatch(str(entry.value).strip()) if isinstance(entry.value, str) else None
        if match:
            return timedelta(**{_UNITS[match[2]]: int(match[1])})
        self.fail(entry.mark, key, f"got {_shown(entry.value)}", "a duration such as 30m, 24h, 2d or 1w")
        return None

    def names(self, entry: _Entry, key: str) -> tuple[str, ...]:
        if not isinstance(entry.value, CommentedSeq):
            self.fail(entry.mark, key, f"got {_shown(entry.value)}", "a list of names")
            return ()
        found = []
        for position, item in enumerate(entry.value):
            name = self.text(_Entry(item, entry.mark, entry.value.lc.item(position)), f"{key}[{position}]")
            if name:
                found.append(name)
        return tuple(found)

    def contract(self, document: Any) -> Contract | None:
        mark = (document.lc.line, document.lc.col) if isinstance(document, (CommentedMap, CommentedSeq)) else (0, 0)
        top = self.mapping(document, mark, "", _TOP_KEYS, _TOP_REQUIRED)
        if top is None:
            return None
        name = self.text(top["name"], "name") if "name" in top else None
        if name and not _NAME.fullmatch(name):
            self.fail(top["name"].mark, "name", f"got {name!r}", "a kebab-case name such as supplier-invoice")
        version = None
        if "version" in top:
            match = _VERSION.fullmatch(str(top["version"].value).strip())
            if match:
                version = Version(*(int(part) for part in match.groups()))
            else:
                self.fail(top["version"].mark, "version", f"got {_shown(top['version'].value)}",
                          "MAJOR.MINOR.PATCH such as 1.2.0 (quoted if YAML reads it as a number)")
        description = self.text(top["description"], "description") if "description" in top else None
        producer = self.text(top["producer"], "producer") if "producer" in top else None
        consumers = self.names(top["consumers"], "consumers") if "consumers" in top else ()
        freshness = self.duration(top["freshness"], "freshness") if "freshness" in top else None
        additional = self.flag(top["additional_fields"], "additional_fields") if "additional_fields" in top else True
        problems_before = len(self.problems)
        fields = self.fields(top["schema"], "schema") if "schema" in top else ()
        if "schema" in top and not fields and len(self.problems) == problems_before:
            self.fail(top["schema"].mark, "schema", "no fields", "at least one field")
        paths = dict(walk_fields(fields, "")) if len(self.problems) == problems_before else None
        quality = self.quality(top["quality"], paths) if "quality" in top else ()
        change = self.change(top["change"]) if "change" in top else ChangeRules()
        if self.problems or not (name and version and description and producer):
            return None
        return Contract(name=name, version=version, description=description, producer=producer, fields=fields,
                        consumers=consumers, freshness=freshness, additional_fields=bool(additional),
                        quality=quality, change=change, source=Path(self.path))

    def fields(self, entry: _Entry, key: str) -> tuple[Field, ...]:
        if not isinstance(entry.value, CommentedMap):
            self.fail(entry.mark, key, f"got {_shown(entry.value)}", "a mapping of field names to fields")
            return ()
        found = []
        for name in entry.value:
            child = _Entry(entry.value[name], entry.value.lc.key(name), entry.value.lc.value(name))
            if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
                self.fail(child.key_mark, key, f"field name {name!r}", "letters, digits and _ (not first a digit)")
            elif (parsed := self.field(str(name), child, f"{key}.{name}")) is not None:
                found.append(parsed)
        return tuple(found)

    def field(self, name: str, entry: _Entry, key: str, *, is_item: bool = False) -> Field | None:
        spec = self.mapping(entry.value, entry.mark, key, _FIELD_KEYS, ("type",),
                            shape="a field such as {type: string, required: true}")
        if spec is None or "type" not in spec:
            return None
        try:
            field_type = FieldType(spec["type"].value)
        except ValueError:
            hint = suggest(str(spec["type"].value), [str(kind) for kind in FieldType])
            self.fail(spec["type"].mark, f"{key}.type", f"unknown type {spec['type'].value!r}"
                      + (f" (did you mean {hint!r}?)" if hint else ""), "one of " + ", ".join(FieldType))
            return None
        allowed = _COMMON_KEYS + _TYPE_KEYS[field_type]
        for option, option_entry in spec.items():
            if option not in allowed:
                self.fail(option_entry.key_mark, key, f"{option!r} does not apply to a {field_type} field",
                          "one of " + ", ".join(allowed))
        if is_item and "required" in spec:
            self.fail(spec["required"].key_mark, key, "array items cannot be required", "min_items on the array")
        values: dict[str, Any] = {}
        for option in ("required", "nullable", "additional_fields"):
            if option in spec:
                values[option] = self.flag(spec[option], f"{key}.{option}")
        if "description" in spec:
            values["description"] = self.text(spec["description"], f"{key}.description") or ""
        for option in ("minimum", "maximum"):
            if option in spec:
                values[option] = self.number(spec[option], f"{key}.{option}")
        for option in ("min_length", "max_length", "min_items", "max_items"):
            if option in spec:
                values[option] = self.count(spec[option], f"{key}.{option}")
        for low, high in (("minimum", "maximum"), ("min_length", "max_length"), ("min_items", "max_items")):
            if values.get(low) is not None and values.get(high) is not None and values[low] > values[high]:
                self.fail(spec[high].mark, f"{key}.{high}", f"{values[high]} is below {low} {values[low]}",
                          f"{high} at least {low}")
        if "format" in spec:
            values["format"] = self.text_format(spec["format"], f"{key}.format")
        if "pattern" in spec and (pattern := self.text(spec["pattern"], f"{key}.pattern")):
            try:
                re.compile(pattern)
                values["pattern"] = pattern
            except re.error as exc:
                self.fail(spec["pattern"].mark, f"{key}.pattern", f"not a regular expression ({exc.msg} at "
                          f"position {exc.pos})", "a regular expression such as ^INV-[0-9]{6}$")
        if "enum" in spec:
            values["enum"] = self.enum(spec["enum"], f"{key}.enum", field_type)
        if "fields" in spec:
            values["fields"] = self.fields(spec["fields"], f"{key}.fields")
        if "items" in spec:
            values["items"] = self.field("[]", spec["items"], f"{key}.items", is_item=True)
        values = {option: value for option, value in values.items() if value is not None}
        return Field(name=name, type=field_type, line=entry.key_mark[0] + 1, **values)

    def text_format(self, entry: _Entry, key: str) -> TextFormat | None:
        try:
            return TextFormat(entry.value)
        except ValueError:
            hint = suggest(str(entry.value), [str(kind) for kind in TextFormat])
            self.fail(entry.mark, key, f"unknown format {entry.value!r}" + (f" (did you mean {hint!r}?)" if hint
                                                                            else ""), "one of " + ", ".join(TextFormat))
            return None

    def enum(self, entry: _Entry, key: str, field_type: FieldType) -> tuple[Any, ...] | None:
        if not isinstance(entry.value, CommentedSeq) or not entry.value:
            self.fail(entry.mark, key, f"got {_shown(entry.value)}", "a non-empty list of allowed values")
            return None
        allowed: list[Any] = []
        for position, value in enumerate(entry.value):
            fits = (isinstance(value, str) if field_type is FieldType.STRING else
                    isinstance(value, int) if field_type is FieldType.INTEGER else isinstance(value, (int, float)))
            if not fits or isinstance(value, bool):
                self.fail(entry.value.lc.item(position), f"{key}[{position}]", f"got {_shown(value)}",
                          f"a {field_type} value (quote values YAML reads as numbers or dates)")
            elif value in allowed:
                self.fail(entry.value.lc.item(position), f"{key}[{position}]", f"{value!r} is listed twice")
            else:
                allowed.append(str(value) if isinstance(value, str) else int(value) if isinstance(value, int)
                               else float(value))
        return tuple(allowed)

    def quality(self, entry: _Entry, paths: dict[str, Field] | None) -> tuple[QualityRule, ...]:
        if not isinstance(entry.value, CommentedSeq):
            self.fail(entry.mark, "quality", f"got {_shown(entry.value)}", "a list of rules such as - unique: id")
            return ()
        rules = []
        for position, item in enumerate(entry.value):
            key = f"quality[{position}]"
            spec = self.mapping(item, entry.value.lc.item(position), key, list(QualityKind))
            if spec is None or len(spec) != 1:
                if spec:
                    self.fail(entry.value.lc.item(position), key, "several rules in one item", "one rule per item")
                continue
            ((kind, rule_entry),) = spec.items()
            rule_paths = ((rule_entry.value,) if isinstance(rule_entry.value, str)
                          else self.names(rule_entry, f"{key}.{kind}"))
            if not rule_paths and isinstance(rule_entry.value, CommentedSeq):
                self.fail(rule_entry.mark, f"{key}.{kind}", "no field named", "one field path or a list of them")
            named = [path for path in paths or () if not path.endswith("]")]
            for rule_path in rule_paths:
                if paths is not None and rule_path not in named:
                    hint = suggest(rule_path, named)
                    self.fail(rule_entry.mark, f"{key}.{kind}", f"no field {rule_path!r} in the schema"
                              + (f" (did you mean {hint!r}?)" if hint else ""), "a field path such as supplier.id")
                elif kind == QualityKind.UNIQUE and paths is not None and inside_array(rule_path, paths):
                    self.fail(rule_entry.mark, f"{key}.{kind}", f"{rule_path!r} is inside an array",
                              "a field outside arrays: unique applies across the payloads of a batch")
            if rule_paths:
                rules.append(QualityRule(QualityKind(kind), tuple(rule_paths), line=rule_entry.mark[0] + 1))
        return tuple(rules)

    def change(self, entry: _Entry) -> ChangeRules:
        spec = self.mapping(entry.value, entry.mark, "change", _CHANGE_KEYS)
        if not spec:
            return ChangeRules()
        return ChangeRules(
            approvers=self.names(spec["approvers"], "change.approvers") if "approvers" in spec else (),
            breaking_approvers=(self.names(spec["breaking_approvers"], "change.breaking_approvers")
                                if "breaking_approvers" in spec else ()),
            notice=self.duration(spec["notice"], "change.notice") if "notice" in spec else None)


def _shown(value: Any) -> str:
    if isinstance(value, CommentedMap):
        return "a mapping"
    if isinstance(value, CommentedSeq):
        return "a list" if value else "an empty list"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (datetime, date)):
        return f"{value.isoformat()} (a date)"
    return "nothing" if value is None else repr(value.strip() if isinstance(value, str) else value)


# --- from contract to JSON Schema, and from jsonschema's errors back to violations ---
