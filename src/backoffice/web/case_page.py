"""What the case page shows, gathered from the engine for one reader: facts, timeline, SLA, tasks, votes, files, audit.

Kept apart from the routes (`pages_case`) so other pages (my work, approvals) can show parts
of it. Every read goes through `Visibility.case` first: a case the reader may not see is
answered as absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backoffice.definitions.model import REQUESTER, Definition
from backoffice.engine import Case, EngineEvent
from backoffice.engine.comments import Comment
from backoffice.engine.tasks import Task, TaskKind, TaskStatus
from backoffice.services.branch_view import BranchSeen, ParentSeen, branches_of, parent_of, paused_because
from backoffice.services.case_view import CaseAudit, CaseException, SlaClock, case_audit, exceptions_of, sla_clock
from backoffice.services.display import shown
from backoffice.services.principal import Principal
from backoffice.store.evidence_reads import evidence_of
from backoffice.web.context import WebServices

_REFERENCE_FIELD = re.compile(r"^(\w+)=(.*)$")


@dataclass(frozen=True)
class Attachment:
    """A document attached to a case, and whether its file is here to download."""

    name: str
    attached_by: str
    attached_at: datetime
    media_type: str | None
    size: int | None
    sha256: str | None

    @property
    def downloadable(self) -> bool:
        return self.sha256 is not None


@dataclass(frozen=True)
class ApprovalView:
    """One visit of the case to an approval state: the votes cast and the evidence the approval asks for.

    `round` is the engine's key of the visit's votes (the case's version when it entered the state),
    not a count; `voting_round` counts the visits to this approval (the engine counts the votes of
    each visit apart: a case sent back and approved again votes anew), and `voting_rounds` all of them.
    """

    state: str
    round: int
    votes: list[Any]
    documents: list[tuple[str, bool]]
    fields: list[tuple[str, bool]]
    quorum: int | None
    title: str = ""
    voting_round: int = 1
    voting_rounds: int = 1


@dataclass
class CaseView:
    case: Case
    definition: Definition
    timeline: list[EngineEvent]
    tasks: list[Task]
    approvals: list[ApprovalView]
    exceptions: list[CaseException]
    open_exception: CaseException | None
    comments: list[Comment]
    attachments: list[Attachment]
    sla: SlaClock | None
    audit: CaseAudit
    answer_task: Task | None = None
    may_comment: bool = False
    may_attach: bool = False
    documents: list[str] = field(default_factory=list)
    data: Any = None
    """The case's data as the page shows it (`services.display.shown`: amounts, times)."""
    branches: list[BranchSeen] = field(default_factory=list)
    parent: ParentSeen | None = None
    """The case this one is a branch of, when the reader may see it."""
    paused_because: str | None = None


def attachments_of(web: WebServices, case_id: int) -> list[Attachment]:
    """Return a case's attachments, oldest first, with what their references say of the kept files."""
    found = []
    for item in evidence_of(web.engine.store.engine, case_id):
        reference = item.reference or ""
        digest = reference.split(";", 1)[0].removeprefix("sha256:") if reference.startswith("sha256:") else None
        fields = dict(match.groups() for part in reference.split(";")[1:] if (match := _REFERENCE_FIELD.match(part)))
        size = fields.get("size")
        found.append(Attachment(item.name, item.attached_by, item.attached_at, fields.get("type"),
                                int(size) if size and size.isdigit() else None, digest))
    return found


def may_write(web: WebServices, user: Principal, case: Case) -> bool:
    """Whether the reader takes part in the case (not only reads it as an auditor): they may comment and attach."""
    return web.visibility.takes_part(user, case)


def case_view(web: WebServices, user: Principal, case_id: int) -> CaseView:
    """Return everything the case page shows to `user`.

    Raises:
        UnknownCase, NotVisible: answered as 404 by the app.
    """
    engine = web.engine
    case = web.visibility.case(user, case_id)
    definition = engine.running(case.workflow, case.definition_version).definition
    history = list(engine.history(case.id))
    tasks = list(engine.tasks(case_id=case.id, status=None, limit=1000))
    exceptions = exceptions_of(history)
    open_exception = next((item for item in exceptions if item.resolved_at is None), None)
    answer_task = next((task for task in tasks if task.kind is TaskKind.EXCEPTION and task.status is TaskStatus.OPEN
                        and task.assignee == user.id and task.role == REQUESTER), None)
    writer = may_write(web, user, case)
    branches = branches_of(engine, case)
    return CaseView(case=case, definition=definition, timeline=history, tasks=tasks,
                    approvals=_approvals(web, case, definition, tasks), exceptions=exceptions,
                    open_exception=open_exception, comments=engine.comments(case.id),
                    attachments=attachments_of(web, case.id), sla=sla_clock(engine, case, history, now=web.clock()),
                    audit=case_audit(engine, case.id), answer_task=answer_task, may_comment=writer,
                    may_attach=writer, documents=_documents(definition),
                    data=shown(case.data, engine.running(case.workflow, case.definition_version).inputs.json_schema()),
                    branches=branches, parent=parent_of(engine, web.visibility, user, case),
                    paused_because=paused_because(engine, case, engine.store.paused_time(case.id), branches))


def _approvals(web: WebServices, case: Case, definition: Definition, tasks: list[Task]) -> list[ApprovalView]:
    visits = sorted({(task.state, task.round) for task in tasks if task.kind is TaskKind.APPROVAL},
                    key=lambda visit: (visit[1], visit[0]))
    names = web.engine.store.evidence_names(case.id)
    views = []
    visits_of = {state: sum(1 for visited, _ in visits if visited == state) for state, _ in visits}
    seen: dict[str, int] = {}
    for state, round_ in visits:
        seen[state] = seen.get(state, 0) + 1
        approval = next((item for item in definition.approvals if item.state == state), None)
        documents = [(name, name in names) for name in (approval.evidence.documents if approval else [])]
        fields = [(name, case.data.get(name) not in (None, "")) for name in (approval.evidence.fields if approval else [])]
        votes = [vote for vote in web.engine.store.votes(case.id, round_) if vote.state == state]
        known = definition.states.get(state)
        views.append(ApprovalView(state, round_, votes, documents, fields,
                                  getattr(approval, "quorum", None) if approval else None,
                                  title=(known.title if known and known.title else state),
                                  voting_round=seen[state], voting_rounds=visits_of[state]))
    return views


def _documents(definition: Definition) -> list[str]:
    names: list[str] = []
    for approval in definition.approvals:
        names += [name for name in approval.evidence.documents if name not in names]
    return names
