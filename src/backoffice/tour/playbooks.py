"""How each template of the library is played end to end: a valid payload, the people's moves, the actions' results.

One playbook per template. The payloads are written out by hand, as the template's producer
would send them, so a contract change that breaks real intake breaks these too. The walks are
what a reader of the template expects, state by state. Times are written for a case that
arrives at `WRITTEN_FOR`, Monday 4 March 2024 at 09:00 UTC (the engine tests' fixed clock);
the demo workspace shifts them to each simulated case's arrival.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class Move:
    """What the person working a state does: where they send the case, the data they fill in, and not before when.

    `by` names the role that takes the move instead of whoever holds the state's task (a hire
    withdrawn by HR while IT prepares the laptop).
    """

    to: str
    data: Mapping[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None
    by: str | None = None


@dataclass(frozen=True)
class RaisedException:
    """An exception a scenario raises: its reason code, the state it is raised in, and the states walked then."""

    reason: str
    raised_in: str
    walk: tuple[str, ...]


@dataclass(frozen=True)
class Playbook:
    """How a template's case is played: its intake payload, each person's move, each action's result.

    Attributes:
        workflow: the template's id.
        payload: a valid intake payload for the template's contract.
        moves: per state where a person (or the requester) moves the case on, what they do.
        results: per action name, what the automated step's action returns (guards read it).
        success: the end state that means the work is done.
        walk: the states the happy path walks, from intake to `success`.
        exception: the exception scenario, or None when the template has no exception reasons.
        flaky_step: the automated state whose action fails in the retry and dead-letter scenarios.
        dead_letter_walk: the states walked when `flaky_step` lands in the dead-letter queue and is replayed.
        resolutions: per exception reason, the data its resolver fills in when resolving it (what the
            step the exception stopped would have filled, and a later approval's evidence reads).
    """

    workflow: str
    payload: Mapping[str, Any]
    moves: Mapping[str, Move]
    results: Mapping[str, Mapping[str, Any]]
    success: str
    walk: tuple[str, ...]
    exception: RaisedException | None = None
    flaky_step: str | None = None
    dead_letter_walk: tuple[str, ...] | None = None
    resolutions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


WRITTEN_FOR = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
"""When the playbooks' case arrives: the payloads' dates and the moves' `not_before` are written for it."""

SERVICE_REQUEST = Playbook(
    workflow="service-request",
    payload={"summary": "Printer jammed", "description": "The 3rd-floor printer eats paper", "category": "it",
             "urgency": "normal", "requester_email": "ann@example.com"},
    moves={
        "new": Move("triage"),
        "triage": Move("in-progress"),
        "in-progress": Move("done", {"resolution_note": "Replaced the fuser unit; test page prints"}),
    },
    results={},
    success="done",
    walk=("new", "triage", "in-progress", "done"),
    exception=RaisedException("needs_info", "triage",
                              ("new", "triage", "waiting-on-requester", "triage", "in-progress", "done")),
)

# A privileged hire, so the case passes the security officer's approval.
EMPLOYEE_ONBOARDING = Playbook(
    workflow="employee-onboarding",
    payload={
        "hire_id": "HIRE-000417",
        "employee": {"id": "E10417", "given_name": "Mira", "family_name": "Schulz",
                     "personal_email": "mira.schulz@example.org"},
        "start_date": "2024-04-02",
        "employment_type": "permanent",
        "job_title": "Financial controller",
        "department": "Finance",
        "cost_center": "CC-2040",
        "country": "DE",
        "manager": {"employee_id": "E10020", "email": "j.weber@example.com"},
        "access_profile": "finance-controlling",
        "privileged_access": True,
        "equipment_profile": "standard-laptop",
        "right_to_work_verified": True,
        "contract_signed": True,
    },
    moves={
        "hire-recorded": Move("check-prerequisites"),
        "check-prerequisites": Move("approve-privileged-access"),
        "prepare-equipment": Move("provisioning", {"equipment_asset_tag": "LT-20931"}),
        "setup-payroll": Move("provisioning", {"payroll_id": "PAY-55120"}),
        "readiness-check": Move("done", {"ready_confirmed": True}),
    },
    results={
        "create_directory_account": {"account_id": "mschulz"},
        "grant_access_bundle": {"access_granted_at": "2024-03-04T11:00:00+00:00"},
    },
    success="done",
    # The three branches open together (their first states), then each comes back to the join.
    walk=("hire-recorded", "check-prerequisites", "approve-privileged-access", "provisioning",
          "create-account", "prepare-equipment", "setup-payroll", "grant-access", "provisioning", "provisioning",
          "provisioning", "readiness-check", "done"),
    exception=RaisedException("needs_info", "check-prerequisites",
                              ("hire-recorded", "check-prerequisites", "waiting-on-requester", "check-prerequisites",
                               "approve-privileged-access", "provisioning", "create-account", "prepare-equipment",
                               "setup-payroll", "grant-access", "provisioning", "provisioning", "provisioning",
                               "readiness-check", "done")),
    flaky_step="create-account",
    dead_letter_walk=("hire-recorded", "check-prerequisites", "approve-privileged-access", "provisioning",
                      "create-account", "prepare-equipment", "setup-payroll", "provision-manually", "create-account",
                      "grant-access", "provisioning", "provisioning", "provisioning", "readiness-check", "done"),
)

# A resignation with its cutoff on Tuesday at 17:00 in Berlin: approved on Monday, the case waits for it.
EMPLOYEE_OFFBOARDING = Playbook(
    workflow="employee-offboarding",
    payload={
        "termination_id": "TERM-000233",
        "employee": {"id": "E10233", "name": "Tobias Brandt", "email": "t.brandt@example.com",
                     "department": "Treasury"},
        "manager": {"employee_id": "E10020", "email": "j.weber@example.com"},
        "termination_type": "resignation",
        "last_working_day": "2024-03-05",
        "access_cutoff": "2024-03-05T17:00:00+01:00",
        "privileged_access": True,
        "data_owner": "j.weber@example.com",
        "legal_hold": False,
        "assets": [{"asset_tag": "LT-10233", "kind": "laptop"}, {"asset_tag": "BG-10233", "kind": "badge"}],
    },
    moves={
        "termination-recorded": Move("plan-offboarding"),
        "plan-offboarding": Move("approve-access-removal"),
        "waiting-for-cutoff": Move("revoke-access", not_before=datetime.fromisoformat("2024-03-05T17:00:00+01:00")),
        "transfer-data": Move("offboarding-work"),
        "collect-assets": Move("offboarding-work", {"assets_returned": True}),
        "final-pay": Move("verify-access-removed", {"final_pay_reference": "FP-2024-03-0233"}),
        "verify-access-removed": Move("done", {"access_review_clean": True}),
    },
    results={
        "disable_accounts_and_sessions": {"access_revoked_at": "2024-03-05T16:00:00+00:00"},
        "remove_privileged_roles_and_rotate_secrets": {"privileged_revoked_at": "2024-03-05T16:10:00+00:00"},
    },
    success="done",
    # Access is removed while the equipment is collected: both branches open together, then each
    # comes back to the join before final pay.
    walk=("termination-recorded", "plan-offboarding", "approve-access-removal", "offboarding-work",
          "waiting-for-cutoff", "collect-assets", "revoke-access", "revoke-privileged-access", "transfer-data",
          "offboarding-work", "offboarding-work", "final-pay", "verify-access-removed", "done"),
    exception=RaisedException("asset_not_returned", "collect-assets",
                              ("termination-recorded", "plan-offboarding", "approve-access-removal",
                               "offboarding-work", "waiting-for-cutoff", "collect-assets", "revoke-access",
                               "revoke-privileged-access", "transfer-data", "offboarding-work", "waiting-on-leaver",
                               "collect-assets", "offboarding-work", "final-pay", "verify-access-removed", "done")),
    flaky_step="revoke-access",
    dead_letter_walk=("termination-recorded", "plan-offboarding", "approve-access-removal", "offboarding-work",
                      "waiting-for-cutoff", "collect-assets", "revoke-access", "revoke-manually", "revoke-access",
                      "revoke-privileged-access", "transfer-data", "offboarding-work", "offboarding-work",
                      "final-pay", "verify-access-removed", "done"),
)

# 24,500 EUR: the budget owner and the finance controller must both approve, on a supplier's quote.
PURCHASE_REQUEST = Playbook(
    workflow="purchase-request",
    payload={
        "request_id": "PR-000812",
        "submitted_at": "2024-03-04T08:45:00+00:00",
        "requester": {"employee_id": "E10412", "email": "l.devries@example.com", "department": "Engineering"},
        "cost_center": "CC-3100",
        "category": "hardware",
        "supplier_id": "SUP-00417",
        "currency": "EUR",
        "amount": 24500.0,
        "needed_by": "2024-04-15",
        "justification": "Docking stations for the new engineering floor, one per desk",
        "quote": "https://dms.example.com/quotes/Q-7731",
        "items": [{"description": "USB-C docking station", "quantity": 50, "unit_price": 490.0}],
    },
    moves={
        "submitted": Move("review-request"),
        "review-request": Move("check-budget"),
    },
    results={
        "check_and_commit_budget": {},
        "create_and_send_purchase_order": {"po_number": "PO-204512"},
    },
    success="done",
    walk=("submitted", "review-request", "check-budget", "approve-finance", "create-po", "done"),
    exception=RaisedException("no_budget", "check-budget",
                              ("submitted", "review-request", "check-budget", "budget-exception", "check-budget",
                               "approve-finance", "create-po", "done")),
    flaky_step="create-po",
    dead_letter_walk=("submitted", "review-request", "check-budget", "approve-finance", "create-po",
                      "create-po-manually", "create-po", "done"),
)

# 12,100 EUR against an open purchase order, matched within tolerance: one AP manager approves.
SUPPLIER_INVOICE = Playbook(
    workflow="supplier-invoice",
    payload={
        "invoice_id": "INV-004711",
        "supplier": {"id": "SUP-00417", "name": "Acme Office Supplies B.V.", "email": "ar@acme.example.com",
                     "iban": "NL91ABNA0417164300"},
        "supplier_invoice_number": "AOS-2024-0815",
        "invoice_date": "2024-03-01",
        "due_date": "2024-03-31",
        "received_at": "2024-03-04T08:12:00+00:00",
        "purchase_order": "PO-204512",
        "currency": "EUR",
        "net_amount": 10000.0,
        "tax_amount": 2100.0,
        "gross_amount": 12100.0,
        "status": "received",
        "attachment": "https://dms.example.com/invoices/INV-004711.pdf",
        "lines": [{"line_number": 1, "po_line": 1, "description": "Office chairs", "quantity": 20,
                   "unit_price": 500.0, "amount": 10000.0}],
    },
    moves={"received": Move("validate-invoice")},
    results={
        "validate_invoice_and_find_duplicates": {"duplicate_of": "", "iban_matches_vendor_master": True,
                                                 "po_open": True},
        "three_way_match": {"matched": True, "price_variance_pct": 0.0, "quantity_variance": 0.0,
                            "status": "matched"},
        "post_invoice_to_erp": {"erp_document": "5100004711"},
        "send_payment_instruction": {"payment_status": "accepted", "status": "paid"},
    },
    success="paid",
    walk=("received", "validate-invoice", "three-way-match", "post-to-erp", "approve-payment", "pay", "paid"),
    exception=RaisedException("low_confidence_capture", "validate-invoice",
                              ("received", "validate-invoice", "review-capture", "validate-invoice",
                               "three-way-match", "post-to-erp", "approve-payment", "pay", "paid")),
    flaky_step="pay",
    dead_letter_walk=("received", "validate-invoice", "three-way-match", "post-to-erp", "approve-payment", "pay",
                      "payment-failed", "pay", "paid"),
)

# A Belgian services supplier below the due-diligence threshold, whose screening comes back clear.
VENDOR_ONBOARDING = Playbook(
    workflow="vendor-onboarding",
    payload={
        "request_id": "VR-000318",
        "submitted_at": "2024-03-04T08:30:00+00:00",
        "requested_by": {"employee_id": "E10412", "email": "l.devries@example.com", "department": "Engineering"},
        "legal_name": "Northwind Analytics BV",
        "country": "BE",
        "registration_number": "0456.789.123",
        "vat_id": "BE0456789123",
        "address": {"street": "Rue de la Loi 42", "postal_code": "1040", "city": "Brussels"},
        "contact": {"name": "Els Peeters", "email": "els.peeters@northwind.example.com", "phone": "+32 2 555 01 23"},
        "bank": {"iban": "BE68539007547034", "bic": "GKCCBEBB", "account_holder": "Northwind Analytics BV",
                 "confirmation_letter": "https://dms.example.com/vendors/VR-000318/bank-letter.pdf"},
        "category": "services",
        "expected_annual_spend": 85000.0,
        "payment_terms_days": 30,
    },
    moves={
        "requested": Move("review-need"),
        "review-need": Move("screen-vendor"),
        "verify-bank-details": Move("create-vendor-record", {"bank_verified_by_callback": True}),
    },
    results={
        "screen_sanctions_registry_and_vat": {"screening_result": "clear"},
        "create_blocked_vendor": {"vendor_id": "SUP-00931"},
        "unblock_vendor_and_notify": {},
    },
    success="done",
    walk=("requested", "review-need", "screen-vendor", "verify-bank-details", "create-vendor-record",
          "approve-vendor-record", "activate-vendor", "done"),
    exception=RaisedException("bank_account_mismatch", "verify-bank-details",
                              ("requested", "review-need", "screen-vendor", "verify-bank-details", "compliance-review",
                               "verify-bank-details", "create-vendor-record", "approve-vendor-record",
                               "activate-vendor", "done")),
    flaky_step="screen-vendor",
    # Compliance reviews the possible match and records the screening's result, which the approval shows.
    resolutions={"sanctions_match": {"screening_result": "potential_match"}},
    dead_letter_walk=("requested", "review-need", "screen-vendor", "screen-manually", "screen-vendor",
                      "verify-bank-details", "create-vendor-record", "approve-vendor-record", "activate-vendor",
                      "done"),
)

# 1,240 GBP with a client entertainment line: the manager approves, then an expense auditor looks.
EXPENSE_CLAIM = Playbook(
    workflow="expense-claim",
    payload={
        "claim_id": "EXP-000512",
        "submitted_at": "2024-03-04T08:05:00+00:00",
        "employee": {"id": "E10377", "email": "s.okafor@example.com", "department": "Sales",
                     "iban": "GB82WEST12345698765432"},
        "cost_center": "CC-4100",
        "purpose": "Client workshop in Manchester with Contoso's finance team",
        "trip_id": "TRIP-2211",
        "currency": "GBP",
        "total_amount": 1240.0,
        "lines": [
            {"date": "2024-02-27", "category": "travel", "amount": 186.4, "original_currency": "GBP",
             "receipt": "https://expenses.example.com/receipts/88121"},
            {"date": "2024-02-27", "category": "lodging", "amount": 890.0, "original_currency": "GBP",
             "receipt": "https://expenses.example.com/receipts/88122"},
            {"date": "2024-02-28", "category": "client_entertainment", "amount": 163.6, "original_currency": "GBP",
             "receipt": "https://expenses.example.com/receipts/88123", "attendees": "J. Smith and R. Patel (Contoso)"},
        ],
    },
    moves={
        "submitted": Move("policy-check"),
        "audit-review": Move("pay-reimbursement", {"audit_outcome": "accepted", "approved_amount": 1240.0}),
    },
    results={
        "check_expense_policy": {"policy_violations": 0},
        "add_to_reimbursement_batch": {"batch_line": "RB-2024-10-0042", "reimbursement_reference": "RB-2024-10-0042"},
    },
    success="done",
    walk=("submitted", "policy-check", "manager-approval", "audit-review", "pay-reimbursement", "done"),
    exception=RaisedException("suspected_fraud", "audit-review",
                              ("submitted", "policy-check", "manager-approval", "audit-review", "fraud-investigation",
                               "audit-review", "pay-reimbursement", "done")),
    flaky_step="policy-check",
    dead_letter_walk=("submitted", "policy-check", "check-policy-manually", "policy-check", "manager-approval",
                      "audit-review", "pay-reimbursement", "done"),
)

# A repeated breach of the invoice first-time match rate; the action is due within the 30 days.
KPI_EXCEPTION_REVIEW = Playbook(
    workflow="kpi-exception-review",
    payload={
        "exception_id": "KPI-2024-W09-007",
        "week": "2024-W09",
        "kpi": {"id": "ap-first-time-match", "name": "Invoice first-time match rate", "unit": "percent",
                "direction": "higher_is_better"},
        "business_unit": "Accounts payable NL",
        "actual": 81.5,
        "threshold": 85.0,
        "target": 92.0,
        "weeks_in_breach": 2,
        "severity": "high",
        "regulatory": False,
        "report": "https://bi.example.com/kpi/ap-first-time-match/2024-W09",
    },
    moves={
        "exception-raised": Move("validate-data"),
        "validate-data": Move("weekly-review"),
        "weekly-review": Move("plan-action", {"owner": "m.jansen@example.com"}),
        "plan-action": Move("agree-action", {"root_cause": "Goods receipts booked after the invoice arrives",
                                             "action": "Receivers book goods receipts on the day of delivery",
                                             "action_due": "2024-03-29"}),
        "action-in-progress": Move("verify-closure",
                                   {"closure_evidence": "https://bi.example.com/kpi/ap-first-time-match/2024-W13"}),
        "verify-closure": Move("closed", {"back_within_threshold": True}),
    },
    results={"create_action_in_tracker": {"action_id": "ACT-1182"}},
    success="closed",
    walk=("exception-raised", "validate-data", "weekly-review", "plan-action", "agree-action", "record-action",
          "action-in-progress", "verify-closure", "closed"),
    # Raised without a state of its own, the exception leaves the case where it is until it is resolved.
    exception=RaisedException("action_overdue", "action-in-progress",
                              ("exception-raised", "validate-data", "weekly-review", "plan-action", "agree-action",
                               "record-action", "action-in-progress", "plan-action",
                               "agree-action", "record-action", "action-in-progress", "verify-closure", "closed")),
    flaky_step="record-action",
    dead_letter_walk=("exception-raised", "validate-data", "weekly-review", "plan-action", "agree-action",
                      "record-action", "record-action-manually", "record-action", "action-in-progress",
                      "verify-closure", "closed"),
)

PLAYBOOKS = (SERVICE_REQUEST, EMPLOYEE_ONBOARDING, EMPLOYEE_OFFBOARDING, PURCHASE_REQUEST, SUPPLIER_INVOICE,
             VENDOR_ONBOARDING, EXPENSE_CLAIM, KPI_EXCEPTION_REVIEW)
