"""Classify each activity as straight-through, human work, or approval/control, from evidence."""

from __future__ import annotations

import re
from pathlib import Path

from backoffice.errors import ConfigFileError
from backoffice.events.normalize import fold_label
from backoffice.mapping.model import StepKind

# Words in an activity's name or lane that mark a decision or a control.
APPROVAL_WORDS = re.compile(
    r"approv|review|check|verif|sign[\s\-_]?off|authori[sz]|validat|audit|control|inspect|"
    r"accept|reject|declin|decid|decision|assess|compliance|goedkeur|beoordel|controle",
    re.IGNORECASE)
# Resources that are machines: service accounts, batch jobs, integrations.
SERVICE_ACCOUNT = re.compile(
    r"^(system|sys|batch|bot|robot|rpa|auto|automatic|automated|service|svc|api|job|scheduler|"
    r"integration|interface|workflow|engine|daemon|cron|etl)([\s_\-.:@].*|\d*)$|"
    r"(^|[\s_\-.])(system|bot|svc|batch|robot)($|[\s_\-.\d])",
    re.IGNORECASE)

# Share of an activity's events done by service accounts above which it counts as straight-through.
STRAIGHT_THROUGH_SHARE = 0.8


def is_service_account(resource: str) -> bool:
    """Tell whether a resource name looks like a machine rather than a person."""
    return bool(SERVICE_ACCOUNT.search(resource.strip()))


def classify(activity: str, *, lane: str | None, service_share: float | None,
             overrides: dict[str, StepKind] | None = None) -> StepKind:
    """Return the step kind of an activity.

    Args:
        activity: its name.
        lane: the role, group or system that mostly performs it.
        service_share: the share of its events (with a resource) done by service accounts;
            None when no event names a resource.
        overrides: folded activity name -> kind, from a step-kinds file; they win.
    """
    if overrides and fold_label(activity) in overrides:
        return overrides[fold_label(activity)]
    if service_share is not None and service_share >= STRAIGHT_THROUGH_SHARE:
        return StepKind.STRAIGHT_THROUGH
    if APPROVAL_WORDS.search(activity) or (lane and APPROVAL_WORDS.search(lane)):
        return StepKind.APPROVAL
    return StepKind.HUMAN


def load_step_kinds(path: Path | str) -> dict[str, StepKind]:
    """Read a step-kinds file: YAML mapping activity name -> straight_through | human | approval."""
    import yaml  # only when a file is given: most maps need no YAML parser

    path = Path(path)
    try:
        from backoffice.limits import check_file_size, check_yaml
        check_file_size(path)
        text = path.read_text(encoding="utf-8")
        check_yaml(text, str(path))
        document = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigFileError(path, f"cannot read the step-kinds file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigFileError(path, f"not valid YAML ({getattr(exc, 'problem', exc)})",
                              line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
                              expected="activity name: straight_through | human | approval") from exc
    if not isinstance(document, dict):
        raise ConfigFileError(path, "the step-kinds file is not a mapping",
                              expected="activity name: straight_through | human | approval")
    kinds: dict[str, StepKind] = {}
    allowed = ", ".join(kind.value for kind in StepKind)
    for activity, kind in document.items():
        try:
            kinds[fold_label(str(activity))] = StepKind(str(kind).strip().lower().replace("-", "_").replace(" ", "_"))
        except ValueError as exc:
            raise ConfigFileError(path, f"activity {activity!r} has kind {kind!r}", expected=f"one of {allowed}") from exc
    return kinds
