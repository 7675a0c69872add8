"""Comparing two versions of a contract: which changes break, and a breaking change without a major bump refused."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from backoffice.definitions.contract_diff import ChangeKind, diff_contracts
from backoffice.definitions.contract_reader import load_contract
from backoffice.definitions.contracts import Contract
from backoffice.errors import ContractsNotComparable

PUBLISHED = {
    "name": "supplier-invoice",
    "version": "1.2.0",
    "description": "An invoice a supplier sends us.",
    "producer": "ap-capture",
    "consumers": ["three-way-match"],
    "freshness": "24h",
    "schema": {
        "invoice_id": {"type": "string", "required": True, "pattern": "^INV-[0-9]{6}$"},
        "supplier": {"type": "object", "required": True, "fields": {
            "id": {"type": "string", "required": True},
            "iban": {"type": "string", "format": "iban"},
        }},
        "status": {"type": "string", "enum": ["received", "matched", "paid"]},
        "total": {"type": "number", "required": True, "minimum": 0, "maximum": 1000},
        "note": {"type": "string", "nullable": True, "description": "Free text."},
        "reference": {"type": "string"},
        "lines": {"type": "array", "items": {"type": "object", "fields": {"amount": {"type": "number"}}}},
    },
    "quality": [{"unique": "invoice_id"}],
    "change": {"approvers": ["ap-process-owner"], "breaking_approvers": ["data-governance"], "notice": "30d"},
}


REQUIRED_TEXT = {"type": "string", "required": True}


# Each change below is one edit to the published version, named for what it does.
def write(tmp_path: Path, document: dict, name: str) -> Contract:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return load_contract(path)


def proposed(tmp_path: Path, change: Callable[[dict], None], version: str) -> tuple[Contract, Contract]:
    document = copy.deepcopy(PUBLISHED)
    change(document)
    document["version"] = version
    return write(tmp_path, PUBLISHED, "old.yaml"), write(tmp_path, document, "new.yaml")


def remove_reference(doc): del doc["schema"]["reference"]
def retype_total(doc): doc["schema"]["total"] = {"type": "string", "required": True}
def add_required_field(doc): doc["schema"]["cost_center"] = {"type": "string", "required": True}
def require_reference(doc): doc["schema"]["reference"]["required"] = True
def narrow_enum(doc): doc["schema"]["status"]["enum"] = ["received", "paid"]
def add_enum(doc): doc["schema"]["reference"]["enum"] = ["A", "B"]
def raise_minimum(doc): doc["schema"]["total"]["minimum"] = 10
def lower_maximum(doc): doc["schema"]["total"]["maximum"] = 500
def add_pattern(doc): doc["schema"]["reference"]["pattern"] = "^R"
def change_pattern(doc): doc["schema"]["invoice_id"]["pattern"] = "^INV-[0-9]{8}$"
def add_format(doc): doc["schema"]["reference"]["format"] = "uuid"
def refuse_null(doc): doc["schema"]["note"]["nullable"] = False
def add_quality_rule(doc): doc["quality"].append({"not_null": ["supplier.iban"]})
def refuse_unknown_fields(doc): doc["additional_fields"] = False
def loosen_freshness(doc): doc["freshness"] = "48h"
def add_item_field_required(doc): doc["schema"]["lines"]["items"]["fields"]["sku"] = REQUIRED_TEXT
def remove_nested_field(doc): del doc["schema"]["supplier"]["fields"]["iban"]


BREAKING = [
    (remove_reference, ChangeKind.REMOVED_FIELD, "reference"),
    (retype_total, ChangeKind.RETYPED_FIELD, "total"),
    (add_required_field, ChangeKind.NEW_FIELD, "cost_center"),
    (require_reference, ChangeKind.REQUIRED, "reference"),
    (narrow_enum, ChangeKind.ENUM, "status"),
    (add_enum, ChangeKind.ENUM, "reference"),
    (raise_minimum, ChangeKind.LIMIT, "total"),
    (lower_maximum, ChangeKind.LIMIT, "total"),
    (add_pattern, ChangeKind.PATTERN, "reference"),
    (change_pattern, ChangeKind.PATTERN, "invoice_id"),
    (add_format, ChangeKind.FORMAT, "reference"),
    (refuse_null, ChangeKind.NULLABLE, "note"),
    (add_quality_rule, ChangeKind.QUALITY, "quality"),
    (refuse_unknown_fields, ChangeKind.UNKNOWN_FIELDS, "(payload)"),
    (loosen_freshness, ChangeKind.FRESHNESS, "freshness"),
    (add_item_field_required, ChangeKind.NEW_FIELD, "lines.sku"),
    (remove_nested_field, ChangeKind.REMOVED_FIELD, "supplier.iban"),
]


@pytest.mark.parametrize(("change", "kind", "path"), BREAKING, ids=[case[0].__name__ for case in BREAKING])
def test_a_breaking_change_without_a_major_bump_is_refused(tmp_path, change, kind, path):
    diff = diff_contracts(*proposed(tmp_path, change, "1.3.0"))
    (only,) = diff.changes
    assert (only.kind, only.path, only.breaking) == (kind, path, True) and only.reason
    assert diff.breaking and diff.refused
    assert diff.message.startswith("refused: 1 breaking change needs a new major version, but 1.2.0 → 1.3.0")
    assert diff.message.endswith("publish it as 2.0.0 (supplier-invoice.v2)")


@pytest.mark.parametrize(("change", "kind", "path"), BREAKING, ids=[case[0].__name__ for case in BREAKING])
def test_a_breaking_change_with_a_major_bump_is_accepted(tmp_path, change, kind, path):
    diff = diff_contracts(*proposed(tmp_path, change, "2.0.0"))
    assert diff.breaking and diff.major_bump and not diff.refused
    assert diff.message.startswith("breaking: 1 breaking change with a new major version 1.2.0 → 2.0.0 "
                                   "(supplier-invoice.v2); accepted; keep supplier-invoice.v1 for 30 days")
    assert diff.approvers == ("ap-process-owner", "data-governance")


def add_optional_field(doc): doc["schema"]["due_date"] = {"type": "date"}
def add_optional_object(doc): doc["schema"]["buyer"] = {"type": "object", "fields": {"id": REQUIRED_TEXT}}
def widen_enum(doc): doc["schema"]["status"]["enum"].append("rejected")
def drop_enum(doc): del doc["schema"]["status"]["enum"]
def lower_minimum(doc): doc["schema"]["total"]["minimum"] = -100
def drop_maximum(doc): del doc["schema"]["total"]["maximum"]
def drop_pattern(doc): del doc["schema"]["invoice_id"]["pattern"]
def make_optional(doc): doc["schema"]["total"]["required"] = False
def allow_null(doc): doc["schema"]["reference"]["nullable"] = True
def drop_quality_rule(doc): doc["quality"] = []
def tighten_freshness(doc): doc["freshness"] = "4h"
def reword_field(doc): doc["schema"]["note"]["description"] = "Anything the clerk adds."
def reword_contract(doc): doc["description"] = "An invoice from a supplier."
def add_consumer(doc): doc["consumers"].append("payments")
def change_producer(doc): doc["producer"] = "supplier-portal"


NOT_BREAKING = [
    (add_optional_field, ChangeKind.NEW_FIELD, "due_date"),
    (add_optional_object, ChangeKind.NEW_FIELD, "buyer"),
    (widen_enum, ChangeKind.ENUM, "status"),
    (drop_enum, ChangeKind.ENUM, "status"),
    (lower_minimum, ChangeKind.LIMIT, "total"),
    (drop_maximum, ChangeKind.LIMIT, "total"),
    (drop_pattern, ChangeKind.PATTERN, "invoice_id"),
    (make_optional, ChangeKind.REQUIRED, "total"),
    (allow_null, ChangeKind.NULLABLE, "reference"),
    (drop_quality_rule, ChangeKind.QUALITY, "quality"),
    (tighten_freshness, ChangeKind.FRESHNESS, "freshness"),
    (reword_field, ChangeKind.DOCUMENTATION, "note.description"),
    (reword_contract, ChangeKind.DOCUMENTATION, "description"),
    (add_consumer, ChangeKind.DOCUMENTATION, "consumers"),
    (change_producer, ChangeKind.DOCUMENTATION, "producer"),
]


@pytest.mark.parametrize(("change", "kind", "path"), NOT_BREAKING, ids=[case[0].__name__ for case in NOT_BREAKING])
def test_a_non_breaking_change_with_a_minor_bump_is_accepted(tmp_path, change, kind, path):
    diff = diff_contracts(*proposed(tmp_path, change, "1.3.0"))
    (only,) = diff.changes
    assert (only.kind, only.path, only.breaking) == (kind, path, False) and only.reason
    assert not diff.breaking and not diff.refused and not diff.warnings
    assert diff.message == "not breaking: 1 change, 1.2.0 → 1.3.0; accepted; approval needed from ap-process-owner"


def test_the_narrower_enum_names_the_values_removed_and_added(tmp_path):
    def swap(doc): doc["schema"]["status"]["enum"] = ["received", "paid", "on_hold"]
    (change,) = diff_contracts(*proposed(tmp_path, swap, "2.0.0")).changes
    assert change.breaking and change.reason == "narrower: matched no longer allowed (on_hold added)"
    assert (change.old, change.new) == ("received, matched, paid", "received, paid, on_hold")


def test_a_removed_object_is_one_change_not_one_per_field(tmp_path):
    def remove_supplier(doc): del doc["schema"]["supplier"]
    diff = diff_contracts(*proposed(tmp_path, remove_supplier, "2.0.0"))
    assert [(change.kind, change.path) for change in diff.changes] == [(ChangeKind.REMOVED_FIELD, "supplier")]


def test_a_retyped_array_item_is_breaking(tmp_path):
    def retype_items(doc): doc["schema"]["lines"]["items"] = {"type": "string"}
    diff = diff_contracts(*proposed(tmp_path, retype_items, "1.3.0"))
    assert [(change.kind, change.path) for change in diff.changes] == [(ChangeKind.RETYPED_FIELD, "lines[]")]
    assert diff.refused


def test_every_change_is_listed_and_one_breaking_change_is_enough_to_refuse(tmp_path):
    def several(doc):
        add_optional_field(doc)
        widen_enum(doc)
        remove_reference(doc)
    diff = diff_contracts(*proposed(tmp_path, several, "1.3.0"))
    assert [(change.path, change.breaking) for change in diff.changes] == [
        ("reference", True), ("status", False), ("due_date", False)]
    assert diff.refused


def test_identical_contracts_have_no_changes(tmp_path):
    old = write(tmp_path, PUBLISHED, "old.yaml")
    diff = diff_contracts(old, write(tmp_path, PUBLISHED, "same.yaml"))
    assert diff.changes == () and not diff.refused and diff.message == "no changes between 1.2.0 → 1.2.0"


def test_reordering_allowed_values_is_no_change(tmp_path):
    def reorder(doc): doc["schema"]["status"]["enum"].reverse()
    assert diff_contracts(*proposed(tmp_path, reorder, "1.2.1")).changes == ()


def test_a_change_without_a_new_version_is_warned(tmp_path):
    diff = diff_contracts(*proposed(tmp_path, add_optional_field, "1.2.0"))
    assert not diff.refused and "its version did not" in diff.warnings[0]


def test_a_version_going_backwards_is_warned(tmp_path):
    diff = diff_contracts(*proposed(tmp_path, add_optional_field, "1.1.0"))
    assert "goes backwards" in diff.warnings[0]


def test_a_major_version_going_backwards_does_not_excuse_a_breaking_change(tmp_path):
    old, new = proposed(tmp_path, remove_reference, "0.9.0")
    assert diff_contracts(old, new).refused


def test_contracts_with_different_names_cannot_be_compared(tmp_path):
    other = dict(copy.deepcopy(PUBLISHED), name="purchase-request")
    with pytest.raises(ContractsNotComparable, match="'supplier-invoice' with contract 'purchase-request'"):
        diff_contracts(write(tmp_path, PUBLISHED, "old.yaml"), write(tmp_path, other, "new.yaml"))
