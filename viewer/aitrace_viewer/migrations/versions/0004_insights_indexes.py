"""Insights: spans by kind and name, and by model, and traces, each in duration order: a breakdown reads only
its spans, and a latency percentile is an ordered walk of an index that holds what the filters read.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_KIND = ["kind", "name", "duration_ms", "start_us", "status", "service", "trace_id"]
_MODEL = ["model", "duration_ms", "start_us", "status", "input_tokens", "output_tokens", "cost_usd", "service"]
_MODEL += ["trace_id"]  # (the model filter: the traces that called a model, read from the index alone)
_TRACES = ["duration_ms", "start_us", "status", "service"]


def upgrade() -> None:
    op.create_index("ix_spans_kind_value", "spans", _KIND)
    op.create_index("ix_spans_model_value", "spans", _MODEL)
    op.create_index("ix_traces_value", "traces", _TRACES)


def downgrade() -> None:
    op.drop_index("ix_traces_value", table_name="traces")
    op.drop_index("ix_spans_model_value", table_name="spans")
    op.drop_index("ix_spans_kind_value", table_name="spans")
