"""Checklists (items done in any order) and sub-cases (a case of another workflow, waited for)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.engine import Actor
from backoffice.engine.branches_model import BranchKind, BranchStatus
from backoffice.engine.tasks import TaskStatus
from backoffice.errors import ContractViolation, UnknownWorkflow

from ..directory_fixtures import seed
from .parallel_work import REQUESTER, T0, later

HERE = Path(__file__).resolve().parent
CLERK = Actor("cleo", "clerk")
BUYER = Actor("bea", "buyer")


@pytest.fixture
def hires(engine):
    seed(engine, {"hal": [], "cleo": ["clerk"], "lea": ["lead"]})
    engine.deploy(HERE / "vendor-check.yaml", actor="lea", now=T0)
    engine.deploy(HERE / "documents-and-vendor.yaml", actor="lea", now=T0)
    return engine


def started(engine) -> int:
    case = engine.start_case("documents-and-vendor", {"name": "Nina", "agency": "Temps BV"}, actor=REQUESTER, now=T0)
    return engine.transition(case.id, "documents", actor=CLERK, expected_version=case.version, now=later(0.1)).id


def do_item(engine, case_id: int, item: str, at) -> None:
    child = next(row.child_id for row in engine.branches(case_id) if row.branch == item)
    [task] = [t for t in engine.store.tasks(case_id=child) if t.status is TaskStatus.OPEN]
    engine.claim(task.id, actor=CLERK, now=at)
    engine.complete(task.id, actor=CLERK, now=at, to="documents")


def test_checklist_items_are_done_in_any_order_and_the_required_ones_release_the_case(hires):
    case_id = started(hires)
    assert {row.branch for row in hires.branches(case_id)} == {"sign-contract", "copy-passport", "bank-details"}
    do_item(hires, case_id, "copy-passport", later(1))     # any order: the second item first
    assert hires.case(case_id).state == "documents"
    do_item(hires, case_id, "sign-contract", later(2))
    # The optional item still open is cancelled; the case moves on to its sub-case step.
    case = hires.case(case_id)
    assert case.state == "vendor"
    statuses = {row.branch: row.status for row in hires.branches(case_id) if row.kind is BranchKind.BRANCH}
    assert statuses == {"sign-contract": BranchStatus.DONE, "copy-passport": BranchStatus.DONE,
                        "bank-details": BranchStatus.CANCELLED}


def test_a_subcase_starts_with_the_mapped_data_and_its_outcome_and_data_come_back(hires):
    seed(hires, {"bea": ["buyer"]})
    case_id = started(hires)
    do_item(hires, case_id, "copy-passport", later(1))
    do_item(hires, case_id, "sign-contract", later(2))
    [sub] = [row for row in hires.branches(case_id) if row.kind is BranchKind.SUBCASE]
    vendor = hires.case(sub.child_id)
    assert (vendor.workflow, vendor.state, dict(vendor.data)) == ("vendor-check", "requested",
                                                                  {"vendor_name": "Temps BV"})
    assert vendor.parent_id == case_id and vendor.requester == "hal"
    vendor = hires.transition(vendor.id, "check", actor=BUYER, expected_version=vendor.version, now=later(3))
    hires.transition(vendor.id, "approved", actor=BUYER, expected_version=vendor.version, now=later(4),
                     data={"vendor_id": "V-42"})
    case = hires.case(case_id)
    assert case.state == "done"
    assert case.data["agency_vendor_id"] == "V-42" and case.data["vendor_outcome"] == "approved"
    [sub] = [row for row in hires.branches(case_id) if row.kind is BranchKind.SUBCASE]
    assert (sub.status, sub.outcome) == (BranchStatus.DONE, "approved")


def test_a_refused_subcase_sends_the_parent_the_way_its_outcome_chooses(hires):
    seed(hires, {"bea": ["buyer"]})
    case_id = started(hires)
    do_item(hires, case_id, "copy-passport", later(1))
    do_item(hires, case_id, "sign-contract", later(2))
    vendor_id = next(row.child_id for row in hires.branches(case_id) if row.kind is BranchKind.SUBCASE)
    vendor = hires.transition(vendor_id, "check", actor=BUYER, expected_version=1, now=later(3))
    hires.transition(vendor_id, "refused", actor=BUYER, expected_version=vendor.version, now=later(4))
    assert hires.case(case_id).state == "no-agency"


def test_a_subcase_of_a_workflow_not_deployed_refuses_the_move_and_writes_nothing(engine, tmp_path):
    seed(engine, {"hal": [], "cleo": ["clerk"], "lea": ["lead"]})
    (tmp_path / "vendor-check.yaml").write_text((HERE / "vendor-check.yaml").read_text())
    path = tmp_path / "documents-and-vendor.yaml"
    path.write_text((HERE / "documents-and-vendor.yaml").read_text())
    engine.deploy(path, actor="lea", now=T0)  # vendor-check is not deployed
    case_id = started(engine)
    do_item(engine, case_id, "copy-passport", later(1))
    with pytest.raises(UnknownWorkflow):
        do_item(engine, case_id, "sign-contract", later(2))
    assert engine.case(case_id).state == "documents"
    assert {row.branch: row.status for row in engine.branches(case_id)}["sign-contract"] is BranchStatus.OPEN


def test_a_subcase_whose_mapped_data_breaks_its_inputs_refuses_the_move(hires, tmp_path):
    text = (HERE / "documents-and-vendor.yaml").read_text()
    text = text.replace("pass: {vendor_name: agency}", "pass: {vendor_name: nickname}").replace("version: 1", "version: 2")
    text = text.replace("    agency: string\n", "    agency: string\n    nickname: {type: string, required: false}\n")
    (tmp_path / "vendor-check.yaml").write_text((HERE / "vendor-check.yaml").read_text())
    (tmp_path / "documents-and-vendor.yaml").write_text(text)
    hires.deploy(tmp_path / "documents-and-vendor.yaml", actor="lea", now=T0)
    case_id = started(hires)  # no nickname: the sub-case would start without its required vendor_name
    do_item(hires, case_id, "copy-passport", later(1))
    with pytest.raises(ContractViolation, match="vendor_name"):
        do_item(hires, case_id, "sign-contract", later(2))
    assert hires.case(case_id).state == "documents"
