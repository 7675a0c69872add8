"""The readiness gate: ten points a workflow must pass before automating it is worth the risk.

Most automation fails by automating ambiguity: no clear trigger, inputs nobody defined, an
owner who is "the team", exceptions nobody designed. Each point below is judged from the
definition and, where an as-is map of the workflow's log is given, from the evidence too:
whether most cases follow a few paths (is the happy path stable?), and whether the reasons
the log records are named in the exception taxonomy.

    report = assess_readiness(definition, source=path, evidence=analyze(read_log(log)))
    report.ready, [point.reason for point in report.failed]

The gate judges a definition that passes `check`; run it on `load_definition`'s result.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, computed_field

from backoffice.definitions.loader import load_definition
from backoffice.definitions.model import Definition, Expectation, Metric, Party, StateKind
from backoffice.wording import plural

if TYPE_CHECKING:  # the as-is map is only read here: its type serves the annotations
    from backoffice.mapping.model import ProcessMap

MAIN_VARIANTS = 3
"""How many of the most frequent variants count as the main paths of a log."""
STABLE_SHARE = 0.6
"""The share of cases the main variants must hold for the happy path to count as stable."""
MATCHED_SHARE = 0.5
"""The share of a log's steps whose activities must match states for its variants to judge the path."""
TOP_REASON_SHARE = 0.05
"""A reason seen in at least this share of the cases with exceptions is a top exception: it must be named."""

# An owner named like these is a group of people, and a group is accountable for nothing.
_GROUP_WORDS = re.compile(r"\b(team|teams|group|groups|department|dept|committee|squad|crew|staff|everyone|"
                          r"everybody|all|pool)\b", re.IGNORECASE)
# A trigger that names several events, or none in particular, is not one clear trigger.
_SEVERAL = re.compile(r"\s(or|and)\s|[,;|&+]", re.IGNORECASE)
_VAGUE = re.compile(r"^(tbd|tba|todo|n/?a|na|none|various|any|anything|manual|ad[- ]?hoc|unknown|other|misc|"
                    r"-+|\?+)$|\b(tbd|todo)\b", re.IGNORECASE)
# Off the happy path: a case waiting on someone, in an exception, or cancelled is not going well.
_OFF_HAPPY_PATH = frozenset({StateKind.WAITING, StateKind.EXCEPTION, StateKind.CANCELLED})
# Monitoring thresholds of these metrics are shares, written as 90% and read as 0.9.
_SHARE_METRICS = frozenset({Metric.SLA_ATTAINMENT, Metric.EXCEPTION_RATE, Metric.ERROR_RATE, Metric.REWORK_RATE})


class GatePoint(StrEnum):
    """The ten points of the gate, in the order the seed lists them."""

    TRIGGER = "trigger"
    INPUTS = "inputs"
    OWNER = "owner"
    HAPPY_PATH = "happy_path"
    EXCEPTIONS = "exceptions"
    SUCCESS_METRICS = "success_metrics"
    SYSTEMS_OF_RECORD = "systems_of_record"
    FALLBACK = "fallback"
    MONITORING = "monitoring"
    CHANGE_PROCESS = "change_process"

    @property
    def number(self) -> int:
        return list(GatePoint).index(self) + 1

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    GatePoint.TRIGGER: "Single clear trigger", GatePoint.INPUTS: "Minimum inputs defined",
    GatePoint.OWNER: "Named owner", GatePoint.HAPPY_PATH: "Happy path stable",
    GatePoint.EXCEPTIONS: "Top exceptions named with an owner or queue",
    GatePoint.SUCCESS_METRICS: "Success metrics defined", GatePoint.SYSTEMS_OF_RECORD: "Systems of record identified",
    GatePoint.FALLBACK: "Manual fallback", GatePoint.MONITORING: "Monitoring",
    GatePoint.CHANGE_PROCESS: "Change process",
}


class Verdict(StrEnum):
    READY = "ready"
    NOT_READY = "not ready"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class PointResult(_Frozen):
    """One point of the gate: passed or not, and why, in a sentence an operations lead can act on."""

    number: int = Field(description="1 to 10, in the seed's order")
    point: GatePoint
    title: str
    passed: bool
    reason: str
    from_log: bool = Field(False, description="the log's evidence went into this verdict")


class ReasonCount(_Frozen):
    reason: str
    cases: int
    share: float = Field(description="share of the cases with exceptions")


