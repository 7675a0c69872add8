"""Rows a decision reads, edited in SQL by a colleague with database access: each held to its record or key now.

Five kinds, each of which went through before its fix: an approval's votes and tasks, the
evidence it requires, an exception's reason, a web session, and a local password (see below).
And one through the web app only: its task acts (claim, release, reassign, bulk) on a task of a
case one cannot see answered with the engine's refusal, which named whose task it was ("task 2 is
for person hana") and of which workflow, task id after task id, where the API answers 404. Now
the web app answers such a task, and an id of no task, alike as absent.

--- An approval's own rows: the votes cast so far, and the approval tasks, held to their records.

A colleague with access to the database cannot touch the case row any more (CaseAltered), so
they edit what the vote decides by instead: the vote rows of the approval (how many approved,
and who, so nobody votes twice) and the approval task rows (to whom a task is given, whether it
was escalated, so that one vote decides). Before the fix each of these went through:

- a vote row inserted for a second approver: one real vote then reached a quorum of two;
- the voter's own vote row renamed to another approver: the same person voted a second time
  under their other role, and alone filled a four-eyes approval;
- an approval task marked escalated: one approver's vote decided a quorum of two;
- an approval task given (assignee) to a colleague without the approver role: they approved;
- an approval task's escalation time moved back: `tick` handed it on early to the secondary
  approver, whose single vote decides.

Now the engine holds the approval task a vote takes and the votes of its round to the newest
record of the case's chain that lists them (as it holds the case row and its branches), in the
vote's transaction: an edited, inserted or renamed row is refused with CaseAltered (409 over HTTP,
exit 1 on the command line), nothing is written, and `audit verify` still names the row. `tick`
leaves an edited task where it is. From the Python API, the command line and HTTP, on SQLite and
PostgreSQL.

--- The evidence an approval requires: a `quote` row inserted in SQL stood for a document nobody
attached, and the approvers' votes counted. Each required document is now held to the record that
attached it, in the vote's transaction (CaseAltered).

--- An exception's reason edited in SQL (needs_info, which sends the case back to review, made the
waiver, which sends it to order): resolving it moved a case waiting on its requester past its large
approval. `resolve_exception` now holds the open exception's row to its record first (CaseAltered).

--- A web session written in SQL: the cookie's signing key is a row of the database, so whoever writes
it inserted a session of a secret of their own for another person (or moved their own session to
them) and was signed in as them. The database now keeps a digest keyed by the audit key over the
secret and its person, which the cookie carries both of: a row written in SQL matches no cookie.

--- A local password written in SQL: one's own hash copied onto an administrator's account (or a hash of
a password of one's choosing) signed its writer in as them. Argon2id now hashes the password's digest
under the audit key, bound to the person: neither can be made without the key.

Tried and held (no change needed):
- an exception row inserted in SQL for the waiver on a case in its large approval: resolving it is
  refused by the control (the approval is left only by its decision); it is now CaseAltered first;
- over HTTP, by id, on a case one cannot see (another requester): vote, comment, list comments,
  upload evidence, raise and resolve an exception, show, claim, release, complete and reassign its
  task, and a bulk claim: each 404, nothing written, the task untouched;
- an approval task delegated back to someone who voted already (carol votes as manager, the
  controller delegates his task to her): AlreadyVoted, the delegator and delegate both count;
- the requester (himself a manager) delegating the approval task of his own request to a
  colleague: the colleague's vote counts for the requester too and is refused (separation of duties).

Left (reported, not fixed here): a vote row deleted in SQL only lowers the count (its voter's task
is closed, and reopening it is an edited task row, refused above). A timer edited in SQL, left here
before, is now held to its record (test_sealed_timers).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from backoffice.engine import Actor, Engine, verify
from backoffice.errors import AlreadyVoted, CaseAltered, RoleRequired, SeparationOfDuties, SignInRefused
from backoffice.services.accounts import LocalAccounts
from backoffice.store import SqlStore
from backoffice.store.tables import (approval_votes, case_exceptions, evidence, local_accounts, tasks, web_keys,
                                     web_sessions)
from backoffice.web.security import SESSION_COOKIE, sign

from ..api.live_server import ADMIN, to_approval
from ..cli.test_engine_commands import backoffice, database  # noqa: F401 (fixtures: both databases)
from ..directory_fixtures import Login
from ..web.site import build_site
from .test_identity_attacks import PURCHASE, purchase_in_approval
from .spend import REQUESTER, T0, CAROL, DAVE, ERIN, deployed, engine, in_approval, later, seed_database  # noqa: F401
from .test_sealed_definitions import written


def sql(store: SqlStore, statement) -> None:
    """Run one statement as a colleague with database access would, outside the engine."""
    with store.engine.begin() as connection:
        result = connection.execute(statement)
        if isinstance(statement, sa.Insert):   # psycopg answers -1 for an INSERT's row count
            assert result.inserted_primary_key[0] is not None
        else:
            assert result.rowcount == 1


def approval_task(store: SqlStore, case_id: int, role: str) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(tasks.c.id).where(tasks.c.case_id == case_id, tasks.c.role == role,
                                                              tasks.c.status == "open")).scalar_one()


def forged_vote(case, task_id: int, approver: str) -> sa.Insert:
    return sa.insert(approval_votes).values(case_id=case.id, state=case.state, round=case.version, task_id=task_id,
                                            approver=approver, role="manager", decision="approve", at=later(3))


def refused_and_named(engine: Engine, case_id: int, vote, what: str) -> None:
    """The vote is refused with CaseAltered naming the row, nothing is written, and verify names it too."""
    before = written(engine.store)
    state = engine.store.case(case_id).state
    with pytest.raises(CaseAltered) as refused:
        vote()
    message = str(refused.value)
    assert f"case {case_id}" in message and what in message and "audit verify" in message, message
    assert written(engine.store) == before
    assert engine.store.case(case_id).state == state
    report = verify(engine.store)
    assert not report.ok and what in str(report.first), report.first


# --- the votes cast so far ---

def test_a_vote_inserted_in_sql_never_counts_toward_the_quorum(engine):
    case = in_approval(deployed(engine), amount=5000.0)          # approve-large: a manager and a controller
    manager_task = approval_task(engine.store, case.id, "manager")
    sql(engine.store, forged_vote(case, manager_task, "erin"))
    refused_and_named(engine, case.id, lambda: engine.approve(case.id, actor=DAVE, now=later(4)), "approval_votes")


def test_ones_own_vote_renamed_in_sql_never_lets_one_person_vote_twice(engine):
    case = in_approval(deployed(engine), amount=5000.0)
    engine.approve(case.id, actor=CAROL, now=later(3))           # carol, as manager
    with pytest.raises(Exception, match="already"):               # the four eyes, as written
        engine.approve(case.id, actor=CAROL, now=later(3.5))
    sql(engine.store, sa.update(approval_votes).where(approval_votes.c.case_id == case.id)
        .values(approver="erin"))
    refused_and_named(engine, case.id, lambda: engine.approve(case.id, actor=CAROL, now=later(4)), "approval_votes")
    assert engine.case(case.id).state == "approve-large"


# --- the approval tasks ---

def test_an_approval_task_marked_escalated_in_sql_never_lets_one_vote_decide(engine):
    case = in_approval(deployed(engine), amount=5000.0)
    sql(engine.store, sa.update(tasks).where(tasks.c.id == approval_task(engine.store, case.id, "manager"))
        .values(escalated=True))
    refused_and_named(engine, case.id, lambda: engine.approve(case.id, actor=ERIN, now=later(4)), "tasks")


def test_an_approval_task_given_in_sql_to_someone_without_the_role_is_not_theirs(engine):
    case = in_approval(deployed(engine), amount=500.0)           # approve-small: one manager's vote
    sql(engine.store, sa.update(tasks).where(tasks.c.id == approval_task(engine.store, case.id, "manager"))
        .values(assignee="lina"))                                 # lina requests purchases, approves nothing
    refused_and_named(engine, case.id, lambda: engine.approve(case.id, actor=Actor("lina"), now=later(4)), "tasks")


def test_an_approval_task_given_in_sql_cannot_be_delegated_on_either(engine):
    case = in_approval(deployed(engine), amount=5000.0)          # approve-large allows delegation
    sql(engine.store, sa.update(tasks).where(tasks.c.id == approval_task(engine.store, case.id, "manager"))
        .values(assignee="lina"))
    refused_and_named(engine, case.id, lambda: engine.delegate(case.id, actor=Actor("lina"), to="erin",
                                                               now=later(4)), "tasks")


def test_an_escalation_time_moved_back_in_sql_is_not_escalated(engine):
    engine.deploy(PURCHASE, actor="lead", now=T0)               # its approval times out after a day
    case = purchase_in_approval(engine)
    with engine.store.engine.connect() as connection:
        hanas = connection.execute(sa.select(tasks.c.id).where(tasks.c.case_id == case.id,
                                                               tasks.c.assignee == "hana")).scalar_one()
    sql(engine.store, sa.update(tasks).where(tasks.c.id == hanas).values(escalate_at=T0))
    assert engine.tick(T0 + timedelta(hours=1)) == []            # an hour in, not a day
    task = engine.task(hanas)
    assert (task.escalated, task.assignee) == (False, "hana")
    assert "tasks" in str(verify(engine.store).first)


def test_untouched_approvals_are_decided_as_ever(engine):
    small, large = in_approval(deployed(engine), amount=500.0), in_approval(engine, amount=5000.0)
    assert engine.approve(small.id, actor=ERIN, now=later(3)).state == "order"
    engine.approve(large.id, actor=ERIN, now=later(3))
    assert engine.approve(large.id, actor=DAVE, now=later(4)).state == "order"
    assert verify(engine.store).ok


# --- the command line and HTTP ---

def test_a_forged_vote_is_refused_on_the_command_line(database, backoffice):  # noqa: F811
    seed_database(database)
    with SqlStore.open(database) as store:
        case = in_approval(deployed(Engine(store)), amount=5000.0)
        sql(store, forged_vote(case, approval_task(store, case.id, "manager"), "erin"))
        before = written(store)
    status, out, err = backoffice("approve", str(case.id), Login("dave"))
    assert status == 1, (out, err)
    assert f"case {case.id}" in err and "approval_votes" in err and "Traceback" not in err, err
    with SqlStore.open(database) as store:
        assert written(store) == before
        assert store.case(case.id).state == "approve-large"


def test_a_forged_vote_is_refused_over_http(api):
    case = to_approval(api)                                      # hana, ivan and jade: two of them decide
    with api.engine.store.engine.connect() as connection:
        ivans = connection.execute(sa.select(tasks.c.id).where(tasks.c.case_id == case["id"],
                                                               tasks.c.assignee == "ivan")).scalar_one()
    sql(api.engine.store, sa.insert(approval_votes).values(
        case_id=case["id"], state="approve", round=case["version"], task_id=ivans, approver="ivan",
        decision="approve", at=api.clock.now - timedelta(minutes=1)))
    answer = api.client("hana").post(f"/v1/cases/{case['id']}/votes", json={"decision": "approve"})
    assert answer.status_code == 409, answer.text
    assert "approval_votes" in answer.json()["detail"]
    assert api.engine.store.case(case["id"]).state == "approve"


# --- a web session written in SQL ---

@pytest.fixture
def site(database: str, tmp_path):  # noqa: F811
    """The API and web app over a fresh database, every person with a password (tests/web/site.py)."""
    yield from build_site(database, tmp_path)


def cookie_key(store: SqlStore) -> bytes:
    """The key that signs the web app's cookies: a row of the database, so its attacker reads it."""
    with store.engine.connect() as connection:
        return bytes.fromhex(connection.execute(sa.select(web_keys.c.secret).where(web_keys.c.name == "cookies"))
                             .scalar_one())


