"""`task`, `approve` and `exception` commands: the work of a queue from the command line, errors in one line."""

from __future__ import annotations

import json

import pytest

from backoffice.definitions import LIBRARY

# The database and in-process command fixtures are shared with the engine command tests.
from ..directory_fixtures import Login
from .test_engine_commands import backoffice, database  # noqa: F401

TEMPLATE = LIBRARY / "service-request.yaml"
PAYLOAD = {"summary": "Printer jammed", "description": "3rd floor", "category": "it", "urgency": "high",
           "requester_email": "ann@example.com"}
DESK = (Login("bob"), "--role", "service-desk")


@pytest.fixture
def triaged(database, backoffice):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))
    status, _, _ = backoffice("case", "transition", "1", "triage", "--expected-version", "1", *DESK)
    assert status == 0


def test_a_worker_takes_and_completes_the_next_task(triaged, backoffice):
    status, out, _ = backoffice("task", "list", "--queue", "service-desk")
    assert status == 0 and "triage" in out and "service-desk" in out
    status, out, _ = backoffice("task", "next", "--queue", "service-desk", *DESK)
    assert status == 0 and out.startswith("task 1: case 1 triage (work)") and "claimed by bob" in out
    status, out, _ = backoffice("task", "complete", "1", "--to", "in-progress", *DESK)
    assert (status, out) == (0, "task 1 completed: case 1 triage -> in-progress, queue resolver-groups, "
                                "priority high\n")


def test_user_errors_are_one_line_and_exit_2(triaged, backoffice):
    backoffice("task", "claim", "1", *DESK)
    for args, expected in [
        (("task", "claim", "1", Login("dora"), "--role", "service-desk"), "task 1 is claimed by bob until"),
        (("task", "claim", "99", *DESK), "no task 99"),
        (("task", "release", "1", Login("dora"), "--role", "service-desk"), "dora does not hold the claim"),
        (("exception", "raise", "1", "third_party_delay", *DESK), "cannot be raised on case 1 in 'triage'"),
        (("exception", "resolve", "1", Login("ann")), "case 1 has no open exception"),
        (("approve", "1", Login("bob")), "which is no approval"),
    ]:
        status, out, err = backoffice(*args)
        assert status == 2, args
        assert expected in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_needs_info_goes_to_the_requester_and_back(triaged, backoffice):
    status, out, _ = backoffice("exception", "raise", "1", "needs_info", "--note", "which printer?", *DESK)
    assert status == 0 and "state waiting-on-requester" in out and "for ann" in out
    status, out, _ = backoffice("exception", "resolve", "1", Login("ann"))
    assert (status, out) == (0, "case 1: exception resolved, state triage\n")
