"""`check` finds every problem of a definition, each at its line and column, with what was expected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from backoffice.definitions import LIBRARY, check_definition
from backoffice.errors import DefinitionProblem

# A small definition that passes every check; each test changes one part of it.
BASE = {
    "head": """\
        id: minimal
        title: Minimal
        version: 1
        purpose: Test the checks.
        owner: {role: clerk}
        trigger: {event: thing.created, system: portal}
        scope: {starts: [a thing is created]}
        systems: [portal]
        systems_of_record: {thing: portal}
        proof_of_completion: {field: note}
        """,
    "inputs": """\
        inputs:
          fields: {amount: number, vendor: string, note: {type: string, required: false}}
        """,
    "roles": """\
        roles:
          clerk: {queue: clerks}
          approver: {queue: approvals}
          controller: {queue: controllers}
        """,
    "fallback": """\
        fallback: {procedure: Do it by hand., queue: clerks}
        """,
    "states": """\
        states:
          new: {kind: intake}
          work: {kind: human_task, role: clerk}
          done: {kind: done}
          cancelled: {kind: cancelled}
        """,
    "transitions": """\
        transitions:
          - {from: new, to: work}
          - {from: work, to: done}
          - {from: [new, work], to: cancelled}
        """,
    "exceptions": """\
        exceptions:
          needs_info: {resolver: {role: requester}, returns_to: work}
        """,
}
BASE = {name: textwrap.dedent(text) for name, text in BASE.items()}


@pytest.fixture
def definition(tmp_path: Path):
    """Write the base definition with some parts replaced (text, or None to drop) and return its path."""
    def write(**parts: str | None) -> Path:
        sections = dict(BASE, **parts)
        text = "".join(textwrap.dedent(body) for body in sections.values() if body is not None)
        path = tmp_path / "definition.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    return write


def only(problems, code: str) -> DefinitionProblem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, [str(p) for p in problems]
    return found[0]


def points_at(path: Path, problem: DefinitionProblem, text: str) -> bool:
    """Say whether the problem's line and column are where `text` starts in the file."""
    line = path.read_text().splitlines()[problem.line - 1]
    return line[problem.column - 1:].startswith(text)


def test_the_base_definition_and_the_service_request_template_pass(definition):
    report = check_definition(definition())
    assert report.ok and not report.warnings, [str(p) for p in report.problems]
    template = check_definition(LIBRARY / "service-request.yaml")
    assert template.ok and not template.warnings, [str(p) for p in template.problems]
    assert template.definition is not None and template.definition.id == "service-request"


def test_yaml_syntax_error_names_line_and_column_and_what_was_expected(definition):
    path = definition(fallback="fallback: {procedure: [Do it by hand., queue: clerks}\n")
    problem = only(check_definition(path).errors, "yaml-syntax")
    assert problem.line == path.read_text().splitlines().index(
        "fallback: {procedure: [Do it by hand., queue: clerks}") + 1
    assert problem.expected and "]" in problem.expected and str(path) == problem.path


def test_duplicate_key_is_an_error_at_the_second_key(definition):
    path = definition(fallback="fallback: {procedure: x}\nfallback: {procedure: y}\n")
    problem = only(check_definition(path).errors, "duplicate-key")
    assert points_at(path, problem, "fallback: {procedure: y}")


def test_unknown_top_level_field_suggests_the_closest_name(definition):
    path = definition(fallback=BASE["fallback"].replace("fallback:", "fallbak:"))
    problem = only(check_definition(path).errors, "unknown-field")
    assert "did you mean 'fallback'" in problem.message and points_at(path, problem, "fallbak:")
    assert "fallback" in problem.expected


def test_unknown_nested_field_is_named_with_its_place(definition):
    path = definition(states=BASE["states"].replace("role: clerk}", "role: clerk, queu: clerks}"))
    problem = only(check_definition(path).errors, "unknown-field")
    assert "'queu' in states.work" in problem.message and "did you mean 'queue'" in problem.message
    assert points_at(path, problem, "queu:")