class LogEvidence(_Frozen):
    """What the as-is map of the workflow's log says about the gate."""

    source: str
    cases: int
    variants: int
    main_variants: int = Field(description="how many of the most frequent variants were counted")
    main_share: float = Field(description="share of cases on those variants")
    stable_share: float = Field(description="the share that counts as stable")
    reasons_recorded: bool = Field(description="the log has a reason column with values")
    covered_reasons: list[str] = Field(description="reasons seen in the log and named in the taxonomy")
    uncovered_reasons: list[ReasonCount] = Field(description="reasons seen in the log, missing from the taxonomy")
    activities: int = Field(0, description="distinct activities in the log")
    matched_activities: int = Field(0, description="of those, how many match a state by title or id")
    matched_share: float = Field(0.0, description="share of the log's steps whose activity matches a state")


class ReadinessReport(_Frozen):
    """The gate's verdict on one workflow definition: ready only when all ten points pass."""

    workflow: str
    title: str
    version: int
    source: str | None = Field(description="the definition file")
    points: list[PointResult]
    evidence: LogEvidence | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdict(self) -> Verdict:
        return Verdict.READY if all(point.passed for point in self.points) else Verdict.NOT_READY

    @property
    def ready(self) -> bool:
        return self.verdict is Verdict.READY

    @property
    def failed(self) -> list[PointResult]:
        return [point for point in self.points if not point.passed]


@dataclass(frozen=True)
class InputFields:
    """How many fields the minimum inputs have, and how many must be filled to start a case."""

    total: int
    required: int
    source: str  # "inline fields", or "contract NAME.vMAJOR"


def input_fields(definition: Definition, *, source: Path | str | None = None) -> InputFields:
    """Count the fields of a definition's minimum inputs, reading its data contract if it names one.

    source: the definition file; a contract is found relative to its folder (else the current one).

    Raises:
        ContractFileError: the contract cannot be read (`check` reports this first).
    """
    if definition.inputs.fields is not None:
        fields = definition.inputs.fields
        return InputFields(len(fields), sum(1 for spec in fields.values() if spec.required), "inline fields")
    from backoffice.definitions.contract_reader import load_contract  # jsonschema costs start-up time; only when needed

    folder = Path(source).parent if source is not None else Path(".")
    contract = load_contract(folder / str(definition.inputs.contract))
    # `lines[]` is the item of an array, not a field of its own.
    fields = [spec for path, spec in contract.paths.items() if not path.endswith("[]")]
    return InputFields(len(fields), sum(1 for spec in fields if spec.required), f"contract {contract.id}")


def happy_path(definition: Definition) -> list[str] | None:
    """Return the shortest run of states from intake to done that never waits, fails or cancels; None if none."""
    start = definition.intake_state
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if definition.states[state].kind is StateKind.DONE:
            path = [state]
            while (before := previous[path[-1]]) is not None:
                path.append(before)
            return path[::-1]
        for transition in definition.allowed_transitions(state):
            target = transition.to
            if target in definition.states and target not in previous \
                    and definition.states[target].kind not in _OFF_HAPPY_PATH:
                previous[target] = state
                queue.append(target)
    return None


def reason_code(text: str) -> str:
    """Fold a reason as logs write it ("Needs info", "needs-info") to the form of a taxonomy code."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def gather_evidence(definition: Definition, evidence: ProcessMap, *, main_variants: int = MAIN_VARIANTS,
                    stable_share: float = STABLE_SHARE) -> LogEvidence:
    """Summarise what a log's as-is map says about the stability of the path and the exception taxonomy."""
    cases = evidence.summary.cases
    main = evidence.variants[:main_variants]
    named = {reason_code(code) for code in definition.exceptions}
    covered: list[str] = []
    uncovered: list[ReasonCount] = []
    recorded = evidence.exceptions is not None and bool(evidence.exceptions.reasons)
    if evidence.exceptions is not None:
        with_exceptions = evidence.exceptions.cases_with_exceptions or 1
        for seen in evidence.exceptions.reasons:
            if reason_code(seen.reason) in named:
                covered.append(seen.reason)
            else:
                uncovered.append(ReasonCount(reason=seen.reason, cases=seen.cases,
                                             share=seen.cases / with_exceptions))
    # Steps per activity, from the variants (which hold every activity; the map may show fewer).
    steps: dict[str, int] = {}
    for variant in evidence.variants:
        for name in variant.activities:
            steps[name] = steps.get(name, 0) + variant.cases
    from backoffice.definitions.conformance import match_activities  # the replay's own matching

    matched, _ = match_activities(definition, steps, {})
    all_steps = sum(steps.values())
    return LogEvidence(source=evidence.summary.source, cases=cases, variants=evidence.summary.variants,
                       main_variants=len(main), main_share=sum(v.cases for v in main) / cases if cases else 0.0,
                       stable_share=stable_share, reasons_recorded=recorded, covered_reasons=covered,
                       uncovered_reasons=uncovered, activities=len(steps), matched_activities=len(matched),
                       matched_share=sum(steps[name] for name in matched) / all_steps if all_steps else 0.0)


