"""What to automate first: each workflow's impact against its effort, placed on the 2x2.

Impact is what automating would gain: volume (cases a month), cycle time, exception rate,
and compliance weight. Effort is what it would cost: systems to integrate, exception
complexity, data cleanup and change management. Each factor is scored 1 to 5 on a fixed
scale (below), and each score says how it was derived, so a lead can argue with a number
rather than with a verdict. Volume, cycle time and exception rate come from a log's as-is
map; without one they are unknown, and impact rests on the factors that are known.

A side is high at 3 or more. High impact and low effort is a quick win; high and high a
major project; low and low a fill-in; low impact and high effort is best avoided for now.
A workflow that fails the readiness gate is marked "fix foundations first" wherever it lands:
automating it now would automate its ambiguity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from statistics import fmean
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, computed_field

from backoffice.definitions.model import REQUESTER, ControlReason, Definition
from backoffice.definitions.readiness import ReadinessReport, assess_readiness, input_fields

if TYPE_CHECKING:  # the as-is map is only read here: its type serves the annotations
    from backoffice.mapping.model import ProcessMap

HIGH = 3.0
"""A side (impact or effort) at or above this is high."""
DAYS_PER_MONTH = 365.25 / 12

# Upper bounds (exclusive) of scores 1 to 4; at or above the last bound scores 5.
VOLUME_SCALE = (20, 100, 500, 2000)              # cases a month
CYCLE_TIME_SCALE = (1, 3, 7, 21)                 # median days from first to last event
EXCEPTION_RATE_SCALE = (0.05, 0.10, 0.20, 0.35)  # share of cases with an exception
SYSTEMS_SCALE = (2, 3, 4, 6)                     # systems the workflow touches
EXCEPTION_COMPLEXITY_SCALE = (3, 5, 7, 10)       # reasons, plus the ones that send the case back
DATA_CLEANUP_SCALE = (4, 7, 11, 16)              # required input fields
CHANGE_MANAGEMENT_SCALE = (2, 3, 5, 7)           # roles involved
# A control's reason counts as the risk it guards; distinct risks add to the compliance weight.
_CONTROL_RISK = {ControlReason.PAYMENT: "finance", ControlReason.PERMISSIONS: "access",
                 ControlReason.COMPLIANCE: "compliance", ControlReason.FRAUD: "fraud", ControlReason.LEGAL: "legal",
                 ControlReason.LOW_CONFIDENCE: "low-confidence data"}


class Side(StrEnum):
    IMPACT = "impact"
    EFFORT = "effort"


class Quadrant(StrEnum):
    """Where a workflow lands on the impact/effort 2x2, best first."""

    QUICK_WIN = "quick win"
    MAJOR_PROJECT = "major project"
    FILL_IN = "fill-in"
    AVOID = "avoid for now"

    @classmethod
    def of(cls, impact: float, effort: float) -> Quadrant:
        if impact >= HIGH:
            return cls.QUICK_WIN if effort < HIGH else cls.MAJOR_PROJECT
        return cls.FILL_IN if effort < HIGH else cls.AVOID


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Factor(_Frozen):
    """One factor of impact or effort: its score, the figure behind it, and how that was derived."""

    name: str
    side: Side
    score: int | None = Field(description="1 to 5; None when unknown")
    value: float | None = Field(description="the measured figure (cases a month, days, a share, a count)")
    derivation: str


class WorkflowPriority(_Frozen):
    """One workflow's place on the 2x2, with every factor and the readiness verdict."""

    workflow: str
    title: str
    version: int
    source: str | None
    log: str | None = Field(description="the log the evidence came from")
    impact: float = Field(description="mean of the known impact factors, 1 to 5")
    effort: float = Field(description="mean of the effort factors, 1 to 5")
    quadrant: Quadrant
    ready: bool
    readiness_failures: list[str] = Field(description="the gate points failed, each with its reason")
    cases_per_month: float | None
    factors: list[Factor]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fix_foundations_first(self) -> bool:
        return not self.ready

    @property
    def impact_factors(self) -> list[Factor]:
        return [factor for factor in self.factors if factor.side is Side.IMPACT]

    @property
    def effort_factors(self) -> list[Factor]:
        return [factor for factor in self.factors if factor.side is Side.EFFORT]

    @property
    def known_impact_factors(self) -> int:
        return sum(1 for factor in self.impact_factors if factor.score is not None)


