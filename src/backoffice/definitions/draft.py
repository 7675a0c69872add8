"""Draft a workflow definition from the evidence: a mapped event log in, a commented YAML skeleton out.

The states are the activities of the main variants (those that together cover a share of the
cases, 95% by default), each with the kind the map judged from the evidence; the roles are
the lane values; the transitions are what directly followed what in those variants, from an
added intake state and to an added done state; the exception reasons are those the log
records. Everything the log cannot tell is written as a placeholder with a TODO comment.

The owner and the trigger are left for a person to decide: they are written so that `check`
fails on them, and only on them, until someone fills them in. The draft is marked
`status: draft`, so `check` warns until it is reviewed.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from backoffice.definitions.conformance import completed_events
from backoffice.errors import BadOption
from backoffice.events.normalize import fold_label
from backoffice.events.schema import Column, EventLog
from backoffice.mapping.analyze import analyze
from backoffice.mapping.model import Lanes, ProcessMap, StepKind
from backoffice.wording import plural

INTAKE, DONE, CANCELLED = "intake", "done", "cancelled"
FALLBACK_ROLE = "unassigned"
MAX_INPUT_FIELDS = 30
KIND_OF_STEP = {StepKind.STRAIGHT_THROUGH: "automated", StepKind.APPROVAL: "approval", StepKind.HUMAN: "human_task"}
# The map counts a rejection as a decision, like an approval. But a definition's approval state
# is where approval is granted: drafted as approvals, rejections would make conform report a
# case that went round a rejection as one that skipped an approval. So they are drafted as
# tasks, for a person to place.
_REJECTION = re.compile(r"reject|declin|denied|deny|refus|afgewezen|afkeur", re.IGNORECASE)
_LOG_SUFFIXES = re.compile(r"(\.(xes|csv|tsv|txt|parquet|pq|jsonocel|json))?(\.gz)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Draft:
    """A drafted definition: its YAML text with comments, and what went into it."""

    text: str
    workflow_id: str
    states: int
    transitions: int
    roles: int
    exception_reasons: int
    variants: int
    coverage: float
    cases: int
    left_out: tuple[str, ...]  # activities seen only outside the main variants


def draft_definition(log: EventLog, *, coverage: float = 0.95, lanes: Lanes | str | None = None,
                     workflow_id: str | None = None, title: str | None = None,
                     process_map: ProcessMap | None = None) -> Draft:
    """Draft a definition skeleton from an event log.

    Args:
        log: the events (see `backoffice.read_log`); its attributes become the draft's inputs.
        coverage: keep the most frequent variants that together cover this share of cases.
        lanes: the column whose values become roles; None picks role, group, system or
            resource, the first the log has.
        workflow_id, title: the draft's id and title; None derives them from the log's name.
        process_map: the log's map when already computed (of its completions, when it has lifecycles).

    Returns:
        The draft, with its YAML text.

    Raises:
        BadOption: coverage is not a share in (0, 1], or workflow_id is not a slug.
        EmptyLog: the log holds no case.
    """
    if not 0 < coverage <= 1:
        raise BadOption("--coverage", coverage, "a share of cases between 0 and 1, such as 0.95")
    if workflow_id is not None and not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", workflow_id):
        raise BadOption("--id", workflow_id, "lowercase words joined by dashes, such as expense-claim")
    # The steps map and conform read: one per activity instance.
    log, lifecycle_events = completed_events(log)
    pmap = process_map or analyze(log, lanes=lanes)
    name = _LOG_SUFFIXES.sub("", Path(log.source).name) or "workflow"
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    workflow_id = workflow_id or _slug(words, fallback="drafted-workflow", leading_letter=True)
    title = title or (words.replace("_", " ").replace("-", " ").strip().capitalize() or "Drafted workflow")
    return _Drafter(log, pmap, coverage, workflow_id, title, lifecycle_events).draft()


def _slug(text: str, *, fallback: str, leading_letter: bool = False) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or fallback
    return f"w-{slug}" if leading_letter and not slug[0].isalpha() else slug


def _note(node: CommentedMap | CommentedSeq, text: str, key: object) -> None:
    """Add a comment at the end of a key's line (one space before it, on every line alike)."""
    node.yaml_add_eol_comment(text, key, column=1)


