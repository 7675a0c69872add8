"""Definitions and logs built on the spot for the readiness and priority tests: sizes and paths we control."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from backoffice.definitions import LIBRARY

TEMPLATE = LIBRARY / "service-request.yaml"
START = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)

Step = str | tuple[str, str]  # an activity, or (activity, reason)


def edited_template(tmp_path: Path, *edits: tuple[str, str], name: str = "service-request.yaml") -> Path:
    """Write the service-request template with each (old, new) text replaced once; fail if `old` is not there."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, f"the template no longer holds {old!r}"
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def without_section(key: str) -> tuple[str, str]:
    """An edit that drops a top-level section of the template, from its key to the next top-level key."""
    lines = TEMPLATE.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1].isalpha()), len(lines))
    return "".join(lines[start:end]), ""


def workflow_yaml(workflow_id: str, *, systems: int = 1, reasons: int = 1, returning: int = 1,
                  required_fields: int = 2, roles: int = 1, risk: Sequence[str] = (), controls: Sequence[str] = (),
                  fallback: bool = True) -> str:
    """Return a definition that passes `check`, sized by the effort factors and weighted by risk."""
    system_names = [f"system-{n}" for n in range(1, systems + 1)]
    role_names = [f"role-{n}" for n in range(1, roles + 1)]
    lines = [
        f"id: {workflow_id}", f"title: {workflow_id.replace('-', ' ').capitalize()}", "version: 1",
        "purpose: Exercise the readiness gate and the priority scores.", "owner: {role: role-1}",
        "trigger: {event: thing.created, system: system-1}", "scope: {starts: [a thing is created]}",
        f"systems: [{', '.join(system_names)}]", "systems_of_record: {thing: system-1}",
        "proof_of_completion: {field: note}",
        "inputs:", "  fields:", *[f"    field_{n}: string" for n in range(1, required_fields + 1)],
        "    note: {type: string, required: false}",
        "roles:", *[f"  {role}: {{queue: queue-{role}}}" for role in role_names],
        "states:", "  new: {kind: intake}", "  work: {kind: human_task, role: role-1}", "  done: {kind: done}",
        "  cancelled: {kind: cancelled}",
        "transitions:", "  - {from: new, to: work}", "  - {from: work, to: done}",
        "  - {from: [new, work], to: cancelled}",
        "exceptions:", *[f"  reason_{n}: {{resolver: {{queue: queue-role-1}}, "
                         + ("returns_to: work}" if n <= returning else "ends: true}") for n in range(1, reasons + 1)],
        "monitoring:", "  - {metric: backlog, state: work, above: 20, alert: {role: role-1}}",
        f"change: {{risk: [{', '.join(risk)}], approvers: [{{role: role-1}}]}}",
    ]
    if controls:
        lines += ["controls:", *[f"  - {{state: work, reason: {reason}}}" for reason in controls]]
    if fallback:
        lines.append("fallback: {procedure: Work the queue by hand., queue: queue-role-1}")
    return "\n".join(lines) + "\n"


def write_log(path: Path, cases: Sequence[Sequence[Step]], *, case_gap: timedelta = timedelta(hours=1),
              step: timedelta = timedelta(hours=2)) -> Path:
    """Write a CSV event log: one case per entry, its steps `step` apart, cases starting `case_gap` apart."""
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["case_id", "activity", "timestamp", "role", "reason"])
        for number, steps in enumerate(cases, start=1):
            moment = START + (number - 1) * case_gap
            for item in steps:
                activity, reason = (item, "") if isinstance(item, str) else item
                writer.writerow([f"SR-{number:04d}", activity, moment.isoformat(), "service-desk", reason])
                moment += step
    return path


# The template's own states, as a log names them: the readiness gate judges a log whose activities match.
HAPPY = ["New", "Triage", "In progress", "Done"]