def test_transition_to_an_undefined_state(definition):
    path = definition(transitions=BASE["transitions"] + "  - {from: work, to: revew}\n")
    report = check_definition(path)
    problem = only(report.errors, "undefined-state")
    assert "'revew'" in problem.message and points_at(path, problem, "revew")
    assert "work" in problem.expected


def test_transition_from_an_undefined_state_in_a_list(definition):
    path = definition(transitions=BASE["transitions"] + "  - {from: [work, nowhere], to: done}\n")
    problem = only(check_definition(path).errors, "undefined-state")
    assert points_at(path, problem, "nowhere")


def test_state_unreachable_from_intake(definition):
    path = definition(states=BASE["states"] + "  island: {kind: human_task, role: clerk}\n",
                      transitions=BASE["transitions"] + "  - {from: island, to: done}\n")
    problem = only(check_definition(path).errors, "unreachable-state")
    assert "'island'" in problem.message and points_at(path, problem, "island:")


def test_state_with_no_path_to_an_end(definition):
    path = definition(states=BASE["states"] + "  limbo: {kind: waiting}\n",
                      transitions=BASE["transitions"] + "  - {from: work, to: limbo}\n")
    problem = only(check_definition(path).errors, "dead-end")
    assert "'limbo'" in problem.message and points_at(path, problem, "limbo:")


def test_exception_paths_count_for_reachability(definition):
    # The exception state is entered only by raising the exception, and left by resolving it.
    path = definition(states=BASE["states"] + "  on-hold: {kind: exception, role: clerk}\n",
                      exceptions=BASE["exceptions"] + "  vendor_missing: {resolver: {queue: clerks}, state: on-hold, "
                                                      "returns_to: work}\n")
    assert check_definition(path).ok


def test_no_intake_and_no_done_state(definition):
    path = definition(states=BASE["states"].replace("kind: intake", "kind: human_task, role: clerk")
                      .replace("kind: done", "kind: cancelled"))
    report = check_definition(path)
    assert only(report.errors, "no-intake").line == only(report.errors, "no-done").line


def test_a_second_intake_is_an_error(definition):
    path = definition(states=BASE["states"] + "  also-new: {kind: intake}\n",
                      transitions=BASE["transitions"] + "  - {from: also-new, to: work}\n")
    assert points_at(path, only(check_definition(path).errors, "several-intakes"), "also-new:")


def test_transition_out_of_an_end_state(definition):
    path = definition(transitions=BASE["transitions"] + "  - {from: done, to: work}\n")
    assert only(check_definition(path).errors, "transition-from-end")


def test_exception_reason_without_a_resolver(definition):
    path = definition(exceptions=BASE["exceptions"] + "  wrong_vendor: {returns_to: work}\n")
    problem = only(check_definition(path).errors, "exception-without-resolver")
    assert "'wrong_vendor'" in problem.message and points_at(path, problem, "wrong_vendor:")
    assert "resolver" in problem.expected


def test_exception_that_ends_needs_a_cancelled_state(definition):
    path = definition(states=BASE["states"].replace("  cancelled: {kind: cancelled}\n", ""),
                      transitions=BASE["transitions"].replace("  - {from: [new, work], to: cancelled}\n", ""),
                      exceptions=BASE["exceptions"] + "  duplicate: {resolver: {queue: clerks}, ends: true}\n")
    problem = only(check_definition(path).errors, "undefined-state")
    assert "no cancelled state" in problem.message


APPROVAL_STATES = BASE["states"] + "  approve: {kind: approval}\n"
APPROVAL_TRANSITIONS = textwrap.dedent("""\
    transitions:
      - {from: new, to: work}
      - {from: work, to: approve}
      - {from: approve, to: done}
      - {from: [new, work, approve], to: cancelled}
    """)


