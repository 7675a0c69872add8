"""The API's lists: a queue's tasks and a requester's cases, a page at a time by id, read from an index.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # GET /v1/tasks?queue=Q&status=open pages by id (keyset): without it the primary key is walked and
    # every other queue's task is read and dropped (ten thousand rows a page at 100,000 cases).
    op.create_index("ix_tasks_queue_status_id", "tasks", ["queue", "status", "id"])
    # A requester's own cases (the visibility rule's first arm, and GET /v1/cases?requester=), by id.
    op.create_index("ix_cases_requester_id", "cases", ["requester", "id"])


def downgrade() -> None:
    op.drop_index("ix_cases_requester_id", table_name="cases")
    op.drop_index("ix_tasks_queue_status_id", table_name="tasks")
