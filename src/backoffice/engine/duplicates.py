"""The duplicate rule: when is a new intake the same work as an earlier case.

The definition names the fields that together identify the work (`duplicates: {fields:
[supplier_id, invoice_number], reason: duplicate_invoice}`). Each case stores a hash of those
values; an intake whose hash matches an earlier case of the workflow (within the rule's window)
is started straight in the rule's exception, routed to its resolver, with the earlier case
named. Values are compared as they are, after the contract accepted them: "INV-1" and "inv-1"
are different invoice numbers, as they are to the supplier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from backoffice.definitions.model import DuplicateRule
from backoffice.engine.audit import canonical_json

DUPLICATE_RULE_ACTOR = "backoffice-duplicate-rule"


def duplicate_key(rule: DuplicateRule | None, data: Mapping[str, Any]) -> str | None:
    """Return the hash of the rule's field values in `data`; None without a rule or when a value is missing.

    A field left empty identifies nothing: two invoices without a number are not duplicates.
    """
    if rule is None:
        return None
    values = []
    for name in rule.fields:
        value: Any = data
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None or value == "":
            return None
        values.append(value)
    return hashlib.sha256(canonical_json(values).encode("utf-8")).hexdigest()


def duplicate_window_start(rule: DuplicateRule | None, now: datetime) -> datetime | None:
    """Return the earliest start of a case the rule still compares with; None: any."""
    if rule is None or rule.within is None:
        return None
    return now - timedelta(seconds=rule.within.seconds)
