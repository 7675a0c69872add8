"""The case page over HTTP: what it shows, escaping, comments, attachments as downloads, answering "needs info"."""

from __future__ import annotations

import re

from backoffice.engine import Actor

from ..api.live_server import ADMIN, PURCHASE, T0
from .site import CLERK, csrf_of
from .test_front_door_http import GOOD


def _started(site, person: str = "alice", **changes) -> int:
    answer = site.start(person, "supply-request", {**GOOD, **changes})
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("/", 1)[1])


def test_a_field_holding_markup_is_shown_as_text(site):
    case_id = _started(site, **{"f.title": "<script>alert('x')</script>", "f.deliver_to.building": '"><img src=x>'})
    page = site.client("alice").get(f"/cases/{case_id}").text
    assert "<script>alert" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page and "&#34;&gt;&lt;img src=x&gt;" in page


def test_the_case_page_shows_data_timeline_tasks_sla_and_a_verified_audit_chain(site):
    case_id = _started(site)
    page = site.client("alice").get(f"/cases/{case_id}").text
    assert f"<h1>Request {case_id}: Supply request</h1>" in page
    assert "Paper for the printer" in page and "A4 paper" in page
    assert '<td>alice <span class="muted">as requester</span></td>' in page   # the timeline's intake event
    assert "2d (business time)" in page and "running" in page
    assert '<span class="badge good">Verified</span>' in page and "case.started" in page


def test_the_sla_clock_pauses_while_the_requester_is_asked_and_says_why(site):
    case_id = _started(site)
    site.engine.raise_exception(case_id, "needs_info", actor=CLERK, now=site.clock.now, note="Which toner?")
    page = site.client("alice").get(f"/cases/{case_id}").text
    assert "paused" in page and "not while paused" in page
    assert "<td>waiting-on-requester</td><td>needs info</td>" in page and "still paused" in page
    assert "<td>exception (needs_info)</td><td>waiting-on-requester</td>" in page    # the requester's task


def test_the_sla_clock_warns_before_breach(site):
    case_id = _started(site)
    alice = site.client("alice")
    assert "Less than a quarter" not in alice.get(f"/cases/{case_id}").text
    # Due Tuesday 17:00 (2 working days of 8 hours from Monday 09:00); Tuesday 15:00 leaves 2 of 16 hours.
    site.clock.advance(hours=30)
    alice = site.anonymous()
    site.sign_in(alice, "alice")
    page = alice.get(f"/cases/{case_id}").text
    assert "Less than a quarter of the resolution time is left: due 2024-03-05 17:00 UTC" in page


def test_the_requester_answers_needs_info_with_the_missing_data_through_the_core(site):
    case_id = _started(site)
    site.engine.raise_exception(case_id, "needs_info", actor=CLERK, now=site.clock.now, note="Which toner?")
    alice = site.client("alice")
    listing = alice.get("/requests").text
    assert "Needs your answer" in listing
    page = alice.get(f"/cases/{case_id}").text
    assert "Needs your answer" in page and "Which toner?" in page
    # A wrong value is refused by the contract, beside its field, and nothing moves.
    refused = alice.post(f"/cases/{case_id}/answer", data={
        "csrf_token": csrf_of(page), "form_action": "submit", "note": "HP 305", **GOOD, "f.lines.1.quantity": "0"})
    assert refused.status_code == 422
    assert '<p class="field-error" id="f-lines-1-quantity-error">Expected at least 1.</p>' in refused.text
    assert site.engine.case(case_id).state == "waiting-on-requester"
    answered = alice.post(f"/cases/{case_id}/answer", data={
        "csrf_token": csrf_of(page), "form_action": "submit", "note": "HP 305 black", **GOOD,
        "f.lines.1.item": "Toner HP 305 black"})
    assert answered.status_code == 303
    case = site.engine.case(case_id)
    assert case.state == "review" and case.data["lines"][1]["item"] == "Toner HP 305 black"
    last = site.engine.history(case_id)[-1]
    assert last.activity == "resolve needs_info" and last.resource == "alice"
    assert last.attributes["note"] == "HP 305 black"


def test_only_the_asked_requester_may_answer(site):
    case_id = _started(site)
    site.engine.raise_exception(case_id, "needs_info", actor=CLERK, now=site.clock.now)
    clerk = site.client(CLERK)
    page = clerk.get(f"/cases/{case_id}").text
    assert "Needs your answer" not in page
    answer = clerk.post(f"/cases/{case_id}/answer", data={"csrf_token": csrf_of(page), "form_action": "submit"})
    assert answer.status_code == 404
    assert site.engine.case(case_id).state == "waiting-on-requester"


def test_comments_are_stored_audited_and_shown_escaped(site):
    case_id = _started(site)
    alice = site.client("alice")
    token = csrf_of(alice.get(f"/cases/{case_id}").text)
    assert alice.post(f"/cases/{case_id}/comments", data={"csrf_token": token, "body": "Thanks <b>!</b>"}
                      ).status_code == 303
    assert alice.post(f"/cases/{case_id}/comments", data={"csrf_token": token, "body": "   "}).status_code == 422
    [comment] = site.engine.comments(case_id)
    assert (comment.author, comment.body) == ("alice", "Thanks <b>!</b>")
    assert "comment.added" in [r.action for r in site.engine.store.audit_records(chain=f"case:{case_id}")]
    page = site.client(CLERK).get(f"/cases/{case_id}").text
    assert "Thanks &lt;b&gt;!&lt;/b&gt;" in page


