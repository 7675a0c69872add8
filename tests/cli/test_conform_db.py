"""`backoffice conform --db`: live work in the engine's database checked against its definition.

The engine runs the cases through its Python API on a fixed clock. It refuses illegal moves,
so the deviations are put in at the database level, as a careless script or a tampering
hand would: the case row updated and its event inserted in one transaction. Each test then
asserts that conform --db finds exactly those deviations, in exactly those cases.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from backoffice.engine import Actor, Engine
from backoffice.store import SqlStore
from backoffice.store.tables import cases, events

from ..engine.service_request import ANN, DESK, OPERATOR, RESOLVER, T0, TEMPLATE, later, payload
from .test_engine_commands import backoffice  # noqa: F401 (fixture)

PURCHASE = Path(__file__).parents[1] / "engine" / "purchase-approval.yaml"
DEPLOYED = T0 - timedelta(days=8)
AS_OF = later(48)  # Wednesday 10:00 in Amsterdam, the service desk's calendar
WEEK_EARLIER = T0 - timedelta(days=7)
REQUESTER = Actor("ann", "budget-holder")
BUYER = Actor("bea", "buyer")
HANA, IVAN = Actor("hana", "budget-holder"), Actor("ivan", "budget-holder")


def one_line_error(result: tuple[int, str, str]) -> str:
    status, out, err = result
    assert status == 2, out + err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def inject_move(engine: Engine, case_id: int, to: str, *, at: datetime, by: Actor, activity: str) -> None:
    """Move a case behind the engine's back: its row and its event, as a hand at the database would."""
    case = engine.case(case_id)
    attributes = {"from_state": case.state, "to_state": to, "case_version": case.version + 1}
    with engine.store.engine.begin() as connection:
        connection.execute(cases.update().where(cases.c.id == case_id)
                           .values(state=to, previous_state=case.state, version=case.version + 1, updated_at=at))
        connection.execute(events.insert().values(
            case_id=case_id, activity=activity, timestamp=at, resource=by.id, role=by.role, system="backoffice",
            lifecycle="complete", workflow=case.workflow, version=case.definition_version, attributes=attributes))


def inject_event(engine: Engine, case_id: int, activity: str, *, at: datetime, by: Actor,
                 attributes: dict[str, Any]) -> None:
    case = engine.case(case_id)
    with engine.store.engine.begin() as connection:
        connection.execute(events.insert().values(
            case_id=case_id, activity=activity, timestamp=at, resource=by.id, role=by.role, system="backoffice",
            lifecycle="complete", workflow=case.workflow, version=case.definition_version, attributes=attributes))


def moved(engine: Engine, case_id: int, *steps: tuple[str, Actor, datetime] | tuple[str, Actor, datetime, dict]):
    for to, actor, at, *data in steps:
        case = engine.case(case_id)
        engine.transition(case_id, to, actor=actor, expected_version=case.version, now=at,
                          data=data[0] if data else None)


def service_requests(engine: Engine) -> dict[str, str]:
    """Seven service requests, five with one known deviation each; return name -> case id."""
    engine.deploy(TEMPLATE, actor="lead", now=DEPLOYED)
    ids: dict[str, int] = {}

    def start(name: str, at: datetime) -> int:
        ids[name] = engine.start_case("service-request", payload(), actor=ANN, now=at).id
        return ids[name]

    resolved = {"resolution_note": "replaced the roller"}
    moved(engine, start("by the book", T0), ("triage", DESK, later(1)), ("in-progress", DESK, later(2)),
          ("done", RESOLVER, later(3), resolved))
    # An exception and its resolution are moves the definition allows: no deviation.
    case = start("asked for more", T0)
    moved(engine, case, ("triage", DESK, later(1)))
    engine.raise_exception(case, "needs_info", actor=DESK, now=later(2))
    engine.resolve_exception(case, actor=ANN, now=later(3))
    moved(engine, case, ("in-progress", DESK, later(4)), ("done", RESOLVER, later(5), resolved))

    moved(engine, start("closed at triage", T0), ("triage", DESK, later(1)))
    inject_move(engine, ids["closed at triage"], "done", at=later(2), by=DESK, activity="resolve")

    moved(engine, start("slow", WEEK_EARLIER), ("triage", DESK, WEEK_EARLIER + timedelta(hours=1)),
          ("in-progress", DESK, WEEK_EARLIER + timedelta(hours=2)), ("done", RESOLVER, T0, resolved))
    # Triaged on Tuesday afternoon: 15 business hours after intake, over the 4h first response.
    moved(engine, start("answered late", T0), ("triage", DESK, later(30)))
    # Open since last week, still being worked on as of Wednesday: over its 3 days already.
    moved(engine, start("open and late", WEEK_EARLIER), ("triage", DESK, WEEK_EARLIER + timedelta(hours=1)),
          ("in-progress", DESK, WEEK_EARLIER + timedelta(hours=2)))
    moved(engine, start("parked", T0), ("triage", DESK, later(1)), ("in-progress", DESK, later(2)))
    inject_move(engine, ids["parked"], "on-hold", at=later(3), by=RESOLVER, activity="park")
    return {name: str(case_id) for name, case_id in ids.items()}


