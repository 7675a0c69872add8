"""The duplicate rule: a hash of each case's duplicate-rule fields, indexed per workflow.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Cases started before this revision have none: no later intake is taken as their duplicate.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("duplicate_key", sa.String(64)))
    op.create_index("ix_cases_workflow_duplicate_key", "cases", ["workflow", "duplicate_key"])


def downgrade() -> None:
    op.drop_index("ix_cases_workflow_duplicate_key", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("duplicate_key")
