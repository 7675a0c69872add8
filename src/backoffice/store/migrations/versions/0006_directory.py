"""The directory: people, service accounts, groups, role grants, queue membership, tokens, delegations.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backoffice.store.tables import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out rather than taken from tables.py: a migration is a snapshot.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Hash = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("os_user", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.UniqueConstraint("os_user", name="uq_people_os_user"),
    )
    op.create_table(
        "service_accounts",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_accounts"),
    )
    op.create_table(
        "person_groups",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person_groups"),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Text, nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("group_id", "person_id", name="pk_group_members"),
        sa.ForeignKeyConstraint(["group_id"], ["person_groups.id"], name="fk_group_members_group_id_person_groups"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_group_members_person_id_people"),
    )
    op.create_index("ix_group_members_person_id", "group_members", ["person_id"])
    op.create_table(
        "role_grants",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("grantee_kind", sa.Text, nullable=False),
        sa.Column("grantee", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("workflow", sa.Text, nullable=False),
        sa.Column("granted_by", sa.Text, nullable=False),
        sa.Column("granted_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_role_grants"),
        sa.UniqueConstraint("grantee_kind", "grantee", "role", "workflow",
                            name="uq_role_grants_grantee_kind_grantee_role_workflow"),
    )
    op.create_table(
        "queue_members",
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("queue", "person_id", name="pk_queue_members"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_queue_members_person_id_people"),
    )
    op.create_index("ix_queue_members_person_id", "queue_members", ["person_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("token_hash", Hash, nullable=False),
        sa.Column("principal", sa.Text, nullable=False),
        sa.Column("principal_kind", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("roles", Json, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_principal", "api_tokens", ["principal"])
    op.create_table(
        "delegations",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("delegator", sa.Text, nullable=False),
        sa.Column("delegate", sa.Text, nullable=False),
        sa.Column("workflow", sa.Text),
        sa.Column("role", sa.Text),
        sa.Column("starts_at", UtcDateTime, nullable=False),
        sa.Column("ends_at", UtcDateTime, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_delegations"),
        sa.ForeignKeyConstraint(["delegator"], ["people.id"], name="fk_delegations_delegator_people"),
        sa.ForeignKeyConstraint(["delegate"], ["people.id"], name="fk_delegations_delegate_people"),
    )
    op.create_index("ix_delegations_delegate_delegator", "delegations", ["delegate", "delegator"])


def downgrade() -> None:
    for table in ("delegations", "api_tokens", "queue_members", "role_grants", "group_members", "person_groups",
                  "service_accounts", "people"):
        op.drop_table(table)
