"""The web app: local accounts (Argon2id), browser sign-ins, the key that signs its cookies, case comments.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from backoffice.store.tables import Hash, Id, UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_accounts",
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("set_by", sa.Text, nullable=False),
        sa.Column("set_at", UtcDateTime, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", UtcDateTime),
        sa.PrimaryKeyConstraint("person_id", name="pk_local_accounts"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_local_accounts_person_id_people"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("token_hash", Hash, nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("seen_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("ended_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_web_sessions_person_id_people"),
    )
    op.create_index("ix_web_sessions_person_id", "web_sessions", ["person_id"])
    op.create_table(
        "web_keys",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_web_keys"),
    )
    op.create_table(
        "case_comments",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("on_behalf_of", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_comments"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_comments_case_id_cases"),
    )
    op.create_index("ix_case_comments_case_id", "case_comments", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_comments_case_id", table_name="case_comments")
    op.drop_table("case_comments")
    op.drop_table("web_keys")
    op.drop_index("ix_web_sessions_person_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("local_accounts")
