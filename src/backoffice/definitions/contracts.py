"""Load data contracts from YAML and validate payloads against them with JSON Schema (Draft 2020-12).

A contract names the minimum inputs a workflow accepts, who produces them and who relies on them.
One file per major version (`library/contracts/supplier-invoice.v1.yaml`):

    name: supplier-invoice        # kebab-case; with the major version it names the contract: supplier-invoice.v1
    version: 1.2.0                # MAJOR.MINOR.PATCH; a breaking change needs a new MAJOR
    description: An invoice a supplier sends us, as captured from the AP inbox.
    producer: ap-capture
    consumers: [three-way-match, payments]
    freshness: 24h                # the producer delivers within this: 30m, 24h, 2d, 1w
    additional_fields: true       # payload fields outside the schema are allowed (the default)
    schema:                       # field name -> field
      invoice_id: {type: string, required: true, pattern: "^INV-[0-9]{6}$"}
      currency: {type: string, format: currency, required: true}
      status: {type: string, enum: [received, matched, paid]}     # the "in allowed list" rule
      lines:
        type: array
        min_items: 1
        items:
          type: object
          fields:
            amount: {type: number, minimum: 0, required: true}
    quality:
      - unique: invoice_id        # across a batch of payloads; a list makes a composite key
      - not_null: [lines.amount]   # present, not null, not blank (in every line)
    change:
      approvers: [ap-process-owner]            # approve every change
      breaking_approvers: [data-governance]    # approve a breaking change (a new major version) too
      notice: 30d                              # how long consumers keep the old major version

Field types: string, integer, number, boolean, date, datetime, object (`fields`, `additional_fields`),
array (`items`, `min_items`, `max_items`). Strings take `format` (email, uri, date, date-time, uuid,
iban, currency), `enum`, `min_length`, `max_length`, `pattern`; numbers take `enum`, `minimum`,
`maximum`. Every field takes `description`, `required` and `nullable`. As in JSON Schema, a `pattern`
matches anywhere in the text: anchor it with ^ and $ to match the whole. Quality rules name fields by
path, with dots into objects and arrays alike: `supplier.id`, `lines.amount` (the amount of each line).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field as dataclass_field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from backoffice.definitions.contract_formats import FORMATS
from backoffice.errors import ContractFileError, InvalidContract, suggest

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    OBJECT = "object"
    ARRAY = "array"


class TextFormat(StrEnum):
    EMAIL = "email"
    URI = "uri"
    DATE = "date"
    DATE_TIME = "date-time"
    UUID = "uuid"
    IBAN = "iban"
    CURRENCY = "currency"


class QualityKind(StrEnum):
    UNIQUE = "unique"
    NOT_NULL = "not_null"


class ViolationKind(StrEnum):
    TYPE = "type"
    REQUIRED = "required"
    UNKNOWN_FIELD = "unknown_field"
    FORMAT = "format"
    ENUM = "enum"
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    MIN_LENGTH = "min_length"
    MAX_LENGTH = "max_length"
    PATTERN = "pattern"
    MIN_ITEMS = "min_items"
    MAX_ITEMS = "max_items"
    NOT_NULL = "not_null"
    UNIQUE = "unique"


@dataclass(frozen=True, order=True)
class Version:
    """A semantic version; the major number names the contract (`supplier-invoice.v1`)."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class Field:
    """One field of a contract's schema; `items` describes each element of an array."""

    name: str
    type: FieldType
    required: bool = False
    nullable: bool = False
    description: str = ""
    format: TextFormat | None = None
    enum: tuple[Any, ...] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    fields: tuple[Field, ...] = ()
    additional_fields: bool = True
    items: Field | None = None
    min_items: int | None = None
    max_items: int | None = None
    line: int | None = dataclass_field(default=None, compare=False)


@dataclass(frozen=True)
class QualityRule:
    """A rule beyond the shape of one value: `unique` over a batch, `not_null` in each payload."""

    kind: QualityKind
    paths: tuple[str, ...]
    line: int | None = dataclass_field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.kind}: {', '.join(self.paths)}"


@dataclass(frozen=True)
class ChangeRules:
    """Who approves a change, and how long consumers keep the old major version."""

    approvers: tuple[str, ...] = ()
    breaking_approvers: tuple[str, ...] = ()
    notice: timedelta | None = None


