"""`bpmn import` on real models from Camunda, Flowable, SpiffWorkflow and bpmn.io, and on small made ones.

Each real model imports, says what a definition cannot express (by the element's id and the
line where the element starts), and gives a definition that `check` passes: warnings remain
(a draft, the placeholders a person must fill), errors do not.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backoffice.definitions import check_definition, load_definition
from backoffice.definitions.bpmn_import import import_bpmn, render_yaml
from backoffice.definitions.bpmn_reader import MODEL as MODEL_NS
from backoffice.definitions.bpmn_reader import read_bpmn
from backoffice.errors import BpmnFileError

MODELS = Path(__file__).resolve().parents[1] / "data" / "bpmn"

# file, process, the (tag, id) of every element the import lists as not expressible.
REAL_MODELS = [
    ("camunda-job-announcement.bpmn", None, set()),  # its call activity is a sub-case step
    # A parallel state now; its branches each start with a choice to skip them, which a branch cannot say.
    ("camunda-job-announcement-publication.bpmn", None, {("parallelGateway", "Gateway_0z7rp9m")}),
    ("camunda-loan-granting.bpmn", None, {("subProcess", "SubProcess_16kr5xn")}),  # multi-instance
    ("camunda-order-handling.bpmn", None, set()),
    ("flowable-vacation-request.bpmn20.xml", None, set()),
    ("flowable-table-reservation.bpmn20.xml", None,
     {("intermediateCatchEvent", "intermediatetimereventcatching1"),  # timeDate ${reservationTime}
      ("intermediateCatchEvent", "intermediatetimereventcatching2"),  # PT15M: waits, escalates
      ("sequenceFlow", "sequenceflow18")}),  # ${reservationService.showUp()}
    ("spiff-lanes.bpmn", None, set()),
    ("spiff-timer-non-interrupt-boundary.bpmn", None,
     {("boundaryEvent", "Event_0jyy8ao"), ("parallelGateway", "Gateway_19fdoel")}),
    ("spiff-call-activity-nested.bpmn", None, set()),
    ("spiff-approvals.bpmn", "Approvals", set()),  # call activities as sub-cases, Gateway4/5 as a parallel state
    ("spiff-approvals.bpmn", "First_Approval_Wins", {("startEvent", "First_Approval_Wins.Start2")}),
    ("spiff-message-boundary.bpmn", "Process_1kjyavs", set()),
    ("spiff-message-boundary.bpmn", "Process_0srqcj1", {("intermediateCatchEvent", "Event_0aqmn5y")}),
    ("bpmnio-pizza-collaboration.bpmn", "_6-1",
     {("parallelGateway", "_6-652"), ("intermediateCatchEvent", "_6-674"), ("task", "CalmCustomerTask")}),
    ("bpmnio-pizza-collaboration.bpmn", "_6-2",
     {("eventBasedGateway", "_6-180"), ("intermediateCatchEvent", "_6-219")}),
    ("bpmnio-kitchen-sink.bpmn", "Process_1",
     {("boundaryEvent", "BoundaryEvent_1ge1buo"),  # compensation
      ("boundaryEvent", "BoundaryEvent_1pheq3p"), ("boundaryEvent", "BoundaryEvent_04znm02"),
      ("boundaryEvent", "BoundaryEvent_1c7kst9"), ("boundaryEvent", "BoundaryEvent_0iiyz0j"),  # non-interrupting
      ("boundaryEvent", "BoundaryEvent_1fs6xst"),  # a timer with no duration
      ("eventBasedGateway", "ExclusiveGateway_0w2zn42"), ("complexGateway", "ExclusiveGateway_08cpnyi"),
      ("inclusiveGateway", "ExclusiveGateway_1ip75mm"), ("intermediateThrowEvent", "IntermediateThrowEvent_0d0om9q"),
      ("intermediateCatchEvent", "IntermediateThrowEvent_1vaa2b4"),
      ("userTask", "Task_1x2pxcn")}),  # two unconditioned flows out: an implicit parallel split
    # A non-interrupting event sub-process: its tasks are imported (and their loop markers listed).
    ("bpmnio-kitchen-sink.bpmn", "Process_0abj3w2",
     {("subProcess", "Task_1mvn5bz"), ("task", "Task_11mt25q"), ("task", "Task_194rzhn"), ("task", "Task_1ug2w5g")}),
    # Found by running the import over some 2,600 public models (see ATTRIBUTION.md):
    ("flowable-webservice-error-boundary.bpmn20.xml", None, set()),  # error boundary to a plain end
    ("camunda-throw-error-without-code.bpmn20.xml", None, {("endEvent", "theEnd")}),  # only an error end
    ("flowable-unstructured-two-forks.bpmn20.xml", None, set()),  # two splits, one join
    # Found by running the import over some 7,800 public models (see ATTRIBUTION.md):
    # two executable processes, the first calling the second: the caller is where the work starts.
    ("camunda-parent-calls-child.bpmn20.xml", None, {("parallelGateway", "sid-DA1B0500-1B77-46BE-A118-FF3C4D86D05F")}),
    ("camunda-boundary-timer-cycle.bpmn20.xml", None, {("boundaryEvent", "timer")}),  # R/PT1H: reminds once
    ("flowable-get-variable-condition.bpmn20.xml", None,
     {("userTask", "sid-2BB9CF04-D89F-4C35-94A2-EA07BCCA78CA"), ("inclusiveGateway", "inclusiveGw"),
      ("parallelGateway", "sid-36B0D012-EC6A-4985-AA33-06C6A718337F")}),  # its execution.getVariable() is read
    ("flowable-variable-functions.bpmn20.xml", None, {("userTask", "usertask2")}),  # var:equals(input,1) is read
    ("activiti-ad-hoc-sub-process.bpmn20.xml", None, {("adHocSubProcess", "adhocSubProcess")}),  # its ${completed}
]


def element_line(path: Path, element_id: str) -> int:
    """The line of the tag that declares id="element_id" (where its start tag ends, as the parser counts)."""
    text = path.read_text(encoding="utf-8")
    position = text.index(f'id="{element_id}"')
    return text.count("\n", 0, text.index(">", position)) + 1


@pytest.mark.parametrize(("name", "process", "expected"), REAL_MODELS,
                         ids=[f"{n}:{p}" if p else n for n, p, _ in REAL_MODELS])
def test_a_real_model_imports_lists_what_it_cannot_express_and_passes_check(tmp_path, name, process, expected):
    source = MODELS / name
    result = import_bpmn(source, process_id=process)
    assert {(f.tag, f.element) for f in result.not_expressible} == expected
    for finding in result.findings:
        if finding.tag not in ("process",):
            start = element_line(source, finding.element)
            assert finding.line <= start and start - finding.line < 4, finding  # the start tag's first line
    written = tmp_path / "imported.yaml"
    written.write_text(render_yaml(result, source))
    report = check_definition(written)
    assert report.errors == (), [str(p) for p in report.errors]
    codes = {problem.code for problem in report.warnings}
    assert "draft" in codes  # the import is a draft until a person reviews it
    assert written.read_text().count("TODO") >= 5


def test_exclusive_gateways_become_guards_in_cel_and_their_fields_draft_inputs(tmp_path):
    result = import_bpmn(MODELS / "flowable-vacation-request.bpmn20.xml")
    definition = result.definition
    guards = {(t["from"], t["to"]): t.get("guard") for t in definition["transitions"]}
    assert guards[("handle-vacation-request", "send-confirmation-e-mail")] == 'data.vacationApproved == "Approve"'
    assert guards[("handle-vacation-request", "adjust-vacation-request")] == 'data.vacationApproved == "Reject"'
    assert guards[("adjust-vacation-request", "handle-vacation-request")] == 'data.resendRequest == "Yes"'
    assert definition["inputs"]["fields"]["vacationApproved"]["type"] == "string"
    assert "assignee $INITIATOR" in definition["states"]["handle-vacation-request"]["description"]
    assert definition["states"]["handle-vacation-request"]["role"] == "to-be-assigned"  # no lane, no group
    assert any(item.startswith("roles.to-be-assigned") for item in result.placeholders)


def test_a_default_flow_gets_the_negation_of_the_other_conditions():
    transitions = import_bpmn(MODELS / "spiff-lanes.bpmn").definition["transitions"]
    guards = sorted(t["guard"] for t in transitions if t.get("guard"))
    assert guards == ['!(data.NeedClarification == "Yes")', 'data.NeedClarification == "Yes"']


def test_lanes_become_roles_and_each_task_takes_its_lane():
    definition = import_bpmn(MODELS / "spiff-lanes.bpmn").definition
    assert {"a", "b", "c"} <= set(definition["roles"])
    humans = {sid: s["role"] for sid, s in definition["states"].items() if s["kind"] == "human_task"}
    assert humans["request-feature"] == "a" and humans["clarifying-questions"] == "b"


def test_a_parallel_split_and_its_join_become_a_parallel_state_whose_branches_join_again():
    definition = import_bpmn(MODELS / "spiff-approvals.bpmn", process_id="Approvals").definition
    moves = {(source, t["to"]) for t in definition["transitions"]
             for source in (t["from"] if isinstance(t["from"], list) else [t["from"]])}
    # Gateway4 splits into Manager Approval (P) and Supervisor Approval (P); Gateway5 joins them.
    parallel = definition["states"]["gateway4"]
    assert parallel["kind"] == "parallel" and parallel["join"] == "all"
    assert parallel["branches"] == {"manager-approval-p": {"start": "manager-approval-p"},
                                    "supervisor-approval-p": {"start": "supervisor-approval-p"}}
    assert ("first-approval-wins-done", "gateway4") in moves
    assert ("manager-approval-p", "gateway4") in moves and ("supervisor-approval-p", "gateway4") in moves
    assert ("gateway4", "parallel-approvals-done") in moves
    assert ("manager-approval-p", "supervisor-approval-p") not in moves


def test_call_activities_become_sub_case_steps_of_the_called_workflow():
    definition = import_bpmn(MODELS / "spiff-approvals.bpmn", process_id="Approvals").definition
    assert definition["states"]["first-approval-wins"] == {
        **definition["states"]["first-approval-wins"], "kind": "subcase", "workflow": "first-approval-wins"}


MADE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:test">
  <bpmn:process id="invoice" name="Invoice approval">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="approve" name="Approve invoice" camunda:candidateGroups="accounting, finance-lead"
        camunda:assignee="${approver}"/>
    <bpmn:boundaryEvent id="late" name="Approval late" attachedToRef="approve">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P2DT4H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:exclusiveGateway id="decision" default="toReject"/>
    <bpmn:serviceTask id="pay" name="Pay invoice" camunda:class="com.acme.PayInvoiceDelegate">
      <bpmn:extensionElements><camunda:failedJobRetryTimeCycle>R5/PT10M</camunda:failedJobRetryTimeCycle>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:boundaryEvent id="payFailed" attachedToRef="pay"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>
    <bpmn:userTask id="payByHand" name="Pay by hand" camunda:candidateGroups="accounting"/>
    <bpmn:userTask id="escalate" name="Escalate" camunda:candidateGroups="finance-lead">
      <bpmn:multiInstanceLoopCharacteristics/>
    </bpmn:userTask>
    <bpmn:endEvent id="paid" name="Paid"/>
    <bpmn:endEvent id="rejected" name="Rejected"><bpmn:errorEventDefinition/></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="decision"/>
    <bpmn:sequenceFlow id="f3" name="approved" sourceRef="decision" targetRef="pay">
      <bpmn:conditionExpression>${approved &amp;&amp; amount &lt;= 10000}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toReject" sourceRef="decision" targetRef="rejected"/>
    <bpmn:sequenceFlow id="f5" sourceRef="pay" targetRef="paid"/>
    <bpmn:sequenceFlow id="f6" sourceRef="payFailed" targetRef="payByHand"/>
    <bpmn:sequenceFlow id="f7" sourceRef="payByHand" targetRef="paid"/>
    <bpmn:sequenceFlow id="f8" sourceRef="late" targetRef="escalate"/>
    <bpmn:sequenceFlow id="f9" sourceRef="escalate" targetRef="decision"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture()
def made_model(tmp_path) -> Path:
    path = tmp_path / "invoice.bpmn"
    path.write_text(MADE, encoding="utf-8")
    return path


def test_candidate_groups_timers_actions_and_error_boundaries_of_a_camunda_model(made_model, tmp_path):
    result = import_bpmn(made_model)
    d = result.definition
    assert d["states"]["approve-invoice"] == {**d["states"]["approve-invoice"], "kind": "human_task",
                                              "role": "accounting"}
    assert "assignee ${approver}" in d["states"]["approve-invoice"]["description"]
    assert {"accounting", "finance-lead"} <= set(d["roles"])
    assert d["states"]["rejected"]["kind"] == "cancelled" and d["states"]["paid"]["kind"] == "done"
    # Two candidate groups: both may take the task's transitions.
    out_of_approve = [t for t in d["transitions"] if t["from"] == "approve-invoice"]
    assert all(t.get("roles") == ["accounting", "finance-lead"] for t in out_of_approve)
    guards = {t["to"]: t.get("guard") for t in out_of_approve}
    assert guards["pay-invoice"] == "data.approved && data.amount <= 10000"
    assert guards["rejected"] == "!(data.approved && data.amount <= 10000)"
    # The interrupting boundary timer: an escalation after the ISO duration, and its way on.
    assert d["timers"] == [{"name": "Approval late (timeDuration P2DT4H)", "kind": "escalation",
                            "state": "approve-invoice", "after": "2d4h", "target": {"role": "accounting"}}]
    assert guards["escalate"] is None
    assert d["automated_steps"] == [{"state": "pay-invoice", "action": "pay_invoice_delegate",
                                     "retry": {"attempts": 5, "backoff": "10m", "factor": 1},
                                     "on_exhausted": "pay-by-hand"}]
    listed = {(f.tag, f.element) for f in result.not_expressible}
    assert listed == {("boundaryEvent", "late"), ("userTask", "escalate")}  # timer moves; multi-instance
    written = tmp_path / "invoice.yaml"
    written.write_text(render_yaml(result, made_model))
    assert load_definition(written).states["pay-invoice"].kind == "automated"
    assert check_definition(written).errors == ()


def test_a_condition_beyond_comparisons_is_listed_and_leaves_the_transition_unguarded(made_model):
    made_model.write_text(MADE.replace("${approved &amp;&amp; amount &lt;= 10000}", "${invoiceService.ok(execution)}"))
    result = import_bpmn(made_model)
    listed = [f for f in result.not_expressible if f.element == "f3"]
    assert len(listed) == 1 and "invoiceService.ok()" in listed[0].message
    assert listed[0].line == MADE.splitlines().index(next(line for line in MADE.splitlines() if 'id="f3"' in line)) + 1
    to_pay = next(t for t in result.definition["transitions"] if t["to"] == "pay-invoice")
    assert "guard" not in to_pay and "TODO guard" in to_pay["name"]
    # The default flow cannot be the negation of what was not translated: no guard either.
    to_reject = next(t for t in result.definition["transitions"] if t["to"] == "rejected")
    assert "guard" not in to_reject


def test_every_model_of_the_test_data_imports_and_passes_check(tmp_path):
    # Each process of each file, so a model added to the folder is covered without a line here.
    models = sorted(p for p in MODELS.iterdir() if p.is_file() and p.suffix in (".bpmn", ".xml"))
    assert len(models) >= 20
    for source in models:
        for process in read_bpmn(source).processes:
            if not process.nodes:
                continue
            result = import_bpmn(source, process_id=process.id)
            written = tmp_path / f"{source.name}.{process.id}.yaml"
            written.write_text(render_yaml(result, source), encoding="utf-8")
            report = check_definition(written)
            assert not report.errors, (source.name, process.id, [str(e) for e in report.errors])


def test_of_several_processes_the_one_no_call_activity_calls_is_imported_and_the_called_one_named():
    result = import_bpmn(MODELS / "camunda-parent-calls-child.bpmn20.xml")
    assert result.process.id == "parent-process"
    note = next(f for f in result.notes if f.tag == "process")
    assert "left out: child-process (Child Process, line 78)" in note.message
    call = next(s for s in result.definition["states"].values() if s["kind"] == "subcase")
    assert call["workflow"] == "child-process"


def test_a_timer_cycle_on_a_boundary_fires_once_after_its_first_period_and_says_so():
    result = import_bpmn(MODELS / "camunda-boundary-timer-cycle.bpmn20.xml")
    assert result.definition["timers"] == [{"name": "timer (timeCycle R/PT1H)", "kind": "reminder", "state": "task",
                                            "after": "1h", "target": {"role": "to-be-assigned"}}]
    assert any("fires again and again" in f.message and "1h after the task starts" in f.message
               for f in result.not_expressible)


def test_flowable_variable_functions_and_get_variable_become_guards():
    functions = import_bpmn(MODELS / "flowable-variable-functions.bpmn20.xml").definition
    guards = {t["to"]: t.get("guard") for t in functions["transitions"] if t["from"] == "the-start"}
    assert guards == {"task-a": "(data.input == 1)", "task-b": "(data.input == 2)"}
    assert functions["inputs"]["fields"]["input"]["type"] == "number"
    read = import_bpmn(MODELS / "flowable-get-variable-condition.bpmn20.xml")
    assert not any(f.tag == "sequenceFlow" for f in read.not_expressible)  # its getVariable condition reads


def test_an_ad_hoc_sub_process_of_tasks_becomes_a_checklist_of_them():
    result = import_bpmn(MODELS / "activiti-ad-hoc-sub-process.bpmn20.xml")
    states, transitions = result.definition["states"], result.definition["transitions"]
    assert states["adhoc-sub-process"]["kind"] == "checklist"
    assert states["adhoc-sub-process"]["items"] == ["task-in-subprocess", "task2-in-subprocess"]
    assert all(states[item]["kind"] == "human_task" for item in states["adhoc-sub-process"]["items"])
    # An item done goes back to its checklist; only the checklist moves on, once every item is done.
    assert [(t["from"], t["to"]) for t in transitions] == [("the-start", "adhoc-sub-process"),
                                                           ("adhoc-sub-process", "after-task"),
                                                           ("after-task", "the-end")]
    assert any("completion condition '${completed}'" in f.message for f in result.not_expressible)


def test_an_event_sub_process_is_reached_from_every_state_it_can_interrupt():
    sink = import_bpmn(MODELS / "bpmnio-kitchen-sink.bpmn", process_id="Process_0abj3w2").definition
    into = next(t for t in sink["transitions"] if t["to"] == "task-11mt25q")
    assert into["from"] == ["task-1sga8pc", "task-0t0pnde"]  # every state but the intake
    assert into["name"] == "message: StartEvent_1365x5u"
    assert {"from": "task-11mt25q", "to": "task-194rzhn"} in sink["transitions"]


def test_pool_names_wrapped_on_several_lines_are_read_as_one_line(tmp_path):
    # bpmn-js's complex.bpmn: pools named "Bewerbungseingang - \nSachbearbeiter Personal", several processes
    # listed in the header's comment: a line break there ended the comment and broke the YAML.
    model = tmp_path / "pools.bpmn"
    process = ('<process id="{0}" isExecutable="false"><startEvent id="{0}s"/>'
               '<sequenceFlow id="{0}f" sourceRef="{0}s" targetRef="{0}e"/><endEvent id="{0}e"/></process>')
    model.write_text(f"""<?xml version="1.0"?>
