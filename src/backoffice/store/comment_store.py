"""The store's part for case comments (see engine/comments.py): one table, bound to the audit trail."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from backoffice.engine.comments import Comment
from backoffice.store.precompiled import Precompiled
from backoffice.store.tables import case_comments


def _comment(row: sa.Row) -> Comment:
    return Comment(id=row.id, case_id=row.case_id, author=row.author, body=row.body, created_at=row.created_at,
                   on_behalf_of=row.on_behalf_of)


# A case's comments (every case shown over HTTP reads them): precompiled, some 90 us of CPU less than executed.
_SELECT_COMMENTS = Precompiled(sa.select(case_comments).where(case_comments.c.case_id == sa.bindparam("b_case"))
                               .order_by(case_comments.c.id))

class CommentReads:
    """Reads of comments, mixed into `SqlStore`."""

    engine: sa.Engine

    def comments(self, case_id: int) -> Sequence[Comment]:
        with self._connect() as connection:
            return [_comment(row) for row in _SELECT_COMMENTS.run(connection, {"b_case": case_id})]


class CommentWrites:
    """Writes of comments, mixed into `SqlTransaction`."""

    connection: sa.Connection

    def insert_comment(self, comment: Comment) -> Comment:
        result = self.connection.execute(sa.insert(case_comments).values(
            case_id=comment.case_id, author=comment.author, on_behalf_of=comment.on_behalf_of, body=comment.body,
            created_at=comment.created_at))
        self.wrote(case_comments, result.inserted_primary_key)  # type: ignore[attr-defined]
        return Comment(id=result.inserted_primary_key[0], case_id=comment.case_id, author=comment.author,
                       body=comment.body, created_at=comment.created_at, on_behalf_of=comment.on_behalf_of)