@dataclass(frozen=True)
class Violation:
    """One way a payload breaks a contract: where (a JSON path), what was expected, and the value found.

    `index` is the payload's position in a batch; `duplicate_of` the position of the payload that
    first held a value that must be unique.
    """

    path: str
    message: str
    value: Any = None
    kind: ViolationKind = ViolationKind.TYPE
    index: int | None = None
    duplicate_of: int | None = None

    def __str__(self) -> str:
        if self.kind is ViolationKind.REQUIRED or (self.kind is ViolationKind.NOT_NULL and self.value is None):
            return f"{self.path}: {self.message}"
        return f"{self.path}: {self.message}, got {json.dumps(self.value, default=str, ensure_ascii=False)}"


@dataclass(frozen=True)
class Contract:
    """A data contract: its identity, owners, schema, quality and change rules."""

    name: str
    version: Version
    description: str
    producer: str
    fields: tuple[Field, ...]
    consumers: tuple[str, ...] = ()
    freshness: timedelta | None = None
    additional_fields: bool = True
    quality: tuple[QualityRule, ...] = ()
    change: ChangeRules = ChangeRules()
    source: Path | None = dataclass_field(default=None, compare=False)

    @property
    def id(self) -> str:
        """Return the name with the major version, as other files refer to it: `supplier-invoice.v1`."""
        return f"{self.name}.v{self.version.major}"

    @cached_property
    def paths(self) -> dict[str, Field]:
        """Every field by its path, in file order: `supplier.iban`, `lines`, `lines[]` (each item), `lines.amount`."""
        return dict(_walk(self.fields, ""))

    def json_schema(self) -> dict[str, Any]:
        """Return the contract's schema as a JSON Schema (Draft 2020-12) document."""
        schema = _object_schema(self.fields, self.additional_fields)
        return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"urn:backoffice:contract:{self.id}",
                "title": f"{self.id} ({self.version})", "description": self.description, **schema}

    @cached_property
    def _validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.json_schema(), format_checker=FORMATS)

    def validate(self, payload: Any) -> list[Violation]:
        """Return every way one payload breaks the contract, in the payload's order; empty when it conforms.

        Args:
            payload: the decoded JSON value (dicts, lists, strings, numbers, booleans, None).
        """
        found: dict[tuple[str, ViolationKind], tuple[tuple, Violation]] = {}
        for error in self._validator.iter_errors(payload):
            for segments, violation in _schema_violations(error):
                # jsonschema reports each missing required field once per field and its
                # unknown fields in one error: keying by path and kind keeps one of each.
                found.setdefault((violation.path, violation.kind), (tuple(segments), violation))
        # A value of the wrong type gets one violation, not one more per keyword it also fails (a null
        # outside an enum); and not_null stays silent where the schema refused the value or its parent.
        mistyped = {path for path, kind in found if kind is ViolationKind.TYPE}
        found = {key: pair for key, pair in found.items() if key[1] is ViolationKind.TYPE or key[0] not in mistyped}
        refused = {path for path, _ in found}
        for rule in self.quality:
            for path in rule.paths if rule.kind is QualityKind.NOT_NULL else ():
                for segments, value in _values_at(payload, path.split(".")):
                    where = _json_path(segments)
                    if not _within(where, refused) and (value is _MISSING or value is None
                                                        or (isinstance(value, str) and not value.strip())):
                        violation = Violation(where, "expected a value (not null, not blank)",
                                              None if value is _MISSING else value, ViolationKind.NOT_NULL)
                        found.setdefault((where, violation.kind), (tuple(segments), violation))
        ordered = sorted(found.values(), key=lambda pair: _document_order(payload, pair[0]))
        return [violation for _, violation in ordered]


def validate_batch(contract: Contract, payloads: Iterable[Any]) -> list[Violation]:
    """Validate each payload and apply the batch rules (unique keys); return violations by payload.

    Args:
        contract: the contract to check against.
        payloads: the payloads of one delivery, in order; a violation's `index` is a position here.
    """
    payloads = list(payloads)
    by_payload: list[list[Violation]] = [
        [replace(violation, index=index) for violation in contract.validate(payload)]
        for index, payload in enumerate(payloads)]
    for rule in contract.quality:
        if rule.kind is not QualityKind.UNIQUE:
            continue
        first_seen: dict[str, int] = {}
        for index, payload in enumerate(payloads):
            if not isinstance(payload, dict):
                continue  # it has no key: its `type` violation says so
            values = [next(_values_at(payload, path.split(".")), ((), _MISSING))[1] for path in rule.paths]
            # As in SQL, an absent or null key is not equal to another: `required` reports it.
            if any(value is _MISSING or value is None for value in values):
                continue
            key = json.dumps(values, sort_keys=True, default=str)
            if key in first_seen:
                by_payload[index].append(Violation(
                    ", ".join(_json_path(path.split(".")) for path in rule.paths),
                    f"expected unique {' + '.join(rule.paths)} across the batch",
                    values[0] if len(values) == 1 else values, ViolationKind.UNIQUE, index, first_seen[key]))
            else:
                first_seen[key] = index
    return [violation for violations in by_payload for violation in violations]