<definitions xmlns="{MODEL_NS}"><collaboration id="c">
  <participant id="pa" name="Intake -&#10;Clerk" processRef="a"/><participant id="pb" name="Review -
Manager" processRef="b"/></collaboration>{process.format("a")}{process.format("b")}</definitions>""", encoding="utf-8")
    result = import_bpmn(model)
    assert result.definition["title"] == "Intake - Clerk"
    assert "b (Review - Manager, line 4)" in next(f for f in result.not_expressible if f.tag == "process").message
    written = tmp_path / "pools.yaml"
    written.write_text(render_yaml(result, model), encoding="utf-8")
    assert not check_definition(written).errors


def test_a_called_process_known_only_at_run_time_is_listed_not_made_a_workflow_name(tmp_path):
    model = tmp_path / "call.bpmn"
    model.write_text(f"""<?xml version="1.0"?>
<definitions xmlns="{MODEL_NS}" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"><process id="p">
<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="c1"/>
<callActivity id="c1" calledElement="${{processKey}}"/><sequenceFlow id="f2" sourceRef="c1" targetRef="c2"/>
<callActivity id="c2"><extensionElements><zeebe:calledElement processId="=&quot;child-process&quot;"/>
</extensionElements></callActivity><sequenceFlow id="f3" sourceRef="c2" targetRef="c3"/>
<callActivity id="c3"><extensionElements><zeebe:calledElement processId="=childId"/></extensionElements></callActivity>
<sequenceFlow id="f4" sourceRef="c3" targetRef="e"/><endEvent id="e"/></process></definitions>""", encoding="utf-8")
    result = import_bpmn(model)
    assert {sid: s["workflow"] for sid, s in result.definition["states"].items() if s["kind"] == "subcase"} == {
        "c1": "todo-called-workflow", "c2": "child-process", "c3": "todo-called-workflow"}
    assert {f.element for f in result.not_expressible if "computed at run time" in f.message} == {"c1", "c3"}


