"""The engine's core: deployed workflow versions, cases, events, and the hash-chained audit trail.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backoffice.store.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out rather than taken from tables.py: a migration is a snapshot, and must not
# change when the tables of a later revision do.
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Hash = sa.String(64)
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "workflow_versions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("workflow", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", Hash, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("definition_json", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("contract_name", sa.Text),
        sa.Column("contract_source", sa.Text),
        sa.Column("deployed_at", UtcDateTime, nullable=False),
        sa.Column("deployed_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_versions"),
        sa.UniqueConstraint("workflow", "version", name="uq_workflow_versions_workflow_version"),
    )
    op.create_table(
        "cases",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("workflow", sa.Text, nullable=False),
        sa.Column("definition_version", sa.Integer, nullable=False),
        sa.Column("workflow_version_id", Id, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("previous_state", sa.Text),
        sa.Column("data", Json, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("queue", sa.Text),
        sa.Column("owner", sa.Text),
        sa.Column("requester", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("intake_hash", Hash),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.ForeignKeyConstraint(["workflow_version_id"], ["workflow_versions.id"],
                                name="fk_cases_workflow_version_id_workflow_versions"),
        sa.UniqueConstraint("workflow", "idempotency_key", name="uq_cases_workflow_idempotency_key"),
    )
    op.create_index("ix_cases_workflow_state", "cases", ["workflow", "state"])
    op.create_index("ix_cases_queue_state", "cases", ["queue", "state"])
    op.create_table(
        "events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("activity", sa.Text, nullable=False),
        sa.Column("timestamp", UtcDateTime, nullable=False),
        sa.Column("resource", sa.Text),
        sa.Column("role", sa.Text),
        sa.Column("system", sa.Text),
        sa.Column("lifecycle", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("workflow", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("attributes", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_events_case_id_cases"),
    )
    op.create_index("ix_events_case_id", "events", ["case_id"])
    op.create_index("ix_events_workflow_timestamp", "events", ["workflow", "timestamp"])
    op.create_table(
        "audit_records",
        sa.Column("seq", Id, primary_key=True, autoincrement=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("role", sa.Text),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("case_id", Id),
        sa.Column("workflow", sa.Text),
        sa.Column("version", sa.Integer),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", Hash, nullable=False),
        sa.Column("hash", Hash, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_records"),
    )
    op.create_index("ix_audit_records_case_id", "audit_records", ["case_id"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", Hash, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])


def downgrade() -> None:
    for table in ("audit_head", "audit_records", "events", "cases", "workflow_versions"):
        op.drop_table(table)