def test_approval_without_evidence(definition):
    path = definition(states=APPROVAL_STATES, transitions=APPROVAL_TRANSITIONS,
                      approvals="approvals:\n  - {state: approve, approvers: [{role: approver}]}\n")
    problem = only(check_definition(path).errors, "approval-without-evidence")
    assert "'approve'" in problem.message and points_at(path, problem, "{state: approve")


def test_approval_quorum_larger_than_its_approvers(definition):
    path = definition(states=APPROVAL_STATES, transitions=APPROVAL_TRANSITIONS, approvals="""\
        approvals:
          - state: approve
            approvers: [{role: approver}, {role: controller}]
            quorum: 3
            evidence: {fields: [amount]}
        """)
    problem = only(check_definition(path).errors, "quorum-too-large")
    assert points_at(path, problem, "3") and "at most 2" in problem.expected


def test_approval_state_without_approvers_and_approval_on_another_kind(definition):
    path = definition(states=APPROVAL_STATES, transitions=APPROVAL_TRANSITIONS,
                      approvals="approvals:\n  - {state: work, approvers: [{role: approver}], "
                                "evidence: {documents: [quote]}}\n")
    report = check_definition(path)
    assert points_at(path, only(report.errors, "approval-without-approvers"), "approve:")
    assert points_at(path, only(report.errors, "approval-state-kind"), "work")


def test_evidence_field_the_inputs_do_not_define(definition):
    path = definition(states=APPROVAL_STATES, transitions=APPROVAL_TRANSITIONS,
                      approvals="approvals:\n  - {state: approve, approvers: [{role: approver}], "
                                "evidence: {fields: [ammount]}}\n")
    problem = only(check_definition(path).errors, "unknown-data-field")
    assert "did you mean 'amount'" in problem.message and points_at(path, problem, "ammount")


def test_separation_of_duties_must_name_an_earlier_state(definition):
    path = definition(states=APPROVAL_STATES, transitions=APPROVAL_TRANSITIONS, approvals="""\
        approvals:
          - state: approve
            approvers: [{role: approver}]
            evidence: {fields: [amount]}
            separation_of_duties: {requester: true, actors_of: [work, done]}
        """)
    problem = only(check_definition(path).errors, "sod-not-earlier")
    assert "'done'" in problem.message and points_at(path, problem, "done]")


def test_payment_approval_without_separation_of_duties_is_a_warning(definition):
    states = BASE["states"] + "  pay-supplier: {kind: approval}\n"
    transitions = APPROVAL_TRANSITIONS.replace("approve", "pay-supplier")
    path = definition(states=states, transitions=transitions,
                      approvals="approvals:\n  - {state: pay-supplier, approvers: [{role: approver}], "
                                "evidence: {fields: [amount]}}\n")
    report = check_definition(path)
    assert report.ok
    problem = only(report.warnings, "payment-without-separation")
    assert problem.severity == "warning" and "separation_of_duties" in problem.expected
    separated = definition(states=states, transitions=transitions,
                           approvals="approvals:\n  - {state: pay-supplier, approvers: [{role: approver}], "
                                     "evidence: {fields: [amount]}, separation_of_duties: {requester: true}}\n")
    assert not check_definition(separated).warnings


def test_a_payment_control_makes_any_approval_a_payment_step(definition):
    path = definition(states=APPROVAL_STATES, transitions=APPROVAL_TRANSITIONS,
                      approvals="approvals:\n  - {state: approve, approvers: [{role: approver}], "
                                "evidence: {fields: [amount]}}\n",
                      controls="controls:\n  - {state: approve, reason: payment}\n")
    assert only(check_definition(path).warnings, "payment-without-separation")


def test_control_on_a_state_no_person_works(definition):
    path = definition(states=BASE["states"] + "  post: {kind: automated}\n",
                      transitions=BASE["transitions"] + "  - {from: work, to: post}\n  - {from: post, to: done}\n",
                      automated_steps="automated_steps:\n  - {state: post, action: post_invoice, "
                                      "on_exhausted: work}\n",
                      controls="controls:\n  - {state: post, reason: payment}\n")
    problem = only(check_definition(path).errors, "control-not-human")
    assert points_at(path, problem, "post, reason")


