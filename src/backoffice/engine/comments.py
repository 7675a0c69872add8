"""Comments on a case: people talking about the work, kept with it and audited like every change.

Mixed into `Engine`. A comment is text by an identified actor (or a delegate on someone's
behalf); it changes no state and passes no control, yet it is written with its audit record
in one transaction and bound to the trail, so a comment edited or removed in the database is
named by `audit verify`. Who may read a case's comments is who may read the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.cases import Actor, utc
from backoffice.errors import InputRefused
from backoffice.limits import check_text

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine

MAX_COMMENT = 10_000


@dataclass(frozen=True)
class Comment:
    """One comment on a case: who wrote it (and for whom), when, and what."""

    id: int
    case_id: int
    author: str
    body: str
    created_at: datetime
    on_behalf_of: str | None = None


class CommentOperations:
    """The comment half of `Engine`."""

    def add_comment(self: Engine, case_id: int, body: str, *, actor: Actor, now: datetime) -> Comment:
        """Add a comment to a case; return it.

        Raises:
            UnknownCase: there is no such case.
            InputRefused: the text is empty, longer than 10,000 characters, or not storable (a NUL byte).
            RoleRequired: the actor takes no part in the case (`_check_takes_part`): a colleague of
                another case or department, or someone who only reads every case (an auditor).
        """
        now = utc(now)
        case = self.case(case_id)
        text = (body or "").strip()
        check_text(text, "the comment")
        if not text:
            raise InputRefused("the comment", "it is empty", "some text")
        if len(text) > MAX_COMMENT:
            raise InputRefused("the comment", f"it is {len(text)} characters long", f"at most {MAX_COMMENT}")
        who = self.identify(actor, workflow=case.workflow, now=now)
        # The rule the API and the web apply before they call this, held here for every caller.
        self._check_takes_part(self.running(case.workflow, case.definition_version).definition, case, who,
                               requester=True, what=f"comment on case {case.id}")
        with self.store.transaction() as tx:
            comment = tx.insert_comment(Comment(id=0, case_id=case.id, author=who.id, body=text, created_at=now,
                                                on_behalf_of=who.on_behalf_of))
            self._audit(tx, AuditEntry(AuditAction.COMMENT_ADDED, actor=who.id, role=who.role, at=now,
                                       case_id=case.id, workflow=case.workflow, version=case.definition_version,
                                       detail={"comment_id": comment.id, "length": len(text), **who.on_behalf()}))
        return comment

    def comments(self: Engine, case_id: int) -> list[Comment]:
        """Return a case's comments, oldest first."""
        self.case(case_id)
        return list(self.store.comments(case_id))
