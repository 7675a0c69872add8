"""A move that names no role is open to those who work the case, not to whoever may read it.

Refused in the core (`engine/taking_part.py`), so the command line, the Python API, HTTP and the
web refuse alike: an auditor or a team lead reads every case and moves none.
"""

from __future__ import annotations

import pytest

from backoffice.engine import Actor
from backoffice.errors import RoleRequired

from ..directory_fixtures import seed
from .service_request import ANN, DESK, later, payload

KEPT = "sha256:" + "ab" * 32  # a kept file's reference, as an upload writes it


def test_a_transition_open_to_anyone_is_refused_to_a_reader_and_an_outsider(deployed):
    seed(deployed, {"audra": ["auditor"], "tess": ["team-lead"], "hugo": ["payroll-clerk"]})
    case = deployed.start_case("service-request", payload(), actor=ANN, now=later(0))
    for reader in (Actor("audra"), Actor("tess"), Actor("hugo")):
        with pytest.raises(RoleRequired, match=f"{reader.id}.*may not move case {case.id} from 'new' to 'triage'"):
            deployed.transition(case.id, "triage", actor=reader, expected_version=case.version, now=later(1))
    assert deployed.case(case.id).state == "new"
    assert [event.activity for event in deployed.history(case.id)] == ["new"]


def test_a_transition_open_to_anyone_is_open_to_the_requester_and_to_the_desk(deployed):
    first = deployed.start_case("service-request", payload(), actor=ANN, now=later(0))
    assert deployed.transition(first.id, "triage", actor=ANN, expected_version=first.version,
                               now=later(1)).state == "triage"
    second = deployed.start_case("service-request", payload(), actor=ANN, now=later(0))
    assert deployed.transition(second.id, "triage", actor=DESK, expected_version=second.version,
                               now=later(1)).state == "triage"


def test_a_reader_attaches_no_document_to_a_case(deployed):
    seed(deployed, {"audra": ["auditor"]})
    case = deployed.start_case("service-request", payload(), actor=ANN, now=later(0))
    with pytest.raises(RoleRequired, match="may not attach 'screenshot'"):
        deployed.attach_evidence(case.id, "screenshot", actor=Actor("audra"), now=later(1), reference=KEPT)
    assert deployed.store.evidence_names(case.id) == set()
    deployed.attach_evidence(case.id, "screenshot", actor=ANN, now=later(1), reference=KEPT)
    assert deployed.store.evidence_names(case.id) == {"screenshot"}