def test_a_web_session_inserted_in_sql_signs_nobody_in(site):
    alice = site.client("alice")                                 # any colleague with a session of her own
    assert "<h1>Alice</h1>" in alice.get("/me").text
    secret = "s" * 43
    sql(site.engine.store, sa.insert(web_sessions).values(
        token_hash=hashlib.sha256(secret.encode()).hexdigest(), person_id="hana", created_at=site.clock.now,
        seen_at=site.clock.now, expires_at=site.clock.now + timedelta(hours=8)))
    forger = site.anonymous()
    forger.cookies.set(SESSION_COOKIE, sign(cookie_key(site.engine.store), secret))
    answer = forger.get("/me")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in"), answer.text
    assert "Hana" not in answer.text


def test_ones_own_web_session_moved_to_another_person_in_sql_signs_nobody_in(site):
    alice = site.client("alice")
    assert "<h1>Alice</h1>" in alice.get("/me").text
    with site.engine.store.engine.begin() as connection:
        assert connection.execute(sa.update(web_sessions).where(web_sessions.c.person_id == "alice")
                                  .values(person_id="hana")).rowcount == 1
    answer = alice.get("/me")
    assert answer.status_code == 303 and "Hana" not in answer.text
    # Hana's own sign-in is untouched, and so is the next one of alice.
    assert "<h1>Hana</h1>" in site.client("hana").get("/me").text
    again = site.anonymous()
    assert site.sign_in(again, "alice").status_code == 303
    assert "<h1>Alice</h1>" in again.get("/me").text