def test_cel_syntax_error_at_its_position_in_the_file(definition):
    path = definition(transitions=BASE["transitions"].replace(
        "{from: work, to: done}", "{from: work, to: done, guard: \"data.amount > 10 &&\"}"))
    problem = only(check_definition(path).errors, "cel-syntax")
    line = path.read_text().splitlines()[problem.line - 1]
    # Just past the dangling &&, where the missing operand should be.
    assert line[:problem.column - 1].endswith('data.amount > 10 &&') and "operand" in problem.expected


def test_cel_syntax_error_inside_a_block_scalar(definition):
    path = definition(transitions=BASE["transitions"] + textwrap.indent(textwrap.dedent("""\
        - from: work
          to: done
          guard: |
            data.amount > 10 &&
              data.vendor == 'x' ) && true
        """), "  "))
    problem = only(check_definition(path).errors, "cel-syntax")
    assert points_at(path, problem, ") && true")


def test_cel_referring_to_a_field_the_contract_does_not_define(definition):
    path = definition(transitions=BASE["transitions"].replace(
        "{from: work, to: done}",
        "{from: work, to: done, guard: \"data.amount > 10 && data.vendr != '' && case.state == 'work'\"}"))
    problem = only(check_definition(path).errors, "unknown-reference")
    assert "data.vendr" in problem.message and "did you mean data.vendor" in problem.message
    assert points_at(path, problem, "vendr")


def test_cel_builtins_of_the_case_are_checked_too(definition):
    path = definition(routing="""\
        routing:
          - {when: "actor.role == 'clerk' && case.priorty == 'high' && amount > 3", queue: clerks}
        """)
    problems = [p for p in check_definition(path).errors if p.code == "unknown-reference"]
    assert [p.message.split(" ")[0] for p in problems] == ["case.priorty", "unknown"]
    assert "did you mean case.priority" in problems[0].message and "data.amount" in problems[1].message


def test_cel_fields_come_from_the_data_contract_file(definition, tmp_path):
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "thing.v1.yaml").write_text(textwrap.dedent("""\
        name: thing
        version: 1.0.0
        description: A thing.
        producer: portal
        schema:
          amount: {type: number, required: true}
          vendor:
            type: object
            fields:
              name: {type: string}
          note: {type: string}
        """))
    path = definition(inputs="inputs: {contract: contracts/thing.v1.yaml}\n", transitions=BASE["transitions"].replace(
        "{from: work, to: done}", "{from: work, to: done, guard: \"data.vendor.name != '' && data.vendor.iban != ''\"}"))
    problem = only(check_definition(path).errors, "unknown-reference")
    assert "data.vendor.iban" in problem.message and points_at(path, problem, "iban")


def test_an_unreadable_contract_is_an_error_at_the_contract_path(definition):
    path = definition(inputs="inputs: {contract: contracts/missing.v1.yaml}\n")
    problem = only(check_definition(path).errors, "contract-unreadable")
    assert points_at(path, problem, "contracts/missing.v1.yaml")


def test_timer_without_a_target(definition):
    path = definition(timers="timers:\n  - {name: nudge, kind: reminder, state: work, after: 2d}\n")
    problem = only(check_definition(path).errors, "timer-without-target")
    assert "'nudge' targets nothing" in problem.message and points_at(path, problem, "{name: nudge")


def test_timer_targeting_a_role_that_is_not_defined(definition):
    path = definition(timers="timers:\n  - {kind: escalation, state: work, after: 2d, target: {role: manger}}\n")
    problem = only(check_definition(path).errors, "timer-without-target")
    assert "role manger" in problem.message and points_at(path, problem, "manger")


def test_timer_on_an_sla_that_is_not_set(definition):
    path = definition(timers="timers:\n  - {kind: reminder, sla: resolution, at: 50%, target: {role: clerk}}\n")
    assert points_at(path, only(check_definition(path).errors, "timer-without-sla"), "resolution")