def test_a_model_larger_than_a_definition_file_may_be_imports_up_to_its_own_bound(tmp_path):
    # A BPMN file carries its diagram (shapes, waypoints): real models pass the 1 MiB a definition may be.
    from backoffice.definitions.bpmn_reader import BPMN_FILE_BYTES
    from backoffice.limits import MAX_FILE_BYTES

    shapes = "".join(f'<dc:Bounds x="{i}" y="{i}" width="100" height="80"/>' for i in range(25_000))
    model = tmp_path / "large.bpmn"
    model.write_text(f"""<?xml version="1.0"?>
<definitions xmlns="{MODEL_NS}" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"><process id="p">
<startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="e"/><endEvent id="e"/></process>
<extensionElements>{shapes}</extensionElements></definitions>""", encoding="utf-8")
    assert MAX_FILE_BYTES < model.stat().st_size < BPMN_FILE_BYTES
    assert import_bpmn(model).definition["states"].keys() == {"s", "e"}
    with model.open("a", encoding="utf-8") as more:
        more.write(" " * BPMN_FILE_BYTES)
    with pytest.raises(BpmnFileError, match="a BPMN file carries its diagram"):
        import_bpmn(model)


def test_a_standard_loop_is_listed_as_a_loop_not_as_once_per_item(tmp_path):
    model = tmp_path / "loop.bpmn"
    model.write_text(f"""<?xml version="1.0"?>
<definitions xmlns="{MODEL_NS}"><process id="p" isExecutable="true">
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
  <userTask id="t" name="Try again"><standardLoopCharacteristics/></userTask>
  <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/>
</process></definitions>""", encoding="utf-8")
    finding = next(f for f in import_bpmn(model).not_expressible if f.element == "t")
    assert "a loop activity (done again while its condition holds)" in finding.message