# --- a password written in SQL ---

def test_ones_own_password_hash_copied_in_sql_onto_another_account_signs_nobody_in(site):
    LocalAccounts(site.engine).set_password("alice", "alice's password", actor="alice", now=site.clock.now)
    with site.engine.store.engine.begin() as connection:
        mine = connection.execute(sa.select(local_accounts.c.password_hash)
                                  .where(local_accounts.c.person_id == "alice")).scalar_one()
        assert connection.execute(sa.update(local_accounts).where(local_accounts.c.person_id == ADMIN)
                                  .values(password_hash=mine)).rowcount == 1
    answer = site.sign_in(site.anonymous(), ADMIN, "alice's password")
    assert answer.status_code == 401 and SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    with pytest.raises(SignInRefused):
        LocalAccounts(site.engine).verify(ADMIN, "alice's password", now=site.clock.now)


def test_a_password_hash_of_ones_choice_written_in_sql_signs_nobody_in(site):
    chosen = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("a password I chose myself")
    with site.engine.store.engine.begin() as connection:
        assert connection.execute(sa.update(local_accounts).where(local_accounts.c.person_id == "hana")
                                  .values(password_hash=chosen)).rowcount == 1
    assert site.sign_in(site.anonymous(), "hana", "a password I chose myself").status_code == 401
    # A password set through the engine signs in as ever.
    LocalAccounts(site.engine).set_password("hana", "a password I chose myself", actor=ADMIN, now=site.clock.now)
    fresh = site.anonymous()
    assert site.sign_in(fresh, "hana", "a password I chose myself").status_code == 303
    assert "<h1>Hana</h1>" in fresh.get("/me").text


