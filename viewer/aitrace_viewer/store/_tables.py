"""The store's schema, its one source of truth: tables, indexes and full-text search on each dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql import text

__all__ = [
    "FULL_TEXT_DDL",
    "FULL_TEXT_TABLE",
    "batches",
    "column_names",
    "create_ddl",
    "metadata",
    "records",
    "spans",
    "traces",
]

# The Alembic migrations (migrations/versions) are the history that brought a database to this schema; a test
# checks that a migrated database and these definitions agree.

metadata = MetaData()

_Id = BigInteger().with_variant(Integer(), "sqlite")


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both dialects."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


records = Table(
    "records",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
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
    Index("ix_records_trace", "trace_id", "ts_us", "seq"),
    # span ids alone: a third the size of (trace_id, span_id, …), and as selective (64 random bits)
    Index("ix_records_span", "span_id"),
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
    Column("record_count", Integer, nullable=False, server_default="0"),
    Column("has_start", SmallInteger, nullable=False, server_default="0"),
    Column("has_end", SmallInteger, nullable=False, server_default="0"),
    Column("incomplete", SmallInteger, nullable=False, server_default="0"),
    Column("input_tokens", BigInteger),
    Column("output_tokens", BigInteger),
    Column("total_tokens", BigInteger),
    Column("cost_usd", Float),
    Column("model", Text),
    Column("thread_id", Text),
    # a root's (and an LLM call's) input and output in short, a root's tags and metadata (migration 0003)
    Column("input_preview", Text),
    Column("output_preview", Text),
    Column("tags", Text),
    Column("metadata", Text),
    Index("ix_spans_name", "name", "trace_id"),
    # insights: a breakdown reads only the spans of its kind (or with a model), and walks a group's spans in
    # duration order for its percentiles; the columns its filters and sums read are in the index too, so no
    # table row is read (store/_insights.py)
    Index("ix_spans_kind_value", "kind", "name", "duration_ms", "start_us", "status", "service", "trace_id"),
    Index(
        "ix_spans_model_value",
        *("model", "duration_ms", "start_us", "status", "input_tokens", "output_tokens", "cost_usd"),
        *("service", "trace_id"),
    ),
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
    Column("span_count", Integer, nullable=False, server_default="0"),
    Column("record_count", Integer, nullable=False, server_default="0"),
    Column("error_count", Integer, nullable=False, server_default="0"),
    Column("status", String(16)),
    Column("input_tokens", BigInteger),
    Column("output_tokens", BigInteger),
    Column("total_tokens", BigInteger),
    Column("cost_usd", Float),
    Column("model", Text),
    Column("thread_id", Text),
    Column("incomplete", SmallInteger, nullable=False, server_default="0"),
    Column("updated_us", BigInteger, nullable=False, server_default="0"),
    # what tells runs apart in the list (migration 0003): previews, the root's tags (a JSON array) and
    # metadata (a JSON object)
    Column("input_preview", Text),
    Column("output_preview", Text),
    Column("tags", Text),
    Column("metadata", Text),
    Index("ix_traces_start", "start_us", "trace_id"),
    Index("ix_traces_service", "service", "start_us"),
    Index("ix_traces_thread", "thread_id", "start_us"),
    Index("ix_traces_model", "model", "start_us"),
    Index("ix_traces_updated", "updated_us"),
    Index("ix_traces_last", "last_us"),
    # the list's other sorts (migration 0003)
    Index("ix_traces_duration", "duration_ms", "trace_id"),
    Index("ix_traces_tokens", "total_tokens", "trace_id"),
    Index("ix_traces_cost", "cost_usd", "trace_id"),
    Index("ix_traces_errors", "error_count", "trace_id"),
    # the tag and metadata filters read only the traces that have some, newest first
    Index("ix_traces_tagged", "start_us", "trace_id", **_where("tags IS NOT NULL")),
    Index("ix_traces_with_metadata", "start_us", "trace_id", **_where("metadata IS NOT NULL")),
    # insights: latency percentiles walk the traces in duration order, filtered in the index
    Index("ix_traces_value", "duration_ms", "start_us", "status", "service"),
)

batches = Table(
    "ingest_batches",
    metadata,
    Column("batch_id", String(200), primary_key=True),
    Column("received_us", BigInteger, nullable=False),
    Column("records", Integer, nullable=False),
)

FULL_TEXT_TABLE = "records_fts"
"""SQLite: the FTS5 table of the records' search text, one row per record with ``rowid`` = ``records.id``."""

FULL_TEXT_DDL: dict[str, tuple[str, ...]] = {
    # what SQLAlchemy cannot declare: an FTS5 table on SQLite, a tsvector column and its index on PostgreSQL
    "sqlite": (f"CREATE VIRTUAL TABLE {FULL_TEXT_TABLE} USING fts5(body, tokenize='unicode61')",),
    "postgresql": (
        "ALTER TABLE records ADD COLUMN search tsvector",
        "CREATE INDEX ix_records_search ON records USING gin (search)",
    ),
}


def column_names(table: Table, *, without: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The names of ``table``'s columns in their declared order, less ``without``."""
    return tuple(c.name for c in table.columns if c.name not in without)


def create_ddl(dialect: Dialect) -> list[str]:
    """The statements that make this schema on ``dialect``: tables, their indexes, then full-text search."""
    out: list[str] = []
    for table in metadata.sorted_tables:
        out.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        out.extend(
            str(CreateIndex(index).compile(dialect=dialect))
            for index in sorted(table.indexes, key=lambda i: str(i.name))
        )
    out.extend(FULL_TEXT_DDL[dialect.name])
    return out