def load_contract(path: Path | str) -> Contract:
    """Read a contract file, checking every part of it.

    Raises:
        ContractFileError: the file is missing, not YAML, or holds one mistake (with line and column).
        InvalidContract: it holds several mistakes; each is in `problems`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractFileError(path, "cannot open the file (no such file)",
                                expected="a data contract YAML file") from None
    except UnicodeDecodeError as exc:
        raise ContractFileError(path, f"the file is not UTF-8 (byte {exc.start})", expected="UTF-8 text") from exc
    except OSError as exc:
        raise ContractFileError(path, f"cannot open the file ({exc.strerror})",
                                expected="a data contract YAML file") from exc
    return parse_contract(text, path=path)


def parse_contract(text: str, *, path: Path | str = "<contract>") -> Contract:
    """Read a contract from YAML text; `path` names it in errors. Raises as `load_contract` does."""
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
        paths = dict(_walk(fields, "")) if len(self.problems) == problems_before else None
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
                elif kind == QualityKind.UNIQUE and paths is not None and _inside_array(rule_path, paths):
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

_JSON_TYPES = {FieldType.STRING: "string", FieldType.INTEGER: "integer", FieldType.NUMBER: "number",
               FieldType.BOOLEAN: "boolean", FieldType.DATE: "string", FieldType.DATETIME: "string",
               FieldType.OBJECT: "object", FieldType.ARRAY: "array"}
_KEYWORDS = {"minimum": "minimum", "maximum": "maximum", "min_length": "minLength", "max_length": "maxLength",
             "pattern": "pattern", "min_items": "minItems", "max_items": "maxItems"}


def _walk(fields: Iterable[Field], prefix: str) -> Iterator[tuple[str, Field]]:
    for field in fields:
        path = f"{prefix}.{field.name}" if prefix else field.name
        yield path, field
        yield from _walk_inside(field, path)


def _walk_inside(field: Field, path: str, item_key: str | None = None) -> Iterator[tuple[str, Field]]:
    # An item's own key is `lines[]`; the fields inside items read `lines.amount`, as quality rules name them.
    yield from _walk(field.fields, path)
    if field.items is not None:
        key = f"{item_key or path}[]"
        yield key, field.items
        yield from _walk_inside(field.items, path, key)


def _inside_array(path: str, paths: dict[str, Field]) -> bool:
    parts = path.split(".")
    return any(paths[".".join(parts[:end])].type is FieldType.ARRAY for end in range(1, len(parts)))


def _object_schema(fields: tuple[Field, ...], additional_fields: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {field.name: _field_schema(field) for field in fields}}
    required = [field.name for field in fields if field.required]
    if required:
        schema["required"] = required
    if not additional_fields:
        schema["additionalProperties"] = False
    return schema


def _field_schema(field: Field) -> dict[str, Any]:
    if field.type is FieldType.OBJECT:
        schema = _object_schema(field.fields, field.additional_fields)
    else:
        schema = {"type": _JSON_TYPES[field.type]}
    text_format = {FieldType.DATE: TextFormat.DATE, FieldType.DATETIME: TextFormat.DATE_TIME}.get(field.type,
                                                                                                 field.format)
    if text_format:
        schema["format"] = str(text_format)
    if field.description:
        schema["description"] = field.description
    if field.enum is not None:
        schema["enum"] = list(field.enum) + ([None] if field.nullable else [])
    for option, keyword in _KEYWORDS.items():
        if getattr(field, option) is not None:
            schema[keyword] = getattr(field, option)
    if field.items is not None:
        schema["items"] = _field_schema(field.items)
    if field.nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


_DESCRIBED_FORMATS = {
    "email": "an email address such as ap@example.com",
    "uri": "a URI such as https://example.com/invoices/1",
    "date": "a date such as 2024-03-31",
    "date-time": "a date-time with an offset such as 2024-03-31T09:30:00Z",
    "uuid": "a UUID such as 123e4567-e89b-12d3-a456-426614174000",
    "iban": "an IBAN without spaces and with valid check digits, such as GB82WEST12345698765432",
    "currency": "an ISO 4217 currency code such as EUR",
}
_DESCRIBED_TYPES = {"string": "text", "integer": "a whole number", "number": "a number",
                    "boolean": "true or false", "object": "an object", "array": "a list", "null": "null"}


def _described(schema: dict[str, Any]) -> str:
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return " or ".join(_DESCRIBED_FORMATS.get(schema.get("format"), _DESCRIBED_TYPES[kind]) if kind == "string"
                       else _DESCRIBED_TYPES[kind] for kind in types)


def _schema_violations(error: ValidationError) -> Iterator[tuple[list, Violation]]:
    segments, schema, keyword = list(error.absolute_path), error.schema, error.validator
    if keyword == "required":
        for name in error.validator_value:
            if name not in error.instance:
                yield segments + [name], Violation(_json_path(segments + [name]), "expected this required field",
                                                   None, ViolationKind.REQUIRED)
        return
    if keyword == "additionalProperties":
        known = schema.get("properties", {})
        for name in error.instance:
            if name not in known:
                hint = suggest(name, known)
                yield segments + [name], Violation(
                    _json_path(segments + [name]), "expected no such field: it is not in the contract"
                    + (f" (did you mean {hint!r}?)" if hint else ""), error.instance[name], ViolationKind.UNKNOWN_FIELD)
        return
    # Every other keyword is one the contract wrote (see _field_schema), so each has its kind and words.
    kind, expected = _EXPECTED[keyword]
    yield segments, Violation(_json_path(segments), f"expected {expected(error.validator_value, schema)}",
                              error.instance, kind)


_EXPECTED: dict[str, tuple[ViolationKind, Any]] = {
    "type": (ViolationKind.TYPE, lambda _, schema: _described(schema)),
    "format": (ViolationKind.FORMAT, lambda name, _: _DESCRIBED_FORMATS[name]),
    "enum": (ViolationKind.ENUM, lambda values, _: "one of " + ", ".join(json.dumps(value) for value in values)),
    "minimum": (ViolationKind.MINIMUM, lambda limit, _: f"at least {limit}"),
    "maximum": (ViolationKind.MAXIMUM, lambda limit, _: f"at most {limit}"),
    "minLength": (ViolationKind.MIN_LENGTH, lambda limit, _: f"at least {_counted(limit, 'character')}"),
    "maxLength": (ViolationKind.MAX_LENGTH, lambda limit, _: f"at most {_counted(limit, 'character')}"),
    "pattern": (ViolationKind.PATTERN, lambda pattern, _: f"text matching {pattern}"),
    "minItems": (ViolationKind.MIN_ITEMS, lambda limit, _: f"at least {_counted(limit, 'item')}"),
    "maxItems": (ViolationKind.MAX_ITEMS, lambda limit, _: f"at most {_counted(limit, 'item')}"),
}


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def describe_duration(value: timedelta) -> str:
    """Return a duration in its largest whole unit, as people say it: `1 day`, `36 hours`, `2 weeks`."""
    seconds = int(value.total_seconds())
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            return _counted(seconds // size, unit)
    return str(value)


# --- paths inside payloads ---

_MISSING = object()
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _within(path: str, roots: set[str]) -> bool:
    """Return True when the JSON path is one of roots or inside one of them."""
    return any(path == root or path.startswith((root + ".", root + "[")) for root in roots)


def _json_path(segments: Iterable[str | int]) -> str:
    path = "$"
    for segment in segments:
        if isinstance(segment, int):
            path += f"[{segment}]"
        elif _IDENTIFIER.fullmatch(segment):
            path += f".{segment}"
        else:
            path += f"[{json.dumps(segment)}]"
    return path


def _values_at(node: Any, segments: list[str], found: tuple = ()) -> Iterator[tuple[list, Any]]:
    """Yield (segments, value) for each value a contract path reaches, through the items of arrays.

    An absent field yields _MISSING; an empty array yields nothing, since it holds no item to check.
    """
    if not segments:
        yield list(found), node
    elif isinstance(node, list):
        for position, item in enumerate(node):
            yield from _values_at(item, segments, found + (position,))
    elif isinstance(node, dict) and segments[0] in node:
        yield from _values_at(node[segments[0]], segments[1:], found + (segments[0],))
    else:
        yield list(found) + segments, _MISSING


def _document_order(payload: Any, segments: tuple) -> tuple[int, ...]:
    """Order violations as the payload reads: by each key's position in its object, then by index."""
    order, node = [], payload
    for segment in segments:
        if isinstance(node, dict):
            keys = list(node)
            order.append(keys.index(segment) if segment in node else len(keys))
            node = node.get(segment)
        elif isinstance(node, list) and isinstance(segment, int) and segment < len(node):
            order.append(segment)
            node = node[segment]
        else:
            order.append(0)
            node = None
    return tuple(order)
