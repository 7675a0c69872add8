"""Route-deciding fields after intake: refused when immutable, else the case goes back through routing.

The amount of a purchase request picks its approver. Changed after intake, it would have the
request approved by someone smaller than the amount calls for, so a change to a field that
routing, an approval-choosing guard or a control's condition reads (`controls.route_fields`):

- is refused when the definition declares the field immutable after intake
  (`inputs.immutable_after_intake`; any field it lists, route-deciding or not);
- is refused once an approval chosen on the old value has decided and the case cannot come
  back to it (the approval would stand for a value nobody approved);
- otherwise sends the case back through routing: the intake routing rules run again on the new
  data (queue, owner, priority), then those of the state entered; the votes cast in the
  approval the case is in are void (a new visit counts new votes). The move's event and a
  `case.rerouted` audit record say which fields changed and which votes were voided.

Mixed into `Engine`; the move itself is written by `Engine._write_move`, in its transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backoffice.definitions.model import Definition, Priority, StateKind
from backoffice.engine.cases import Actor, Case
from backoffice.engine.controls import reaches, route_fields
from backoffice.engine.rules import Routing, context, route
from backoffice.engine.tasks import TaskKind, TaskStatus
from backoffice.errors import FieldImmutable, RouteFieldLocked

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine


@dataclass(frozen=True)
class Reroute:
    """A move that changes route-deciding fields: which, from what to what, and the votes it voids."""

    fields: Mapping[str, tuple[Any, Any]]
    votes_voided: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def applied(self, definition: Definition, moved: Case, *, actor: Actor, now: datetime) -> Case:
        """Return the moved case routed afresh: the intake rules on its new data, then those of the state entered."""
        variables = context(data=moved.data, case=moved.expression_fields(), actor=actor, now=now)
        at_intake = route(definition, entering=None, variables=variables,
                          current=Routing(queue=None, owner=None, priority=Priority.NORMAL))
        entered = route(definition, entering=moved.state, variables=variables, current=at_intake)
        return replace(moved, queue=entered.queue, owner=entered.owner, priority=entered.priority)

    def as_json(self) -> dict[str, Any]:
        return {"fields": {name: {"from": old, "to": new} for name, (old, new) in self.fields.items()},
                "votes_voided": [dict(vote) for vote in self.votes_voided]}


class RerouteOperations:
    """The route-deciding-field half of `Engine`."""

    def _reroute(self: Engine, definition: Definition, case: Case, new_data: Mapping[str, Any],
                 changed: Mapping[str, Any]) -> Reroute | None:
        """Return how a move changing `changed` reroutes the case, or None when no route-deciding field changes.

        Raises:
            FieldImmutable: a changed field is immutable after intake.
            RouteFieldLocked: a route-deciding field changes after the approval it chose decided.
        """
        immutable = [name for name in definition.inputs.immutable_after_intake if name in changed]
        if immutable:
            raise FieldImmutable(case.id, immutable)
        deciding = sorted(name for name in changed if name in route_fields(definition))
        if not deciding:
            return None
        decided = self._decided_approval_behind(definition, case)
        if decided is not None:
            raise RouteFieldLocked(case.id, deciding, decided)
        return Reroute(fields={name: (case.data.get(name), new_data.get(name)) for name in deciding},
                       votes_voided=tuple(self._votes_in_open_round(definition, case)))

    def _decided_approval_behind(self: Engine, definition: Definition, case: Case) -> str | None:
        """Return an approval state that decided on this case and that the case cannot come back to, or None."""
        for event in reversed(self.store.events(case.id)):
            attributes = event.attributes
            left = attributes.get("from_state")
            if attributes.get("vote") != "approve" or left is None or left == attributes.get("to_state"):
                continue
            if definition.states.get(left) is not None and definition.states[left].kind is StateKind.APPROVAL \
                    and not reaches(definition, case.state, left):
                return left
        return None

    def _votes_in_open_round(self: Engine, definition: Definition, case: Case) -> list[dict[str, Any]]:
        if definition.states[case.state].kind is not StateKind.APPROVAL:
            return []
        rounds = {task.round for task in self.store.tasks(case_id=case.id, kind=str(TaskKind.APPROVAL), limit=1000)
                  if task.state == case.state}
        open_rounds = {task.round for task in self.store.tasks(case_id=case.id, status=TaskStatus.OPEN,
                                                               kind=str(TaskKind.APPROVAL), limit=1000)}
        return [{"approver": vote.approver, "decision": vote.decision, "round": vote.round, "state": vote.state}
                for round_ in sorted(rounds & open_rounds) for vote in self.store.votes(case.id, round_)]
