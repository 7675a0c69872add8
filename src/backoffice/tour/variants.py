"""The cases of the demo: each playbook's payload made into one case of its own, and the variants that change its path.

A playbook's payload is one real request, written for a case arriving at `WRITTEN_FOR`. Each
simulated case gets a copy with its own ids (`PR-000812` becomes `PR-000057`), its dates moved
to its arrival, and, for some, a variant that sends it down another path: a purchase of 640 EUR
goes to the line manager, one of 148,000 to the CFO; a large invoice needs finance's vote too;
a leaver under legal hold passes legal counsel.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from backoffice.tour.playbooks import WRITTEN_FOR, Move

_ID = re.compile(r"^(?P<prefix>[A-Z]+-)(?P<number>[0-9]{6})$")
_YEARLY_ID = re.compile(r"^(?P<prefix>[A-Z]+-)[0-9]{4}-[0-9]{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?$")


@dataclass(frozen=True)
class Variant:
    """A way a workflow's case differs from its playbook: fields changed in the payload, moves added or replaced."""

    name: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    moves: Mapping[str, Move] = field(default_factory=dict)
    weight: float = 1.0


def _purchase(amount: float) -> dict[str, Any]:
    return {"amount": amount, "items": [{"description": "Equipment and services as quoted", "quantity": 1,
                                         "unit_price": amount}]}


def _invoice(net: float) -> dict[str, Any]:
    tax = round(net * 0.21, 2)
    return {"net_amount": net, "tax_amount": tax, "gross_amount": round(net + tax, 2),
            "lines": [{"line_number": 1, "po_line": 1, "description": "Goods as ordered", "quantity": 1,
                       "unit_price": net, "amount": net}]}


VARIANTS: Mapping[str, tuple[Variant, ...]] = {
    "purchase-request": (
        Variant("below 1,000: the line manager approves", _purchase(640.0), weight=2.0),
        Variant("1,000 to 10,000: the budget owner approves", _purchase(4800.0), weight=3.0),
        Variant("10,000 to 100,000: budget owner and finance approve", {}, weight=2.0),
        Variant("100,000 and more: the CFO approves too", _purchase(148000.0), weight=1.0),
    ),
    "supplier-invoice": (
        Variant("below 50,000: the AP manager approves", {}, weight=4.0),
        Variant("50,000 and more: finance approves too", _invoice(52000.0), weight=1.0),
    ),
    "employee-offboarding": (
        Variant("no legal hold", {}, weight=4.0),
        Variant("data under legal hold: legal counsel records it", {"legal_hold": True},
                {"transfer-data": Move("legal-hold-review"), "legal-hold-review": Move("offboarding-work")}, weight=1.0),
    ),
    "employee-onboarding": (
        Variant("privileged access: the security officer approves", {}, weight=1.0),
        Variant("standard access", {"privileged_access": False},
                {"check-prerequisites": Move("provisioning")}, weight=2.0),
        Variant("withdrawn by HR once the account exists", {},
                {"prepare-equipment": Move("revoke-access", by="hr-operations")}, weight=0.3),
    ),
}
"""Per workflow, the variants a simulated case is drawn from (by weight); a workflow not named has one: its playbook."""

PLAIN = Variant("as the playbook")


def variants(workflow: str) -> tuple[Variant, ...]:
    """Return the variants of a workflow's cases (the playbook itself when it has none)."""
    return VARIANTS.get(workflow, (PLAIN,))


def case_payload(payload: Mapping[str, Any], variant: Variant, *, number: int, arrival: datetime) -> dict[str, Any]:
    """Return the payload of one case: the playbook's, changed by the variant, with its own ids and dates.

    Ids such as `PR-000812` take the case's `number`; dates and times move by the days between
    `WRITTEN_FOR` and `arrival` (whole days, so a date stays a working day when it was one).
    """
    days = timedelta(days=(arrival.date() - WRITTEN_FOR.date()).days)
    merged = {**payload, **variant.changes}
    return {name: _renewed(value, number=number, days=days) for name, value in merged.items()}


def moved_move(move: Move, *, number: int, arrival: datetime) -> Move:
    """Return a playbook move for one case: its data's ids and dates, and its `not_before`, moved to the case."""
    days = timedelta(days=(arrival.date() - WRITTEN_FOR.date()).days)
    data = {name: _renewed(value, number=number, days=days) for name, value in move.data.items()}
    return Move(move.to, data, move.not_before + days if move.not_before is not None else None, move.by)


def renewed_result(result: Mapping[str, Any], *, number: int, arrival: datetime) -> dict[str, Any]:
    """Return an action's result for one case: its own ids (a purchase order number per case), dates moved."""
    days = timedelta(days=(arrival.date() - WRITTEN_FOR.date()).days)
    return {name: _renewed(value, number=number, days=days) for name, value in result.items()}


def _renewed(value: Any, *, number: int, days: timedelta) -> Any:
    if isinstance(value, Mapping):
        return {name: _renewed(inner, number=number, days=days) for name, inner in value.items()}
    if isinstance(value, list):
        return [_renewed(inner, number=number, days=days) for inner in value]
    if not isinstance(value, str):
        return value
    if (match := _ID.match(value)) is not None:
        return f"{match['prefix']}{number % 1_000_000:06d}"
    if (match := _YEARLY_ID.match(value)) is not None:
        return f"{match['prefix']}{(WRITTEN_FOR + days).year}-{number % 10_000:04d}"
    if _DATE.match(value):
        return (date.fromisoformat(value) + days).isoformat()
    if _MOMENT.match(value):
        return (datetime.fromisoformat(value.replace("Z", "+00:00")) + days).isoformat()
    return value
