"""The service-request template with an automated step between intake and triage, for the outbox tests.

new -> notify (automated: action `notify_desk`) -> triage; when its attempts run out the case
goes to notify-by-hand, where the desk notifies by hand and moves it on to triage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from backoffice.engine import Engine

from .service_request import T0, TEMPLATE

ACTION = "notify_desk"


def replacements(*, attempts: int = 3, backoff: str = "1m") -> tuple[tuple[str, str], ...]:
    """Return the (old, new) text changes that add the automated step to the template."""
    return (
        ("  triage: {kind: human_task, title: Triage, role: service-desk}\n",
         "  notify: {kind: automated, title: Notify the desk}\n"
         "  notify-by-hand: {kind: human_task, title: Notify by hand, role: service-desk}\n"
         "  triage: {kind: human_task, title: Triage, role: service-desk}\n"),
        ("  - {from: new, to: triage, name: accept}\n",
         "  - {from: new, to: notify, name: accept}\n"
         "  - {from: notify, to: triage, name: notified}\n"
         "  - {from: notify-by-hand, to: triage, name: notified by hand, roles: [service-desk]}\n"),
        ("\nfallback:\n",
         f"\nautomated_steps:\n"
         f"  - {{state: notify, action: {ACTION}, retry: {{attempts: {attempts}, backoff: {backoff}, factor: 2}},\n"
         f"     on_exhausted: notify-by-hand}}\n"
         f"\nfallback:\n"),
    )


def automated_text(**options: object) -> str:
    """Return the template's YAML with the automated step."""
    text = TEMPLATE.read_text()
    for old, new in replacements(**options):
        assert old in text, f"{old!r} is not in the template"
        text = text.replace(old, new)
    return text


def deploy_automated(engine: Engine, definition_copy: Callable[..., Path], *, attempts: int = 3,
                     backoff: str = "1m") -> Engine:
    """Deploy the template with the automated step, and return the engine."""
    engine.deploy(definition_copy(*replacements(attempts=attempts, backoff=backoff)), actor="lead", now=T0)
    return engine
