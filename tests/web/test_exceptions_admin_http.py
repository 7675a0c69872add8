"""Exceptions and administration over HTTP: queues by reason oldest first, resolved through the core;
the administration page for administrators only, its acts refused by the core to anyone else."""

from __future__ import annotations

from datetime import timedelta

from backoffice.engine import Actor

from ..api.live_server import ADMIN, T0
from ..engine.service_request import payload
from .work_fixtures import weaker_purchase, with_service_requests


def needs_info(engine, hours: float):
    """A service request of alice's, triaged by dave, who asks her for information `hours` after T0."""
    case = engine.start_case("service-request", payload(), actor=Actor("alice"), now=T0)
    case = engine.transition(case.id, "triage", actor=Actor("dave"), expected_version=case.version, now=T0)
    return engine.raise_exception(case.id, "needs_info", actor=Actor("dave"), now=T0 + timedelta(hours=hours))


def test_exceptions_are_queued_by_reason_oldest_first_and_resolved_by_their_resolver(site):
    engine = with_service_requests(site.engine)
    older, newer = needs_info(engine, 1), needs_info(engine, 2)
    page = site.client("alice").get("/exceptions")
    assert page.status_code == 200 and 'id="reason-needs_info"' in page.text
    assert page.text.index(f"Case {older.id}<") < page.text.index(f"Case {newer.id}<")
    assert f"Case {older.id}<" not in site.client("bea").get("/exceptions").text
    bea = site.client("bea")
    refused = bea.post(f"/exceptions/{older.id}/resolve", data=site.form(bea))
    assert refused.status_code == 403 and engine.case(older.id).state == "waiting-on-requester"
    alice = site.client("alice")
    resolved = alice.post(f"/exceptions/{older.id}/resolve", data=site.form(alice, {"note": "printer 3F"}))
    assert resolved.status_code == 303 and engine.case(older.id).state == "triage"


def test_the_resolve_form_is_offered_only_to_whom_the_core_lets_resolve(sqlite_site):
    # otto the auditor reads every exception but resolves none: no form for him, and a crafted POST
    # is refused by the core all the same; alice, the requester asked for information, gets the form.
    site = sqlite_site
    engine = with_service_requests(site.engine)
    case = needs_info(engine, 1)
    form = f'action="/exceptions/{case.id}/resolve"'
    otto = site.client("otto")
    page = otto.get("/exceptions")
    assert f"Case {case.id}<" in page.text and form not in page.text and "Not yours to resolve" in page.text
    assert engine.resolution_refusal(case.id, actor="otto", now=T0 + timedelta(hours=2)) is not None
    crafted = otto.post(f"/exceptions/{case.id}/resolve", data=site.form(otto, {"note": "done"}))
    assert crafted.status_code == 403 and engine.case(case.id).state == "waiting-on-requester"
    assert form in site.client("alice").get("/exceptions").text
    assert engine.resolution_refusal(case.id, actor="alice", now=T0 + timedelta(hours=2)) is None


def test_administration_is_for_administrators_and_its_acts_are_the_cores(sqlite_site):
    site = sqlite_site
    assert site.client("bea").get("/admin").status_code == 403
    assert "Administration" not in site.client("bea").get("/").text
    bea = site.client("bea")
    crafted = bea.post("/admin/grants", data=site.form(bea, {"role": "administrator", "to": "bea"}))
    assert crafted.status_code == 403 and "administrator" not in site.engine.roles_of("bea")
    root = site.client(ADMIN)
    page = root.get("/admin")
    assert page.status_code == 200
    for section in ("People", "Role grants", "Delegations", "Workflows and versions", "Pending changes", "Calendars",
                    "Service accounts and tokens", "Dead letters"):
        assert f">{section}</h2>" in page.text, section
    assert "Europe/Amsterdam" in page.text
    granted = root.post("/admin/grants", data=site.form(root, {"role": "team-lead", "to": "bea"}))
    assert granted.status_code == 303 and "team-lead" in site.engine.roles_of("bea")


def test_a_new_token_is_shown_once(sqlite_site):
    site = sqlite_site
    root = site.client(ADMIN)
    made = root.post("/admin/tokens", data=site.form(root, {"principal": "bea", "label": "laptop", "days": "30"}))
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = made.text.split('id="new-secret" type="text" readonly value="')[1].split('"')[0]
    assert site.engine.authenticate(secret, now=site.clock()).id == "bea"
    assert secret not in root.get("/admin").text


def test_a_weakening_change_waits_and_is_approved_through_the_governance_core(sqlite_site, tmp_path):
    site = sqlite_site
    pending = site.engine.deploy(weaker_purchase(tmp_path), actor=ADMIN, now=T0)
    assert pending.pending
    root = site.client(ADMIN)
    page = root.get("/admin").text
    assert "weakens: quorum" in page and "purchase-approval version 2" in page
    form = {"workflow": "purchase-approval", "version": "2", "content_hash": pending.content_hash}
    # The deployer may not approve their own change: a second person must.
    assert root.post("/admin/changes/approve", data=site.form(root, form)).status_code == 403
    site.engine.grant("change-approver", to="otto", actor=ADMIN, now=T0)
    site.engine.grant("administrator", to="otto", actor=ADMIN, now=T0)
    otto = site.client("otto")
    approved = otto.post("/admin/changes/approve", data=site.form(otto, {**form, "note": "agreed"}))
    assert approved.status_code == 303
    assert [v.version for v in site.engine.versions("purchase-approval")] == [1, 2]


def test_replaying_a_dead_letter_is_an_operators_act_decided_by_the_core(sqlite_site):
    site = sqlite_site
    root, ops = site.client(ADMIN), site.client("ops")
    refused = root.post("/admin/dead-letters/1/replay", data=site.form(root))
    assert refused.status_code == 403 and "operator" in refused.text
    # The operator passes the role check; there is no such entry to replay.
    assert ops.post("/admin/dead-letters/1/replay", data=site.form(ops)).status_code == 404