# --- an exception written in SQL ---

def test_an_exception_inserted_in_sql_is_not_resolved(engine):
    case = in_approval(deployed(engine), amount=5000.0)          # approve-large: a manager and a controller
    with pytest.raises(Exception, match="is a control"):          # raising the waiver here is refused, as written
        engine.raise_exception(case.id, "waived", actor=DAVE, now=later(3))
    sql(engine.store, sa.insert(case_exceptions).values(case_id=case.id, reason="waived", raised_in=case.state,
                                                        raised_by="dave", raised_at=later(3)))
    refused_and_named(engine, case.id, lambda: engine.resolve_exception(case.id, actor=DAVE, now=later(4)),
                      "case_exceptions")


def test_an_exception_whose_reason_was_edited_in_sql_is_not_resolved(engine):
    case = in_approval(deployed(engine), amount=5000.0)
    engine.raise_exception(case.id, "needs_info", actor=DAVE, now=later(3))   # waits on its requester
    sql(engine.store, sa.update(case_exceptions).where(case_exceptions.c.case_id == case.id)
        .values(reason="waived"))                                 # resolved, it would go to order
    refused_and_named(engine, case.id, lambda: engine.resolve_exception(case.id, actor=Actor("bob"), now=later(4)),
                      "case_exceptions")
    assert engine.case(case.id).state == "waiting"