def test_a_collaboration_of_processes_alike_imports_the_first_and_lists_the_others_as_a_choice_to_check():
    # Neither pool is executable and neither calls the other: which one the work starts with
    # only a person can say, so the first is imported and the choice listed, not refused.
    guessed = import_bpmn(MODELS / "bpmnio-pizza-collaboration.bpmn")
    assert guessed.process.id == "_6-1"
    listed = next(f for f in guessed.not_expressible if f.tag == "process")
    assert listed.element == "_6-1" and "_6-2 (Pizza Customer, line 67)" in listed.message
    assert "--process" in listed.message and "only a person can say" in listed.message
    vendor = import_bpmn(MODELS / "bpmnio-pizza-collaboration.bpmn", process_id="_6-1")
    assert vendor.definition == guessed.definition
    assert not any(f.tag == "process" for f in vendor.findings)  # chosen by name: nothing to list
    assert vendor.definition["trigger"] == {"event": "order.received", "system": "todo-trigger-system"}
    with pytest.raises(BpmnFileError, match="no process 'nope'"):
        import_bpmn(MODELS / "bpmnio-pizza-collaboration.bpmn", process_id="nope")


@pytest.mark.parametrize(("text", "problem", "line"), [
    ("this is not XML", "not well-formed XML", 1),
    ('<?xml version="1.0"?>\n<definitions xmlns="urn:other"/>', "not a BPMN 2.0 model", 2),
    ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="t"/>', "holds no process", 1),
    ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="t">\n <process id="p">\n'
     '  <startEvent id="s"/>\n  <sequenceFlow id="f" sourceRef="s" targetRef="ghost"/>\n </process>\n</definitions>',
     "targetRef 'ghost', which is no flow node", 4),
    ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="t">\n <process id="p">\n'
     '  <boundaryEvent id="b" attachedToRef="ghost"/>\n </process>\n</definitions>', "attached to 'ghost'", 3),
])
def test_bad_input_is_one_clear_error_with_its_line(tmp_path, text, problem, line):
    path = tmp_path / "bad.bpmn"
    path.write_text(text)
    with pytest.raises(BpmnFileError) as raised:
        import_bpmn(path)
    assert problem in str(raised.value)
    assert raised.value.line == line
    assert re.match(rf"{re.escape(str(path))}, line {line}: ", str(raised.value))


