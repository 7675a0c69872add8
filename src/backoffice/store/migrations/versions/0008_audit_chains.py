"""One audit chain per case, sealed records bound to the rows they wrote (see engine/audit.py).

The records written before this revision keep their hashes: they become the `legacy` chain,
checked by plain sha256 as before and anchored by the first signed checkpoint. Rows written
before it are bound by no record: `verify` counts them apart (see engine/audit_verify.py).

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from backoffice.store.tables import Hash, Id, UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LEGACY = "legacy"
# The highest row ids before this revision, per bound table: rows at or below them predate the binding.
LEGACY_TABLES = ("cases", "events", "tasks", "approval_votes", "evidence", "case_exceptions", "workflow_versions",
                 "role_grants", "api_tokens", "delegations")


def upgrade() -> None:
    bind = op.get_bind()
    # The old table's index and primary key names are taken by the new table: free them first.
    op.drop_index("ix_audit_records_case_id", table_name="audit_records")
    op.rename_table("audit_records", "audit_records_0005")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER INDEX pk_audit_records RENAME TO pk_audit_records_0005")
    op.create_table(
        "audit_records",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("chain", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("role", sa.Text),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("case_id", Id),
        sa.Column("workflow", sa.Text),
        sa.Column("version", sa.Integer),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("rows", sa.Text, nullable=False),
        sa.Column("prev_hash", Hash, nullable=False),
        sa.Column("hash", Hash, nullable=False),
        sa.Column("key_id", sa.String(16)),
        sa.Column("mac", Hash),
        sa.PrimaryKeyConstraint("id", name="pk_audit_records"),
        sa.UniqueConstraint("chain", "seq", name="uq_audit_records_chain_seq"),
    )
    op.create_index("ix_audit_records_case_id", "audit_records", ["case_id"])
    op.execute(
        "INSERT INTO audit_records (id, chain, seq, action, actor, role, at, case_id, workflow, version, detail, rows,"
        " prev_hash, hash) SELECT seq, 'legacy', seq, action, actor, role, at, case_id, workflow, version, detail,"
        " '[]', prev_hash, hash FROM audit_records_0005")
    op.drop_table("audit_records_0005")
    if bind.dialect.name == "postgresql":
        # The ids went in by hand: the sequence must start after them.
        op.execute("SELECT setval(pg_get_serial_sequence('audit_records', 'id'),"
                   " COALESCE((SELECT max(id) FROM audit_records), 0) + 1, false)")
    chains = op.create_table(
        "audit_chains",
        sa.Column("chain", sa.Text, nullable=False),
        sa.Column("case_id", Id),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", Hash, nullable=False),
        sa.PrimaryKeyConstraint("chain", name="pk_audit_chains"),
    )
    head = bind.execute(sa.text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    if head is not None and head.seq > 0:
        op.bulk_insert(chains, [{"chain": LEGACY, "case_id": None, "seq": head.seq, "hash": head.hash}])
    op.drop_table("audit_head")
    _note_legacy_rows(bind)


def _note_legacy_rows(bind: sa.Connection) -> None:
    # Where the rows written before this revision end, kept beside the legacy chain: `verify`
    # does not call them added outside the engine, and says how many it cannot vouch for.
    legacy = sa.table("audit_legacy_rows", sa.column("table_name", sa.Text), sa.column("last_id", sa.BigInteger))
    op.create_table(
        "audit_legacy_rows",
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("last_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("table_name", name="pk_audit_legacy_rows"),
    )
    marks = []
    for name in LEGACY_TABLES:
        last = bind.execute(sa.text(f"SELECT max(id) FROM {name}")).scalar()
        if last is not None:
            marks.append({"table_name": name, "last_id": last})
    if marks:
        op.bulk_insert(legacy, marks)


def downgrade() -> None:
    raise NotImplementedError("the audit chains cannot be folded back into one chain: restore a backup instead")
