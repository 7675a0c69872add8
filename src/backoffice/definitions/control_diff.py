"""Compare the controls of two versions of a workflow: which changes weaken a control.

A change weakens a control when the new version lets work through that the old one stopped or
sent to a person: an approval removed, its quorum lowered, its approvers widened (more parties,
a new or sooner timeout hand-over, delegation allowed), evidence or separation of duties dropped;
a control dropped or made conditional; a guard, role or required field of a controlled transition
(out of an approval or control, or into an approval: the guard that picks the approver) loosened
or removed; a new move around a control (to where only a control led); a field no longer immutable after intake;
the change rules themselves relaxed; a breaking change of the inputs; a public form opened to people
outside the company, or its limits raised. A guard that changed is
taken as loosened unless the new one is the old one with more conditions (`old && more`):
whether one CEL condition implies another cannot be decided in general, so a person decides.

Changes that tighten are listed too, marked as such: the diff is what a reviewer reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from backoffice.definitions.contract_diff import diff_contracts
from backoffice.definitions.contracts import Contract
from backoffice.definitions.model import Approval, Definition, StateKind, Transition
from backoffice.definitions.move_graph import barrier_states, can_reach


class ControlChangeKind(StrEnum):
    APPROVAL = "approval"
    QUORUM = "quorum"
    APPROVERS = "approvers"
    EVIDENCE = "evidence"
    SEPARATION_OF_DUTIES = "separation of duties"
    DELEGATION = "delegation"
    TIMEOUT = "timeout"
    CONTROL = "control"
    GUARD = "guard"
    ROLES = "roles"
    REQUIRED_FIELDS = "required fields"
    WAY_AROUND = "way around a control"
    IMMUTABLE_FIELDS = "immutable fields"
    CHANGE_RULES = "change rules"
    CONTRACT = "inputs contract"
    PUBLIC_INTAKE = "public intake"


@dataclass(frozen=True)
class ControlChange:
    """One change to a control: where, from what to what, and whether it weakens the control."""

    kind: ControlChangeKind
    where: str
    old: str | None
    new: str | None
    weakens: bool
    reason: str

    def __str__(self) -> str:
        verdict = "weakens" if self.weakens else "tightens"
        values = f": {self.old or '-'} -> {self.new or '-'}" if (self.old or self.new) else ""
        return f"{verdict}: {self.kind} at {self.where}{values} ({self.reason})"

    def as_json(self) -> dict[str, object]:
        return {"kind": str(self.kind), "where": self.where, "old": self.old, "new": self.new,
                "weakens": self.weakens, "reason": self.reason}


@dataclass(frozen=True)
class ControlDiff:
    """Every control change between the deployed version and a candidate."""

    workflow: str
    old_version: int | None
    new_version: int
    changes: tuple[ControlChange, ...] = ()

    @property
    def weakening(self) -> tuple[ControlChange, ...]:
        return tuple(change for change in self.changes if change.weakens)

    @property
    def weakens(self) -> bool:
        return bool(self.weakening)

    @property
    def summary(self) -> str:
        """Return the verdict in one sentence."""
        against = f"version {self.old_version}" if self.old_version is not None else "nothing deployed"
        if not self.changes:
            return f"{self.workflow} version {self.new_version} against {against}: no control changes"
        count = len(self.weakening)
        if count:
            return (f"{self.workflow} version {self.new_version} against {against}: {count} change"
                    f"{'s' if count != 1 else ''} weaken{'' if count != 1 else 's'} a control; "
                    f"a second person with the change-approver role must approve it before it is deployed")
        return f"{self.workflow} version {self.new_version} against {against}: controls kept or tightened"

    def lines(self) -> list[str]:
        """Return the summary, then one line per change (weakening first)."""
        ordered = sorted(self.changes, key=lambda change: not change.weakens)
        return [self.summary, *(f"  {change}" for change in ordered)]

    def as_json(self) -> dict[str, object]:
        return {"workflow": self.workflow, "old_version": self.old_version, "new_version": self.new_version,
                "weakens": self.weakens, "changes": [change.as_json() for change in self.changes]}


def diff_controls(old: Definition | None, new: Definition, *, old_inputs: Contract | None = None,
                  new_inputs: Contract | None = None) -> ControlDiff:
    """Compare the controls of the deployed version `old` (None: nothing deployed) with the candidate `new`.

    `old_inputs`, `new_inputs`: the versions' input contracts, when known; a breaking change
    between them weakens a control (payloads the old version refused would now get in).
    """
    if old is None:
        return ControlDiff(new.id, None, new.version)
    changes = [*_approval_changes(old, new), *_control_changes(old, new), *_transition_changes(old, new),
               *_immutable_changes(old, new), *_change_rule_changes(old, new), *_public_intake_changes(old, new)]
    if old_inputs is not None and new_inputs is not None:
        changes += _contract_changes(old_inputs, new_inputs)
    return ControlDiff(new.id, old.version, new.version, tuple(changes))


def _approvals(definition: Definition) -> dict[str, Approval]:
    return {approval.state: approval for approval in definition.approvals
            if approval.state in definition.states and definition.states[approval.state].kind is StateKind.APPROVAL}


def _approval_changes(old: Definition, new: Definition) -> Iterator[ControlChange]:
    before, after = _approvals(old), _approvals(new)
    for state, was in before.items():
        now = after.get(state)
        where = repr(state)
        if now is None:
            yield ControlChange(ControlChangeKind.APPROVAL, where, f"quorum {was.votes_needed()}", None, True,
                                "the approval is removed: work passes without a vote")
            continue
        yield from _compare_approval(where, was, now)
    for state, now in after.items():
        if state not in before:
            yield ControlChange(ControlChangeKind.APPROVAL, repr(state), None, f"quorum {now.votes_needed()}", False,
                                "a new approval")


def _compare_approval(where: str, was: Approval, now: Approval) -> Iterator[ControlChange]:
    if now.votes_needed() != was.votes_needed():
        lower = now.votes_needed() < was.votes_needed()
        yield ControlChange(ControlChangeKind.QUORUM, where, str(was.votes_needed()), str(now.votes_needed()), lower,
                            "fewer votes decide" if lower else "more votes decide")
    old_parties, new_parties = [str(p) for p in was.approvers], [str(p) for p in now.approvers]
    added = [p for p in new_parties if p not in old_parties]
    removed = [p for p in old_parties if p not in new_parties]
    if added:
        yield ControlChange(ControlChangeKind.APPROVERS, where, ", ".join(old_parties), ", ".join(new_parties), True,
                            f"more people may approve ({', '.join(added)})")
    elif removed:
        yield ControlChange(ControlChangeKind.APPROVERS, where, ", ".join(old_parties), ", ".join(new_parties), False,
                            f"fewer people may approve ({', '.join(removed)})")
    old_evidence = _evidence(was)
    new_evidence = _evidence(now)
    if old_evidence - new_evidence:
        yield ControlChange(ControlChangeKind.EVIDENCE, where, ", ".join(sorted(old_evidence)),
                            ", ".join(sorted(new_evidence)) or None, True,
                            f"approvers no longer need {', '.join(sorted(old_evidence - new_evidence))}")
    elif new_evidence - old_evidence:
        yield ControlChange(ControlChangeKind.EVIDENCE, where, ", ".join(sorted(old_evidence)) or None,
                            ", ".join(sorted(new_evidence)), False, "more evidence required")
    yield from _compare_separation(where, was, now)
    if now.delegation != was.delegation:
        yield ControlChange(ControlChangeKind.DELEGATION, where, str(was.delegation).lower(),
                            str(now.delegation).lower(), now.delegation,
                            "an approver may hand the vote to someone else" if now.delegation
                            else "approvers vote themselves")
    yield from _compare_timeout(where, was, now)


def _evidence(approval: Approval) -> set[str]:
    if approval.evidence is None:
        return set()
    return {f"document {d}" for d in approval.evidence.documents} | {f"field {f}" for f in approval.evidence.fields}


def _compare_separation(where: str, was: Approval, now: Approval) -> Iterator[ControlChange]:
    def rules(approval: Approval) -> set[str]:
        duties = approval.separation_of_duties
        if duties is None:
            return set()
        return ({"not the requester"} if duties.requester else set()) | {f"not who acted in {s}" for s in duties.actors_of}
    old_rules, new_rules = rules(was), rules(now)
    if old_rules - new_rules:
        yield ControlChange(ControlChangeKind.SEPARATION_OF_DUTIES, where, "; ".join(sorted(old_rules)),
                            "; ".join(sorted(new_rules)) or None, True,
                            f"dropped: {'; '.join(sorted(old_rules - new_rules))}")
    elif new_rules - old_rules:
        yield ControlChange(ControlChangeKind.SEPARATION_OF_DUTIES, where, "; ".join(sorted(old_rules)) or None,
                            "; ".join(sorted(new_rules)), False, f"added: {'; '.join(sorted(new_rules - old_rules))}")


def _compare_timeout(where: str, was: Approval, now: Approval) -> Iterator[ControlChange]:
    old, new = was.timeout, now.timeout
    if old == new:
        return
    describe = (lambda t: f"after {t.after} to {t.to}" if t is not None else None)
    if new is None:
        yield ControlChange(ControlChangeKind.TIMEOUT, where, describe(old), None, False,
                            "no hand-over to a secondary approver")
    elif old is None or new.to != old.to or new.after.seconds < old.after.seconds:
        yield ControlChange(ControlChangeKind.TIMEOUT, where, describe(old), describe(new), True,
                            "the approval goes to another or a new secondary approver, or sooner")
    else:
        yield ControlChange(ControlChangeKind.TIMEOUT, where, describe(old), describe(new), False,
                            "the hand-over comes later")


def _control_changes(old: Definition, new: Definition) -> Iterator[ControlChange]:
    before = {(c.state, str(c.reason)): c for c in old.controls}
    after = {(c.state, str(c.reason)): c for c in new.controls}
    for key, was in before.items():
        where = f"{key[0]!r} ({key[1]})"
        now = after.get(key)
        if now is None:
            yield ControlChange(ControlChangeKind.CONTROL, where, str(was.when) if was.when else "always", None, True,
                                "the control is dropped: the step no longer needs a person's decision")
        elif now.when != was.when:
            widened = now.when is None
            yield ControlChange(ControlChangeKind.CONTROL, where, str(was.when) if was.when else "always",
                                str(now.when) if now.when else "always", not widened,
                                "it applies always now" if widened else "its condition changed: it may apply "
                                                                         "to fewer cases")
    for key in after.keys() - before.keys():
        yield ControlChange(ControlChangeKind.CONTROL, f"{key[0]!r} ({key[1]})", None,
                            str(after[key].when) if after[key].when else "always", False, "a new control")


def _controlled(definition: Definition) -> set[str]:
    return {sid for sid, s in definition.states.items() if s.kind is StateKind.APPROVAL} | \
        {control.state for control in definition.controls}


def _pairs(definition: Definition) -> dict[tuple[str, str], Transition]:
    pairs: dict[tuple[str, str], Transition] = {}
    for transition in definition.transitions:
        for source in transition.from_:
            pairs.setdefault((source, transition.to), transition)
    return pairs


def _transition_changes(old: Definition, new: Definition) -> Iterator[ControlChange]:
    controlled = _controlled(old)
    approvals = {sid for sid, s in old.states.items() if s.kind is StateKind.APPROVAL}
    before, after = _pairs(old), _pairs(new)
    for (source, target), was in before.items():
        if source not in controlled and target not in approvals:
            continue
        now = after.get((source, target))
        if now is None:
            continue  # a move taken away: nothing gets through that did not before
        where = f"{source} -> {target}"
        if was.guard is not None and now.guard != was.guard:
            tightened = now.guard is not None and str(now.guard).replace(" ", "").startswith(
                str(was.guard).replace(" ", "") + "&&")
            yield ControlChange(ControlChangeKind.GUARD, where, str(was.guard), str(now.guard) if now.guard else None,
                                not tightened, "the old guard with more conditions" if tightened else
                                ("the guard is removed" if now.guard is None else
                                 "a changed guard may let more cases through"))
        elif was.guard is None and now.guard is not None:
            yield ControlChange(ControlChangeKind.GUARD, where, None, str(now.guard), False, "a new guard")
        old_roles = set(was.roles or filter(None, [old.states[source].role]))
        new_roles = set(now.roles or filter(None, [new.states[source].role] if source in new.states else []))
        if old_roles and (not new_roles or new_roles - old_roles):
            yield ControlChange(ControlChangeKind.ROLES, where, ", ".join(sorted(old_roles)),
                                ", ".join(sorted(new_roles)) or "anyone", True,
                                f"more people may take it ({', '.join(sorted(new_roles - old_roles)) or 'anyone'})")
        dropped = [name for name in was.requires if name not in now.requires]
        if dropped:
            yield ControlChange(ControlChangeKind.REQUIRED_FIELDS, where, ", ".join(was.requires),
                                ", ".join(now.requires) or None, True, f"no longer required: {', '.join(dropped)}")
    barriers = barrier_states(old)
    for (source, target) in after.keys() - before.keys():
        if source not in old.states or target not in old.states:
            continue
        where = f"{source} -> {target}"
        # A new way out of a control is still taken by its decision (the gate sees to that); a new
        # move to where only a control led before goes around it.
        if not can_reach(old, source, {target}, stop=barriers):
            yield ControlChange(ControlChangeKind.WAY_AROUND, where, None, "a new move", True,
                                f"{target!r} was reached from {source!r} only through an approval or control")


def _immutable_changes(old: Definition, new: Definition) -> Iterator[ControlChange]:
    was, now = old.inputs.immutable_after_intake, new.inputs.immutable_after_intake
    dropped = [name for name in was if name not in now]
    if dropped:
        yield ControlChange(ControlChangeKind.IMMUTABLE_FIELDS, "inputs", ", ".join(was), ", ".join(now) or None,
                            True, f"may change after intake now: {', '.join(dropped)}")
    elif [name for name in now if name not in was]:
        yield ControlChange(ControlChangeKind.IMMUTABLE_FIELDS, "inputs", ", ".join(was) or None, ", ".join(now),
                            False, "more fields fixed at intake")


def _change_rule_changes(old: Definition, new: Definition) -> Iterator[ControlChange]:
    was, now = old.change, new.change
    if was.second_approver_required and not now.second_approver_required:
        yield ControlChange(ControlChangeKind.CHANGE_RULES, "change", "second approver", "none", True,
                            "later changes would need no second approver")
    old_parties, new_parties = {str(p) for p in was.approvers}, {str(p) for p in now.approvers}
    if was.approvers and (not now.approvers or new_parties - old_parties):
        yield ControlChange(ControlChangeKind.CHANGE_RULES, "change.approvers", ", ".join(sorted(old_parties)),
                            ", ".join(sorted(new_parties)) or "any change-approver", True,
                            "more people may approve changes")


def _public_intake_changes(old: Definition, new: Definition) -> Iterator[ControlChange]:
    was, now = old.public_intake, new.public_intake
    if was == now:
        return
    if was is None and now is not None:
        yield ControlChange(ControlChangeKind.PUBLIC_INTAKE, "public_intake", None,
                            f"started by {now.service_account}", True,
                            "people outside the company, with no account, may start cases")
    elif was is not None and now is None:
        yield ControlChange(ControlChangeKind.PUBLIC_INTAKE, "public_intake", f"started by {was.service_account}",
                            None, False, "the public form is closed")
    elif was is not None and now is not None:
        if now.service_account != was.service_account:
            yield ControlChange(ControlChangeKind.PUBLIC_INTAKE, "public_intake.service_account",
                                was.service_account, now.service_account, True,
                                "another principal starts the public form's cases (with its own grants)")
        raised = [f"{name} {getattr(was, name)} -> {getattr(now, name)}" for name in ("per_address_per_hour", "daily_cap")
                  if getattr(now, name) > getattr(was, name)]
        if raised:
            yield ControlChange(ControlChangeKind.PUBLIC_INTAKE, "public_intake", None, "; ".join(raised), True,
                                "outsiders may start more cases")
        added = _fields_added(was.fields, now.fields)
        if added:
            yield ControlChange(ControlChangeKind.PUBLIC_INTAKE, "public_intake.fields", None, ", ".join(added), True,
                                "outsiders may set more of the case's data")


def _fields_added(was: list[str] | None, now: list[str] | None) -> list[str]:
    """The fields a public form offers now that it did not (None offers every input field)."""
    if now is None:
        return [] if was is None else ["every input field"]
    return [] if was is None else [field for field in now if field not in was]


def _contract_changes(old: Contract, new: Contract) -> Iterator[ControlChange]:
    if old.name != new.name:
        yield ControlChange(ControlChangeKind.CONTRACT, "inputs", old.id, new.id, True,
                            "another contract: payloads are checked by other rules")
        return
    diff = diff_contracts(old, new)
    for change in diff.breaking_changes:
        yield ControlChange(ControlChangeKind.CONTRACT, f"inputs {change.path}", change.old, change.new, True,
                            f"a breaking change: {change.reason}")
