"""Human tasks and work queues, approval votes and evidence, raised exceptions, and paused SLA clocks.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from backoffice.store.tables import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Written out rather than taken from tables.py: a migration is a snapshot.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("workflow", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("queue", sa.Text),
        sa.Column("role", sa.Text),
        sa.Column("assignee", sa.Text),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("priority_rank", sa.Integer, nullable=False),
        sa.Column("due_at", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("claimed_by", sa.Text),
        sa.Column("claimed_at", UtcDateTime),
        sa.Column("claim_expires_at", UtcDateTime),
        sa.Column("closed_by", sa.Text),
        sa.Column("closed_at", UtcDateTime),
        sa.Column("reason", sa.Text),
        sa.Column("escalate_at", UtcDateTime),
        sa.Column("escalated", sa.Boolean, nullable=False),
        sa.Column("delegated_by", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_tasks_case_id_cases"),
    )
    op.create_index("ix_tasks_status_queue_priority_rank_due_at", "tasks",
                    ["status", "queue", "priority_rank", "due_at"])
    op.create_index("ix_tasks_case_id_status", "tasks", ["case_id", "status"])
    op.create_index("ix_tasks_status_escalate_at", "tasks", ["status", "escalate_at"])
    op.create_table(
        "approval_votes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("task_id", Id, nullable=False),
        sa.Column("approver", sa.Text, nullable=False),
        sa.Column("role", sa.Text),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("on_behalf_of", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approval_votes"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_approval_votes_case_id_cases"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_approval_votes_task_id_tasks"),
        sa.UniqueConstraint("case_id", "round", "approver", name="uq_approval_votes_case_id_round_approver"),
        sa.UniqueConstraint("task_id", name="uq_approval_votes_task_id"),
    )
    op.create_table(
        "evidence",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("reference", sa.Text),
        sa.Column("attached_by", sa.Text, nullable=False),
        sa.Column("attached_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_evidence_case_id_cases"),
    )
    op.create_index("ix_evidence_case_id", "evidence", ["case_id"])
    op.create_table(
        "case_exceptions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raised_in", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("raised_by", sa.Text, nullable=False),
        sa.Column("raised_at", UtcDateTime, nullable=False),
        sa.Column("resolved_by", sa.Text),
        sa.Column("resolved_at", UtcDateTime),
        sa.Column("resolution", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_case_exceptions"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_exceptions_case_id_cases"),
    )
    op.create_index("ix_case_exceptions_case_id_resolved_at", "case_exceptions", ["case_id", "resolved_at"])
    op.create_table(
        "sla_clocks",
        sa.Column("case_id", Id, primary_key=True, autoincrement=False),
        sa.Column("paused_seconds", sa.Float, nullable=False),
        sa.Column("paused_since", UtcDateTime),
        sa.PrimaryKeyConstraint("case_id", name="pk_sla_clocks"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_sla_clocks_case_id_cases"),
    )


def downgrade() -> None:
    for table in ("sla_clocks", "case_exceptions", "evidence", "approval_votes", "tasks"):
        op.drop_table(table)
