"""The public form over HTTP: an opted-in workflow takes requests from people with no account, within its limits.

The case is started by the opt-in's service account (from the directory), whatever the form
says; a workflow without the opt-in has no public form (404); the limits per address and per
day answer 429; a body over the size limit answers 413; the CSRF token is still required.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backoffice.definitions.library_templates import LIBRARY
from backoffice.web.pages_public_intake import KEY_PREFIX

from ..api.live_server import ADMIN, T0
from .site import csrf_of

SERVICE = "service-request-public-intake"
FORM = "/public/service-request"
GOOD = {"f.summary": "Badge does not open the door", "f.description": "My visitor badge stopped working at the gate",
        "f.category": "facilities", "f.urgency": "normal", "f.requester_email": "sam@example.org"}


@pytest.fixture
def public_site(site):
    site.engine.deploy(LIBRARY / "service-request.yaml", actor=ADMIN, now=T0)
    site.engine.add_service_account(SERVICE, description="the public form of service requests", actor=ADMIN, now=T0)
    return site


def _send(client, fields: dict, *, path: str = FORM, **extra):
    page = client.get(path).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_of(page), "idempotency_key": key, "form_action": "submit", **fields, **extra}
    return client.post(path, data=data)


def test_an_outsider_with_no_account_starts_a_case_as_the_public_service_account(public_site):
    outsider = public_site.anonymous()
    form = outsider.get(FORM)
    assert form.status_code == 200
    assert '<input id="f-requester_email" name="f.requester_email"' in form.text and "Sign out" not in form.text
    answer = _send(outsider, GOOD)
    assert answer.status_code == 303
    reference = answer.headers["location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", reference)
    [case] = public_site.engine.cases(workflow="service-request")
    assert case.requester == SERVICE and case.data["requester_email"] == "sam@example.org"
    started = public_site.engine.store.audit_records(chain=f"case:{case.id}")[0]
    assert (started.action, started.actor) == ("case.started", SERVICE)
    assert public_site.engine.history(case.id)[0].resource == SERVICE
    page = outsider.get(answer.headers["location"])
    assert page.status_code == 200 and reference in page.text
    assert f">{case.id}<" not in page.text and f"/cases/{case.id}" not in page.text  # the internal id is not shown


def test_a_starter_named_in_the_form_or_a_session_is_not_who_starts_the_case(public_site):
    # Fields that name a person are never read; a signed-in person sending the public form is no starter either.
    for client in (public_site.anonymous(), public_site.client("alice")):
        answer = _send(client, GOOD, requester="alice", actor="alice", on_behalf_of="alice", person="alice")
        assert answer.status_code == 303
    cases = public_site.engine.cases(workflow="service-request")
    assert len(cases) == 2 and {case.requester for case in cases} == {SERVICE}
    assert {record.actor for case in cases
            for record in public_site.engine.store.audit_records(chain=f"case:{case.id}")} == {SERVICE}


def test_a_form_field_the_contract_does_not_have_is_not_read(public_site):
    # The form reads only the contract's fields: a made-up one reaches neither the case's data nor its requester.
    assert _send(public_site.anonymous(), {**GOOD, "f.requester": "alice"}).status_code == 303
    [case] = public_site.engine.cases(workflow="service-request")
    assert case.requester == SERVICE and "requester" not in case.data


def test_a_field_staff_fill_later_is_neither_offered_nor_read(public_site):
    # The service request's opt-in offers no resolution note: it is not on the form, and one sent anyway is dropped.
    outsider = public_site.anonymous()
    assert 'name="f.resolution_note"' not in outsider.get(FORM).text
    assert 'name="f.department"' in outsider.get(FORM).text
    assert _send(outsider, {**GOOD, "f.resolution_note": "done, close it"}).status_code == 303
    [case] = public_site.engine.cases(workflow="service-request")
    assert "resolution_note" not in case.data and case.data["summary"] == GOOD["f.summary"]


def test_errors_are_shown_beside_their_fields_and_nothing_starts(public_site):
    answer = _send(public_site.anonymous(), {**GOOD, "f.requester_email": "", "f.summary": ""})
    assert answer.status_code == 422
    assert 'id="f-requester_email-error"' in answer.text and 'id="f-summary-error"' in answer.text
    assert 'value="Visitor badge"' not in answer.text and 'value="sam@example.org"' not in answer.text
    assert public_site.engine.cases(workflow="service-request") == []


def test_a_workflow_without_the_opt_in_has_no_public_form(public_site):
    outsider = public_site.anonymous()
    assert outsider.get("/public/purchase-approval").status_code == 404
    assert outsider.get("/public/no-such-workflow").status_code == 404
    token = csrf_of(outsider.get(FORM).text)
    refused = outsider.post("/public/purchase-approval", data={"csrf_token": token, "form_action": "submit",
                                                               "f.amount": "10"})
    assert refused.status_code == 404
    assert public_site.engine.cases(workflow="purchase-approval") == []


def test_the_form_is_closed_while_its_service_account_is_inactive(public_site):
    public_site.engine.set_active(SERVICE, False, actor=ADMIN, now=T0)
    assert public_site.anonymous().get(FORM).status_code == 404


def test_a_post_without_the_csrf_token_is_refused(public_site):
    outsider = public_site.anonymous()
    outsider.get(FORM)
    answer = outsider.post(FORM, data={"form_action": "submit", **GOOD})
    assert answer.status_code == 403
    assert public_site.engine.cases(workflow="service-request") == []


def test_one_address_past_its_hourly_limit_gets_429_then_again_an_hour_later(public_site):
    outsider = public_site.anonymous()
    for _ in range(5):
        assert _send(outsider, GOOD).status_code == 303
    refused = _send(outsider, GOOD)
    assert refused.status_code == 429 and "try again in" in refused.text
    assert 'value="sam@example.org"' in refused.text                    # nothing typed is lost
    assert len(public_site.engine.cases(workflow="service-request")) == 5
    public_site.clock.now += timedelta(hours=1)
    assert _send(outsider, GOOD).status_code == 303


def test_the_daily_cap_of_the_workflow_holds_across_addresses(public_site):
    limits = public_site.app.web.state.web.public
    now = public_site.clock.now
    for index in range(200):
        limits.admit("service-request", f"10.0.{index // 250}.{index % 250}", per_address_per_hour=5, daily_cap=200,
                  now=now)
    refused = _send(public_site.anonymous(), GOOD)
    assert refused.status_code == 429 and "in the last day" in refused.text
    assert public_site.engine.cases(workflow="service-request") == []


def test_the_same_form_sent_twice_starts_one_case_with_one_reference(public_site):
    outsider = public_site.anonymous()
    page = outsider.get(FORM).text
    data = {"csrf_token": csrf_of(page), "form_action": "submit", **GOOD,
            "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)}
    first, second = outsider.post(FORM, data=data), outsider.post(FORM, data=data)
    assert first.headers["location"] == second.headers["location"]
    assert len(public_site.engine.cases(workflow="service-request")) == 1


def test_the_same_form_changed_after_it_was_sent_is_offered_again_as_a_new_request(public_site):
    outsider = public_site.anonymous()
    page = outsider.get(FORM).text
    data = {"csrf_token": csrf_of(page), "form_action": "submit", **GOOD,
            "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)}
    assert outsider.post(FORM, data=data).status_code == 303
    again = outsider.post(FORM, data={**data, "f.summary": "Badge and parking card"})
    assert again.status_code == 409 and "Send it again to make a new request" in again.text
    assert 'value="Badge and parking card"' in again.text
    fresh = re.search(r'name="idempotency_key" value="([^"]+)"', again.text).group(1)
    assert fresh != data["idempotency_key"]
    assert outsider.post(FORM, data={**data, "f.summary": "Badge and parking card",
                                     "idempotency_key": fresh}).status_code == 303
    assert len(public_site.engine.cases(workflow="service-request")) == 2


def test_a_body_over_the_size_limit_is_refused_before_it_is_read(public_site):
    outsider = public_site.anonymous()
    token = csrf_of(outsider.get(FORM).text)
    limit = public_site.app.web.state.web.settings.max_body_bytes
    answer = outsider.post(FORM, data={"csrf_token": token, "form_action": "submit", **GOOD,
                                       "f.description": "x" * (limit + 10)})
    assert answer.status_code == 413
    assert public_site.engine.cases(workflow="service-request") == []


def test_a_filled_honeypot_starts_nothing(public_site):
    answer = _send(public_site.anonymous(), GOOD, website="http://spam.example")
    assert answer.status_code == 400
    assert public_site.engine.cases(workflow="service-request") == []


def test_an_unknown_reference_shows_no_confirmation(public_site):
    outsider = public_site.anonymous()
    assert outsider.get(f"{FORM}/received/AAAA-BBBB-CCCC").status_code == 404
    assert outsider.get(f"{FORM}/received/1").status_code == 404
    # A signed-in person's own intake key is no public reference.
    assert public_site.engine.store.case_by_key("service-request", KEY_PREFIX + "AAAA-BBBB-CCCC") is None