def purchases(engine: Engine) -> dict[str, str]:
    """Three purchases on an approval with separation of duties: by the book, approval skipped, requester voting."""
    engine.deploy(PURCHASE, actor="lead", now=DEPLOYED)
    ids: dict[str, int] = {}
    for name in ("approved", "skipped approval", "requester voted"):
        case = engine.start_case("purchase-approval", {"item": "laptop", "amount": 1800}, actor=REQUESTER, now=T0)
        ids[name] = case.id
        moved(engine, case.id, ("prepare", BUYER, later(1)))
        if name == "skipped approval":
            inject_move(engine, case.id, "ordered", at=later(2), by=BUYER, activity="approve")
            continue
        moved(engine, case.id, ("approve", BUYER, later(2), {"supplier": "Acme"}))
        engine.attach_evidence(case.id, "quote", actor=BUYER, now=later(2), reference="dms://quotes/77")
        engine.approve(case.id, actor=HANA, now=later(3))
        if name == "requester voted":
            # The engine refuses the requester's vote: this one was written into the database by hand.
            inject_event(engine, case.id, "approve vote", at=later(3.5), by=REQUESTER,
                         attributes={"state": "approve", "vote": "approve"})
        assert engine.approve(case.id, actor=IVAN, now=later(4)).state == "ordered"
    return {name: str(case_id) for name, case_id in ids.items()}


def found(report: dict) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(d["kind"], d["detail"], tuple(d["case_ids"])) for d in report["deviations"]}


def test_live_service_requests_show_exactly_the_deviations_put_in(engine, database, backoffice, tmp_path):
    ids = service_requests(engine)
    out = tmp_path / "live.json"
    status, stdout, stderr = backoffice("conform", "--db", database, "--workflow", "service-request",
                                        "--as-of", AS_OF.isoformat(), "--json", out)
    assert status == 0, stderr
    document = json.loads(out.read_text())
    assert (document["workflow"], document["as_of"]) == ("service-request", "2024-03-06T09:00:00Z")
    (report,) = document["reports"]
    assert (report["version"], report["cases"], report["conforming"]) == (1, 7, 2)
    assert found(report) == {
        ("disallowed_transition", "triage -> done", (ids["closed at triage"],)),
        ("sla_resolution", "over 3d of business time", (ids["slow"],)),
        ("sla_first_response", "over 4h of business time", (ids["answered late"],)),
        ("sla_resolution", "over 3d of business time, still open", (ids["open and late"],)),
        ("unknown_state", "on-hold", (ids["parked"],)),
    }
    # Open cases are where they really are, not skipped to an end.
    assert report["open_cases"] == 3
    assert report["open_states"] == {"in-progress": 1, "on-hold": 1, "triage": 1}
    assert report["states_from"] == "to_state" and report["activity_states"] == {}
    assert report["unknown_states"] == {"on-hold": 1}
    assert stdout.splitlines()[:3] == [
        f"live work of service-request as of 2024-03-06 09:00 UTC ({report['source']}): 7 cases on version 1, "
        f"each against the deployed version it runs on",
        "version 1, as deployed",
        "7 cases: 2 conform (28.6%), 5 do not; 3 still open (1 in in-progress, 1 in on-hold, 1 in triage)"]
    assert f"  1 case   triage -> done; e.g. {ids['closed at triage']}" in stdout.splitlines()


def test_approvals_skipped_and_voted_by_the_requester_are_found_and_honest_votes_are_not(engine, database,
                                                                                        backoffice, tmp_path):
    ids = purchases(engine)
    out = tmp_path / "live.json"
    status, stdout, stderr = backoffice("conform", "--db", database, "--workflow", "purchase-approval",
                                        "--as-of", later(5).isoformat(), "--json", out, "--strict")
    assert status == 1, stderr  # --strict: some case does not conform
    (report,) = json.loads(out.read_text())["reports"]
    assert (report["cases"], report["conforming"], report["open_cases"]) == (3, 1, 0)
    # The buyer who submitted for approval entered the approval state; only the voters acted in it.
    assert found(report) == {
        ("skipped_approval", "approve, on prepare -> ordered", (ids["skipped approval"],)),
        ("separation_of_duties", "approve: approved by the requester", (ids["requester voted"],)),
    }
    assert report["approvals_unjudged"] == 0
    assert "approval skipped: 1 case" in stdout.splitlines()