def test_a_lane_reference_without_the_id_prefix_still_places_the_task():
    # SpiffWorkflow's Approvals.bpmn refers to Approvals.Manager_Approval__P_ as Manager_Approval__P_.
    states = import_bpmn(MODELS / "spiff-approvals.bpmn", process_id="Approvals").definition["states"]
    assert states["manager-approval-p"]["role"] == "manager"
    assert states["supervisor-approval-p"]["role"] == "supervisor"


def test_without_lane_references_the_diagram_says_which_lane_a_task_is_in(tmp_path):
    path = tmp_path / "drawn.bpmn"
    path.write_text("""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
        xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
        targetNamespace="t">
      <process id="p">
        <laneSet><lane id="L1" name="Clerk"/><lane id="L2" name="Team lead"/></laneSet>
        <startEvent id="s"/><userTask id="a" name="Enter"/><userTask id="b" name="Check"/><endEvent id="e"/>
        <sequenceFlow id="f1" sourceRef="s" targetRef="a"/><sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
        <sequenceFlow id="f3" sourceRef="b" targetRef="e"/>
      </process>
      <bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="p">
        <bpmndi:BPMNShape bpmnElement="L1"><dc:Bounds x="0" y="0" width="600" height="100"/></bpmndi:BPMNShape>
        <bpmndi:BPMNShape bpmnElement="L2"><dc:Bounds x="0" y="100" width="600" height="100"/></bpmndi:BPMNShape>
        <bpmndi:BPMNShape bpmnElement="a"><dc:Bounds x="100" y="10" width="100" height="80"/></bpmndi:BPMNShape>
        <bpmndi:BPMNShape bpmnElement="b"><dc:Bounds x="300" y="110" width="100" height="80"/></bpmndi:BPMNShape>
      </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
    </definitions>""")
    states = import_bpmn(path).definition["states"]
    assert (states["enter"]["role"], states["check"]["role"]) == ("clerk", "team-lead")


