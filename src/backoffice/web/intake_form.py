"""An intake form generated from a workflow's data contract (its JSON Schema), and the payload read back from it.

    form = IntakeForm(running.inputs.json_schema())
    posted, rows = form.act(posted, action)              # posted: the form's fields, name -> value
    payload = form.read(posted, rows)
    nodes = form.nodes(rows, posted, form.errors(violations, rows, posted))

Every field of the contract becomes an input named by its path (`f.requester.email`,
`f.items.0.quantity`): text, numbers, money, whole numbers, yes/no, a list of allowed values,
dates and date-times, nested objects as fieldsets, and arrays as rows with "Add line" and
"Remove" buttons that are plain submit buttons, so lists work without JavaScript. The form
never decides what is valid: the payload goes to the engine's intake, whose contract
validation (the same as for the API) names each field at fault; `errors` puts each message
beside its input. Values a person typed come back as typed, also when they are wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backoffice.definitions.contracts import Violation, ViolationKind
from backoffice.services.display import is_money

PREFIX = "f"
ROWS = "__rows"
MAX_ROWS = 200
# Fields the workflow fills itself, by the convention of the library's contracts (their description says so).
_FILLED_BY_WORKFLOW = re.compile(r"filled by (the workflow|payroll)", re.I)
_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]")
_ABSENT = object()


@dataclass
class FieldNode:
    """One input (or group of inputs) of the form as a page shows it.

    Attributes:
        kind: text, textarea, number, money, integer, boolean, choice, date, datetime, email, url,
            object (a fieldset of `children`) or array (a fieldset of `rows`, each a node).
        name: the form field's name; id: the element's id (its error's id is id + "-error").
        value: the text to show in the input (as typed, or from the payload).
        attributes: HTML attributes of the input (min, max, step, minlength, maxlength, inputmode).
    """

    kind: str
    label: str
    name: str
    id: str
    required: bool = False
    hint: str = ""
    value: str = ""
    error: str | None = None
    options: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    children: list[FieldNode] = field(default_factory=list)
    rows: list[FieldNode] = field(default_factory=list)
    row_count: int = 0
    can_add: bool = True
    can_remove: bool = True
    index: int | None = None
    item_label: str = ""


class IntakeForm:
    """The form of one contract's JSON Schema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema

    # --- reading what was posted ---

    def act(self, posted: Mapping[str, str], action: str | None = None) -> tuple[dict[str, str], dict[str, int]]:
        """Return the posted fields and the rows of each array after an "Add line" or "Remove" button.

        `action` is the button's value (`add:f.items`, `remove:f.items:2`); the values typed in
        the other rows are kept, those after a removed row move up.
        """
        rows: dict[str, int] = {}
        for name, text in posted.items():
            if name.endswith("." + ROWS) and text.isdigit():
                rows[name[: -len(ROWS) - 1]] = min(int(text), MAX_ROWS)
        posted = dict(posted)
        if action and action.startswith("remove:") and action.count(":") == 2:
            _, array, index = action.split(":")
            if index.isdigit() and array in rows and int(index) < rows[array]:
                posted = _without_row(posted, array, int(index), rows[array])
                rows[array] -= 1
                posted[f"{array}.{ROWS}"] = str(rows[array])
        elif action and action.startswith("add:"):
            array = action.split(":", 1)[1]
            most = min(int(self._schema_at(array).get("maxItems", MAX_ROWS)), MAX_ROWS)
            rows[array] = min(rows.get(array, 0) + 1, most)
            posted[f"{array}.{ROWS}"] = str(rows[array])
        return posted, rows

    def _schema_at(self, name: str) -> Mapping[str, Any]:
        """Return the schema of the input or array named `name` (f.lines, f.lines.0.item); {} when there is none."""
        schema: Mapping[str, Any] = self.schema
        for part in name.split(".")[1:]:
            schema = (schema.get("items") if part.isdigit() else (schema.get("properties") or {}).get(part)) or {}
        return schema

    def read(self, posted: Mapping[str, str], rows: dict[str, int]) -> dict[str, Any]:
        """Return the payload the posted fields make (empty fields and empty rows left out)."""
        value = self._read(self.schema, PREFIX, posted, rows, top=True)
        return value if isinstance(value, dict) else {}

    def _read(self, schema: Mapping[str, Any], name: str, posted: Mapping[str, str], rows: dict[str, int], *,
              top: bool = False) -> Any:
        kind = _type_of(schema)
        if kind == "object":
            found = {}
            for child, child_schema in (schema.get("properties") or {}).items():
                if _workflow_fills(child_schema):
                    continue
                value = self._read(child_schema, f"{name}.{child}", posted, rows)
                if value is not _ABSENT:
                    found[child] = value
            return found if found or top else _ABSENT
        if kind == "array":
            count = rows.setdefault(name, _initial_rows(schema))
            items = [self._read(schema.get("items") or {}, f"{name}.{index}", posted, rows) for index in range(count)]
            kept = [item for item in items if item is not _ABSENT]
            return kept if kept or f"{name}.{ROWS}" in posted else _ABSENT
        text = posted.get(name, "")
        text = text.strip() if isinstance(text, str) else ""
        if not text:
            return _ABSENT
        return _typed(kind, schema, text)

    # --- where each error goes ---

    def errors(self, violations: Sequence[Violation], rows: Mapping[str, int],
               posted: Mapping[str, str]) -> dict[str, str]:
        """Return each violation's message by the name of the input (or array) it is about."""
        found: dict[str, str] = {}
        for violation in violations:
            name = self._input_of(violation.path, posted, rows)
            message = violation.message[0].upper() + violation.message[1:] if violation.message else "Not valid"
            example = pattern_example(message.removeprefix("Expected text matching ")) \
                if violation.kind is ViolationKind.PATTERN else None
            if example:
                # The contract's words name a regular expression; people get an example of its shape.
                message = f"Expected text like {example}"
            found.setdefault(name, message + ".")
        return found

    def _input_of(self, path: str, posted: Mapping[str, str], rows: Mapping[str, int]) -> str:
        # The payload left out empty rows: its item i is the i-th row that held something.
        name = PREFIX
        for key, index, quoted in _PATH_PART.findall(path):
            if index:
                number = int(index)
                filled = [row for row in range(rows.get(name, 0)) if _row_has_values(posted, f"{name}.{row}")]
                name = f"{name}.{filled[number] if number < len(filled) else number}"
            else:
                name = f"{name}.{key or quoted}"
        return name

    # --- what the page shows ---

    def nodes(self, rows: Mapping[str, int], posted: Mapping[str, str], errors: Mapping[str, str]) -> list[FieldNode]:
        """Return the form's fields, filled with what was typed, with their errors."""
        required = set(self.schema.get("required") or ())
        return [self._node(child_schema, child, f"{PREFIX}.{child}", child in required, posted, rows, errors)
                for child, child_schema in (self.schema.get("properties") or {}).items()
                if not _workflow_fills(child_schema)]

    def _node(self, schema: Mapping[str, Any], key: str, name: str, required: bool, posted: Mapping[str, str],
              rows: Mapping[str, int], errors: Mapping[str, str], index: int | None = None) -> FieldNode:
        kind = _type_of(schema)
        node = FieldNode(kind=_kind_of(schema, key), label=_label(key), name=name, id=name.replace(".", "-"),
                         required=required, hint=_hint(schema), error=errors.get(name), index=index)
        if node.kind == "money":
            node.hint = " ".join(filter(None, [node.hint, "An amount of money, such as 1250.00."]))
        if kind == "object":
            inner = set(schema.get("required") or ())
            node.children = [self._node(child_schema, child, f"{name}.{child}", child in inner, posted, rows, errors)
                             for child, child_schema in (schema.get("properties") or {}).items()
                             if not _workflow_fills(child_schema)]
        elif kind == "array":
            count = rows.get(name, _initial_rows(schema))
            item_schema = schema.get("items") or {}
            node.row_count = count
            node.item_label = _label(key, singular=True).lower()
            node.rows = [self._node(item_schema, f"{_label(key, singular=True)} {row + 1}", f"{name}.{row}", True,
                                    posted, rows, errors, index=row) for row in range(count)]
            node.can_add = count < min(schema.get("maxItems", MAX_ROWS), MAX_ROWS)
            node.can_remove = count > schema.get("minItems", 0)
        else:
            node.value = posted.get(name, "")
            node.options = [str(option) for option in schema.get("enum") or () if option is not None]
            node.attributes = _attributes(schema, node.kind)
        return node


_PATTERN_PART = re.compile(r"\\d|\[0-9\]|\[A-Z\]|\[a-z\]|\\?[A-Za-z0-9 _/.:-]")
_PATTERN_COUNT = re.compile(r"\{(\d{1,2})(?:,\d{0,2})?\}")


def pattern_example(pattern: str) -> str | None:
    """Return an example of the text a simple anchored pattern matches (`^PR-[0-9]{6}$` gives PR-123456), or None.

    Only patterns made of literal characters and runs of digits or capital or small letters
    have an example; any other pattern is shown as it is.
    """
    if not (pattern.startswith("^") and pattern.endswith("$")):
        return None
    body, example, digits, letters = pattern[1:-1], [], iter("1234567890" * 10), iter("ABCDEFGHIJ" * 10)
    position = 0
    while position < len(body):
        part = _PATTERN_PART.match(body, position)
        if part is None:
            return None
        position = part.end()
        count = _PATTERN_COUNT.match(body, position)
        times = int(count.group(1)) if count else 1
        position = count.end() if count else position
        token = part.group(0)
        if token in ("\\d", "[0-9]"):
            example.append("".join(next(digits) for _ in range(times)))
        elif token in ("[A-Z]", "[a-z]"):
            text = "".join(next(letters) for _ in range(times))
            example.append(text if token == "[A-Z]" else text.lower())
        else:
            example.append(token.lstrip("\\") * times)
    return "".join(example) or None


def posted_fields(form: Mapping[str, Any]) -> dict[str, str]:
    """Return the text fields of a posted form that belong to the intake (named f.*)."""
    return {name: value for name, value in form.items()
            if isinstance(value, str) and (name == PREFIX or name.startswith(PREFIX + "."))}


def posted_from(payload: Mapping[str, Any], prefix: str = PREFIX) -> dict[str, str]:
    """Return the form fields that show `payload` (a case's data) in its form: the inverse of `IntakeForm.read`."""
    posted: dict[str, str] = {}
    for name, value in payload.items():
        key = f"{prefix}.{name}"
        if isinstance(value, Mapping):
            posted.update(posted_from(value, key))
        elif isinstance(value, list):
            posted[f"{key}.{ROWS}"] = str(len(value))
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    posted.update(posted_from(item, f"{key}.{index}"))
                elif item is not None:
                    posted[f"{key}.{index}"] = _shown(item)
        elif value is not None:
            posted[key] = _shown(value)
    return posted


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A date-time with a UTC zone goes back into a datetime-local input as the form wrote it.
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:00)?(Z|\+00:00)", text)
    return match.group(1) if match else text