def service_request_version_2(tmp_path: Path) -> Path:
    """The template again as version 2, which lets the desk close a request at triage."""
    text = TEMPLATE.read_text().replace("version: 1\n", "version: 2\n", 1).replace(
        "  - {from: new, to: triage, name: accept}\n",
        "  - {from: new, to: triage, name: accept}\n"
        "  - {from: triage, to: done, name: close at triage, requires: [resolution_note], roles: [service-desk]}\n")
    path = tmp_path / "service-request-v2.yaml"
    path.write_text(text)
    return path


def test_each_case_is_checked_against_the_version_it_runs_on(engine, database, backoffice, tmp_path):
    engine.deploy(TEMPLATE, actor="lead", now=DEPLOYED)
    on_1 = engine.start_case("service-request", payload(), actor=ANN, now=T0).id
    moved(engine, on_1, ("triage", DESK, later(1)))
    inject_move(engine, on_1, "done", at=later(2), by=DESK, activity="close at triage")
    engine.deploy(service_request_version_2(tmp_path), actor="lead", now=T0)
    on_2 = engine.start_case("service-request", payload(), actor=ANN, now=T0).id
    moved(engine, on_2, ("triage", DESK, later(1)),
          ("done", DESK, later(2), {"resolution_note": "answered on the phone"}))
    assert engine.case(on_2).state == "done"

    out = tmp_path / "live.json"
    status, stdout, stderr = backoffice("conform", "--db", database, "--as-of", AS_OF.isoformat(), "--json", out)
    assert status == 0, stderr
    first, second = json.loads(out.read_text())["reports"]
    assert (first["version"], first["cases"], found(first)) == (
        1, 1, {("disallowed_transition", "triage -> done", (str(on_1),))})
    assert (second["version"], second["cases"], second["conforming"], found(second)) == (2, 1, 1, set())
    assert [line for line in stdout.splitlines() if line.startswith("version ")] == [
        "version 1, as deployed", "version 2, as deployed"]

    status, _, stderr = backoffice("conform", "--db", database, "--version", "2", "--as-of", AS_OF.isoformat(),
                                   "--json", out)
    assert status == 0, stderr
    (only,) = json.loads(out.read_text())["reports"]
    assert (only["version"], only["cases"], only["conforming"]) == (2, 1, 1)


def test_a_migrated_case_is_checked_against_the_version_it_was_migrated_to(engine, database, backoffice, tmp_path):
    engine.deploy(TEMPLATE, actor="lead", now=DEPLOYED)
    finished = engine.start_case("service-request", payload(), actor=ANN, now=T0).id
    moved(engine, finished, ("triage", DESK, later(1)), ("in-progress", DESK, later(2)),
          ("done", RESOLVER, later(3), {"resolution_note": "fixed"}))
    migrated = engine.start_case("service-request", payload(), actor=ANN, now=T0).id
    moved(engine, migrated, ("triage", DESK, later(1)))
    engine.deploy(service_request_version_2(tmp_path), actor="lead", now=later(4))
    migration = engine.migrate_cases("service-request", actor=OPERATOR, now=later(5))
    assert [case.id for case in migration.moved] == [migrated]
    # Closing at triage is a move only version 2 allows: the engine took it on the migrated case.
    moved(engine, migrated, ("done", DESK, later(6), {"resolution_note": "answered on the phone"}))

    out = tmp_path / "live.json"
    status, stdout, stderr = backoffice("conform", "--db", database, "--as-of", AS_OF.isoformat(), "--json", out)
    assert status == 0, stderr
    first, second = json.loads(out.read_text())["reports"]
    assert (first["version"], first["cases"], first["conforming"]) == (1, 1, 1)
    assert (second["version"], second["cases"], second["conforming"], found(second)) == (2, 1, 1, set())
    assert stdout.splitlines()[-2] == ("note: 1 case migrated from an earlier version while running: each is judged, "
                                       "moves before the migration too, against the version it runs on now")


def stricter_draft(tmp_path: Path) -> Path:
    """A draft of version 2 in which a resolution is reviewed (an approval) before the request is done."""
    text = TEMPLATE.read_text().replace("version: 1\n", "version: 2\n", 1)
    replacements = [
        ("  done: {kind: done, title: Done}\n",
         "  review: {kind: approval, title: Review, role: service-desk-lead}\n  done: {kind: done, title: Done}\n"),
        ("  - from: in-progress\n    to: done\n    name: resolve\n",
         "  - {from: in-progress, to: review, name: submit for review, roles: [resolver]}\n"
         "  - from: review\n    to: done\n    name: resolve\n"),
        ("    roles: [resolver]\n  - {from: [new, triage, waiting-on-requester]",
         "    roles: [service-desk-lead]\n  - {from: [new, triage, waiting-on-requester]"),
        ("\ncontrols:\n", "\napprovals:\n  - state: review\n    approvers: [{role: service-desk-lead}]\n"
                          "    evidence: {fields: [resolution_note]}\n"
                          "    separation_of_duties: {requester: true, actors_of: [in-progress]}\n\ncontrols:\n"),
    ]
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "service-request-draft.yaml"
    path.write_text(text)
    return path


