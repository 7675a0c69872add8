"""Attacks by a colleague who works beside the victim, from the Python API, the command line and HTTP, on both databases.

Each one went through before the core refused it: a guessed idempotency key handing over
someone else's case; a second account that reads like an approver's (a Cyrillic letter, a
zero-width space) splitting one person into two; an evidence reference naming a file of the
server instead of a kept upload. Each is refused in the engine (or where every server reads
the files), so every interface refuses it alike.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backoffice.engine import Actor, Engine
from backoffice.errors import DirectoryConflict, IdempotencyKeyTaken, InputRefused, BadActorId
from backoffice.store import SqlStore
from backoffice.store.tables import evidence

from ..api.live_server import PAYLOAD, T0 as API_T0, in_process
from ..cli.test_engine_commands import backoffice, database  # noqa: F401 (fixtures: both databases)
from ..directory_fixtures import Login
from .spend import ADMIN, T0, deployed, engine, in_approval, later, seed_database  # noqa: F401

SPEND = {"item": "laptops", "amount": 500.0}


# --- an idempotency key is its requester's ---

def test_someone_elses_idempotency_key_with_the_same_payload_hands_over_nothing(engine):
    deployed(engine)
    mine = engine.start_case("spend-approval", SPEND, actor=Actor("bob"), now=T0, idempotency_key="mail-42")
    with pytest.raises(IdempotencyKeyTaken) as refused:
        engine.start_case("spend-approval", SPEND, actor=Actor("erin"), now=later(1), idempotency_key="mail-42")
    assert str(mine.id) not in str(refused.value) and "bob" not in str(refused.value)
    assert [case.id for case in engine.cases(workflow="spend-approval")] == [mine.id]
    # The requester's own retry, and an administrator's retry on her behalf, still get her case.
    assert engine.start_case("spend-approval", SPEND, actor=Actor("bob"), now=later(2),
                             idempotency_key="mail-42").id == mine.id
    assert engine.start_case("spend-approval", SPEND, actor=Actor("root", on_behalf_of="bob"), now=later(2),
                             idempotency_key="mail-42").id == mine.id


def test_someone_elses_idempotency_key_is_refused_on_the_command_line(database, backoffice):  # noqa: F811
    seed_database(database)
    with SqlStore.open(database) as store:
        deployed(Engine(store))
    data = '{"item": "laptops", "amount": 500}'
    assert backoffice("case", "start", "spend-approval", "--data", data, "--key", "k-7",
                      Login("bob"))[0] == 0
    status, out, err = backoffice("case", "start", "spend-approval", "--data", data, "--key", "k-7",
                                  Login("erin"))
    assert status == 2 and "was used for another request" in err and "case 1" not in out + err


# --- one person, one id that reads as theirs ---

LOOKALIKES = ("b\u0435a",            # a Cyrillic e
              "\u0432\u0435\u0430",   # every letter Cyrillic, read as bea
              "bea\u200b",            # a zero-width space
              "be\u00ada",            # a soft hyphen
              "b\u03b5a")             # a Greek epsilon


def test_a_second_account_that_reads_as_an_approver_is_never_made(engine):
    for lookalike in LOOKALIKES:
        with pytest.raises((DirectoryConflict, BadActorId)):
            engine.add_person(lookalike, name="Bea", actor=ADMIN, now=T0)
        with pytest.raises((DirectoryConflict, BadActorId)):
            engine.add_service_account(lookalike, description="a robot", actor=ADMIN, now=T0)
    assert not set(LOOKALIKES) & {person.id for person in engine.store.people()}


def test_an_import_cannot_bring_in_a_look_alike_nor_two_rows_that_pass_for_each_other(engine, tmp_path):
    export = tmp_path / "hris.csv"
    export.write_text("id,name\nbe\u0430,Bea Two\n")
    with pytest.raises(Exception, match="mixes the cyrillic and latin scripts"):
        engine.import_directory(export, actor=ADMIN, now=T0)
    export.write_text("id,name\n\u0441\u0430\u0443,Cay\ncay,Cay\n")
    with pytest.raises(Exception, match="reads like"):
        engine.import_directory(export, actor=ADMIN, now=T0)
    assert not {"cay", "\u0441\u0430\u0443"} & {person.id for person in engine.store.people()}


# --- an evidence reference never names a file of the server ---

TRAVERSAL = "sha256:" + "../" * 12 + "etc/passwd"


PATHS = (TRAVERSAL, "sha256:/etc/passwd", "SHA256:..%2f..%2fkey", "sha256:" + "ab" * 32 + "/../../key",
         "sha256:" + "AB" * 32)


def test_an_evidence_reference_that_names_a_path_is_refused(engine):
    case = in_approval(deployed(engine))
    for reference in PATHS:
        with pytest.raises(InputRefused, match="evidence reference"):
            engine.attach_evidence(case.id, "quote", actor=Actor("bob", "manager"), now=later(3),
                                   reference=reference)
    assert engine.store.evidence_names(case.id) == set()
    # A reference that is not a kept file's (a document number) is free text, as before.
    engine.attach_evidence(case.id, "quote", actor=Actor("bob", "manager"), now=later(3), reference="DMS-1234")


def test_an_evidence_reference_naming_a_path_is_refused_on_the_command_line(database, backoffice):  # noqa: F811
    seed_database(database)
    with SqlStore.open(database) as store:
        case = in_approval(deployed(Engine(store)))
    status, _, err = backoffice("approve", str(case.id), "--evidence", f"quote={TRAVERSAL}", Login("erin"),
                                "--role", "manager")
    assert status == 2 and "evidence reference" in err
    with SqlStore.open(database) as store:
        assert store.evidence_names(case.id) == set()


def test_a_path_written_into_an_evidence_row_by_sql_is_never_served(database, tmp_path):  # noqa: F811
    secret = tmp_path / "audit.key"
    secret.write_text("PRIVATE KEY")
    with in_process(database, tmp_path) as (engine, _, client):
        case = engine.start_case("purchase-approval", PAYLOAD, actor=Actor("alice"), now=API_T0)
        engine.attach_evidence(case.id, "quote", actor=Actor("alice"), now=API_T0, reference="DMS-1")
        reference = "sha256:" + "../" * 12 + str(secret).lstrip("/")
        with engine.store.engine.begin() as connection:
            connection.execute(sa.update(evidence).where(evidence.c.case_id == case.id).values(reference=reference))
        token = engine.create_token("alice", actor="root", now=API_T0).secret
        answer = client.get(f"/v1/cases/{case.id}/evidence/quote", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 404 and b"PRIVATE KEY" not in answer.content


# --- what the engine runs by, changed in the database: named by `audit verify` ---

def test_an_approved_definition_or_its_mode_changed_in_the_database_is_named(engine):
    from backoffice.engine.audit_verify import verify
    from backoffice.store.tables import workflow_modes, workflow_versions

    deployed(engine)
    engine.set_mode("spend-approval", manual=False, now=later(1), actor=Actor("olga", "operator"))
    assert verify(engine.store).ok
    with engine.store.engine.begin() as connection:
        body = connection.execute(sa.select(workflow_versions.c.definition_json)).scalar_one()
        weaker = body.replace('"requester":true', '"requester":false')
        assert weaker != body
        connection.execute(sa.update(workflow_versions).values(definition_json=weaker))
        connection.execute(sa.update(workflow_modes).values(manual=True))
    named = {str(problem).split(" was ")[0] for problem in verify(engine.store).problems}
    assert {"workflow_versions row 1", "workflow_modes row spend-approval"} <= named, named


# --- a delegation is given, never taken ---

def test_a_delegate_cannot_write_himself_a_delegation_nor_one_to_himself(engine):
    from datetime import timedelta

    from backoffice.errors import DelegationRefused, NotAdministrator

    case = in_approval(deployed(engine))
    window = {"starts": later(3), "ends": later(3) + timedelta(days=2), "now": later(3)}
    with pytest.raises(NotAdministrator):
        engine.add_delegation("erin", "bob", actor=Actor("bob"), **window)
    with pytest.raises(DelegationRefused, match="cannot delegate to themselves"):
        engine.add_delegation("Bob ", "BOB", actor=Actor("bob"), **window)
    assert engine.store.delegations() == []
    with pytest.raises(Exception, match="may not act on behalf of erin"):
        engine.approve(case.id, actor=Actor("bob", "manager", on_behalf_of="erin"), now=later(4))


# --- two votes sent at once ---

def test_a_persons_own_vote_and_one_cast_for_them_sent_at_once_count_once(engine):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from backoffice.errors import AlreadyVoted, NotAnApprover

    deployed(engine)
    pair = (Actor("root", "manager", on_behalf_of="carol"), Actor("carol", "controller"))
    for _ in range(4):
        case = in_approval(engine)
        barrier = Barrier(len(pair))

        def vote(actor: Actor):
            barrier.wait()
            try:
                return engine.approve(case.id, actor=actor, now=later(3))
            except (AlreadyVoted, NotAnApprover) as refused:
                return refused

        with ThreadPoolExecutor(len(pair)) as pool:
            answers = list(pool.map(vote, pair))
        # carol votes once, herself or through root: one answer counts, the other is refused.
        assert sum(not isinstance(answer, Exception) for answer in answers) == 1, answers
        assert len(engine.store.votes(case.id, engine.tasks(case_id=case.id)[0].round)) == 1
        assert engine.case(case.id).state == "approve-large"
