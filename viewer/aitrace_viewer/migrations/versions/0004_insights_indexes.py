"""Insights: spans by kind and by model, each in time order, so a breakdown over a range reads only its spans.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0002"  # (merged after 0003, the lead points this at "0003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_spans_kind_start", "spans", ["kind", "start_us"])
    op.create_index("ix_spans_model_start", "spans", ["model", "start_us"])


def downgrade() -> None:
    op.drop_index("ix_spans_model_start", table_name="spans")
    op.drop_index("ix_spans_kind_start", table_name="spans")