def test_an_auditor_reads_the_case_but_neither_comments_nor_attaches(site):
    case_id = _started(site)
    otto = site.client("otto")
    page = otto.get(f"/cases/{case_id}").text
    assert f"Request {case_id}" in page and f'action="/cases/{case_id}/comments"' not in page
    refused = otto.post(f"/cases/{case_id}/comments", data={"csrf_token": csrf_of(page), "body": "I was here"})
    assert refused.status_code == 403 and site.engine.comments(case_id) == []


def test_attachments_download_as_attachments_never_inline(site):
    answer = site.start("alice", "purchase-approval", {"f.item": "laptop", "f.amount": "1800"},
                        **{"attachment:quote": ("quote.txt", b"Quote 42: 1800 EUR", "text/html")})
    case_id = int(answer.headers["location"].rsplit("/", 1)[1])
    alice = site.client("alice")
    assert f'href="/cases/{case_id}/evidence/0"' in alice.get(f"/cases/{case_id}").text
    download = alice.get(f"/cases/{case_id}/evidence/0")
    assert download.status_code == 200 and download.content == b"Quote 42: 1800 EUR"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"].startswith("text/plain")        # sniffed, not the sender's word
    assert "sandbox" in download.headers["content-security-policy"]


def test_my_requests_lists_what_asks_me_then_open_ones_newest_first_then_ended_ones(sqlite_site):
    site = sqlite_site
    ids = {}
    for name in ("ended", "asks", "older", "newer"):
        ids[name] = _started(site, **{"f.reference": f"SR-{len(ids) + 1:04d}"})
        site.clock.advance(hours=1)
    ended = site.engine.case(ids["ended"])
    site.engine.transition(ended.id, "refused", actor=CLERK, expected_version=ended.version, now=site.clock.now)
    site.engine.raise_exception(ids["asks"], "needs_info", actor=CLERK, now=site.clock.now, note="Which paper?")
    listing = site.client("alice").get("/requests").text
    shown = [int(found) for found in re.findall(r'<a href="/cases/(\d+)">Request', listing)]
    assert shown == [ids["asks"], ids["newer"], ids["older"], ids["ended"]]


def test_an_approval_is_headed_by_its_title_and_counts_voting_rounds_as_votes_are_counted(sqlite_site, tmp_path):
    # Before, the heading said "approve, round 4": the case's version at entry, not a count of anything.
    site = sqlite_site
    sent_back = PURCHASE.read_text().replace("id: purchase-approval", "id: purchase-sent-back", 1).replace(
        "  approve: {kind: approval, role: budget-holder}",
        '  approve: {kind: approval, role: budget-holder, title: "Approval: budget holders"}').replace(
        "  - {from: approve, to: rejected, name: reject, roles: [budget-holder]}",
        "  - {from: approve, to: rejected, name: reject, roles: [budget-holder]}\n"
        "  - {from: approve, to: prepare, name: send back, roles: [budget-holder]}")
    (tmp_path / "purchase-sent-back.yaml").write_text(sent_back)
    engine = site.engine
    engine.deploy(tmp_path / "purchase-sent-back.yaml", actor=ADMIN, now=T0)

    def to_approval(case):
        case = engine.transition(case.id, "prepare", actor=Actor("bea"), expected_version=case.version, now=T0)
        return engine.transition(case.id, "approve", actor=Actor("bob"), expected_version=case.version, now=T0,
                                 data={"supplier": "Acme"})
    case = to_approval(engine.start_case("purchase-sent-back", {"item": "laptop", "amount": 1800},
                                         actor=Actor("alice"), now=T0))
    engine.attach_evidence(case.id, "quote", actor=Actor("bob"), now=T0, reference="dms://quotes/77")
    first = site.client("alice").get(f"/cases/{case.id}").text
    assert "<h3>Approval: budget holders (needs 2)</h3>" in first and ", round" not in first
    engine.approve(case.id, actor=Actor("hana"), now=T0)
    case = engine.case(case.id)
    sent = engine.transition(case.id, "prepare", actor=Actor("ivan"), expected_version=case.version, now=T0)
    engine.transition(sent.id, "approve", actor=Actor("bob"), expected_version=sent.version, now=T0)
    again = site.client("alice").get(f"/cases/{case.id}").text
    assert again.index("voting round 1 of 2") < again.index("voting round 2 of 2")
    first_round = again[again.index("voting round 1 of 2"):again.index("voting round 2 of 2")]
    assert "hana" in first_round and "No vote yet." in again[again.index("voting round 2 of 2"):]


def test_a_definition_edited_in_the_database_gets_a_409_page_and_no_form(site):
    import sqlalchemy as sa

    from backoffice.store.tables import cases, workflow_versions

    where = workflow_versions.c.workflow == "supply-request"
    with site.engine.store.engine.begin() as connection:
        body = connection.execute(sa.select(workflow_versions.c.definition_json).where(where)).scalar_one()
        connection.execute(sa.update(workflow_versions).where(where).values(definition_json=body + " "))
        before = connection.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one()
    site.engine._running.clear()  # as the next server process starts: nothing of the version loaded yet
    # The intake form is drawn from the version: it is refused already, with the reason, and nothing is started.
    answer = site.client("alice").get("/requests/new/supply-request")
    assert answer.status_code == 409, answer.text
    assert "supply-request version" in answer.text and "definition_json" in answer.text
    with site.engine.store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one() == before
