"""How a case's values read on a page: numbers with thousands separators, money with its currency, times in UTC.

The one formatting helper of the case page, the approvals inbox and the board's cards, so a
figure reads the same wherever it appears. It follows the workflow's input contract (its JSON
Schema) where one is given:

- a whole number (`type: integer`) with no decimals: 1,250;
- money (a number whose field is named amount, price, total, cost, fee or value) with two
  decimals, and the currency of the record it belongs to when there is one: 24,500.00 EUR;
- any other number with the decimals it has: 1,234.5;
- a date-time (`type: datetime`, or an ISO text with a time where no schema says): 2026-11-18 08:45 UTC.

Text, yes/no and missing values are left as they are for the template to show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

MONEY_NAME = re.compile(r"(^|_)(amount|price|total|cost|fee|value)s?$")
"""A number field named like money (the intake form asks for it as an amount too)."""
CURRENCY_FIELD = "currency"
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def when(value: datetime | None) -> str:
    """Return a moment as `2026-11-18 08:45 UTC` (a naive one is taken as UTC); empty for none."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def number(value: int | float, *, whole: bool = False, money: bool = False, currency: str | None = None) -> str:
    """Return a number with thousands separators: no decimals when `whole`, two (and the currency) for `money`."""
    if money:
        return f"{value:,.2f}" + (f" {currency}" if currency else "")
    if whole or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{Decimal(repr(float(value))):,f}"


def is_money(key: str) -> bool:
    """Whether a number field of this name holds an amount of money."""
    return bool(MONEY_NAME.search(key))


def shown(value: Any, schema: Mapping[str, Any] | None = None, *, key: str = "", currency: str | None = None) -> Any:
    """Return `value` (a case's data, or a part of it) with its numbers and date-times as text to show.

    Mappings and lists keep their shape; `schema` is the JSON Schema of `value` (the inputs'
    `json_schema()` for a case's data), or None where none is known. The currency of a record
    (its `currency` field) applies to the money in it and in the records and lists below it.
    """
    schema = schema or {}
    if isinstance(value, Mapping):
        own = value.get(CURRENCY_FIELD)
        currency = own if isinstance(own, str) and own.strip() else currency
        properties = schema.get("properties") or {}
        return {name: shown(item, properties.get(name), key=str(name), currency=currency)
                for name, item in value.items()}
    if isinstance(value, list):
        return [shown(item, schema.get("items"), key=key, currency=currency) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        kind = _type_of(schema)
        return number(value, whole=kind == "integer", money=kind != "integer" and is_money(key), currency=currency)
    if isinstance(value, str) and (schema.get("format") == "date-time" or (not schema and _ISO_DATETIME.match(value))):
        moment = _moment(value)
        return when(moment) if moment is not None else value
    return value


def figure(data: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> str:
    """Return the case's headline amount (its first money field at the top), formatted; empty when it has none."""
    properties = (schema or {}).get("properties") or {}
    for name, value in data.items():
        if is_money(str(name)) and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and _type_of(properties.get(name) or {}) != "integer":
            return shown(value, properties.get(name), key=str(name),
                         currency=data.get(CURRENCY_FIELD) if isinstance(data.get(CURRENCY_FIELD), str) else None)
    return ""


def _type_of(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
