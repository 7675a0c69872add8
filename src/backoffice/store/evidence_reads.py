"""The evidence attached to a case, with where each piece is kept (the reference the engine stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from backoffice.store.read_scope import shared_reader
from backoffice.store.tables import evidence


@dataclass(frozen=True)
class AttachedEvidence:
    name: str
    reference: str | None
    attached_by: str
    attached_at: datetime


def evidence_of(engine: sa.Engine, case_id: int) -> list[AttachedEvidence]:
    """Return a case's attachments in the order they were attached."""
    query = (sa.select(evidence.c.name, evidence.c.reference, evidence.c.attached_by, evidence.c.attached_at)
             .where(evidence.c.case_id == case_id).order_by(evidence.c.id))
    shared = shared_reader(engine)
    if shared is not None:
        # Inside a request: its one read connection (store.read_scope), not a second one.
        return [AttachedEvidence(*row) for row in shared.execute(query)]
    with engine.connect() as connection:
        return [AttachedEvidence(*row) for row in connection.execute(query)]