def test_sla_needs_a_calendar(definition):
    path = definition(sla="sla: {resolution: 3d}\n")
    assert points_at(path, only(check_definition(path).errors, "sla-without-calendar"), "sla:")


def test_automated_step_without_on_exhausted_is_a_warning(definition):
    path = definition(states=BASE["states"] + "  post: {kind: automated}\n",
                      transitions=BASE["transitions"] + "  - {from: work, to: post}\n  - {from: post, to: done}\n",
                      automated_steps="automated_steps:\n  - {state: post, action: post_invoice}\n")
    report = check_definition(path)
    assert report.ok and points_at(path, only(report.warnings, "no-on-exhausted"), "{state: post")


def test_automated_state_without_an_action(definition):
    path = definition(states=BASE["states"] + "  post: {kind: automated}\n",
                      transitions=BASE["transitions"] + "  - {from: work, to: post}\n  - {from: post, to: done}\n")
    assert points_at(path, only(check_definition(path).errors, "automated-without-action"), "post:")


def test_no_fallback_is_a_warning(definition):
    report = check_definition(definition(fallback=None))
    assert report.ok and only(report.warnings, "no-fallback")


def test_no_path_back_to_the_requester_is_a_warning(definition):
    report = check_definition(definition(exceptions=None))
    assert report.ok and only(report.warnings, "no-needs-info")


def test_undefined_role_system_and_queue(definition):
    path = definition(head=BASE["head"].replace("system: portal}", "system: portl}"),
                      transitions=BASE["transitions"].replace("{from: new, to: work}",
                                                              "{from: new, to: work, roles: [clrk]}"),
                      routing="routing:\n  - {queue: nowhere}\n")
    report = check_definition(path)
    assert "did you mean 'portal'" in only(report.errors, "undefined-system").message
    assert "did you mean 'clerk'" in only(report.errors, "undefined-role").message
    assert points_at(path, only(report.errors, "undefined-queue"), "nowhere")


def test_the_owner_is_never_the_team(definition):
    path = definition(head=BASE["head"].replace("owner: {role: clerk}", "owner: {role: the team}"))
    problem = only(check_definition(path).errors, "invalid-value")
    assert "owner.role" in problem.message and "one accountable" in problem.expected
    assert points_at(path, problem, "the team")


def test_every_problem_is_reported_in_one_run(definition):
    path = definition(
        head=BASE["head"].replace("version: 1", "version: one"),
        states=BASE["states"] + "  broken: {kind: finished}\n",
        transitions=BASE["transitions"] + "  - {from: work, to: nowhere, guard: \"data.amount >\"}\n"
                                          "  - {from: work, to: broken}\n",
        exceptions=BASE["exceptions"] + "  orphan: {returns_to: work}\n",
        timers="timers:\n  - {kind: reminder, after: 1d}\n")
    report = check_definition(path)
    codes = sorted(p.code for p in report.errors)
    # The state with a bad kind is reported once; transitions into it are not reported as undefined.
    assert codes == ["cel-syntax", "exception-without-resolver", "invalid-value", "invalid-value",
                     "timer-without-target", "undefined-state"], [str(p) for p in report.errors]
    assert len({(p.line, p.column) for p in report.errors}) == len(report.errors)


DUPLICATE_REASON = "  duplicate: {resolver: {queue: clerks}, ends: true}\n"


def test_a_duplicate_rule_on_fields_and_a_reason_that_exist_passes(definition):
    path = definition(exceptions=BASE["exceptions"] + DUPLICATE_REASON,
                      duplicates="duplicates: {fields: [vendor, amount], reason: duplicate, within: 90d}\n")
    report = check_definition(path)
    assert report.ok and not report.warnings, [str(p) for p in report.problems]