def assess_readiness(definition: Definition, *, source: Path | str | None = None,
                     evidence: ProcessMap | None = None, main_variants: int = MAIN_VARIANTS,
                     stable_share: float = STABLE_SHARE) -> ReadinessReport:
    """Judge a definition against the ten-point gate.

    Args:
        definition: a definition that passes `check`.
        source: its file, to find its data contract and to name it in the report.
        evidence: the as-is map of the workflow's event log; with it, the happy path and the
            exception taxonomy are judged against what really happens.
        main_variants, stable_share: the happy path is stable when the `main_variants` most
            frequent variants hold at least `stable_share` of the cases.

    Raises:
        ContractFileError: the data contract cannot be read.
    """
    found = gather_evidence(definition, evidence, main_variants=main_variants, stable_share=stable_share) \
        if evidence is not None else None
    judged = [
        _trigger(definition), _inputs(definition, source), _owner(definition), _happy_path(definition, found),
        _exceptions(definition, found), _success_metrics(definition), _systems_of_record(definition),
        _fallback(definition), _monitoring(definition), _change_process(definition),
    ]
    points = [PointResult(number=point.number, point=point, title=point.title, passed=passed, reason=reason,
                          from_log=from_log)
              for point, (passed, reason, from_log) in zip(GatePoint, judged)]
    return ReadinessReport(workflow=definition.id, title=definition.title, version=definition.version,
                           source=str(source) if source is not None else None, points=points, evidence=found)


def readiness_of_file(path: Path | str, *, evidence: ProcessMap | None = None) -> ReadinessReport:
    """Load a definition file and judge it against the gate.

    Raises:
        DefinitionError: the file fails `check`; every problem is in `problems`.
    """
    return assess_readiness(load_definition(path), source=path, evidence=evidence)


# The points: each returns (passed, reason, whether the log informed it).

Judged = tuple[bool, str, bool]


def _trigger(d: Definition) -> Judged:
    event, system = d.trigger.event.strip(), d.trigger.system.strip()
    if _SEVERAL.search(event):
        return False, f"the trigger {event!r} names several events; expected one event, one workflow each", False
    for what, text in (("event", event), ("system", system)):
        if _VAGUE.search(text):
            return False, f"the trigger's {what} {text!r} is a placeholder; expected a named {what}", False
    if system not in d.systems:
        return False, f"the trigger comes from {system!r}, which is not among the systems ({', '.join(d.systems)})", \
            False
    return True, f"{event} from {system}", False


def _inputs(d: Definition, source: Path | str | None) -> Judged:
    fields = input_fields(d, source=source)
    counted = f"{fields.total} field{'s' if fields.total != 1 else ''}, {fields.required} required, " \
              f"from {fields.source}"
    if fields.total == 0:
        return False, f"no input fields ({fields.source}); expected the minimum data a case needs to start", False
    if fields.required == 0:
        return False, f"{counted}: a case could start with nothing; mark the minimum inputs required", False
    return True, counted, False


def _owner(d: Definition) -> Judged:
    if d.owner.person is not None:
        person = d.people.get(d.owner.person)
        name = person.name if person and person.name else d.owner.person
        return True, f"person {name}", False
    role_id = d.owner.role or ""
    role = d.roles.get(role_id)
    for text in (role_id.replace("-", " ").replace("_", " "), role.title if role and role.title else ""):
        if _GROUP_WORDS.search(text):
            return False, f"the owner, role {role_id!r} ({text}), is a group; expected one accountable role or " \
                          f"person, such as a lead or a manager", False
    return True, f"role {role_id}" + (f" ({role.title})" if role and role.title else ""), False


def _happy_path(d: Definition, found: LogEvidence | None) -> Judged:
    path = happy_path(d)
    if path is None:
        return False, "no path from intake to done that avoids waiting, exception and cancelled states", False
    shown = " → ".join(path)
    if found is None:
        return True, f"{shown} (judged from the definition; give --log to judge it from the evidence)", False
    matched = (f"{found.matched_activities} of the log's {plural(found.activities, 'activity')} match a state "
               f"({found.matched_share:.0%} of its steps)")
    if found.matched_share < MATCHED_SHARE:
        return False, f"{matched}: the log does not read as this workflow's, so its variants say nothing about " \
                      f"this path; give the workflow's own log, or name its states after the log's activities " \
                      f"(definition: {shown})", True
    held = f"the top {found.main_variants} variant{'s hold' if found.main_variants != 1 else ' holds'} " \
           f"{found.main_share:.1%} of {_cases(found.cases)} ({found.variants:,} variants in all)"
    if found.main_share < found.stable_share:
        return False, f"{held}, under the {found.stable_share:.0%} that counts as stable: the work follows no " \
                      f"settled path yet (definition: {shown})", True
    return True, f"{held}, at least {found.stable_share:.0%}; {matched}; definition: {shown}", True