def _flow(**items: object) -> CommentedMap:
    mapping = CommentedMap((key, value) for key, value in items.items() if value is not None)
    mapping.fa.set_flow_style()
    return mapping


def _flow_list(items: list) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


class _Drafter:
    def __init__(self, log: EventLog, pmap: ProcessMap, coverage: float, workflow_id: str, title: str,
                 lifecycle_events: int) -> None:
        self.log, self.pmap, self.workflow_id, self.title = log, pmap, workflow_id, title
        self.lifecycle_events = lifecycle_events
        self.variants = []
        covered = 0.0
        for variant in pmap.variants:
            if covered >= coverage - 1e-9:
                break
            self.variants.append(variant)
            covered += variant.share
        self.coverage = covered
        # States in the order a reader meets them: walking the main variants, most frequent first.
        self.activities = list(dict.fromkeys(a for variant in self.variants for a in variant.activities))
        facts = {activity.name: activity for activity in pmap.activities}
        self.facts = {name: facts[name] for name in self.activities if name in facts}
        taken = {INTAKE, DONE, CANCELLED}
        self.state_of: dict[str, str] = {}
        for activity in self.activities:
            self.state_of[activity] = self._unique(_slug(activity, fallback="step"), taken)
        self.role_of_lane: dict[str, str] = {}
        role_ids: set[str] = {FALLBACK_ROLE}
        for fact in self.facts.values():
            if fact.lane is not None and fact.lane not in self.role_of_lane:
                self.role_of_lane[fact.lane] = self._unique(_slug(fact.lane, fallback="role"), role_ids)
        self.needs_fallback_role = False
        self.needs_cancelled = False
        first = pmap.summary.start_activities[0].activity if pmap.summary.start_activities else None
        self.requester_role = self.role(first) if first in self.state_of else None

    @staticmethod
    def _unique(slug: str, taken: set[str]) -> str:
        candidate, number = slug, 2
        while candidate in taken:
            candidate, number = f"{slug}-{number}", number + 1
        taken.add(candidate)
        return candidate

    def added_title(self, title: str) -> str:
        # An added state must not share its title with an activity: conform matches by title.
        taken = {fold_label(activity) for activity in self.activities}
        return f"{title} (added)" if fold_label(title) in taken else title

    def kind(self, activity: str) -> str:
        fact = self.facts.get(activity)
        if fact is None or (fact.kind is StepKind.APPROVAL and _REJECTION.search(activity)):
            return "human_task"
        return KIND_OF_STEP[fact.kind]

    def role(self, activity: str) -> str | None:
        fact = self.facts.get(activity)
        if fact is not None and fact.lane is not None:
            return self.role_of_lane[fact.lane]
        if self.kind(activity) == "automated":
            return None
        self.needs_fallback_role = True
        return FALLBACK_ROLE

    def draft(self) -> Draft:
        doc = CommentedMap()
        summary = self.pmap.summary
        span = (f"{summary.first_event:%Y-%m-%d} to {summary.last_event:%Y-%m-%d}"
                if summary.first_event and summary.last_event else "no time span")
        doc.yaml_set_start_comment(
            f"DRAFT made by `backoffice draft` from {Path(self.log.source).name}: {plural(summary.cases, 'case')}, "
            f"{plural(summary.events, 'step')}, {span}.\n"
            f"States are the activities of the {len(self.variants)} most frequent variants "
            f"({self.coverage:.1%} of the cases), with the kinds the map judged from the evidence;\n"
            f"transitions are what directly followed what in them; roles are the {self.pmap.lanes.value} "
            f"values of the log.\n"
            + (f"Drafted from steps, one per activity instance, as map and conform read them: "
               f"{self.lifecycle_events:,} schedule, start and other lifecycle events folded into their steps.\n"
               if self.lifecycle_events else "")
            + "Before use: fill in the owner and the trigger (`backoffice check` fails until you do), then "
            "settle every TODO.")
        doc["id"] = self.workflow_id
        doc["title"] = self.title
        doc["version"] = 1
        doc["status"] = "draft"
        _note(doc, "set active once the workflow's owner has reviewed it", "status")
        doc["purpose"] = (f"TODO: say in a paragraph why this workflow exists. Drafted from {summary.cases:,} "
                          f"cases of {Path(self.log.source).name} ({span}).")
        doc["owner"] = _flow(role="TBD")
        doc.yaml_set_comment_before_after_key(
            "owner", before="TODO: the one accountable owner: {role: ROLE} with a role of roles below, "
                            "or {person: ID} with people")
        doc["trigger"] = _flow(event="", system="")
        doc.yaml_set_comment_before_after_key(
            "trigger", before="TODO: the event that starts the work, and the system of systems below it comes from")
        starts = summary.start_activities[0] if summary.start_activities else None
        share = f"{starts.cases / summary.cases:.0%}" if starts and summary.cases else "some"
        doc["scope"] = CommentedMap(starts=CommentedSeq([
            f"{starts.activity} (the first step of {share} of the cases in the log)" if starts
            else "TODO: what starts this workflow"]))
        doc.yaml_set_comment_before_after_key("scope", before="TODO: what starts the work, and what looks alike "
                                                              "but does not (does_not_start)")
        doc["inputs"] = CommentedMap(fields=self.inputs())
        doc.yaml_set_comment_before_after_key("inputs", before="TODO: keep the minimum inputs; here the case "
                                                               "attributes of the log, or link a data contract")
        systems = self.systems()
        doc["systems"] = _flow_list(systems)
        if not self.log.has_values(Column.SYSTEM):
            _note(doc, "TODO: the log names no system; name the systems it touches", "systems")
        doc["systems_of_record"] = CommentedMap()
        doc.yaml_set_comment_before_after_key("systems_of_record", before="TODO: business object -> the system that "
                                                                          f"owns it, such as request: {systems[0]}")
        # The parts that name roles come first: they decide whether a fallback role is needed.
        states, transitions = self.states(), self.transitions()
        approvals, exceptions, steps = self.approvals(), self.exceptions(), self.automated_steps()
        if self.needs_cancelled:
            states[CANCELLED] = _flow(kind="cancelled", title=self.added_title("Cancelled"))
        doc["roles"] = self.roles()
        doc["calendar"] = CommentedMap(timezone="UTC", working_hours="09:00-17:00")
        doc.yaml_set_comment_before_after_key("calendar", before="TODO: your time zone, hours, and holidays: "
                                                                 "{country: NL}")
        doc["sla"] = self.sla()
        doc["proof_of_completion"] = self.proof()
        doc["states"] = states
        doc["transitions"] = transitions
        for key, part in (("approvals", approvals), ("exceptions", exceptions), ("automated_steps", steps)):
            if part:
                doc[key] = part
        left_out = tuple(a.name for a in self.pmap.activities if a.name not in self.state_of)
        if left_out:
            doc.yaml_set_comment_before_after_key(
                "states", before="Seen in the log outside the main variants, so not drafted: "
                                 + "; ".join(left_out[:12]) + (" ..." if len(left_out) > 12 else ""))
        stream = io.StringIO()
        yaml = YAML()
        yaml.width = 4096  # one line per state and transition, however long its title
        yaml.indent(mapping=2, sequence=4, offset=2)
        yaml.dump(doc, stream)
        return Draft(text=stream.getvalue(), workflow_id=self.workflow_id, states=len(states),
                     transitions=len(transitions), roles=len(doc["roles"]), exception_reasons=len(exceptions),
                     variants=len(self.variants), coverage=self.coverage, cases=summary.cases, left_out=left_out)

    def inputs(self) -> CommentedMap:
        """Return the case attributes (constant within each case) as inline fields, with their types."""
        table = self.log.table
        fields = CommentedMap()
        names = [name for name in self.log.attribute_columns if self.log.has_values(name)][:MAX_INPUT_FIELDS * 2]
        if not names:
            return fields
        selected = table.select([Column.CASE_ID, *names])
        # A CSV's text attributes come as one dictionary per block, which group_by cannot unify.
        selected = pa.table([column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                             for column in selected.columns], names=selected.column_names)
        stats = selected.group_by(Column.CASE_ID).aggregate([(name, "count_distinct") for name in names])
        for name in names:
            if pc.max(stats.column(f"{name}_count_distinct")).as_py() <= 1 and len(fields) < MAX_INPUT_FIELDS:
                fields[name] = _field_type(table.schema.field(name).type)
        return fields

    def systems(self) -> list[str]:
        if not self.log.has_values(Column.SYSTEM):
            return ["source-system"]
        counts = pc.value_counts(self.log.table.column(Column.SYSTEM).cast(pa.string()).drop_null())
        return [str(row["values"]) for row in sorted(counts.to_pylist(), key=lambda r: -r["counts"])][:10]

    def roles(self) -> CommentedMap:
        roles = CommentedMap()
        for lane, role_id in self.role_of_lane.items():
            roles[role_id] = _flow(title=lane, queue=role_id)
        if self.needs_fallback_role or not roles:
            roles[FALLBACK_ROLE] = _flow(title="Unassigned", queue=FALLBACK_ROLE)
            _note(roles, f"TODO: the log names no {self.pmap.lanes.value} for some steps; "
                                       "say who does them", FALLBACK_ROLE)
        return roles

    def sla(self) -> CommentedMap:
        # A starting point from the evidence: the calendar days in which 90% of cases ended,
        # read as working days (five in seven).
        p90_days = self.pmap.cycle_time.stats.p90 / 86400
        days = max(1, math.ceil(p90_days * 5 / 7))
        sla = CommentedMap(resolution=f"{days}d")
        _note(sla, f"TODO: agree the target; 90% of the log's cases ended within "
                                 f"{p90_days:.1f} calendar days", "resolution")
        return sla

    def proof(self) -> CommentedMap:
        ends = self.pmap.summary.end_activities
        record = ends[0].activity if ends else "TODO: the record that proves the work is done"
        proof = CommentedMap(record=record)
        _note(proof, "TODO: the record or field that proves it; here the step that ends most cases",
                                   "record")
        return proof

    def states(self) -> CommentedMap:
        states = CommentedMap()
        states[INTAKE] = _flow(kind="intake", title=self.added_title("Intake"))
        _note(states, "added: where every case starts", INTAKE)
        for activity in self.activities:
            sid = self.state_of[activity]
            states[sid] = _flow(kind=self.kind(activity), title=activity, role=self.role(activity))
            fact = self.facts.get(activity)
            if fact:
                rejection = " (a rejection: TODO an outcome of an approval?)" \
                    if fact.kind is StepKind.APPROVAL and self.kind(activity) != "approval" else ""
                _note(states, f"{plural(fact.cases, 'case')}, {plural(fact.events, 'step')}{rejection}", sid)
        states[DONE] = _flow(kind="done", title=self.added_title("Done"))
        _note(states, "added: where work ends", DONE)
        return states

    def transitions(self) -> CommentedSeq:
        pairs: Counter[tuple[str, str]] = Counter()
        for variant in self.variants:
            steps = [INTAKE, *(self.state_of[a] for a in variant.activities), DONE]
            for pair in dict.fromkeys(zip(steps, steps[1:])):
                if pair[0] != pair[1]:  # a repeated step is one stay in its state
                    pairs[pair] += variant.cases
        order = {sid: k for k, sid in enumerate([INTAKE, *self.state_of.values(), DONE])}
        seq = CommentedSeq()
        for (source, target), cases in sorted(pairs.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])):
            seq.append(_flow(**{"from": source, "to": target}))
            _note(seq, plural(cases, "case"), len(seq) - 1)
        return seq

    def approvals(self) -> CommentedSeq:
        seq = CommentedSeq()
        for activity in self.activities:
            if self.kind(activity) != "approval":
                continue
            role = self.role(activity)
            entry = CommentedMap(state=self.state_of[activity], approvers=CommentedSeq([_flow(role=role)]),
                                 quorum="any",
                                 evidence=_flow(documents=_flow_list(["TODO: what the approver must see"])))
            if role != self.requester_role:
                entry["separation_of_duties"] = _flow(requester=True)
                _note(entry, "the requester never approves their own case", "separation_of_duties")
            else:
                # Separation from the requester would fail every case: the log says the
                # requester's own role decides here (a withdrawal, say), so a person must judge.
                _note(entry, "TODO: the requester's role does this in the log: an approval?", "state")
            seq.append(entry)
        return seq

    def automated_steps(self) -> CommentedSeq:
        seq = CommentedSeq()
        for activity in self.activities:
            if self.kind(activity) == "automated":
                sid = self.state_of[activity]
                seq.append(_flow(state=sid, action=sid.replace("-", "_")))
                _note(seq, "TODO: the registered action, and on_exhausted", len(seq) - 1)
        return seq

    def exceptions(self) -> CommentedMap:
        """Return the log's reason codes, each with a resolver and a way back read from the evidence."""
        reasons = CommentedMap()
        if not self.log.has_values(Column.REASON):
            return reasons
        table = self.log.table.select([Column.CASE_ID, Column.ACTIVITY, Column.REASON])
        table = table.filter(pc.is_valid(table.column(Column.REASON)))
        table = pa.table({name: table.column(name).cast(pa.string()) for name in table.column_names})
        where = table.group_by([Column.REASON, Column.ACTIVITY]).aggregate([(Column.CASE_ID, "count")])
        raised: dict[str, list[str]] = {}
        for reason, activity in zip(where.column(Column.REASON).to_pylist(),
                                    where.column(Column.ACTIVITY).to_pylist(), strict=True):
            if activity in self.state_of:
                raised.setdefault(reason, []).append(self.state_of[activity])
        counts = table.group_by(Column.REASON).aggregate([(Column.CASE_ID, "count_distinct")])
        resolved = {r.reason: r.resolved_at for r in (self.pmap.exceptions.reasons if self.pmap.exceptions else [])}
        rows = sorted(zip(counts.column(Column.REASON).to_pylist(),
                          counts.column(f"{Column.CASE_ID}_count_distinct").to_pylist(), strict=True),
                      key=lambda row: (-row[1], row[0]))
        for reason, cases in rows:
            back = next((step.activity for step in resolved.get(reason, []) if step.activity in self.state_of), None)
            entry = CommentedMap(description=f"TODO: describe; recorded in {plural(cases, 'case')}")
            if back:
                entry["resolver"] = _flow(role=self.role(back) or FALLBACK_ROLE)
                if entry["resolver"]["role"] == FALLBACK_ROLE:
                    self.needs_fallback_role = True
            else:
                entry["resolver"] = _flow(role=FALLBACK_ROLE)
                self.needs_fallback_role = True
            _note(entry, "TODO: who resolves it (a role or a queue)", "resolver")
            if raised.get(reason):
                entry["raised_in"] = _flow_list(sorted(set(raised[reason]), key=list(self.state_of.values()).index))
            if back:
                entry["returns_to"] = self.state_of[back]
                _note(entry, "the step that most often followed it in the log", "returns_to")
            else:
                entry["ends"] = True
                self.needs_cancelled = True
                _note(entry, "TODO: nothing in the drafted states followed it; does it end the case?",
                                           "ends")
            reasons[str(reason)] = entry
        return reasons


def _field_type(data_type: pa.DataType) -> str:
    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    if pa.types.is_boolean(data_type):
        return "boolean"
    if pa.types.is_integer(data_type):
        return "integer"
    if pa.types.is_floating(data_type) or pa.types.is_decimal(data_type):
        return "number"
    if pa.types.is_timestamp(data_type):
        return "datetime"
    if pa.types.is_date(data_type):
        return "date"
    return "string"
