"""Governed change: versions that wait for a second person before they are deployed.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backoffice.store.tables import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "definition_changes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("workflow", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("definition_status", sa.Text, nullable=False),
        sa.Column("definition_json", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("contract_name", sa.Text),
        sa.Column("contract_source", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reasons", Json, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_at", UtcDateTime),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_definition_changes"),
    )
    op.create_index("ix_definition_changes_workflow_status", "definition_changes", ["workflow", "status"])


def downgrade() -> None:
    op.drop_index("ix_definition_changes_workflow_status", table_name="definition_changes")
    op.drop_table("definition_changes")