def test_camunda_8_task_types_assignments_and_feel_conditions(tmp_path):
    path = tmp_path / "c8.bpmn"
    path.write_text("""<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
        xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" targetNamespace="t">
      <bpmn:process id="claims" name="Claims">
        <bpmn:startEvent id="s"/>
        <bpmn:userTask id="assess" name="Assess claim">
          <bpmn:extensionElements><zeebe:assignmentDefinition candidateGroups="adjusters"/></bpmn:extensionElements>
        </bpmn:userTask>
        <bpmn:exclusiveGateway id="g"/>
        <bpmn:serviceTask id="pay" name="Pay">
          <bpmn:extensionElements><zeebe:taskDefinition type="payment-service"/></bpmn:extensionElements>
        </bpmn:serviceTask>
        <bpmn:endEvent id="e"/>
        <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="assess"/>
        <bpmn:sequenceFlow id="f2" sourceRef="assess" targetRef="g"/>
        <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="pay">
          <bpmn:conditionExpression>=amount &gt; 1000 and status = "open"</bpmn:conditionExpression>
        </bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e">
          <bpmn:conditionExpression>=amount &lt;= 1000</bpmn:conditionExpression>
        </bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="f5" sourceRef="pay" targetRef="e"/>
      </bpmn:process>
    </bpmn:definitions>""")
    d = import_bpmn(path).definition
    assert d["states"]["assess-claim"]["role"] == "adjusters"
    assert d["automated_steps"][0]["action"] == "payment_service"
    guards = {t["to"]: t.get("guard") for t in d["transitions"] if t["from"] == "assess-claim"}
    assert guards == {"pay": 'data.amount > 1000 && data.status == "open"', "e": "data.amount <= 1000"}