# --- held: acting by id on a case one cannot see, over HTTP ---

def test_every_act_by_id_on_someone_elses_case_is_absent_and_writes_nothing(api):
    case = to_approval(api)                                      # alice's purchase, waiting for hana, ivan, jade
    with api.engine.store.engine.connect() as connection:
        hanas = connection.execute(sa.select(tasks.c.id).where(tasks.c.case_id == case["id"],
                                                               tasks.c.assignee == "hana")).scalar_one()
    before = written(api.engine.store)
    dave = api.client("dave")                                    # another requester, with no part in it
    answers = {
        "vote": dave.post(f"/v1/cases/{case['id']}/votes", json={"decision": "approve"}),
        "comment": dave.post(f"/v1/cases/{case['id']}/comments", json={"body": "approved by phone"}),
        "comments": dave.get(f"/v1/cases/{case['id']}/comments"),
        "evidence": dave.post(f"/v1/cases/{case['id']}/evidence", data={"name": "quote"},
                              files={"file": ("quote.txt", b"a quote", "text/plain")}),
        "raise": dave.post(f"/v1/cases/{case['id']}/exceptions", json={"reason": "missing_quote"}),
        "resolve": dave.post(f"/v1/cases/{case['id']}/exceptions/resolve", json={}),
        "claim": dave.post(f"/v1/tasks/{hanas}/claim"),
        "release": dave.post(f"/v1/tasks/{hanas}/release"),
        "complete": dave.post(f"/v1/tasks/{hanas}/complete", json={"to": "ordered"}),
        "reassign": dave.post(f"/v1/tasks/{hanas}/reassign", json={"person": "dave"}),
        "task": dave.get(f"/v1/tasks/{hanas}"),
    }
    assert {name: answer.status_code for name, answer in answers.items()} == {name: 404 for name in answers}
    bulk = dave.post("/v1/tasks/bulk", json={"action": "claim", "task_ids": [hanas]})
    assert [result["status"] for result in bulk.json()["results"]] == [404]
    assert written(api.engine.store) == before
    task = api.engine.task(hanas)
    assert (task.assignee, task.claimed_by, str(task.status)) == ("hana", None, "open")


# --- the approval's evidence ---

def test_a_document_inserted_in_sql_never_stands_for_the_evidence_an_approval_requires(engine):
    engine.deploy(PURCHASE, actor="lead", now=T0)                # its approval requires a quote
    case = engine.start_case("purchase-approval", {"item": "laptop", "amount": 1800}, actor=Actor("ann"), now=T0)
    case = engine.transition(case.id, "prepare", actor=Actor("bea", "buyer"), expected_version=case.version, now=T0)
    case = engine.transition(case.id, "approve", actor=Actor("bea", "buyer"), expected_version=case.version, now=T0,
                             data={"supplier": "Acme"})
    with pytest.raises(Exception, match="quote"):                 # no quote, no approval: as written
        engine.approve(case.id, actor=Actor("hana"), now=later(1))
    sql(engine.store, sa.insert(evidence).values(case_id=case.id, name="quote", reference="dms://quotes/none",
                                                 attached_by="bea", attached_at=later(1)))
    refused_and_named(engine, case.id, lambda: engine.approve(case.id, actor=Actor("hana"), now=later(2)),
                      "evidence")


