"""The map and conformance of live work over HTTP, on SQLite and PostgreSQL: the engine's own events, analysed.

The JSON is `backoffice map --db --json`'s; the HTML report is served sandboxed by its CSP, so its
inline script runs in an opaque origin and reaches nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from backoffice.mapping.analyze import analyze
from backoffice.store.event_log import read_engine_log

from .live_server import move, start, to_approval


@pytest.fixture
def worked(api):
    """Two cases: one approved and ordered by two votes, one still waiting; one more started by dave."""
    done = to_approval(api, "alice")
    for person in ("hana", "ivan"):
        assert api.client(person).post(f"/v1/cases/{done['id']}/votes", json={"decision": "approve"}).status_code == 200
    to_approval(api, "alice")
    move(api, "dave", start(api, "dave"), "prepare")
    api.clock.advance(hours=2)
    return api


def test_the_map_of_live_work_is_the_maps_json_of_the_engines_events(worked):
    answer = worked.client("otto").get("/v1/workflows/purchase-approval/map")
    assert answer.status_code == 200, answer.text
    expected = analyze(read_engine_log(worked.engine.store, workflow="purchase-approval")).model_dump(mode="json")
    assert answer.json() == expected
    assert answer.json()["summary"]["cases"] == 3


def test_the_map_of_one_version_keeps_its_cases_and_an_unknown_version_is_a_404(worked):
    assert worked.client("otto").get("/v1/workflows/purchase-approval/map",
                                     params={"version": 1}).json()["summary"]["cases"] == 3
    missing = worked.client("otto").get("/v1/workflows/purchase-approval/map", params={"version": 7})
    assert missing.status_code == 404 and "version" in missing.json()["detail"]
    assert worked.client("otto").get("/v1/workflows/no-such-flow/map").status_code == 404


def test_a_workflow_without_cases_has_nothing_to_map(api):
    answer = api.client("otto").get("/v1/workflows/purchase-approval/map")
    assert answer.status_code == 409 and answer.json()["title"] == "Nothing to map"
    assert api.client("otto").get("/v1/workflows/purchase-approval/conformance").status_code == 409


def test_the_html_report_is_served_sandboxed_and_as_a_download_when_asked(worked):
    answer = worked.client("root").get("/v1/workflows/purchase-approval/map/report")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    policy = answer.headers["content-security-policy"]
    assert policy.startswith("sandbox allow-scripts;")
    assert "allow-same-origin" not in policy and "connect-src 'none'" in policy and "default-src 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-disposition"] == 'inline; filename="purchase-approval-map.html"'
    assert answer.text.lstrip().lower().startswith("<!doctype html") and "<svg" in answer.text
    saved = worked.client("root").get("/v1/workflows/purchase-approval/map/report",
                                      params={"version": 1, "download": True})
    assert saved.headers["content-disposition"] == 'attachment; filename="purchase-approval-v1-map.html"'


def test_conformance_judges_each_case_against_its_version_as_of_the_servers_clock(worked):
    answer = worked.client("otto").get("/v1/workflows/purchase-approval/conformance")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["workflow"] == "purchase-approval"
    assert report["as_of"].startswith(worked.clock.now.isoformat()[:19])
    [version] = report["reports"]
    assert (version["version"], version["cases"], version["open_cases"]) == (1, 3, 2)
    assert version["states_from"] is not None
    later = (worked.clock.now + timedelta(days=30)).isoformat()
    late = worked.client("otto").get("/v1/workflows/purchase-approval/conformance", params={"as_of": later}).json()
    kinds = {deviation["kind"] for deviation in late["reports"][0]["deviations"]}
    assert any("sla" in kind for kind in kinds), kinds
    naive = worked.client("otto").get("/v1/workflows/purchase-approval/conformance",
                                      params={"as_of": "2024-03-04T09:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["pointer"] == "/query/as_of"


def test_only_those_who_may_see_all_work_map_it(worked):
    paths = ("/v1/workflows/purchase-approval/map", "/v1/workflows/purchase-approval/map/report",
             "/v1/workflows/purchase-approval/conformance")
    for path in paths:
        statuses = {person: worked.client(person).get(path).status_code
                    for person in ("alice", "dave", "bea", "hana", "ops", "otto", "root")}
        assert statuses == {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "ops": 403, "otto": 200,
                            "root": 200}, path
        assert worked.client().get(path).status_code == 401
