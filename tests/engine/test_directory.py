"""The directory: people, groups, grants, queues, service accounts, delegations and HRIS imports, every change audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backoffice.engine import Actor, Engine, verify
from backoffice.errors import DirectoryConflict, ImportFileError, UnknownActor

from ..directory_fixtures import ADMIN
from .service_request import T0, later


def audit_actions(engine: Engine, since: int) -> list[str]:
    return [record.action for record in engine.store.audit_records(after_seq=since)]


def test_every_directory_change_writes_its_audit_record(engine):
    head = engine.store.audit_head().seq
    engine.add_person("Zoe ", name="Zoe Z", email="zoe@example.com", actor=ADMIN, now=T0)
    engine.add_group("finance", name="Finance team", actor=ADMIN, now=T0)
    engine.add_to_group("finance", "ZOE", actor=ADMIN, now=T0)
    engine.grant("approver", to="finance", workflow="purchase-approval", actor=ADMIN, now=T0)
    engine.add_to_queue("approvals", "zoe", actor=ADMIN, now=T0)
    engine.add_service_account("svc-erp", description="the ERP", actor=ADMIN, now=T0)
    engine.set_active("zoe", False, actor=ADMIN, now=T0)
    assert audit_actions(engine, head) == ["person.added", "group.added", "group.member_added", "role.granted",
                                           "queue.member_added", "service_account.added", "person.deactivated"]
    assert verify(engine.store).ok
    # Changing nothing writes nothing.
    assert engine.grant("approver", to="finance", workflow="purchase-approval", actor=ADMIN, now=T0) is False
    assert engine.store.audit_head().seq == head + 7


def test_a_group_grants_its_roles_to_its_members_in_its_workflow_only(engine):
    engine.add_person("zoe", name="Zoe", actor=ADMIN, now=T0)
    engine.add_group("Finance", actor=ADMIN, now=T0)
    engine.add_to_group("finance", "zoe", actor=ADMIN, now=T0)
    engine.grant("approver", to="finance", workflow="purchase-approval", actor=ADMIN, now=T0)
    assert engine.roles_of("zoe", "purchase-approval") == ["approver"]
    assert engine.roles_of("zoe", "service-request") == []
    engine.add_to_group("finance", "zoe", actor=ADMIN, now=T0, remove=True)
    assert engine.roles_of("zoe", "purchase-approval") == []


def test_directory_changes_name_what_is_wrong(engine):
    with pytest.raises(DirectoryConflict, match="reserved for the engine"):
        engine.add_person("backoffice-worker", name="Not the worker", actor=ADMIN, now=T0)
    with pytest.raises(UnknownActor):
        engine.grant("approver", to="nobody", actor=ADMIN, now=T0)
    with pytest.raises(DirectoryConflict, match="cannot deactivate themselves"):
        engine.set_active(ADMIN, False, actor=ADMIN, now=T0)
    engine.add_person("zoe", name="Zoe", os_user="zoe", actor=ADMIN, now=T0)
    with pytest.raises(DirectoryConflict, match="operating-system user 'zoe' is mapped to another person"):
        engine.add_person("zed", name="Zed", os_user="zoe", actor=ADMIN, now=T0)


def test_a_service_account_acts_with_the_roles_granted_to_it(engine):
    engine.add_service_account("svc-portal", description="the portal", actor=ADMIN, now=T0)
    engine.grant("service-desk", to="svc-portal", actor=ADMIN, now=T0)
    token = engine.create_token("svc-portal", actor=ADMIN, now=T0, roles=["service-desk"])
    actor = engine.authenticate(token.secret, now=later(1))
    assert engine.identify(actor, workflow="service-request", now=later(1)) == Actor("svc-portal", "service-desk")


CSV_EXPORT = """id,name,email,os_user,active,groups,roles
Zoe,Zoe Zimmer,zoe@example.com,zoe,true,finance;managers,approver@purchase-approval;reporting
yann,Yann Y,yann@example.com,,yes,finance,
bob,Bob Desk,bob@example.com,,false,,
"""


def test_an_hris_csv_export_is_imported_with_groups_and_roles(engine, tmp_path: Path):
    export = tmp_path / "hris.csv"
    export.write_text(CSV_EXPORT)
    counts = engine.import_directory(export, actor=ADMIN, now=T0)
    assert counts == {"people added": 2, "people updated": 1, "groups added": 2, "memberships added": 3,
                      "roles granted": 2}
    assert engine.roles_of("zoe", "purchase-approval") == ["approver", "reporting"]
    assert engine.store.person("zoe").os_user == "zoe"
    assert engine.store.person("bob").active is False
    # The same export again changes nothing.
    assert set(engine.import_directory(export, actor=ADMIN, now=later(1)).values()) == {0}


def test_a_bad_export_names_every_bad_row_and_imports_nothing(engine, tmp_path: Path):
    export = tmp_path / "hris.csv"
    export.write_text("id,name,email,active,roles\n"
                      "zoe,Zoe,zoe@example.com,true,approver\n"
                      "  ,Nobody,,true,\n"
                      "yann,,yann-at-example,maybe,requester\n"
                      "ZOE,Zoe again,,,\n")
    head = engine.store.audit_head()
    with pytest.raises(ImportFileError) as refused:
        engine.import_directory(export, actor=ADMIN, now=T0)
    problems = [(where, field) for where, field, _ in refused.value.problems]
    assert problems == [("line 3", "id"), ("line 4", "name"), ("line 4", "email"), ("line 4", "active"),
                        ("line 4", "roles"), ("line 5", "id")]
    assert "hris.csv, line 4, field email: 'yann-at-example' is not an email address" in str(refused.value)
    assert engine.store.person("zoe") is None and engine.store.audit_head() == head


def test_an_export_clashing_with_the_directory_imports_nothing(engine, tmp_path: Path):
    engine.add_person("zed", name="Zed", os_user="zed", actor=ADMIN, now=T0)
    export = tmp_path / "hris.json"
    export.write_text(json.dumps({"people": [
        {"id": "zoe", "name": "Zoe", "roles": ["approver"]},
        {"id": "yann", "name": "Yann", "os_user": "zed"},
    ]}))
    with pytest.raises(ImportFileError, match=r"hris.json, item 2, field os_user: .*mapped to another person"):
        engine.import_directory(export, actor=ADMIN, now=T0)
    assert engine.store.person("zoe") is None


@pytest.mark.parametrize("text", ["[1, 2]", "{\"people\": 3}", "not json at all {", "id;name\nzoe;Zoe\n"])
def test_an_export_that_is_no_list_of_people_is_refused(engine, tmp_path: Path, text):
    export = tmp_path / ("hris.json" if text[:1] in "[{" else "hris.csv")
    export.write_text(text)
    with pytest.raises(ImportFileError):
        engine.import_directory(export, actor=ADMIN, now=T0)


def test_a_role_granted_in_one_workflow_takes_that_workflows_tasks_from_a_queue(engine):
    from .service_request import TEMPLATE, payload

    engine.deploy(TEMPLATE, actor="lead", now=T0)
    engine.add_person("zoe", name="Zoe", actor=ADMIN, now=T0)
    engine.grant("service-desk", to="zoe", workflow="service-request", actor=ADMIN, now=T0)
    case = engine.start_case("service-request", payload(), actor=Actor("ann"), now=T0)
    engine.transition(case.id, "triage", actor=Actor("bob", "service-desk"), expected_version=1, now=T0)
    task = engine.next_task("service-desk", actor=Actor("zoe", "service-desk"), now=later(1))
    assert task is not None and task.claimed_by == "zoe"
