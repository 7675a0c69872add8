"""The workflow definition: one reviewable, executable declaration of how a workflow runs.

Every part an operations lead must decide is a field of its own (never free text): the
trigger, the inputs, the owner, SLAs on a business calendar, the state machine, routing,
approvals, exceptions, controls, timers, automated steps, fallback, monitoring and change
rules. Models are frozen and refuse unknown fields. This module checks each part on its own;
how the parts refer to each other (a transition to an undefined state, a timer with no
target) is checked in `checks.py`, so that one run reports every problem of a file.

library/service-request.yaml is a complete example of the YAML these models read.
"""

from __future__ import annotations

import functools

import re
from collections.abc import Iterator
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, PrivateAttr, WithJsonSchema
from pydantic import field_validator, model_validator

from backoffice.definitions.calendar import BusinessCalendar, Duration as DurationValue, TimeRange, Weekday
from backoffice.definitions.calendar import check_holiday_region
from backoffice.definitions.expressions import Expression
from backoffice.errors import UnknownState

REQUESTER = "requester"
"""The built-in role of whoever asked for the work: a resolver, target or approver may name it."""

BRANCH_CANCELLED = "branch-cancelled"
"""The reason on the move that cancels a branch (back to its parallel state, from wherever it was):
the engine writes it when a join or the case's end closes the branch, and conformance reads it."""


class StateKind(StrEnum):
    """What happens in a state, and so who or what moves the case on."""

    INTAKE = "intake"
    AUTOMATED = "automated"
    HUMAN_TASK = "human_task"
    REVIEW = "review"
    APPROVAL = "approval"
    WAITING = "waiting"
    EXCEPTION = "exception"
    PARALLEL = "parallel"
    CHECKLIST = "checklist"
    SUBCASE = "subcase"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_end(self) -> bool:
        return self in (StateKind.DONE, StateKind.CANCELLED)

    @property
    def is_human(self) -> bool:
        """A person decides here: the kinds a control (human-in-the-loop checkpoint) may sit on."""
        return self in (StateKind.HUMAN_TASK, StateKind.REVIEW, StateKind.APPROVAL)

    @property
    def opens_branches(self) -> bool:
        """The case waits here for work running beside it: branches that join, a checklist, or a sub-case."""
        return self in (StateKind.PARALLEL, StateKind.CHECKLIST, StateKind.SUBCASE)


class DefinitionStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    OBJECT = "object"
    ARRAY = "array"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ControlReason(StrEnum):
    """Why a step must be done or checked by a person."""

    PAYMENT = "payment"
    PERMISSIONS = "permissions"
    COMPLIANCE = "compliance"
    LOW_CONFIDENCE = "low_confidence"
    FRAUD = "fraud"
    LEGAL = "legal"


class TimerKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"


