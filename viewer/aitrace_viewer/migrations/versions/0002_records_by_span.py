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
    op.create_index("ix_records_span", "records", ["trace_id", "span_id", "ts_us", "seq"])


def downgrade() -> None:
    op.drop_index("ix_records_span", table_name="records")