def _exceptions(d: Definition, found: LogEvidence | None) -> Judged:
    if not d.exceptions:
        return False, "no exception reasons named; expected reason codes, each with a resolving role or queue", False
    unresolved = [code for code, reason in d.exceptions.items()
                  if reason.resolver is None or reason.resolver.person is not None]
    if unresolved:
        return False, f"no role or queue resolves {', '.join(unresolved)}", False
    named = ", ".join(f"{code} → {_party(reason.resolver)}" for code, reason in d.exceptions.items())
    if found is None:
        return True, named, False
    if not found.reasons_recorded:
        return True, f"{named} (the log records no reasons to compare)", True
    top = [seen for seen in found.uncovered_reasons if seen.share >= TOP_REASON_SHARE]
    rare = [seen for seen in found.uncovered_reasons if seen.share < TOP_REASON_SHARE]
    if top:
        listed = ", ".join(f"{seen.reason} ({_cases(seen.cases)}, {seen.share:.0%})" for seen in top)
        return False, f"the log shows reasons the taxonomy does not name: {listed}", True
    reason = f"{named}; every top reason in the log is named"
    if rare:
        reason += f" (rare ones not named: {', '.join(f'{seen.reason} ({seen.cases:,})' for seen in rare)})"
    return True, reason, True


def _success_metrics(d: Definition) -> Judged:
    measures = []
    if d.sla and d.sla.first_response:
        measures.append(f"first response within {d.sla.first_response}")
    if d.sla and d.sla.resolution:
        measures.append(f"resolution within {d.sla.resolution}")
    if measures and d.calendar:
        measures[-1] += f" ({d.calendar.name} calendar)"
    metrics = list(dict.fromkeys(e.metric.value for e in d.monitoring if _has_threshold(e)))
    if metrics:
        measures.append(f"metrics watched: {', '.join(metrics)}")
    if not measures:
        return False, "no SLA and no monitored metric; expected sla: {resolution: ...} or monitoring thresholds", False
    return True, "; ".join(measures), False


def _systems_of_record(d: Definition) -> Judged:
    if not d.systems_of_record:
        return False, "no system of record; expected the system that owns each business object", False
    return True, ", ".join(f"{thing} in {system}" for thing, system in d.systems_of_record.items()), False


def _fallback(d: Definition) -> Judged:
    if d.fallback is None:
        return False, "no manual fallback; expected what people do, and in which queue, when automation is down", \
            False
    who = [f"queue {d.fallback.queue}"] if d.fallback.queue else []
    who += [f"owned by {_party(d.fallback.owner)}"] if d.fallback.owner else []
    if not who:
        return False, "the fallback names no queue and no owner: nobody would pick the work up", False
    return True, f"a manual procedure, {', '.join(who)}", False


def _monitoring(d: Definition) -> Judged:
    alerts = [expectation for expectation in d.monitoring if _has_threshold(expectation)]
    if not alerts:
        return False, "no alert with a threshold; expected monitoring: a metric, above or below, and whom it " \
                      "alerts", False
    return True, "; ".join(f"{_expectation(e)} alerts {_party(e.alert)}" for e in alerts), False


def _change_process(d: Definition) -> Judged:
    change = d.change
    tags = ", ".join(change.risk)
    if change.risk and not change.second_approver_required:
        return False, f"changes tagged {tags} need no second approver; expected a second person's approval", False
    if not change.approvers:
        missing = f"changes tagged {tags} need a second approver, but no" if change.risk else "no"
        return False, f"{missing} change approvers are named; expected change: {{approvers: [...]}}", False
    approvers = ", ".join(_party(party) for party in change.approvers)
    return True, f"approved by {approvers}" + (f"; risk tags {tags} need a second person" if change.risk else ""), \
        False


def _cases(count: int) -> str:
    return f"{count:,} case{'' if count == 1 else 's'}"


def _party(party: Party | None) -> str:
    return str(party) if party is not None else "nobody"


def _has_threshold(expectation: Expectation) -> bool:
    return expectation.above is not None or expectation.below is not None


def _expectation(expectation: Expectation) -> str:
    where = f" in {expectation.state}" if expectation.state else ""
    direction, threshold = ("above", expectation.above) if expectation.above is not None \
        else ("below", expectation.below)
    if isinstance(threshold, float) and expectation.metric in _SHARE_METRICS:
        shown = f"{threshold:.0%}"
    else:
        shown = f"{threshold:g}" if isinstance(threshold, float) else str(threshold)
    return f"{expectation.metric.value}{where} {direction} {shown}"
