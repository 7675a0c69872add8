"""Actions: the Python callables automated steps run, registered by the name the definition uses.

    registry = ActionRegistry()

    @registry.action("create_account")
    def create_account(call: ActionCall) -> dict[str, object]:
        directory.create(call.data["email"], request_id=call.idempotency_key)
        return {"account_id": ...}       # merged into the case data when the case moves on

An action raises to fail its attempt; the worker retries it by the step's policy. It raises
`ActionFailed(..., retryable=False)` when trying again cannot help (the step goes to the
dead-letter queue at once). An action must pass `idempotency_key` on to the system it calls:
delivery is at least once, and the key is what makes a second delivery harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from backoffice.errors import UnknownAction

ActionResult = Mapping[str, Any] | None
Action = Callable[["ActionCall"], ActionResult]


@dataclass(frozen=True)
class ActionCall:
    """One attempt of an automated step: what to run, on which case, with which key.

    Attributes:
        case_id, workflow, state: the case and the automated state it waits in.
        action: the registered action's name.
        data: the case data (read-only).
        idempotency_key: the same on every attempt and replay of this step's visit.
        attempt: 1 for the first attempt.
        at: the worker's time of the attempt (time is passed in, never read in the engine).
    """

    case_id: int
    action: str
    data: Mapping[str, Any]
    idempotency_key: str
    attempt: int
    workflow: str = ""
    state: str = ""
    at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))


class ActionFailed(Exception):
    """An action's attempt failed; `retryable` says whether another attempt may succeed.

    `delivered` says whether the call reached the other system: False when it certainly did not
    (the connection was refused), None when nobody knows (a timeout, a dropped answer). When the
    attempts run out after a failure that does not rule out a delivery, the step is in doubt: a
    person checks the other system before anything is done again (see `backoffice.engine.in_doubt`).
    Any other exception an action raises counts as delivered=None.
    """

    def __init__(self, message: str, *, retryable: bool = True, delivered: bool | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.delivered = delivered


class RaiseException(Exception):
    """An action found a problem people must resolve: raise this exception reason on the case.

    Not a failure to retry: the action did its work and its answer is "this invoice is a
    duplicate" or "the budget is exhausted". The worker raises the reason (where the taxonomy
    allows it in the step's state) in the transaction that settles the step.
    """

    def __init__(self, reason: str, note: str | None = None) -> None:
        super().__init__(f"raise {reason}" + (f": {note}" if note else ""))
        self.reason = reason
        self.note = note


@dataclass
class ActionRegistry:
    """The actions a worker may run, by name."""

    _actions: dict[str, Action] = field(default_factory=dict)

    def register(self, name: str, action: Action) -> None:
        """Register `action` under `name`, replacing any action of that name."""
        self._actions[name] = action

    def action(self, name: str) -> Callable[[Action], Action]:
        """Register the decorated function under `name`."""
        def decorate(function: Action) -> Action:
            self.register(name, function)
            return function
        return decorate

    def get(self, name: str) -> Action:
        """Return the action registered under `name`.

        Raises:
            UnknownAction: nothing is registered under that name.
        """
        try:
            return self._actions[name]
        except KeyError:
            raise UnknownAction(name, sorted(self._actions)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._actions))
