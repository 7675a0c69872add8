"""An index of the system chain's records by workflow and version: what the engine reads to hold a version to its seal.

When the engine first loads a definition version (or sees a workflow's mode change) it reads the
system chain's records about that workflow to find the one that wrote the row (see
backoffice.engine.sealed_rows). Partial: only records of the system chain are indexed, so the
records every change of a case writes cost nothing more.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEX = "ix_audit_records_system_workflow_version"


def upgrade() -> None:
    system = sa.text("chain = 'system'")
    op.create_index(INDEX, "audit_records", ["workflow", "version"], sqlite_where=system, postgresql_where=system)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="audit_records")