def test_an_external_entity_in_a_model_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    path = tmp_path / "xxe.bpmn"
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>\n'
                    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="t">'
                    '<process id="p"><documentation>leak &x;</documentation><startEvent id="s"/><endEvent id="e"/>'
                    '<sequenceFlow id="f" sourceRef="s" targetRef="e"/></process></definitions>')
    with pytest.raises(BpmnFileError) as refused:
        import_bpmn(path)
    assert "line 2: declares an XML entity" in str(refused.value)
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_an_entity_bomb_is_refused_before_it_is_expanded(tmp_path, encoding):
    # Billion laughs: ten levels of ten references; expanded, it would be a gigabyte of "lol".
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    path = tmp_path / "laughs.bpmn"
    path.write_text(f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE d [{entities}]>\n'
                    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
                    '<startEvent id="s" name="&a9;"/><endEvent id="e"/><sequenceFlow id="f" sourceRef="s" '
                    'targetRef="e"/></process></definitions>', encoding=encoding)
    with pytest.raises(BpmnFileError, match="line 2: declares an XML entity"):
        import_bpmn(path)


# Found on real models: each of these made the import crash, hang, refuse a readable model, or
# write a definition `check` rejects.


def test_elements_without_ids_are_named_by_tag_and_line(tmp_path):
    # The schema lets id be left out (Zeebe's own test model does): it used to loop forever.
    result = import_bpmn(MODELS / "zeebe-generate-id-no-ids.bpmn")
    assert checked(result, tmp_path).errors == ()
    assert result.process.id == "process-line-6"
    assert list(result.definition["states"]) == ["start-event-line-7", "done"]
    finding = result.not_expressible[0]
    assert (finding.element, finding.line) == ("userTask-line-8", 8)


def test_an_error_boundary_to_an_end_is_a_way_on_not_the_steps_manual_twin(tmp_path):
    # on_exhausted must name a state a person works; an error path straight to an end is a transition.
    result = import_bpmn(MODELS / "flowable-webservice-error-boundary.bpmn20.xml")
    step = result.definition["automated_steps"][0]
    assert step == {"state": "web-service-invocation", "action": "web_service_invocation"}
    assert {"from": "web-service-invocation", "to": "the-end-with-error", "name": "error: faultMaxValue"} \
        in result.definition["transitions"]
    assert checked(result, tmp_path).errors == ()


def test_a_model_ending_only_in_an_error_gets_its_end_as_the_done_state_and_says_so(tmp_path):
    result = import_bpmn(MODELS / "camunda-throw-error-without-code.bpmn20.xml")
    assert result.definition["states"]["the-end"]["kind"] == "done"
    [finding] = result.not_expressible
    assert finding.element == "theEnd" and "say which end is success" in finding.message
    assert not any("imported as a cancelled end state" in f.message for f in result.findings)
    assert checked(result, tmp_path).errors == ()


def test_a_split_inside_a_branch_sharing_the_join_adds_branches(tmp_path):
    result = import_bpmn(MODELS / "flowable-unstructured-two-forks.bpmn20.xml")
    fork = result.definition["states"]["fork1"]
    assert fork["kind"] == "parallel"
    assert sorted(fork["branches"]) == ["task1", "task2", "task3", "task4"]
    assert "fork2" not in result.definition["states"]
    assert checked(result, tmp_path).errors == ()


def checked(result, tmp_path: Path):
    path = tmp_path / "imported.yaml"
    path.write_text(render_yaml(result, result.process.id))
    return check_definition(path)


def model(tmp_path: Path, body: str, *, head: str = "", name: str = "made.bpmn") -> Path:
    path = tmp_path / name
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {head}'
                    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="urn:t">\n'
                    f'{body}\n</bpmn:definitions>\n')
    return path


FLOW = ('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:userTask id="t" name="Work"/><bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
        '<bpmn:endEvent id="e"/>')


def test_prefixed_references_and_a_namespace_name_with_spaces_are_read(tmp_path):
    # As IBM Process Designer writes them: attachedToRef and calledElement are QNames with the target
    # namespace's prefix, and a namespace name holds spaces (libxml2 calls that an error; it is well-formed).
    path = model(tmp_path, '<bpmn:process id="p">' + FLOW.replace('<bpmn:endEvent id="e"/>', "")
                 + '<bpmn:callActivity id="c" calledElement="Process:sub"/>'
                 '<bpmn:sequenceFlow id="f3" sourceRef="c" targetRef="e"/><bpmn:endEvent id="e"/>'
                 '<bpmn:boundaryEvent id="b" attachedToRef="tns:t"><bpmn:timerEventDefinition><bpmn:timeDuration>'
                 'PT4H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
                 '<bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="c"/></bpmn:process>',
                 head='xmlns:tns="urn:t" xmlns:Process="http://example.com/Collapsed Process" ')
    definition = import_bpmn(path).definition
    assert definition["states"]["c"]["workflow"] == "sub"
    assert [t["after"] for t in definition["timers"]] == ["4h"]


def test_a_broken_pool_beside_the_chosen_process_does_not_stop_it(tmp_path):
    broken = '<bpmn:process id="other"><bpmn:sequenceFlow id="dangling"/></bpmn:process>'
    path = model(tmp_path, f'<bpmn:process id="p">{FLOW}</bpmn:process>{broken}')
    assert list(import_bpmn(path).definition["states"]) == ["s", "work", "e"]
    with pytest.raises(BpmnFileError, match="sequence flow 'dangling' has sourceRef None") as raised:
        import_bpmn(path, process_id="other")
    assert raised.value.line == 3


