"""Records by span: the trace page of a big trace loads one span's records at a time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # span ids alone: a third the size of (trace_id, span_id, …), and as selective (64 random bits)
    op.create_index("ix_records_span", "records", ["span_id"])


def downgrade() -> None:
    op.drop_index("ix_records_span", table_name="records")