def _without_row(posted: Mapping[str, str], array: str, removed: int, count: int) -> dict[str, str]:
    """Return the posted fields with one row of an array taken out and the rows after it moved up."""
    kept: dict[str, str] = {}
    head = array + "."
    for name, value in posted.items():
        if not name.startswith(head):
            kept[name] = value
            continue
        rest = name[len(head):]
        number, dot, tail = rest.partition(".")
        if not number.isdigit():
            kept[name] = value
        elif int(number) < removed:
            kept[name] = value
        elif int(number) > removed:
            kept[f"{head}{int(number) - 1}{dot}{tail}"] = value
    return kept


def _row_has_values(posted: Mapping[str, str], row: str) -> bool:
    head = row + "."
    return any((name == row or name.startswith(head)) and not name.endswith(ROWS) and str(value).strip()
               for name, value in posted.items())


def _type_of(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def _kind_of(schema: Mapping[str, Any], key: str) -> str:
    kind = _type_of(schema)
    if kind in ("object", "array"):
        return kind
    if schema.get("enum"):
        return "choice"
    if kind == "boolean":
        return "boolean"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "money" if is_money(key) else "number"
    text_format = schema.get("format")
    if text_format == "date":
        return "date"
    if text_format == "date-time":
        return "datetime"
    if text_format == "email":
        return "email"
    if text_format == "uri":
        return "url"
    if (schema.get("maxLength") or 0) > 300 or (schema.get("minLength") or 0) >= 20:
        return "textarea"
    return "text"


def _attributes(schema: Mapping[str, Any], kind: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if "minimum" in schema:
        attributes["min"] = schema["minimum"]
    if "maximum" in schema:
        attributes["max"] = schema["maximum"]
    if kind == "money":
        attributes.update(step="0.01", inputmode="decimal")
    elif kind == "number":
        attributes.update(step="any", inputmode="decimal")
    elif kind == "integer":
        attributes.update(step="1", inputmode="numeric")
    if "minLength" in schema:
        attributes["minlength"] = schema["minLength"]
    if "maxLength" in schema:
        attributes["maxlength"] = schema["maxLength"]
    return attributes


def _hint(schema: Mapping[str, Any]) -> str:
    parts = []
    if schema.get("description"):
        parts.append(str(schema["description"]).strip())
    if schema.get("pattern"):
        example = pattern_example(schema["pattern"])
        parts.append(f"Written like {example}." if example else f"Matching the pattern {schema['pattern']}.")
    text_format = schema.get("format")
    if text_format == "currency":
        parts.append("A three-letter currency code, such as EUR.")
    elif text_format == "iban":
        parts.append("An IBAN without spaces.")
    elif text_format == "date-time":
        parts.append("Date and time in UTC.")
    if _type_of(schema) == "array" and schema.get("minItems"):
        parts.append(f"At least {schema['minItems']}.")
    return " ".join(parts)


def _label(key: str, *, singular: bool = False) -> str:
    words = key.replace("_", " ").replace("-", " ").strip()
    if singular and words.endswith("ies"):
        words = words[:-3] + "y"
    elif singular and words.endswith("s") and not words.endswith("ss"):
        words = words[:-1]
    return words[:1].upper() + words[1:]


def _initial_rows(schema: Mapping[str, Any]) -> int:
    return max(int(schema.get("minItems", 0)), 1)


def _workflow_fills(schema: Mapping[str, Any]) -> bool:
    return bool(_FILLED_BY_WORKFLOW.search(str(schema.get("description") or "")))


def _typed(kind: str, schema: Mapping[str, Any], text: str) -> Any:
    """Return the JSON value a typed text stands for; text the contract will refuse is kept as it is."""
    if kind == "integer":
        return int(text) if re.fullmatch(r"[+-]?\d{1,18}", text) else text
    if kind == "number":
        cleaned = text.replace(",", "") if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text) else text
        try:
            number = float(cleaned)
        except ValueError:
            return text
        if not math.isfinite(number):
            return text
        return int(number) if re.fullmatch(r"[+-]?\d{1,15}", cleaned) else number
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if schema.get("format") == "date-time" and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        # A browser's datetime-local has no zone; the form says it is UTC.
        return text + ":00Z"
    return text
