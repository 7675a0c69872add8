"""Parallel work inside a case: branches and sub-cases as child cases, the rows the join reads, events' branch.

Cases and events written before this revision have no branch (null): they run and read as before.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from backoffice.store.tables import Id, UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("parent_id", Id))
        batch.add_column(sa.Column("parent_state", sa.Text))
        batch.add_column(sa.Column("branch", sa.Text))
    op.create_index("ix_cases_parent_id", "cases", ["parent_id"])
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("branch", sa.Text))
    op.create_table(
        "case_branches",
        sa.Column("id", Id, nullable=False, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("child_id", Id, nullable=False),
        sa.Column("required", sa.Boolean, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text),
        sa.Column("opened_at", UtcDateTime, nullable=False),
        sa.Column("due_at", UtcDateTime),
        sa.Column("closed_at", UtcDateTime),
        sa.Column("reason", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_case_branches"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_branches_case_id_cases"),
        sa.ForeignKeyConstraint(["child_id"], ["cases.id"], name="fk_case_branches_child_id_cases"),
        sa.UniqueConstraint("case_id", "state", "round", "branch", name="uq_case_branches_case_id_state_round_branch"),
    )
    op.create_index("ix_case_branches_child_id", "case_branches", ["child_id"])


def downgrade() -> None:
    op.drop_index("ix_case_branches_child_id", table_name="case_branches")
    op.drop_table("case_branches")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("branch")
    op.drop_index("ix_cases_parent_id", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("branch")
        batch.drop_column("parent_state")
        batch.drop_column("parent_id")
