"""Data contracts: the model, and payloads validated against it with JSON Schema (Draft 2020-12).

`backoffice.definitions.contract_reader` reads the YAML described here (`load_contract`).

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
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field as dataclass_field, replace
from datetime import timedelta
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from backoffice.definitions.contract_formats import FORMATS
from backoffice.errors import suggest

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
        return dict(walk_fields(self.fields, ""))

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


_JSON_TYPES = {FieldType.STRING: "string", FieldType.INTEGER: "integer", FieldType.NUMBER: "number",
               FieldType.BOOLEAN: "boolean", FieldType.DATE: "string", FieldType.DATETIME: "string",
               FieldType.OBJECT: "object", FieldType.ARRAY: "array"}
_KEYWORDS = {"minimum": "minimum", "maximum": "maximum", "min_length": "minLength", "max_length": "maxLength",
             "pattern": "pattern", "min_items": "minItems", "max_items": "maxItems"}


def walk_fields(fields: Iterable[Field], prefix: str) -> Iterator[tuple[str, Field]]:
    for field in fields:
        path = f"{prefix}.{field.name}" if prefix else field.name
        yield path, field
        yield from _walk_inside(field, path)


def _walk_inside(field: Field, path: str, item_key: str | None = None) -> Iterator[tuple[str, Field]]:
    # An item's own key is `lines[]`; the fields inside items read `lines.amount`, as quality rules name them.
    yield from walk_fields(field.fields, path)
    if field.items is not None:
        key = f"{item_key or path}[]"
        yield key, field.items
        yield from _walk_inside(field.items, path, key)


def inside_array(path: str, paths: dict[str, Field]) -> bool:
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
