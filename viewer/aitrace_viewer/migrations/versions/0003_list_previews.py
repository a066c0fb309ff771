"""The list tells runs apart: input/output previews, tags and metadata in the summaries; indexes per sort.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = ("input_preview", "output_preview", "tags", "metadata")
_SORTS = {
    "ix_traces_duration": "duration_ms",
    "ix_traces_tokens": "total_tokens",
    "ix_traces_cost": "cost_usd",
    "ix_traces_errors": "error_count",
}

_PARTIAL = {"ix_traces_tagged": "tags", "ix_traces_with_metadata": "metadata"}


def upgrade() -> None:
    # (traces written before this revision keep empty previews until a record of theirs arrives)
    for table in ("spans", "traces"):
        for column in _COLUMNS:
            op.add_column(table, sa.Column(column, sa.Text()))
    for name, column in _SORTS.items():
        op.create_index(name, "traces", [column, "trace_id"])
    for name, column in _PARTIAL.items():
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "traces", ["start_us", "trace_id"], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name in (*_SORTS, *_PARTIAL):
        op.drop_index(name, table_name="traces")
    for table in ("spans", "traces"):
        for column in _COLUMNS:
            op.drop_column(table, column)
