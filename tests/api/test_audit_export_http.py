"""The evidence pack of a case over HTTP, on SQLite and PostgreSQL: a download auditors check offline.

The file is the one `backoffice audit export CASE` writes (the same `pack_text`), after a checkpoint
signed at export; a trail that does not verify exports nothing.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from backoffice.engine.evidence_pack import FORMAT, pack_text, verify_pack
from backoffice.store.tables import cases

from .live_server import to_approval


def test_an_auditor_downloads_a_pack_that_verifies_offline_with_the_published_key(api):
    case = to_approval(api, "alice")
    answer = api.client("otto").get(f"/v1/cases/{case['id']}/evidence-pack")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"] == f'attachment; filename="case-{case["id"]}-evidence-pack.json"'
    pack = json.loads(answer.content)
    # Byte for byte the file the command line writes for this pack.
    assert answer.content.decode("utf-8") == pack_text(pack)
    assert (pack["format"], pack["case_id"]) == (FORMAT, case["id"])
    report = verify_pack(pack, public_key=api.engine.audit_key.public)
    assert report.ok, str(report)
    assert report.rows > 0 and report.records >= 3
    assert {row["table"] for row in pack["rows"]} >= {"cases", "events", "tasks", "evidence"}


def test_an_administrator_may_export_and_nobody_else(api):
    case = to_approval(api, "alice")
    statuses = {person: api.client(person).get(f"/v1/cases/{case['id']}/evidence-pack").status_code
                for person in ("alice", "dave", "bea", "hana", "ops", "otto", "root")}
    assert statuses == {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "ops": 403, "otto": 200, "root": 200}
    assert api.client().get(f"/v1/cases/{case['id']}/evidence-pack").status_code == 401


def test_the_pack_of_a_case_that_does_not_exist_is_a_404(api):
    answer = api.client("otto").get("/v1/cases/987654/evidence-pack")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_case_altered_in_the_database_exports_nothing_and_names_the_row(api):
    case = to_approval(api, "alice")
    with api.engine.store.engine.begin() as connection:
        connection.execute(sa.update(cases).where(cases.c.id == case["id"]).values(requester="mallory"))
    answer = api.client("otto").get(f"/v1/cases/{case['id']}/evidence-pack")
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    # The engine refuses to touch a case whose row is not as its record wrote it (test_sealed_cases), before the
    # export's own verification would say the same: the row and the field are named either way.
    detail = answer.json()["detail"]
    assert f"cases row {case['id']}" in detail and "requester" in detail, detail