def test_a_default_flow_that_does_not_exist_is_listed_not_refused(tmp_path):
    path = model(tmp_path, '<bpmn:process id="p"><bpmn:startEvent id="s"/>'
                 '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/>'
                 '<bpmn:exclusiveGateway id="g" default="gone"/>'
                 '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e"/><bpmn:endEvent id="e"/></bpmn:process>')
    [finding] = import_bpmn(path).not_expressible
    assert (finding.element, finding.line) == ("g", 3) and "default flow 'gone', which does not exist" in finding.message


@pytest.mark.parametrize(("written", "after"), [("=PT4H", "4h"), ('=duration("P2D")', "2d"), ("'P14D'", "14d")])
def test_a_timer_duration_written_as_feel_or_quoted_becomes_a_timer(tmp_path, written, after):
    path = model(tmp_path, '<bpmn:process id="p">' + FLOW + '<bpmn:boundaryEvent id="b" attachedToRef="t" '
                 'cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeDuration>'
                 f'{written}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent></bpmn:process>')
    assert [t["after"] for t in import_bpmn(path).definition["timers"]] == [after]


def test_a_parallel_split_whose_branches_do_no_work_is_passed_through(tmp_path):
    path = model(tmp_path, '<bpmn:process id="p"><bpmn:startEvent id="s"/>'
                 '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fork"/><bpmn:parallelGateway id="fork"/>'
                 '<bpmn:sequenceFlow id="a" sourceRef="fork" targetRef="join"/>'
                 '<bpmn:sequenceFlow id="b" sourceRef="fork" targetRef="join"/><bpmn:parallelGateway id="join"/>'
                 '<bpmn:sequenceFlow id="f2" sourceRef="join" targetRef="t"/><bpmn:userTask id="t" name="Work"/>'
                 '<bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/></bpmn:process>')
    result = import_bpmn(path)
    assert list(result.definition["states"]) == ["s", "work", "e"]
    assert checked(result, tmp_path).errors == ()


def test_an_untranslated_condition_on_several_lines_names_its_transition_on_one(tmp_path):
    # Yaoqiang writes condition text with line breaks; the name must survive export and import unchanged.
    path = model(tmp_path, '<bpmn:process id="p"><bpmn:startEvent id="s"/>'
                 '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="e"><bpmn:conditionExpression>Condition\n\n'
                 'true</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:endEvent id="e" name="End"/></bpmn:process>')
    [transition] = import_bpmn(path).definition["transitions"]
    assert transition["name"] == "to End (TODO guard: Condition true)"


@pytest.mark.parametrize(("groups", "role", "listed"), [
    ('=["sales", "accounting"]', "sales", False),  # a FEEL list of names is known when modelled
    ('="sales"', "sales", False),
    ("=approverGroups", "to-be-assigned", True),  # a FEEL variable is known only at run time
])
def test_camunda_8_candidate_groups_in_feel(tmp_path, groups, role, listed):
    task = ('<bpmn:userTask id="t" name="Work"><bpmn:extensionElements><zeebe:assignmentDefinition '
            f"candidateGroups='{groups}'/></bpmn:extensionElements></bpmn:userTask>")
    path = model(tmp_path, '<bpmn:process id="p">' + FLOW.replace('<bpmn:userTask id="t" name="Work"/>', task)
                 + "</bpmn:process>", head='xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" ')
    result = import_bpmn(path)
    assert result.definition["states"]["work"]["role"] == role
    assert any(f.element == "t" and "computed at run time" in f.message for f in result.not_expressible) is listed


def test_a_collaboration_with_one_executable_process_imports_that_one_and_names_the_others(tmp_path):
    # Camunda, Flowable and Zeebe deploy only the process marked executable; the other pools
    # (here the customer) are parties no engine runs.
    model = tmp_path / "pizza.bpmn"
    model.write_text((MODELS / "bpmnio-pizza-collaboration.bpmn").read_text(encoding="utf-8").replace(
        '<semantic:process id="_6-1" isExecutable="false">', '<semantic:process id="_6-1" isExecutable="true">'),
        encoding="utf-8")
    result = import_bpmn(model)
    assert result.definition == import_bpmn(model, process_id="_6-1").definition
    note = next(f for f in result.notes if f.tag == "process")
    assert note.element == "_6-1" and "_6-2 (Pizza Customer, line 67)" in note.message
    assert "--process" in note.message
    # Two executable processes: a choice only a person can make, listed as such.
    both = tmp_path / "both.bpmn"
    both.write_text(model.read_text(encoding="utf-8").replace(
        '<semantic:process id="_6-2" isExecutable="false">', '<semantic:process id="_6-2" isExecutable="true">'),
        encoding="utf-8")
    assert any(f.tag == "process" and "only a person can say" in f.message
               for f in import_bpmn(both).not_expressible)
