"""Signed webhook deliveries, each used once: the workflow and idempotency key its signature was first sent for.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from backoffice.store.tables import Hash, UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("signature_sha256", Hash, primary_key=True),
        sa.Column("workflow", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