# --- held: delegations around the four eyes ---

def test_a_task_delegated_back_to_who_voted_already_gives_no_second_vote(engine):
    case = in_approval(deployed(engine), amount=5000.0)          # approve-large allows delegation
    engine.approve(case.id, actor=CAROL, now=later(3))           # carol's vote, as manager
    engine.delegate(case.id, actor=DAVE, to="carol", now=later(3.5))   # the controller's task handed to her
    with pytest.raises(AlreadyVoted):
        engine.approve(case.id, actor=CAROL, now=later(4))
    assert engine.case(case.id).state == "approve-large"


def test_the_requesters_task_delegated_away_never_votes_for_the_requester(engine):
    case = in_approval(deployed(engine), amount=5000.0)          # bob, a manager himself, requested it
    engine.delegate(case.id, actor=Actor("bob"), to="erin", now=later(3))
    with pytest.raises(SeparationOfDuties, match="requested it"):
        engine.approve(case.id, actor=ERIN, now=later(4))
    assert engine.store.votes(case.id, case.version) == []


# --- the web app's task acts on a task of a case one cannot see ---

def test_the_web_answers_a_task_of_a_case_one_cannot_see_as_absent_naming_nobody(site):
    case = site.engine.start_case("purchase-approval", {"item": "laptop", "amount": 1800}, actor=Actor("alice"),
                                  now=site.clock.now)
    case = site.engine.transition(case.id, "prepare", actor=Actor("bea"), expected_version=case.version,
                                  now=site.clock.now)
    case = site.engine.transition(case.id, "approve", actor=Actor("bea"), expected_version=case.version,
                                  now=site.clock.now, data={"supplier": "Acme"})
    ids = [task.id for task in site.engine.tasks(case_id=case.id)]   # hana's, ivan's and jade's votes
    dave = site.client("dave")                                   # another requester, with no part in it
    pages = [dave.post(f"/work/tasks/{ids[0]}/{action}", data=site.form(dave, {"person": "dave"}, page="/work"))
             for action in ("claim", "release", "reassign")]
    pages.append(dave.post("/work/bulk", data=site.form(dave, {"action": "claim", "task_id": ids}, page="/work")))
    absent = dave.post("/work/tasks/999999/claim", data=site.form(dave, page="/work"))
    for page in [*pages, absent]:
        assert "you may see" in page.text, page.text
        for leaked in ("hana", "ivan", "jade", "purchase-approval", "for person"):
            assert leaked not in page.text, (leaked, page.text)
    assert all(str(site.engine.task(task_id).status) == "open" and site.engine.task(task_id).claimed_by is None
               for task_id in ids)
    # Hana's own claim of her task is as ever.
    hana = site.client("hana")
    assert hana.post(f"/work/tasks/{ids[0]}/claim", data=site.form(hana, page="/work")).status_code == 303


def test_a_comment_through_the_python_api_needs_a_part_in_the_case(engine):
    """The API and the web refused a comment from whoever takes no part in the case; the Python API took it."""
    case = in_approval(deployed(engine))
    with pytest.raises(RoleRequired, match=f"comment on case {case.id}"):
        engine.add_comment(case.id, "Approved, trust me", actor=Actor("lina"), now=later(2))
    assert engine.comments(case.id) == []
    engine.add_comment(case.id, "Quote attached", actor=REQUESTER, now=later(2))     # the requester takes part
    assert [c.author for c in engine.comments(case.id)] == [REQUESTER.id]
