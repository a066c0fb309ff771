"""Table definitions (SQLAlchemy Core). The schema itself is created by the Alembic migrations."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, SmallInteger, String, Table, Text

__all__ = ["batches", "metadata", "records", "spans", "traces"]

metadata = MetaData()

_Id = BigInteger().with_variant(Integer(), "sqlite")

records = Table(
    "records",
    metadata,
    Column("id", _Id, primary_key=True),
    Column("trace_id", String(32), nullable=False),
    Column("span_id", String(16), nullable=False),
    Column("parent_span_id", String(16)),
    Column("ts_us", BigInteger, nullable=False),
    Column("seq", BigInteger),
    Column("level", String(16), nullable=False),
    Column("logger", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("service", Text, nullable=False),
    Column("raw", Text, nullable=False),
)

_span_and_trace_common = (
    "name",
    "kind",
)

spans = Table(
    "spans",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("span_id", String(16), primary_key=True),
    Column("parent_span_id", String(16)),
    Column("name", Text),
    Column("kind", Text),
    Column("service", Text),
    Column("start_us", BigInteger),
    Column("last_us", BigInteger),
    Column("end_us", BigInteger),
    Column("duration_ms", Float),
    Column("status", String(16)),
    Column("record_count", Integer, nullable=False, default=0),
    Column("has_start", SmallInteger, nullable=False, default=0),
    Column("has_end", SmallInteger, nullable=False, default=0),
    Column("incomplete", SmallInteger, nullable=False, default=0),
    Column("input_tokens", BigInteger),
    Column("output_tokens", BigInteger),
    Column("total_tokens", BigInteger),
    Column("cost_usd", Float),
    Column("model", Text),
    Column("thread_id", Text),
)

traces = Table(
    "traces",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("root_span_id", String(16)),
    Column("root_name", Text),
    Column("root_kind", Text),
    Column("service", Text),
    Column("start_us", BigInteger),
    Column("end_us", BigInteger),
    Column("last_us", BigInteger),
    Column("duration_ms", Float),
    Column("span_count", Integer, nullable=False, default=0),
    Column("record_count", Integer, nullable=False, default=0),
    Column("error_count", Integer, nullable=False, default=0),
    Column("status", String(16)),
    Column("input_tokens", BigInteger),
    Column("output_tokens", BigInteger),
    Column("total_tokens", BigInteger),
    Column("cost_usd", Float),
    Column("model", Text),
    Column("thread_id", Text),
    Column("incomplete", SmallInteger, nullable=False, default=0),
    Column("updated_us", BigInteger, nullable=False, default=0),
)

batches = Table(
    "ingest_batches",
    metadata,
    Column("batch_id", String(200), primary_key=True),
    Column("received_us", BigInteger, nullable=False),
    Column("records", Integer, nullable=False),
)
