"""The library of workflows: every template checks clean, says what its workflow demands, and copies.

Each template's own requirements are tested on the definition itself: routing and guards are
evaluated as CEL on sample cases, and gates are shown to be gates by cutting them out of the
state graph and finding what can no longer be reached.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backoffice.definitions import LIBRARY, Definition, StateKind, check_definition, load_definition
from backoffice.definitions.contract_reader import load_contract
from backoffice.definitions.contracts import validate_batch
from backoffice.definitions.library_templates import (Template, get_template, list_templates,
                                                      new_from_template)
from backoffice.definitions.model import ControlReason, RiskTag, SlaClock, TimerKind
from backoffice.errors import OutputFileError, TemplateTargetExists, UnknownTemplate

NEW_TEMPLATES = ["employee-onboarding", "employee-offboarding", "purchase-request", "supplier-invoice",
                 "vendor-onboarding", "expense-claim", "kpi-exception-review"]
ALL_TEMPLATES = sorted(NEW_TEMPLATES + ["service-request"])
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=timezone.utc)


def definition(name: str) -> Definition:
    return load_definition(LIBRARY / f"{name}.yaml")


def successors(d: Definition) -> dict[str, set[str]]:
    """Where a case can go: transitions, exceptions raised and resolved, retries run out."""
    graph: dict[str, set[str]] = {sid: set() for sid in d.states}
    for transition in d.transitions:
        for source in transition.from_:
            graph[source].add(transition.to)
    cancelled = next(sid for sid, state in d.states.items() if state.kind is StateKind.CANCELLED)
    for reason in d.exceptions.values():
        after = reason.returns_to or (reason.ends if isinstance(reason.ends, str) else cancelled)
        raised_in = reason.raised_in or [sid for sid, state in d.states.items() if not state.kind.is_end]
        for source in raised_in:
            graph[source].add(reason.state or after)
        if reason.state:
            graph[reason.state].add(after)
    for step in d.automated_steps:
        if step.on_exhausted:
            graph[step.state].add(step.on_exhausted)
    for sid, state in d.states.items():
        graph[sid].update(branch.start for branch in state.branch_specs().values())  # branches open beside it
    return graph


def reachable(d: Definition, *, without: set[str] = frozenset()) -> set[str]:
    """The states a case can reach from intake, never passing through the states `without`."""
    graph, seen, queue = successors(d), {d.intake_state}, deque([d.intake_state])
    while queue:
        for target in graph[queue.popleft()] - without:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def transition(d: Definition, source: str, to: str, name: str | None = None):
    found = [t for t in d.allowed_transitions(source) if t.to == to and (name is None or t.name == name)]
    assert len(found) == 1, f"expected one transition {source} -> {to}, found {len(found)}"
    return found[0]


def enabled(d: Definition, source: str, context: dict) -> list[str]:
    """Where the guarded transitions out of `source` lead when their guard holds on this context.

    Unguarded moves (withdraw, reject) are a person's choice, always open: they are left out.
    """
    return [t.to for t in d.allowed_transitions(source) if t.guard is not None and t.guard.test(context)]


# Every template


def test_the_library_lists_every_template_with_its_title_and_purpose():
    templates = {template.name: template for template in list_templates()}
    assert sorted(templates) == ALL_TEMPLATES
    for name, template in templates.items():
        parsed = definition(name)
        assert template.title == parsed.title
        assert template.purpose == " ".join(parsed.purpose.split())
        assert 0 < len(template.summary) <= 101 and template.purpose.startswith(template.summary.rstrip("…"))


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_every_template_passes_check_with_no_error_and_no_warning(name):
    report = check_definition(LIBRARY / f"{name}.yaml")
    assert report.errors == () and report.warnings == (), "\n".join(map(str, report.problems))


@pytest.mark.parametrize("name", NEW_TEMPLATES)
def test_every_template_names_a_valid_contract_produced_by_its_trigger_system(name):
    template = get_template(name)
    assert len(template.contracts) == 1
    contract = load_contract(LIBRARY / template.contracts[0])
    assert contract.producer == definition(name).trigger.system
    assert name in contract.consumers or contract.name in ("supplier-invoice", "purchase-request")


@pytest.mark.parametrize("name", NEW_TEMPLATES)
def test_every_template_is_ready_to_run_real_work(name):
    d = definition(name)
    # One accountable role, and a trigger from a named system.
    assert d.owner.role in d.roles
    assert d.trigger.system in d.systems and d.scope.does_not_start
    # SLAs in business time, on a calendar with public holidays, pausing only where we wait on others.
    assert d.calendar is not None and d.calendar.holidays is not None
    assert d.sla is not None and d.sla.first_response and d.sla.resolution
    assert d.sla.pause_in and all(d.states[s].kind in (StateKind.WAITING, StateKind.EXCEPTION) for s in d.sla.pause_in)
    # Reminders at 50% and 75% of the resolution SLA, an escalation at 100%, each with a target.
    at = {timer.at: timer for timer in d.timers if timer.sla is SlaClock.RESOLUTION}
    assert {0.5, 0.75, 1.0} <= set(at)
    assert at[1.0].kind is TimerKind.ESCALATION and all(timer.target for timer in d.timers)
    # Proof, exceptions with resolvers, a way back to the requester, controls, fallback, monitoring.
    assert d.proof_of_completion.field or d.proof_of_completion.record
    assert all(reason.resolver is not None for reason in d.exceptions.values())
    assert any(reason.resolver.role == "requester" for reason in d.exceptions.values())
    assert d.controls
    assert d.fallback is not None and d.fallback.owner is not None
    assert {expectation.metric for expectation in d.monitoring} >= {"sla_attainment"}
    assert len(d.monitoring) >= 3
    # A change needs a second person: every template carries a risk tag.
    assert d.change.risk and d.change.second_approver_required and len(d.change.approvers) >= 2
    # Every approval keeps its approvers apart from the work they approve, and asks for evidence.
    for approval in d.approvals:
        duties = approval.separation_of_duties
        assert duties is not None and (duties.requester or duties.actors_of), approval.state
        assert approval.evidence is not None and (approval.evidence.documents or approval.evidence.fields)
        assert approval.timeout is not None
    # Automated steps retry with backoff, then hand over to a person.
    assert d.automated_steps
    for step in d.automated_steps:
        assert step.retry.attempts >= 3 and step.retry.factor > 1
        assert step.on_exhausted is not None and d.states[step.on_exhausted].kind is StateKind.HUMAN_TASK


@pytest.mark.parametrize("name, risk", [
    ("employee-onboarding", {RiskTag.ACCESS, RiskTag.COMPLIANCE}),
    ("employee-offboarding", {RiskTag.ACCESS, RiskTag.COMPLIANCE}),
    ("purchase-request", {RiskTag.FINANCE}),
    ("supplier-invoice", {RiskTag.FINANCE, RiskTag.COMPLIANCE}),
    ("vendor-onboarding", {RiskTag.FINANCE, RiskTag.COMPLIANCE}),
    ("expense-claim", {RiskTag.FINANCE}),
    ("kpi-exception-review", {RiskTag.COMPLIANCE}),
])
def test_each_template_is_tagged_with_the_risk_of_changing_it(name, risk):
    assert set(definition(name).change.risk) == risk


@pytest.mark.parametrize("name", ["supplier-invoice", "expense-claim", "vendor-onboarding"])
def test_steps_that_release_money_have_a_payment_control_and_separation_of_duties(name):
    d = definition(name)
    payment_states = {control.state for control in d.controls if control.reason is ControlReason.PAYMENT}
    approvals = [approval for approval in d.approvals if approval.state in payment_states]
    assert approvals
    for approval in approvals:
        assert approval.separation_of_duties.requester or approval.separation_of_duties.actors_of


# Sample payloads: the contracts take what their producers really send.

SAMPLES = {
    "employee-onboarding": {
        "hire_id": "HIRE-004211", "employee": {"id": "E10422", "given_name": "Mira", "family_name": "Kovač",
                                               "personal_email": "mira.kovac@example.org"},
        "start_date": "2025-04-01", "employment_type": "permanent", "job_title": "Payroll specialist",
        "department": "Finance", "cost_center": "CC-4100", "country": "DE",
        "manager": {"employee_id": "E10007", "email": "jonas.weber@example.com"},
        "access_profile": "finance-payroll-standard", "privileged_access": True,
        "equipment_profile": "standard-laptop", "right_to_work_verified": True, "contract_signed": True,
    },
    "employee-offboarding": {
        "termination_id": "TERM-000318", "employee": {"id": "E10290", "name": "Tom Berger",
                                                      "email": "tom.berger@example.com", "department": "IT"},
        "manager": {"employee_id": "E10007", "email": "jonas.weber@example.com"},
        "termination_type": "resignation", "last_working_day": "2025-03-31",
        "access_cutoff": "2025-03-31T17:00:00+02:00", "privileged_access": True,
        "data_owner": "jonas.weber@example.com", "legal_hold": False,
        "assets": [{"asset_tag": "LT-20931", "kind": "laptop"}, {"asset_tag": "BD-1182", "kind": "badge"}],
    },
    "vendor-onboarding": {
        "request_id": "VR-000871", "submitted_at": "2025-03-10T09:12:00+01:00",
        "requested_by": {"employee_id": "E10422", "email": "mira.kovac@example.com", "department": "Finance"},
        "legal_name": "Brouwer Facility Services BV", "country": "NL", "registration_number": "81234567",
        "vat_id": "NL862291733B01", "address": {"street": "Keizersgracht 1", "postal_code": "1015 CC",
                                                "city": "Amsterdam"},
        "contact": {"name": "Eva Brouwer", "email": "eva@brouwer.example", "phone": "+31 20 123 4567"},
        "bank": {"iban": "NL91ABNA0417164300", "bic": "ABNANL2A", "account_holder": "Brouwer Facility Services BV",
                 "confirmation_letter": "https://dms.example.com/vendor/VR-000871/bank.pdf"},
        "category": "services", "expected_annual_spend": 48000, "payment_terms_days": 30,
    },
    "expense-claim": {
        "claim_id": "EXP-004511", "submitted_at": "2025-03-11T18:02:00Z",
        "employee": {"id": "E10290", "email": "tom.berger@example.com", "department": "Sales",
                     "iban": "GB33BUKB20201555555555"},
        "cost_center": "CC-2200", "purpose": "Customer workshop in Leeds", "currency": "GBP", "total_amount": 212.4,
        "lines": [{"date": "2025-03-04", "category": "travel", "amount": 96.4, "original_currency": "GBP",
                   "receipt": "https://expenses.example.com/r/1"},
                  {"date": "2025-03-04", "category": "lodging", "amount": 116.0, "original_currency": "GBP",
                   "vat_amount": 19.33, "receipt": "https://expenses.example.com/r/2"}],
    },
    "kpi-exception-review": {
        "exception_id": "KPI-2025-W10-004", "week": "2025-W10",
        "kpi": {"id": "ap-first-time-match", "name": "Invoice first-time match rate", "unit": "percent",
                "direction": "higher_is_better"},
        "business_unit": "Accounts payable NL", "actual": 71.5, "threshold": 80, "target": 90, "weeks_in_breach": 2,
        "severity": "high", "regulatory": False, "report": "https://bi.example.com/kpi/ap-first-time-match?w=2025-W10",
    },
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_realistic_payload_conforms_to_each_new_contract(name):
    contract = load_contract(LIBRARY / get_template(name).contracts[0])
    assert contract.validate(SAMPLES[name]) == []


# Purchase request: the amount decides who approves.

AMOUNT_BANDS = [(250.0, "line-manager", "approve-line-manager"), (999.99, "line-manager", "approve-line-manager"),
                (1000.0, "budget-owner", "approve-budget-owner"), (9999.99, "budget-owner", "approve-budget-owner"),
                (10000.0, "finance-controller", "approve-finance"), (99999.99, "finance-controller", "approve-finance"),
                (100000.0, "cfo", "approve-executive"), (750000.0, "cfo", "approve-executive")]


@pytest.mark.parametrize("amount, approver, approval_state", AMOUNT_BANDS)
def test_purchase_request_routes_each_amount_to_its_approver(amount, approver, approval_state):
    d = definition("purchase-request")
    context = {"data": {"amount": amount, "currency": "EUR", "category": "goods"}, "now": NOW}
    owners = [rule.owner.role for rule in d.routing if rule.owner and rule.when and rule.when.test(context)]
    assert owners == [approver]
    # The state machine agrees with the routing: one approval state, whose approvers include that role.
    assert enabled(d, "check-budget", context) == [approval_state]
    assert approver in {party.role for party in d.approval(approval_state).approvers}


def test_purchase_request_approvers_grow_with_the_amount():
    d = definition("purchase-request")
    chain = [{party.role for party in d.approval(state).approvers}
             for state in ("approve-line-manager", "approve-budget-owner", "approve-finance", "approve-executive")]
    assert chain == [{"line-manager"}, {"budget-owner"}, {"budget-owner", "finance-controller"},
                     {"budget-owner", "finance-controller", "cfo"}]
    assert d.approval("approve-finance").quorum == "all" and d.approval("approve-executive").quorum == "all"
    assert all(approval.separation_of_duties.requester for approval in d.approvals)


def test_purchase_request_needs_a_quote_from_ten_thousand():
    guard = transition(definition("purchase-request"), "review-request", "check-budget").guard
    assert guard.test({"data": {"amount": 9999.0, "currency": "EUR"}})
    assert not guard.test({"data": {"amount": 15000.0, "currency": "EUR"}})
    assert guard.test({"data": {"amount": 15000.0, "currency": "EUR", "quote": "https://q.example.com/1"}})
    assert not guard.test({"data": {"amount": 500.0, "currency": "USD"}})


def test_purchase_request_cannot_reach_a_purchase_order_without_an_approval():
    d = definition("purchase-request")
    approvals = {approval.state for approval in d.approvals}
    assert "create-po" in reachable(d)
    assert "create-po" not in reachable(d, without=approvals) and "done" not in reachable(d, without=approvals)


# Employee offboarding: an approval gate before the sensitive actions; access gone by the last day.

SENSITIVE = {"revoke-access", "revoke-privileged-access", "transfer-data"}


def test_offboarding_reaches_the_sensitive_access_states_only_through_the_approval():
    d = definition("employee-offboarding")
    assert SENSITIVE <= reachable(d)
    assert not SENSITIVE & reachable(d, without={"approve-access-removal"})
    gate = d.approval("approve-access-removal")
    assert d.states["approve-access-removal"].kind is StateKind.APPROVAL
    assert gate.quorum == "all" and len(gate.approvers) == 2
    assert gate.separation_of_duties.requester and gate.separation_of_duties.actors_of == ["plan-offboarding"]
    assert ControlReason.PERMISSIONS in {control.reason for control in d.controls_at("approve-access-removal")}


@pytest.mark.parametrize("cutoff, allowed", [
    ("2025-03-31T17:00:00+02:00", True),     # the afternoon of the last day
    ("2025-03-28T12:00:00+01:00", True),     # before the last day
    ("2025-04-01T09:00:00+02:00", False),    # the morning after: too late
    ("2025-04-03T17:00:00Z", False),
])
def test_offboarding_refuses_an_access_cutoff_after_the_last_working_day(cutoff, allowed):
    guard = transition(definition("employee-offboarding"), "plan-offboarding", "approve-access-removal").guard
    assert guard.test({"data": {"last_working_day": "2025-03-31", "access_cutoff": cutoff}}) is allowed


def test_offboarding_removes_access_at_the_cutoff_or_at_once_for_cause():
    d = definition("employee-offboarding")
    before_cutoff = NOW.replace(month=3, day=20)
    resignation = {"data": {"termination_type": "resignation", "access_cutoff": "2025-03-31T17:00:00+02:00"}}
    for_cause = {"data": {"termination_type": "dismissal_for_cause", "access_cutoff": "2025-03-31T17:00:00+02:00"}}
    # The approval opens the parallel work; its access branch waits for the cutoff, unless for cause.
    assert [t.to for t in d.allowed_transitions("approve-access-removal")] == ["offboarding-work", "cancelled"]
    assert d.states["offboarding-work"].branch_specs()["access"].start == "waiting-for-cutoff"
    assert enabled(d, "waiting-for-cutoff", {**for_cause, "now": before_cutoff}) == ["revoke-access"]
    after_cutoff = datetime(2025, 3, 31, 15, 0, 1, tzinfo=timezone.utc)
    assert enabled(d, "waiting-for-cutoff", {**resignation, "now": after_cutoff}) == ["revoke-access"]
    assert enabled(d, "waiting-for-cutoff", {**resignation, "now": before_cutoff}) == []


def test_offboarding_is_done_only_on_a_clean_access_review():
    d = definition("employee-offboarding")
    closing = transition(d, "verify-access-removed", "done")
    assert "access_review_clean" in closing.requires
    assert not closing.guard.test({"data": {"access_review_clean": False}})
    assert d.proof_of_completion.field == "access_review_clean"
    # Only the verification leads to done: no path skips it.
    assert "done" not in reachable(d, without={"verify-access-removed"})


# Supplier invoice: three-way match, variances as exceptions, duplicates, and a guarded payment.

def test_invoice_price_and_quantity_variances_are_exceptions_with_resolvers_and_returns():
    d = definition("supplier-invoice")
    price, quantity = d.exceptions["price_variance"], d.exceptions["quantity_variance"]
    assert price.resolver.role == "procurement-buyer" and quantity.resolver.role == "goods-receiver"
    for reason in (price, quantity):
        assert "three-way-match" in reason.raised_in
        assert reason.returns_to == "three-way-match"
        assert d.states[reason.state].kind is StateKind.EXCEPTION


@pytest.mark.parametrize("result, matched", [
    ({"matched": True, "price_variance_pct": 0.0, "quantity_variance": 0.0}, True),
    ({"matched": True, "price_variance_pct": 1.9, "quantity_variance": -2.0}, True),   # within tolerance
    ({"matched": True, "price_variance_pct": 5.0, "quantity_variance": 0.0}, False),   # price variance
    ({"matched": True, "price_variance_pct": 0.0, "quantity_variance": 3.0}, False),   # more invoiced than received
    ({"matched": False, "price_variance_pct": 0.0, "quantity_variance": 0.0}, False),
])
def test_invoice_three_way_match_posts_only_within_tolerance(result, matched):
    d = definition("supplier-invoice")
    assert (enabled(d, "three-way-match", {"result": result}) == ["post-to-erp"]) is matched


def test_invoice_duplicate_rule_stops_a_second_capture_before_any_match():
    d = definition("supplier-invoice")
    duplicate = d.exceptions["duplicate_invoice"]
    assert duplicate.raised_in == ["received", "validate-invoice"] and duplicate.ends == "rejected"
    # The definition's duplicate rule names the same fields as the contract's unique rule.
    assert (d.duplicates.fields, d.duplicates.reason) == (["supplier.id", "supplier_invoice_number"],
                                                          "duplicate_invoice")
    assert d.states["rejected"].kind is StateKind.CANCELLED
    clean = {"duplicate_of": "", "iban_matches_vendor_master": True, "po_open": True}
    assert enabled(d, "validate-invoice", {"result": clean}) == ["three-way-match"]
    assert enabled(d, "validate-invoice", {"result": {**clean, "duplicate_of": "INV-000117"}}) == []
    # The contract's unique rule catches the same supplier invoice number captured twice.
    contract = load_contract(LIBRARY / "contracts" / "supplier-invoice.v1.yaml")
    invoice = {"invoice_id": "INV-000118", "supplier": {"id": "SUP-00042", "name": "Brouwer",
                                                        "iban": "NL91ABNA0417164300"},
               "supplier_invoice_number": "2025-0311", "invoice_date": "2025-03-11",
               "received_at": "2025-03-11T10:00:00Z", "purchase_order": "PO-004711", "currency": "EUR",
               "net_amount": 100.0, "tax_amount": 21.0, "gross_amount": 121.0,
               "lines": [{"line_number": 1, "po_line": 1, "description": "Cleaning, March", "quantity": 1,
                          "unit_price": 100.0, "amount": 100.0}]}
    violations = validate_batch(contract, [invoice, {**invoice, "invoice_id": "INV-000119"}])
    assert [violation.kind for violation in violations] == ["unique"]


def test_invoice_payment_needs_an_approval_by_someone_who_did_not_touch_the_invoice():
    d = definition("supplier-invoice")
    approvals = {approval.state for approval in d.approvals}
    assert approvals == {"approve-payment", "approve-large-payment"}
    assert "pay" not in reachable(d, without=approvals)
    for state in approvals:
        approval = d.approval(state)
        assert ControlReason.PAYMENT in {control.reason for control in d.controls_at(state)}
        assert approval.separation_of_duties.requester
        assert {"review-capture", "match-manually", "price-variance", "quantity-variance", "post-manually",
                "verify-bank-details"} <= set(approval.separation_of_duties.actors_of)
    assert d.approval("approve-large-payment").votes_needed() == 2
    assert enabled(d, "post-to-erp", {"data": {"gross_amount": 49999.0}}) == ["approve-payment"]
    assert enabled(d, "post-to-erp", {"data": {"gross_amount": 50000.0}}) == ["approve-large-payment"]


def test_invoice_posting_and_payment_are_automated_with_retries_and_a_manual_fallback():
    d = definition("supplier-invoice")
    post, pay = d.automated_step("post-to-erp"), d.automated_step("pay")
    assert post.retry.attempts >= 5 and post.on_exhausted == "post-manually"
    assert pay.retry.attempts >= 3 and pay.on_exhausted == "payment-failed"
    assert post.retry.delay(1) < post.retry.delay(2) <= post.retry.max.seconds
    assert ControlReason.PAYMENT in {control.reason for control in d.controls_at("payment-failed")}
    assert enabled(d, "pay", {"result": {"payment_status": "accepted"}}) == ["paid"]


# KPI exception review: exception -> owner -> action with a deadline -> closure.

def test_kpi_review_names_an_owner_before_any_action():
    d = definition("kpi-exception-review")
    naming = transition(d, "weekly-review", "plan-action")
    assert naming.requires == ["owner"]
    assert not naming.guard.test({"data": {"owner": ""}})
    assert naming.guard.test({"data": {"owner": "lena.vos@example.com"}})
    assert "plan-action" not in reachable(d, without={"weekly-review"})


@pytest.mark.parametrize("days, allowed", [(14, True), (30, True), (45, False), (-1, False)])
def test_kpi_review_actions_have_a_deadline_within_thirty_days(days, allowed):
    d = definition("kpi-exception-review")
    proposing = transition(d, "plan-action", "agree-action")
    assert set(proposing.requires) == {"root_cause", "action", "action_due"}
    due = (NOW + timedelta(days=days)).date().isoformat()
    assert proposing.guard.test({"data": {"action_due": due}, "now": NOW}) is allowed


def test_kpi_review_closes_only_on_evidence_that_the_kpi_is_back():
    d = definition("kpi-exception-review")
    closing = transition(d, "verify-closure", "closed")
    assert set(closing.requires) == {"closure_evidence", "back_within_threshold"}
    evidence = "https://bi.example.com/kpi/ap-first-time-match?w=2025-W14"
    assert closing.guard.test({"data": {"closure_evidence": evidence, "back_within_threshold": True}})
    assert not closing.guard.test({"data": {"closure_evidence": evidence, "back_within_threshold": False}})
    assert enabled(d, "verify-closure", {"data": {"closure_evidence": evidence, "back_within_threshold": False}}) \
        == ["plan-action"]
    # The order holds: no closure without an agreed action, no agreed action without an owner.
    assert "closed" not in reachable(d, without={"agree-action"})
    assert "closed" not in reachable(d, without={"plan-action"})
    assert d.approval("agree-action").separation_of_duties.actors_of == ["plan-action"]


# Onboarding and expense claims: the gates their risks call for.

def test_onboarding_grants_privileged_access_only_after_a_security_approval():
    d = definition("employee-onboarding")
    prerequisites = {"contract_signed": True, "right_to_work_verified": True}
    assert enabled(d, "check-prerequisites", {"data": {**prerequisites, "privileged_access": True}}) \
        == ["approve-privileged-access"]
    assert enabled(d, "check-prerequisites", {"data": {**prerequisites, "privileged_access": False}}) \
        == ["provisioning"]
    assert d.states["provisioning"].branch_specs()["it"].start == "create-account"
    assert enabled(d, "check-prerequisites", {"data": {**prerequisites, "right_to_work_verified": False,
                                                        "privileged_access": False}}) == []
    assert d.approval("approve-privileged-access").separation_of_duties.requester


def test_onboarding_never_leaves_a_withdrawn_hire_with_a_live_account():
    d = definition("employee-onboarding")
    account_exists = {"provision-manually", "prepare-equipment", "waiting-on-supplier", "setup-payroll",
                      "readiness-check"}
    for state in account_exists:
        assert "cancelled" not in {t.to for t in d.allowed_transitions(state)}
        assert "revoke-access" in {t.to for t in d.allowed_transitions(state)}


@pytest.mark.parametrize("lines, total, audited", [
    ([{"category": "travel", "amount": 96.4}], 96.4, False),
    ([{"category": "client_entertainment", "amount": 180.0}], 180.0, True),
    ([{"category": "lodging", "amount": 1240.0}], 1240.0, True),
])
def test_expense_claims_go_to_an_auditor_when_large_or_entertainment(lines, total, audited):
    d = definition("expense-claim")
    context = {"data": {"lines": lines, "total_amount": total, "policy_violations": 0}}
    assert enabled(d, "manager-approval", context) == (["audit-review"] if audited else ["pay-reimbursement"])
    assert d.approval("manager-approval").separation_of_duties.requester


def test_vendor_bank_details_are_verified_by_call_back_and_approved_by_someone_else():
    d = definition("vendor-onboarding")
    assert ControlReason.FRAUD in {control.reason for control in d.controls_at("verify-bank-details")}
    assert "verify-bank-details" in d.approval("approve-vendor-record").separation_of_duties.actors_of
    guard = transition(d, "verify-bank-details", "create-vendor-record").guard
    vendor = {"legal_name": "Brouwer Facility Services BV", "bank_verified_by_callback": True,
              "bank": {"account_holder": "BROUWER FACILITY SERVICES BV"}}
    assert guard.test({"data": vendor})
    assert not guard.test({"data": {**vendor, "bank": {"account_holder": "Quick Pay Agents Ltd"}}})


# Copying a template

def test_new_from_template_copies_the_definition_and_its_contract_so_it_checks_where_it_lands(tmp_path):
    created = new_from_template("supplier-invoice", tmp_path / "definitions")
    assert created == tmp_path / "definitions" / "supplier-invoice.yaml"
    assert created.read_bytes() == (LIBRARY / "supplier-invoice.yaml").read_bytes()
    assert (tmp_path / "definitions" / "contracts" / "supplier-invoice.v1.yaml").is_file()
    report = check_definition(created)
    assert report.errors == () and report.warnings == ()


def test_new_from_template_takes_a_file_name_and_shares_an_identical_contract(tmp_path):
    first = new_from_template("purchase-request.yaml", tmp_path / "acme-purchasing.yaml")
    second = new_from_template("purchase-request", str(tmp_path / "emea-purchasing.yml"))
    assert first.name == "acme-purchasing.yaml" and second.name == "emea-purchasing.yml"
    assert sorted(p.name for p in (tmp_path / "contracts").iterdir()) == ["purchase-request.v1.yaml"]
    assert check_definition(second).ok


def test_new_from_template_without_destination_writes_to_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert new_from_template("service-request") == tmp_path / "service-request.yaml"
    assert check_definition(tmp_path / "service-request.yaml").ok


def test_new_from_template_never_overwrites_the_copy(tmp_path):
    existing = tmp_path / "supplier-invoice.yaml"
    existing.write_text("# my edited workflow\n")
    with pytest.raises(TemplateTargetExists) as raised:
        new_from_template("supplier-invoice", tmp_path)
    assert raised.value.path == existing and "never overwrites" in str(raised.value)
    assert existing.read_text() == "# my edited workflow\n"
    assert not (tmp_path / "contracts").exists()


def test_new_from_template_never_replaces_an_edited_contract_and_writes_nothing(tmp_path):
    contract = tmp_path / "contracts" / "expense-claim.v1.yaml"
    contract.parent.mkdir()
    contract.write_text("# edited by finance\n")
    with pytest.raises(TemplateTargetExists) as raised:
        new_from_template("expense-claim", tmp_path)
    assert raised.value.path == contract
    assert contract.read_text() == "# edited by finance\n"
    assert not (tmp_path / "expense-claim.yaml").exists()


def test_new_from_template_under_a_file_is_an_output_error_that_leaves_nothing(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file, not a folder")
    with pytest.raises(OutputFileError):
        new_from_template("kpi-exception-review", blocker / "reviews")
    assert blocker.read_text() == "a file, not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("name, suggestion", [("supplier-invoce", "supplier-invoice"), ("../contracts", None),
                                              ("", None)])
def test_an_unknown_template_name_lists_the_library(name, suggestion):
    with pytest.raises(UnknownTemplate) as raised:
        get_template(name)
    message = str(raised.value)
    assert raised.value.known == ALL_TEMPLATES
    assert all(template in message for template in ALL_TEMPLATES)
    assert (f"did you mean {suggestion!r}" in message) if suggestion else "did you mean" not in message


def test_a_template_is_a_frozen_value():
    template = get_template("expense-claim")
    assert isinstance(template, Template) and template.path == LIBRARY / "expense-claim.yaml"
    with pytest.raises(AttributeError):
        template.name = "other"  # type: ignore[misc]
    assert isinstance(template.path, Path)