class SlaClock(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class Metric(StrEnum):
    SLA_ATTAINMENT = "sla_attainment"
    TIME_IN_STATE = "time_in_state"
    BACKLOG = "backlog"
    EXCEPTION_RATE = "exception_rate"
    ERROR_RATE = "error_rate"
    THROUGHPUT = "throughput"
    REWORK_RATE = "rework_rate"


class RiskTag(StrEnum):
    FINANCE = "finance"
    ACCESS = "access"
    COMPLIANCE = "compliance"


def _text_type(parse: Any, description: str) -> Any:
    """A type read from one YAML scalar by `parse`, written back as its text."""
    return Annotated[Any, BeforeValidator(parse), PlainSerializer(str, return_type=str),
                     WithJsonSchema({"type": "string", "description": description})]


def _parse_percent(value: Any) -> float:
    """Read 50% (or 50) as the fraction 0.5."""
    text = str(value).strip().removesuffix("%") if isinstance(value, (str, int, float)) else ""
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a percentage; expected a share such as 50%, 75% or 100%") from None
    if number <= 0 or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a positive percentage; expected a share such as 50%, 75% or 100%")
    return number / 100


def _parse_quorum(value: Any) -> Any:
    if value in ("any", "all") or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ValueError(f"{value!r} is not a quorum; expected any, all, or a number of approvers such as 2")


def _parse_join(value: Any) -> Any:
    if value in ("all", "first") or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ValueError(f"{value!r} is not a join; expected all (every required branch), first (the first branch "
                     f"done, the others cancelled) or a number of branches such as 2")


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Duration = _text_type(lambda v: v if isinstance(v, DurationValue) else DurationValue.parse(v),
                      "a duration such as 4h, 3d, 1d12h, 90m or 2w")
WorkingHours = Annotated[list[_text_type(lambda v: v if isinstance(v, TimeRange) else TimeRange.parse(v),
                                         "a time range such as 09:00-17:00")], BeforeValidator(_one_or_many)]
Percent = Annotated[float, BeforeValidator(_parse_percent), PlainSerializer(lambda v: f"{v * 100:g}%", return_type=str),
                    WithJsonSchema({"type": "string", "description": "a share such as 75%"})]
Quorum = Annotated[Literal["any", "all"] | int, BeforeValidator(_parse_quorum),
                   WithJsonSchema({"description": "any, all, or a number of approvers"})]
StateList = Annotated[list[str], BeforeValidator(_one_or_many)]
Join = Annotated[Literal["all", "first"] | int, BeforeValidator(_parse_join),
                 WithJsonSchema({"description": "all, first, or a number of branches (N of M)"})]
_VAGUE_OWNER = re.compile(r"^((the\s+)?([\w-]+\s+)*team|everyone|everybody|anyone|all|nobody|tbd|n/?a|-+)$", re.I)
_SLUG = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


class Spec(BaseModel):
    """A part of a definition: frozen, and refusing fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Party(Spec):
    """Who: a role, a queue or a named person (one of them)."""

    role: str | None = Field(None, description="a role of the definition's roles, or requester")
    queue: str | None = Field(None, description="a queue of a role or of queues")
    person: str | None = Field(None, description="a person of the definition's people")

    @model_validator(mode="after")
    def _exactly_one(self) -> Party:
        if sum(value is not None for value in (self.role, self.queue, self.person)) != 1:
            raise ValueError("names none or several parties; expected exactly one of role, queue or person")
        return self

    @property
    def kind(self) -> str:
        return "role" if self.role is not None else "queue" if self.queue is not None else "person"

    @property
    def name(self) -> str:
        return self.role or self.queue or self.person or ""

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class Owner(Spec):
    """The one accountable owner: a role or a person, never a group."""

    role: str | None = Field(None, description="the accountable role, such as service-desk-lead")
    person: str | None = Field(None, description="the accountable person, named in people")

    @field_validator("role", "person")
    @classmethod
    def _not_a_group(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or _VAGUE_OWNER.match(value.strip())):
            raise ValueError(f"{value!r} is nobody in particular; expected one accountable role or person, "
                             f"such as service-desk-lead")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Owner:
        if (self.role is None) == (self.person is None):
            raise ValueError("an owner is one role or one person; expected exactly one of role or person")
        return self


class Trigger(Spec):
    event: str = Field(min_length=1, description="the event that starts the work, such as request.submitted")
    system: str = Field(min_length=1, description="the system the event comes from, one of systems")


class Scope(Spec):
    starts: list[str] = Field(min_length=1, description="what starts this workflow")
    does_not_start: list[str] = Field(default_factory=list, description="what looks alike but is handled elsewhere")


class InputField(Spec):
    type: FieldType = Field(description="string, integer, number, boolean, date, datetime, object or array")
    required: bool = True
    description: str | None = None


class Inputs(Spec):
    """The minimum inputs: a data contract file, or a few fields written inline."""

    contract: str | None = Field(None, description="a data contract file, relative to the definition")
    fields: dict[str, InputField] | None = Field(None, description="field name -> type, for a few inline fields")
    immutable_after_intake: list[str] = Field(
        default_factory=list, description="data fields no move may change once the case is started, such as "
                                          "[amount, currency]: the values the request was submitted and routed with")

    @model_validator(mode="before")
    @classmethod
    def _short_fields(cls, value: Any) -> Any:
        # `amount: number` is shorthand for `amount: {type: number}`.
        if isinstance(value, dict) and isinstance(value.get("fields"), dict):
            value = dict(value, fields={name: {"type": spec} if isinstance(spec, str) else spec
                                        for name, spec in value["fields"].items()})
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Inputs:
        if (self.contract is None) == (self.fields is None):
            raise ValueError("inputs need one source; expected either contract: FILE or fields: {name: type}")
        return self


class Role(Spec):
    """A swimlane: the people who do one kind of work, and the queue their work waits in."""

    title: str | None = None
    queue: str | None = Field(None, description="the work queue of this role")
    description: str | None = None


class Person(Spec):
    name: str | None = None
    email: str | None = None
    roles: list[str] = Field(default_factory=list)


class Queue(Spec):
    """A work queue that no role owns by `queue:` (an exception queue, a shared inbox)."""

    role: str | None = Field(None, description="the role that works the queue")
    description: str | None = None


class HolidayRegion(Spec):
    country: str = Field(description="an ISO 3166 country code, such as NL")
    subdivision: str | None = Field(None, description="a state or province code, such as BY")
    extra: list[date] = Field(default_factory=list, description="extra closure dates, such as 2024-12-24")

    @model_validator(mode="after")
    def _known_region(self) -> HolidayRegion:
        check_holiday_region(self.country, self.subdivision)
        return self


class CalendarSpec(Spec):
    """The business calendar that SLAs and timers count on."""

    name: str = "default"
    timezone: str = Field(description="an IANA zone name, such as Europe/Amsterdam")
    working_hours: WorkingHours = Field(description="such as 09:00-17:00, or a list of ranges")
    working_days: list[Weekday] = Field(default_factory=lambda: [Weekday(d) for d in ("mon", "tue", "wed", "thu",
                                                                                      "fri")])
    holidays: HolidayRegion | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        BusinessCalendar(timezone=value)
        return value

    def business_calendar(self) -> BusinessCalendar:
        """Return the calendar that counts business time."""
        holidays = self.holidays
        return BusinessCalendar(timezone=self.timezone, working_hours=self.working_hours,
                                working_days=self.working_days, country=holidays.country if holidays else None,
                                subdivision=holidays.subdivision if holidays else None,
                                extra_holidays=holidays.extra if holidays else ())


class Sla(Spec):
    first_response: Duration | None = Field(None, description="business time to the first response, such as 4h")
    resolution: Duration | None = Field(None, description="business time to resolution, such as 3d")
    pause_in: StateList = Field(default_factory=list, description="states that stop the clock")


class ProofOfCompletion(Spec):
    """What proves the work is done: a field of the data, or a record in a system."""

    field: str | None = Field(None, description="a field of the data")
    record: str | None = Field(None, description="a record, such as a closed ticket")
    system: str | None = Field(None, description="the system that holds the record")
    condition: Expression | None = Field(None, description="a CEL condition that must hold at the end")

    @model_validator(mode="after")
    def _field_or_record(self) -> ProofOfCompletion:
        if self.field is None and self.record is None:
            raise ValueError("names no proof; expected field: NAME or record: TEXT")
        return self


class Branch(Spec):
    """One line of parallel work: the state it starts in, whether the join waits for it, its own SLA.

    The branch runs from `start` through its own states (each with its tasks, queue, role,
    timers and exceptions) and ends by a transition back to the parallel state that opened it.
    """

    start: str = Field(description="the state the branch starts in")
    required: bool = Field(True, description="the join (all) waits for it; an optional branch still open at the "
                                             "join is cancelled")
    sla: Duration | None = Field(None, description="business time the branch's tasks are due in, from its start")

    @model_validator(mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        # `it: create-account` is shorthand for `it: {start: create-account}`.
        return {"start": value} if isinstance(value, str) else value


class State(Spec):
    kind: StateKind = Field(description="intake, automated, human_task, review, approval, waiting, exception, "
                                        "parallel, checklist, subcase, done or cancelled")
    title: str | None = None
    role: str | None = Field(None, description="the role that works the case here")
    queue: str | None = Field(None, description="the queue, when not the role's own")
    description: str | None = None
    branches: dict[str, Branch] | None = Field(None, description="parallel: branch name -> the state it starts "
                                                                 "in, or {start, required, sla}")
    join: Join | None = Field(None, description="parallel: all (default), first, or a number of branches")
    items: list[str] | None = Field(None, description="checklist: the human states done in any order")
    required: list[str] | None = Field(None, description="checklist: the items the state waits for (default: all)")
    workflow: str | None = Field(None, description="subcase: the workflow whose case this step starts")
    pass_data: dict[str, str] | None = Field(None, alias="pass", description="subcase: sub-case field -> this "
                                                                            "case's field, copied at its start")
    returns: dict[str, str] | None = Field(None, description="subcase: this case's field -> the sub-case's field, "
                                                             "copied back when it ends")
    outcome: str | None = Field(None, description="subcase: the data field that receives the sub-case's end state")

    @model_validator(mode="after")
    def _parts_of_its_kind(self) -> State:
        parts = {"branches": StateKind.PARALLEL, "join": StateKind.PARALLEL, "items": StateKind.CHECKLIST,
                 "required": StateKind.CHECKLIST, "workflow": StateKind.SUBCASE, "pass_data": StateKind.SUBCASE,
                 "returns": StateKind.SUBCASE, "outcome": StateKind.SUBCASE}
        for name, kind in parts.items():
            if getattr(self, name) is not None and self.kind is not kind:
                shown = "pass" if name == "pass_data" else name
                raise ValueError(f"{shown} belongs to a {kind} state, not a {self.kind} one")
        if self.kind is StateKind.PARALLEL and not self.branches:
            raise ValueError("a parallel state opens no branches; expected branches: {name: first-state, ...}")
        if self.kind is StateKind.CHECKLIST and not self.items:
            raise ValueError("a checklist has no items; expected items: [a human state, ...]")
        if self.kind is StateKind.SUBCASE and not self.workflow:
            raise ValueError("a subcase step names no workflow; expected workflow: the workflow it starts")
        return self

    def branch_specs(self) -> dict[str, Branch]:
        """Return the branches the state opens: its own, a checklist's items (one branch each), or none."""
        if self.kind is StateKind.PARALLEL:
            return dict(self.branches or {})
        if self.kind is StateKind.CHECKLIST:
            required = set(self.items or ()) if self.required is None else set(self.required)
            return {item: Branch(start=item, required=item in required) for item in self.items or ()}
        return {}

    def branches_needed(self) -> int | None:
        """Return how many branches finish the join: None means every required one (all, and checklists)."""
        if self.kind is StateKind.PARALLEL and self.join == "first":
            return 1
        if self.kind is StateKind.PARALLEL and isinstance(self.join, int):
            return self.join
        return None


class Transition(Spec):
    """A move the state machine allows, with its guard, required fields and allowed roles."""

    from_: StateList = Field(alias="from", min_length=1, description="the state (or states) it leaves")
    to: str = Field(description="the state it enters")
    name: str | None = Field(None, description="the action's name, such as start work")
    guard: Expression | None = Field(None, description="a CEL condition that must hold")
    requires: list[str] = Field(default_factory=list, description="data fields that must be filled")
    roles: list[str] = Field(default_factory=list, description="roles that may take it (empty: the state's role)")

    @property
    def label(self) -> str:
        return self.name or f"{'/'.join(self.from_)} -> {self.to}"


class RoutingRule(Spec):
    """Where new or moved work goes: separate from what the work is."""

    name: str | None = None
    when: Expression | None = Field(None, description="a CEL condition; none means always")
    states: StateList = Field(default_factory=list, description="states the rule routes (empty: intake)")
    queue: str | None = None
    owner: Party | None = None
    priority: Priority | None = None

    @model_validator(mode="after")
    def _decides_something(self) -> RoutingRule:
        if self.queue is None and self.owner is None and self.priority is None:
            raise ValueError("routes nowhere; expected at least one of queue, owner or priority")
        return self


class Evidence(Spec):
    documents: list[str] = Field(default_factory=list, description="documents an approver must see")
    fields: list[str] = Field(default_factory=list, description="data fields an approver must see")


class SeparationOfDuties(Spec):
    requester: bool = Field(False, description="the requester may never approve")
    actors_of: StateList = Field(default_factory=list, description="whoever acted in these states may never approve")


class ApprovalTimeout(Spec):
    after: Duration = Field(description="business time before the approval moves on, such as 2d")
    to: Party = Field(description="the secondary approver")


class Approval(Spec):
    state: str = Field(description="the approval state")
    approvers: list[Party] = Field(min_length=1, description="roles or persons; each entry is one vote")
    quorum: Quorum = Field("any", description="any, all, or how many of the approvers")
    evidence: Evidence | None = None
    separation_of_duties: SeparationOfDuties | None = None
    delegation: bool = Field(False, description="an approver may delegate")
    timeout: ApprovalTimeout | None = None

    def votes_needed(self) -> int:
        """Return how many approvals decide: 1 for any, all approvers for all, else the number."""
        return 1 if self.quorum == "any" else len(self.approvers) if self.quorum == "all" else int(self.quorum)


class ExceptionReason(Spec):
    """A reason code: who resolves it, and where the case goes after."""

    description: str | None = None
    resolver: Party | None = Field(None, description="the role or queue that resolves it")
    state: str | None = Field(None, description="the state the case waits in while it is open")
    raised_in: StateList = Field(default_factory=list, description="states it may be raised in (empty: any)")
    returns_to: str | None = Field(None, description="the state the case returns to once resolved")
    ends: bool | str = Field(False, description="true (the cancelled state) or an end state: the case ends")

    @model_validator(mode="after")
    def _returns_or_ends(self) -> ExceptionReason:
        if (self.returns_to is None) == (self.ends is False):
            raise ValueError("says neither or both of where the case goes; expected returns_to: STATE or ends: true")
        return self


class Control(Spec):
    """A human-in-the-loop checkpoint: this step goes to a person, for this reason."""

    state: str
    reason: ControlReason = Field(description="payment, permissions, compliance, low_confidence, fraud or legal")
    when: Expression | None = Field(None, description="a CEL condition; none means always")
    description: str | None = None


class Timer(Spec):
    """A reminder or escalation: at a share of an SLA, or after a time in a state."""

    name: str | None = None
    kind: TimerKind = Field(description="reminder or escalation")
    sla: SlaClock | None = Field(None, description="first_response or resolution, with at")
    at: Percent | None = Field(None, description="a share of the SLA, such as 75%")
    after: Duration | None = Field(None, description="a business time, such as 2d")
    state: str | None = Field(None, description="with after: the time counts in this state")
    target: Party | None = Field(None, description="who is reminded or escalated to")

    @model_validator(mode="after")
    def _when(self) -> Timer:
        by_sla, by_time = self.sla is not None or self.at is not None, self.after is not None
        if by_sla == by_time or (by_sla and (self.sla is None or self.at is None)):
            raise ValueError("says no single moment; expected sla: and at: (such as at: 75%), or after:")
        return self


class RetryPolicy(Spec):
    """How an automated step retries: wall-clock backoff that grows by factor, up to max."""

    attempts: int = Field(3, ge=1, description="attempts in all, the first included")
    backoff: Duration = Field(DurationValue.parse("1m"), description="wait before the second attempt")
    factor: float = Field(2.0, ge=1.0, description="each wait is this times the previous")
    max: Duration | None = Field(None, description="the longest wait")

    def delay(self, attempt: int) -> float:
        """Return the seconds to wait after the given failed attempt (1-based)."""
        seconds = self.backoff.seconds * self.factor ** (attempt - 1)
        return min(seconds, self.max.seconds) if self.max else seconds


class AutomatedStep(Spec):
    state: str = Field(description="the automated state that runs the action")
    action: str = Field(min_length=1, description="the registered action's name, such as create_account")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout: Duration | None = None
    on_exhausted: str | None = Field(None, description="the state the case goes to when retries run out")
    in_doubt_role: str | None = Field(None, description="the role that checks, in the other system, whether an "
                                                        "attempt whose outcome is unknown happened (default: the "
                                                        "fallback's queue role, else its owner's, else operator)")


class DuplicateRule(Spec):
    """Two intakes with the same values of these fields are one piece of work: the later one is a duplicate.

    A new case that matches an earlier one is started straight in the exception `reason` (its
    state, its resolver), never as a second piece of ordinary work: the same supplier and
    invoice number paid twice is the commonest double payment.
    """

    fields: list[str] = Field(min_length=1, description="data fields that together say 'the same', such as "
                                                        "[supplier_id, invoice_number]")
    reason: str = Field(description="the exception reason a duplicate is raised as, one of exceptions")
    within: Duration | None = Field(None, description="only earlier cases started this long ago at most, "
                                                      "in calendar time, such as 365d (default: any)")


class Fallback(Spec):
    procedure: str = Field(min_length=1, description="what people do when automation is down")
    queue: str | None = None
    owner: Party | None = None


class PublicIntake(Spec):
    """An opt-in: people outside the company may start cases through a public form, with no account.

    Who starts such a case still comes from the directory, never from the form: the service
    account named here is the requester of record of every case the public form starts (an
    administrator adds it; deactivating it closes the form). The outsider's contact details are
    data of the case, in `contact_field`.
    """

    service_account: str = Field(pattern=_SLUG, description="the directory's service account that starts these "
                                                           "cases, such as service-request-public-intake")
    contact_field: str = Field(min_length=1, description="the data field holding the outsider's email, such as "
                                                         "requester_email")
    per_address_per_hour: int = Field(5, ge=1, le=1000, description="cases one client address may start an hour")
    daily_cap: int = Field(200, ge=1, le=100_000, description="cases the public form starts a day, in all")
    # The fields staff fill later (a resolution note, a priority) are not the outsider's to set.
    fields: list[str] | None = Field(None, description="the input fields the public form offers, such as [summary, "
                                                       "requester_email]; every required field among them; "
                                                       "absent: every input field")


class Expectation(Spec):
    """A monitoring expectation: a metric, its threshold, and whom it alerts."""

    metric: Metric
    state: str | None = None
    above: float | Duration | None = None
    below: float | Duration | None = None
    window: Duration | None = None
    alert: Party

    @field_validator("above", "below", mode="before")
    @classmethod
    def _threshold(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().endswith("%"):
            return _parse_percent(value)
        return value


class Change(Spec):
    risk: list[RiskTag] = Field(default_factory=list, description="finance, access or compliance")
    needs_second_approver: bool | None = Field(None, description="default: true when there is a risk tag")
    approvers: list[Party] = Field(default_factory=list)

    @property
    def second_approver_required(self) -> bool:
        return bool(self.risk) if self.needs_second_approver is None else self.needs_second_approver


class Definition(Spec):
    """One workflow, one version: everything needed to review it and to run it."""

    id: str = Field(pattern=_SLUG, description="lowercase words joined by dashes, such as service-request")
    title: str = Field(min_length=1)
    version: int = Field(ge=1, description="a whole number, raised on each change")
    status: DefinitionStatus = DefinitionStatus.ACTIVE
    purpose: str = Field(min_length=1, description="a paragraph saying why the workflow exists")
    owner: Owner = Field(description="the one accountable role or person: {role: ...} or {person: ...}")
    trigger: Trigger = Field(description="{event: ..., system: ...}, what starts the work and where from")
    scope: Scope = Field(description="{starts: [...], does_not_start: [...]}")
    inputs: Inputs = Field(description="{contract: FILE} or {fields: {name: type}}, the minimum inputs")
    systems: list[str] = Field(min_length=1, description="the systems the workflow touches")
    systems_of_record: dict[str, str] = Field(description="business object -> the system that owns it")
    roles: dict[str, Role] = Field(description="role id -> {queue: ...}")
    people: dict[str, Person] = Field(default_factory=dict)
    queues: dict[str, Queue] = Field(default_factory=dict)
    calendar: CalendarSpec | None = None
    sla: Sla | None = None
    proof_of_completion: ProofOfCompletion = Field(description="{field: NAME} or {record: ..., system: ...}")
    states: dict[str, State] = Field(min_length=1, description="state id -> {kind: ..., role: ...}")
    transitions: list[Transition] = Field(min_length=1, description="a list of {from: ..., to: ..., guard: ...}")
    routing: list[RoutingRule] = Field(default_factory=list)
    approvals: list[Approval] = Field(default_factory=list)
    exceptions: dict[str, ExceptionReason] = Field(default_factory=dict, description="reason code -> resolver")
    controls: list[Control] = Field(default_factory=list)
    timers: list[Timer] = Field(default_factory=list)
    automated_steps: list[AutomatedStep] = Field(default_factory=list)
    duplicates: DuplicateRule | None = Field(None, description="{fields: [...], reason: CODE}: the same work "
                                                               "started twice goes to an exception")
    fallback: Fallback | None = None
    monitoring: list[Expectation] = Field(default_factory=list)
    change: Change = Field(default_factory=Change)
    public_intake: PublicIntake | None = Field(None, description="{service_account: ..., contact_field: ...}: "
                                                                 "a public form for people outside the company")

    _outgoing: dict[str, tuple[Transition, ...]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:
        outgoing: dict[str, list[Transition]] = {state: [] for state in self.states}
        for transition in self.transitions:
            for source in transition.from_:
                outgoing.setdefault(source, []).append(transition)
        for checklist, state in self.states.items():
            # A checklist item's one way on is to be done: its task completed ends the item's branch.
            for item in state.items or () if state.kind is StateKind.CHECKLIST else ():
                if not any(t.to == checklist for t in outgoing.get(item, ())):
                    outgoing.setdefault(item, []).append(Transition(**{"from": [item], "to": checklist,
                                                                       "name": "done"}))
        self._outgoing = {state: tuple(moves) for state, moves in outgoing.items()}

    def state(self, state_id: str) -> State:
        """Return a state by id.

        Raises:
            UnknownState: the definition has no such state.
        """
        try:
            return self.states[state_id]
        except KeyError:
            raise UnknownState(self.id, state_id, list(self.states)) from None

    @property
    def intake_state(self) -> str:
        """The id of the state every case starts in."""
        return next(sid for sid, state in self.states.items() if state.kind is StateKind.INTAKE)

    @property
    def end_states(self) -> tuple[str, ...]:
        return tuple(sid for sid, state in self.states.items() if state.kind.is_end)

    def allowed_transitions(self, state_id: str) -> tuple[Transition, ...]:
        """Return the transitions out of a state, in the order written."""
        self.state(state_id)
        return self._outgoing.get(state_id, ())

    def queue_of(self, state_id: str) -> str | None:
        """Return the queue work waits in at a state: its own, else its role's."""
        state = self.state(state_id)
        if state.queue:
            return state.queue
        role = self.roles.get(state.role or "")
        return role.queue if role else None

    def branch_of(self, parallel: str, branch: str) -> Branch | None:
        """Return a branch a parallel (or checklist) state opens, or None."""
        state = self.states.get(parallel)
        return state.branch_specs().get(branch) if state is not None else None

    def approval(self, state_id: str) -> Approval | None:
        return next((approval for approval in self.approvals if approval.state == state_id), None)

    def automated_step(self, state_id: str) -> AutomatedStep | None:
        return next((step for step in self.automated_steps if step.state == state_id), None)

    def controls_at(self, state_id: str) -> tuple[Control, ...]:
        return tuple(control for control in self.controls if control.state == state_id)

    def pauses_sla(self, state_id: str) -> bool:
        return self.sla is not None and state_id in self.sla.pause_in

    def business_calendar(self) -> BusinessCalendar:
        """Return the calendar SLAs count on (all days 09:00-17:00 UTC, Monday to Friday, when none is set)."""
        # Built once per calendar: its holiday tables cost more than the business time they count.
        # Cached by the calendar's settings, not on the model, so equal definitions stay equal.
        return _calendar_of(self.calendar.model_dump_json() if self.calendar else "")

    def sla_due(self, start: datetime, clock: SlaClock | str = SlaClock.RESOLUTION) -> datetime | None:
        """Return when an SLA falls due for a case started at `start`, ignoring pauses; None without that SLA."""
        duration = getattr(self.sla, SlaClock(clock).value, None) if self.sla else None
        return self.business_calendar().due(start, duration) if duration else None

    def expressions(self) -> Iterator[tuple[tuple[str | int, ...], Expression]]:
        """Yield every CEL expression with its path in the file, such as ("transitions", 2, "guard")."""
        yield from _expressions(self, ())


@functools.lru_cache(maxsize=256)
def _calendar_of(settings: str) -> BusinessCalendar:
    """Return the business calendar of a calendar's settings (as JSON; empty: the default calendar)."""
    return CalendarSpec.model_validate_json(settings).business_calendar() if settings else BusinessCalendar()


def _expressions(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Expression]]:
    if isinstance(value, Expression):
        yield path, value
    elif isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            yield from _expressions(getattr(value, name), path + (field.alias or name,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _expressions(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _expressions(item, path + (index,))