def test_live_work_can_be_checked_against_an_undeployed_draft(engine, database, backoffice, tmp_path):
    ids = service_requests(engine)
    draft = stricter_draft(tmp_path)
    out = tmp_path / "draft.json"
    status, stdout, stderr = backoffice("conform", "--db", database, draft, "--as-of", AS_OF.isoformat(),
                                        "--json", out)
    assert status == 0, stderr
    (report,) = json.loads(out.read_text())["reports"]
    assert (report["version"], report["cases"]) == (2, 7)
    # Every request resolved straight from work in progress skipped the review the draft adds; the one
    # closed at triage skipped it too, since the draft's every way from triage to done passes through it.
    skipped = {(detail, cases_) for kind, detail, cases_ in found(report) if kind == "skipped_approval"}
    assert skipped == {("review, on in-progress -> done", (ids["by the book"], ids["asked for more"], ids["slow"])),
                       ("review, on triage -> done", (ids["closed at triage"],))}
    assert "review" in report["unseen_states"]
    assert stdout.splitlines()[0].endswith(f"7 cases on version 1, against {draft} (service-request version 2)")


# Errors: one line, status 2, nothing created


def test_a_missing_database_file_is_named_and_not_created(backoffice, tmp_path):
    missing = tmp_path / "nowhere.db"
    line = one_line_error(backoffice("conform", "--db", missing))
    assert str(missing) in line and "no such file" in line
    assert not missing.exists()


def test_an_empty_database_says_nothing_is_deployed(database, backoffice):
    if "://" not in database:
        Path(database).touch()  # an empty SQLite file: no engine tables
    line = one_line_error(backoffice("conform", "--db", database, "--workflow", "service-request"))
    assert "holds no deployed workflow" in line and "backoffice deploy" in line


def test_a_database_the_engine_made_but_never_deployed_to_says_so(database, backoffice):
    SqlStore.open(database).close()  # the tables, and nothing in them
    assert "holds no deployed workflow" in one_line_error(backoffice("conform", "--db", database))


def test_an_unknown_workflow_lists_the_deployed_ones(engine, database, backoffice):
    engine.deploy(TEMPLATE, actor="lead", now=DEPLOYED)
    engine.deploy(PURCHASE, actor="lead", now=DEPLOYED)
    line = one_line_error(backoffice("conform", "--db", database, "--workflow", "service-requests"))
    assert "no workflow 'service-requests' is deployed (did you mean 'service-request'?)" in line
    assert line.endswith("expected one of purchase-approval, service-request")
    # Without --workflow, two deployed workflows are a choice to make, not a guess.
    line = one_line_error(backoffice("conform", "--db", database))
    assert "--workflow" in line and line.endswith("purchase-approval, service-request")


def test_a_workflow_without_cases_has_no_live_work_to_check(engine, database, backoffice):
    engine.deploy(TEMPLATE, actor="lead", now=DEPLOYED)
    line = one_line_error(backoffice("conform", "--db", database))
    assert "--workflow 'service-request'" in line and "no case has started" in line


def test_a_version_never_deployed_or_without_cases_is_refused(engine, database, backoffice, tmp_path):
    engine.deploy(TEMPLATE, actor="lead", now=DEPLOYED)
    engine.start_case("service-request", payload(), actor=ANN, now=T0)
    line = one_line_error(backoffice("conform", "--db", database, "--version", "3"))
    assert "has no deployed version 3; expected one of versions 1" in line
    engine.deploy(service_request_version_2(tmp_path), actor="lead", now=T0)
    line = one_line_error(backoffice("conform", "--db", database, "--version", "2"))
    assert line.endswith("--version 2: expected a version of service-request that cases run on: 1")


def test_options_that_do_not_fit_live_work_are_refused(engine, database, backoffice, tmp_path):
    service_requests(engine)
    mapping = tmp_path / "activities.yaml"
    mapping.write_text("New: new\n")
    assert "--activities" in one_line_error(backoffice("conform", "--db", database, "--activities", mapping))
    assert "at most one file" in one_line_error(backoffice("conform", "--db", database, "log.csv", TEMPLATE))
    assert "--as-of 'soon'" in one_line_error(backoffice("conform", "--db", database, "--as-of", "soon"))
    assert "--db DATABASE" in one_line_error(backoffice("conform", "--workflow", "service-request"))
