"""Reminders and escalations (timers), and notifications in the outbox.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backoffice.store.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Written out rather than taken from tables.py: a migration is a snapshot.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Entries written before this revision are all automated steps.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("kind", sa.Text, nullable=False, server_default="step"))
        batch.add_column(sa.Column("payload", Json))
    op.create_table(
        "timers",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("workflow", sa.Text, nullable=False),
        sa.Column("timer", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("clock", sa.Text, nullable=False),
        sa.Column("state", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("due_at", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("settled_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_timers_case_id_cases"),
    )
    op.create_index("ix_timers_status_due_at", "timers", ["status", "due_at"])
    op.create_index("ix_timers_case_id_status", "timers", ["case_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_timers_case_id_status", table_name="timers")
    op.drop_index("ix_timers_status_due_at", table_name="timers")
    op.drop_table("timers")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("payload")
        batch.drop_column("kind")