class PriorityReport(_Frozen):
    """Every workflow of a portfolio, best candidates first."""

    high: float = Field(HIGH, description="a side at or above this is high")
    workflows: list[WorkflowPriority]

    def in_quadrant(self, quadrant: Quadrant) -> list[WorkflowPriority]:
        return [workflow for workflow in self.workflows if workflow.quadrant is quadrant]


@dataclass(frozen=True)
class PortfolioItem:
    """A workflow to score: its definition, its file, and the as-is map of its log when there is one."""

    definition: Definition
    source: Path | str | None = None
    evidence: ProcessMap | None = None


def score(value: float, scale: Sequence[float]) -> int:
    """Return 1 to 5: one more than the number of bounds of `scale` that `value` reaches."""
    return 1 + sum(1 for bound in scale if value >= bound)


def score_workflow(definition: Definition, *, source: Path | str | None = None, evidence: ProcessMap | None = None,
                   readiness: ReadinessReport | None = None) -> WorkflowPriority:
    """Score one workflow's impact and effort, and place it on the 2x2.

    Args:
        definition: a definition that passes `check`.
        source: its file (to read its data contract).
        evidence: the as-is map of its log: volume, cycle time and exception rate come from it.
        readiness: its gate report; judged here (with the same evidence) when not given.
    """
    readiness = readiness or assess_readiness(definition, source=source, evidence=evidence)
    per_month = _cases_per_month(evidence) if evidence is not None else None
    factors = [_volume(evidence, per_month), _cycle_time(evidence), _exception_rate(evidence),
               _compliance(definition), _systems(definition), _exception_complexity(definition),
               _data_cleanup(definition, source), _change_management(definition)]
    impact = fmean(f.score for f in factors if f.side is Side.IMPACT and f.score is not None)
    effort = fmean(f.score for f in factors if f.side is Side.EFFORT and f.score is not None)
    return WorkflowPriority(
        workflow=definition.id, title=definition.title, version=definition.version,
        source=str(source) if source is not None else None,
        log=evidence.summary.source if evidence is not None else None, impact=round(impact, 2),
        effort=round(effort, 2), quadrant=Quadrant.of(impact, effort), ready=readiness.ready,
        readiness_failures=[f"{point.number}. {point.title}: {point.reason}" for point in readiness.failed],
        cases_per_month=per_month, factors=factors)


def prioritize(items: Iterable[PortfolioItem]) -> PriorityReport:
    """Score every workflow and rank them: by quadrant (quick wins first), ready before not, then impact and effort."""
    scored = [score_workflow(item.definition, source=item.source, evidence=item.evidence) for item in items]
    order = list(Quadrant)
    scored.sort(key=lambda w: (order.index(w.quadrant), not w.ready, -w.impact, w.effort, w.workflow, w.version))
    return PriorityReport(workflows=scored)


# Impact

def _cases_per_month(evidence: ProcessMap) -> float:
    summary = evidence.summary
    span_days = ((summary.last_event - summary.first_event).total_seconds() / 86400
                 if summary.first_event and summary.last_event else 0.0)
    # A log of one day still says something about volume; a shorter span would inflate it.
    return summary.cases / max(span_days, 1.0) * DAYS_PER_MONTH


def _volume(evidence: ProcessMap | None, per_month: float | None) -> Factor:
    if evidence is None or per_month is None:
        return Factor(name="volume", side=Side.IMPACT, score=None, value=None,
                      derivation="unknown: no log (attach one with --log ID=LOG)")
    summary = evidence.summary
    span = ((summary.last_event - summary.first_event).total_seconds() / 86400
            if summary.first_event and summary.last_event else 0.0)
    over = f"{span / DAYS_PER_MONTH:.1f} months" if span >= DAYS_PER_MONTH else f"{max(span, 1.0):.0f} days"
    return Factor(name="volume", side=Side.IMPACT, score=score(per_month, VOLUME_SCALE), value=round(per_month, 1),
                  derivation=f"{per_month:,.0f} cases a month ({summary.cases:,} cases over {over} of log)")