def test_a_duplicate_rule_raising_an_undefined_reason(definition):
    path = definition(exceptions=BASE["exceptions"] + DUPLICATE_REASON,
                      duplicates="duplicates: {fields: [vendor], reason: duplicat}\n")
    problem = only(check_definition(path).errors, "undefined-exception")
    assert points_at(path, problem, "duplicat}") and "did you mean 'duplicate'" in problem.message


def test_a_duplicate_rule_comparing_a_field_the_inputs_lack(definition):
    path = definition(exceptions=BASE["exceptions"] + DUPLICATE_REASON,
                      duplicates="duplicates: {fields: [vendr], reason: duplicate}\n")
    problem = only(check_definition(path).errors, "unknown-data-field")
    assert points_at(path, problem, "vendr") and "did you mean 'vendor'" in problem.message


def test_a_duplicate_reason_that_cannot_be_raised_at_intake(definition):
    path = definition(exceptions=BASE["exceptions"] + "  duplicate: {resolver: {queue: clerks}, ends: true, "
                                                      "raised_in: [work]}\n",
                      duplicates="duplicates: {fields: [vendor], reason: duplicate}\n")
    problem = only(check_definition(path).errors, "invalid-value")
    assert points_at(path, problem, "[work]") and "leaves out 'new'" in problem.message


STEP = dict(
    states=BASE["states"] + "  post: {kind: automated}\n  post-by-hand: {kind: human_task, role: clerk}\n",
    automated_steps="automated_steps:\n  - {state: post, action: post_invoice, on_exhausted: post-by-hand}\n")


def test_a_manual_twin_whose_only_way_out_reads_result_is_an_error(definition):
    path = definition(**STEP, transitions=BASE["transitions"]
                      + "  - {from: work, to: post}\n  - {from: post, to: done, guard: \"has(result.ref)\"}\n"
                      + "  - {from: post-by-hand, to: done, guard: \"has(result.ref)\"}\n")
    report = check_definition(path)
    assert points_at(path, only(report.errors, "manual-twin-dead-end"), "post-by-hand}")
    # result in a guard out of a person's state never holds; out of the automated state it reads the action's output.
    outside = only(report.errors, "result-outside-step")
    assert "{from: post-by-hand, to: done" in path.read_text().splitlines()[outside.line - 1]
    assert points_at(path, outside, '"has(result.ref)"')


def test_a_manual_twin_that_is_an_automated_state_is_an_error(definition):
    path = definition(states=BASE["states"] + "  post: {kind: automated}\n  retry: {kind: automated}\n",
                      transitions=BASE["transitions"] + "  - {from: work, to: post}\n  - {from: post, to: done}\n"
                      "  - {from: retry, to: done}\n",
                      automated_steps="automated_steps:\n  - {state: post, action: a, on_exhausted: retry}\n"
                                      "  - {state: retry, action: b, on_exhausted: work}\n")
    assert points_at(path, only(check_definition(path).errors, "manual-twin-not-for-people"), "retry}")


def test_a_manual_twin_with_a_way_out_for_people_passes(definition):
    path = definition(**STEP, transitions=BASE["transitions"]
                      + "  - {from: work, to: post}\n  - {from: post, to: done, guard: \"has(result.ref)\"}\n"
                      + "  - {from: post-by-hand, to: done, guard: \"has(data.note)\"}\n")
    report = check_definition(path)
    assert report.ok, [str(p) for p in report.problems]


@pytest.mark.parametrize("guard, says", [
    ("data.vendor.size() > 0 && " + " || ".join(["data.amount > 1.0"] * 120), "characters long"),
    ("[1, 2].map(x, [3].map(y, x + y)).size() > 0", "inside another macro"),
    ("(" * 40 + "data.amount" + ")" * 40 + " > 1.0", "brackets"),
])
def test_a_guard_of_unbounded_cost_is_flagged(definition, guard, says):
    path = definition(transitions=BASE["transitions"].replace(
        "{from: work, to: done}", "{from: work, to: done, guard: '" + guard + "'}"))
    problem = only(check_definition(path).errors, "cel-cost")
    assert says in problem.message
