"""Deploying definitions: immutable versions, the same content is the same version, running cases keep theirs."""

from __future__ import annotations

import pytest

from backoffice.definitions import LIBRARY
from backoffice.errors import (DefinitionError, UnknownWorkflow, VersionAlreadyDeployed, VersionOutOfOrder,
                               WorkflowNotActive)

from .service_request import ANN, T0, TEMPLATE, later, payload


def test_deploying_stores_an_immutable_version_with_its_source(engine):
    deployed = engine.deploy(TEMPLATE, actor="lead", now=T0)
    assert (deployed.workflow, deployed.version, deployed.created) == ("service-request", 1, True)
    assert deployed.deployed_by == "lead" and deployed.deployed_at == T0
    stored = engine.store.version("service-request", 1)
    assert stored.source == TEMPLATE.read_text()
    assert stored.content_hash == deployed.content_hash and len(deployed.content_hash) == 64


def test_the_same_content_twice_is_the_same_version(engine, definition_copy):
    first = engine.deploy(TEMPLATE, actor="lead", now=T0)
    again = engine.deploy(TEMPLATE, actor="bob", now=later(1))
    # A comment is not content: the engine runs on the same rules.
    commented = engine.deploy(definition_copy(("id: service-request", "# reviewed\nid: service-request")),
                              actor="lead", now=later(2))
    assert again.created is False and commented.created is False
    assert again.content_hash == commented.content_hash == first.content_hash
    assert again.deployed_by == "lead" and again.deployed_at == T0
    assert [v.version for v in engine.versions("service-request")] == [1]


def test_changed_content_under_a_deployed_version_number_is_refused(engine, definition_copy):
    engine.deploy(TEMPLATE, actor="lead", now=T0)
    changed = definition_copy(("first_response: 4h", "first_response: 2h"))
    with pytest.raises(VersionAlreadyDeployed) as refused:
        engine.deploy(changed, actor="lead", now=later(1))
    assert (refused.value.workflow, refused.value.version) == ("service-request", 1)
    assert "expected version: 2" in str(refused.value)


def test_a_new_version_numbered_below_the_latest_is_refused(engine, definition_copy):
    engine.deploy(definition_copy(("version: 1", "version: 3")), actor="lead", now=T0)
    with pytest.raises(VersionOutOfOrder) as refused:
        engine.deploy(definition_copy(("version: 1", "version: 2"), ("first_response: 4h", "first_response: 2h")),
                      actor="lead", now=later(1))
    assert refused.value.latest == 3


def test_a_broken_definition_deploys_nothing_and_lists_its_problems(engine, definition_copy):
    broken = definition_copy(("to: in-progress, name: unblock", "to: in-progres, name: unblock"))
    head = engine.store.audit_head()
    with pytest.raises(DefinitionError) as refused:
        engine.deploy(broken, actor="lead", now=T0)
    assert "in-progres" in str(refused.value)
    assert engine.versions() == []
    assert engine.store.audit_head() == head


def test_a_definition_with_a_contract_keeps_the_contract_it_was_deployed_with(engine, tmp_path):
    folder = tmp_path / "library"
    (folder / "contracts").mkdir(parents=True)
    definition = folder / "purchase-request.yaml"
    definition.write_text((LIBRARY / "purchase-request.yaml").read_text())
    contract = folder / "contracts" / "purchase-request.v1.yaml"
    contract.write_text((LIBRARY / "contracts" / "purchase-request.v1.yaml").read_text())
    engine.deploy(definition, actor="lead", now=T0)
    contract.write_text("this is no longer a contract")
    stored = engine.store.version("purchase-request")
    assert stored.contract_name == "contracts/purchase-request.v1.yaml"
    assert "schema:" in stored.contract_source
    assert engine.running("purchase-request").inputs.name == "purchase-request"


def test_new_cases_start_on_the_latest_version_and_running_cases_keep_theirs(engine, definition_copy):
    engine.deploy(TEMPLATE, actor="lead", now=T0)
    running = engine.start_case("service-request", payload(), actor=ANN, now=later(1))
    engine.deploy(definition_copy(("version: 1", "version: 2")), actor="lead", now=later(2))
    newer = engine.start_case("service-request", payload(), actor=ANN, now=later(3))
    assert (running.definition_version, newer.definition_version) == (1, 2)
    assert engine.case(running.id).definition_version == 1


def test_starting_a_workflow_that_was_never_deployed_names_the_deployed_ones(engine):
    engine.deploy(TEMPLATE, actor="lead", now=T0)
    with pytest.raises(UnknownWorkflow) as refused:
        engine.start_case("service-requests", payload(), actor=ANN, now=T0)
    assert "did you mean 'service-request'?" in str(refused.value)


def test_a_retired_workflow_takes_no_new_cases(engine, definition_copy):
    engine.deploy(definition_copy(("version: 1", "version: 1\nstatus: retired")), actor="lead", now=T0)
    with pytest.raises(WorkflowNotActive) as refused:
        engine.start_case("service-request", payload(), actor=ANN, now=T0)
    assert refused.value.status == "retired"