def _cycle_time(evidence: ProcessMap | None) -> Factor:
    if evidence is None or not evidence.cycle_time.stats.count:
        return Factor(name="cycle time", side=Side.IMPACT, score=None, value=None,
                      derivation="unknown: no log" if evidence is None else "unknown: no case with two events")
    stats = evidence.cycle_time.stats
    days = stats.median / 86400
    return Factor(name="cycle time", side=Side.IMPACT, score=score(days, CYCLE_TIME_SCALE), value=round(days, 2),
                  derivation=f"median {days:.1f} days from first to last event (p90 {stats.p90 / 86400:.1f} days)")


def _exception_rate(evidence: ProcessMap | None) -> Factor:
    if evidence is None or not evidence.summary.cases:
        return Factor(name="exception rate", side=Side.IMPACT, score=None, value=None, derivation="unknown: no log")
    cases = evidence.summary.cases
    if evidence.exceptions is not None:
        rate = evidence.exceptions.cases_with_exceptions / cases
        how = f"{rate:.1%} of cases carry an exception reason ({evidence.exceptions.cases_with_exceptions:,} " \
              f"of {cases:,})"
    else:
        # Without a reason column, a repeated step is the trace an exception leaves.
        rate = evidence.rework.share_of_cases
        how = f"{rate:.1%} of cases repeat a step (the log has no reason column: rework stands in)"
    return Factor(name="exception rate", side=Side.IMPACT, score=score(rate, EXCEPTION_RATE_SCALE),
                  value=round(rate, 4), derivation=how)


def _compliance(d: Definition) -> Factor:
    risks = list(dict.fromkeys([tag.value for tag in d.change.risk] + [_CONTROL_RISK[c.reason] for c in d.controls]))
    if not risks:
        return Factor(name="compliance weight", side=Side.IMPACT, score=1, value=0,
                      derivation="no risk tag and no control")
    sources = [f"change risk tags {', '.join(d.change.risk)}"] if d.change.risk else []
    if d.controls:
        sources.append(f"{len(d.controls)} control{'s' if len(d.controls) != 1 else ''} "
                       f"({', '.join(dict.fromkeys(c.reason.value for c in d.controls))})")
    return Factor(name="compliance weight", side=Side.IMPACT, score=min(5, 1 + len(risks)), value=len(risks),
                  derivation=f"{len(risks)} risk{'s' if len(risks) != 1 else ''} ({', '.join(risks)}) from "
                             f"{' and '.join(sources)}")


# Effort

def _systems(d: Definition) -> Factor:
    count = len(d.systems)
    return Factor(name="systems to integrate", side=Side.EFFORT, score=score(count, SYSTEMS_SCALE), value=count,
                  derivation=f"{count} system{'s' if count != 1 else ''}: {', '.join(d.systems)}")


def _exception_complexity(d: Definition) -> Factor:
    reasons = len(d.exceptions)
    returning = sum(1 for reason in d.exceptions.values() if reason.returns_to)
    steps = len(d.automated_steps)
    # A reason that sends the case back is a loop the automation must handle, so it counts twice.
    return Factor(name="exception complexity", side=Side.EFFORT,
                  score=score(reasons + returning, EXCEPTION_COMPLEXITY_SCALE), value=reasons + returning,
                  derivation=f"{reasons} exception reason{'s' if reasons != 1 else ''}, {returning} sending the "
                             f"case back" + (f"; {steps} automated step{'s' if steps != 1 else ''}" if steps else ""))


def _data_cleanup(d: Definition, source: Path | str | None) -> Factor:
    fields = input_fields(d, source=source)
    return Factor(name="data cleanup", side=Side.EFFORT, score=score(fields.required, DATA_CLEANUP_SCALE),
                  value=fields.required,
                  derivation=f"{fields.required} required of {fields.total} input fields, from {fields.source}")


def _change_management(d: Definition) -> Factor:
    roles = list(d.roles)
    uses_requester = any(state.role == REQUESTER for state in d.states.values()) or \
        any(REQUESTER in t.roles for t in d.transitions) or \
        any(r.resolver is not None and r.resolver.role == REQUESTER for r in d.exceptions.values())
    if uses_requester and REQUESTER not in roles:
        roles.append(REQUESTER)
    return Factor(name="change management", side=Side.EFFORT, score=score(len(roles), CHANGE_MANAGEMENT_SCALE),
                  value=len(roles), derivation=f"{len(roles)} role{'s' if len(roles) != 1 else ''} involved: "
                                               f"{', '.join(roles)}")
