"""Initial store: records (+ full-text index), span and trace summaries, seen batch ids.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "records",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("parent_span_id", sa.String(16)),
        sa.Column("ts_us", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("logger", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
    op.create_index("ix_records_trace", "records", ["trace_id", "ts_us", "seq"])
    if dialect == "postgresql":
        op.execute("ALTER TABLE records ADD COLUMN search tsvector")
        op.execute("CREATE INDEX ix_records_search ON records USING gin (search)")
    else:
        op.execute("CREATE VIRTUAL TABLE records_fts USING fts5(body, tokenize='unicode61')")

    op.create_table(
        "spans",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("span_id", sa.String(16), primary_key=True),
        sa.Column("parent_span_id", sa.String(16)),
        sa.Column("name", sa.Text),
        sa.Column("kind", sa.Text),
        sa.Column("service", sa.Text),
        sa.Column("start_us", sa.BigInteger),
        sa.Column("last_us", sa.BigInteger),
        sa.Column("end_us", sa.BigInteger),
        sa.Column("duration_ms", sa.Float),
        sa.Column("status", sa.String(16)),
        sa.Column("record_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("has_start", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("has_end", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("incomplete", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("input_tokens", sa.BigInteger),
        sa.Column("output_tokens", sa.BigInteger),
        sa.Column("total_tokens", sa.BigInteger),
        sa.Column("cost_usd", sa.Float),
        sa.Column("model", sa.Text),
        sa.Column("thread_id", sa.Text),
    )
    op.create_index("ix_spans_name", "spans", ["name", "trace_id"])

    op.create_table(
        "traces",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("root_span_id", sa.String(16)),
        sa.Column("root_name", sa.Text),
        sa.Column("root_kind", sa.Text),
        sa.Column("service", sa.Text),
        sa.Column("start_us", sa.BigInteger),
        sa.Column("end_us", sa.BigInteger),
        sa.Column("last_us", sa.BigInteger),
        sa.Column("duration_ms", sa.Float),
        sa.Column("span_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("record_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(16)),
        sa.Column("input_tokens", sa.BigInteger),
        sa.Column("output_tokens", sa.BigInteger),
        sa.Column("total_tokens", sa.BigInteger),
        sa.Column("cost_usd", sa.Float),
        sa.Column("model", sa.Text),
        sa.Column("thread_id", sa.Text),
        sa.Column("incomplete", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("updated_us", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_traces_start", "traces", ["start_us", "trace_id"])
    op.create_index("ix_traces_service", "traces", ["service", "start_us"])
    op.create_index("ix_traces_thread", "traces", ["thread_id", "start_us"])
    op.create_index("ix_traces_model", "traces", ["model", "start_us"])
    op.create_index("ix_traces_updated", "traces", ["updated_us"])
    op.create_index("ix_traces_last", "traces", ["last_us"])

    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.String(200), primary_key=True),
        sa.Column("received_us", sa.BigInteger, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("ingest_batches", "traces", "spans"):
        op.drop_table(table)
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS records_fts")
    op.drop_table("records")
