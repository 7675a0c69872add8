"""My work: indexes for a person's task searches, and saved (and shared) task filters.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from backoffice.store.tables import UtcDateTime

revision = "0011"
# Given as 0008; chained after webcore's 0009 once merged here (one line of history, one head).
down_revision = "0010"
branch_labels = None
depends_on = None

# Written out rather than taken from tables.py: a migration is a snapshot.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index("ix_tasks_status_assignee", "tasks", ["status", "assignee"])
    op.create_index("ix_tasks_status_claimed_by", "tasks", ["status", "claimed_by"])
    op.create_index("ix_tasks_status_due_at_created_at", "tasks", ["status", "due_at", "created_at"])
    op.create_table(
        "saved_filters",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("shared_queue", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_saved_filters"),
        sa.UniqueConstraint("owner", "name", name="uq_saved_filters_owner_name"),
    )
    op.create_index("ix_saved_filters_shared_queue", "saved_filters", ["shared_queue"])


def downgrade() -> None:
    op.drop_index("ix_saved_filters_shared_queue", table_name="saved_filters")
    op.drop_table("saved_filters")
    op.drop_index("ix_tasks_status_due_at_created_at", table_name="tasks")
    op.drop_index("ix_tasks_status_claimed_by", table_name="tasks")
    op.drop_index("ix_tasks_status_assignee", table_name="tasks")
