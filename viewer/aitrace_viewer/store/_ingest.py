"""What both dialects' ingest share: the result, each record's row, and the upsert merging span deltas."""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from ._tables import column_names, records, spans

__all__ = [
    "RECORD_COLUMNS",
    "SPAN_COLUMNS",
    "IngestResult",
    "record_row",
    "span_values",
    "upsert_spans_sql",
    "without_nul",
]


@dataclass
class IngestResult:
    ingested: int
    duplicate: bool = False
    trace_ids: list[str] = field(default_factory=list)


RECORD_COLUMNS = column_names(records, without=("id",))
"""The ``records`` columns an ingest writes, in :func:`record_row`'s order (the database numbers ``id``)."""


def record_row(record: dict[str, Any], raw: str, ts_us: int) -> tuple[Any, ...]:
    """The :data:`RECORD_COLUMNS` of one validated record."""
    seq = record.get("seq")
    return (
        record["trace_id"],
        record["span_id"],
        record.get("parent_span_id"),
        ts_us,
        seq if type(seq) is int and seq < 2**63 else None,
        record["level"],
        record["logger"],
        record["event"],
        record["service"],
        raw,
    )


_ROW_ORDER = "trace_id span_id parent_span_id ts_us seq level logger event service raw"
if tuple(_ROW_ORDER.split()) != RECORD_COLUMNS:  # the order record_row builds its tuple in
    raise ImportError("records' columns changed: update record_row")


def without_nul(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """PostgreSQL text cannot hold NUL: U+FFFD instead (the stored raw record keeps its escape)."""
    return tuple(v.replace("\x00", "\ufffd") if type(v) is str else v for v in row)


SPAN_COLUMNS = column_names(spans)
"""The ``spans`` columns, each an attribute of :class:`~._derive.SpanDelta` of the same name."""

span_values = attrgetter(*SPAN_COLUMNS)
"""A span delta → its row of :data:`SPAN_COLUMNS` (SQLite binds a tuple much faster than a dict)."""


def _larger(column: str) -> str:
    return f"CASE WHEN excluded.{column} > spans.{column} THEN excluded.{column} ELSE spans.{column} END"


def _smaller(column: str) -> str:
    return (
        f"CASE WHEN spans.{column} IS NULL OR excluded.{column} < spans.{column} "
        f"THEN excluded.{column} ELSE spans.{column} END"
    )


def _first(column: str) -> str:
    """The value first seen wins."""
    return f"COALESCE(spans.{column}, excluded.{column})"


def _latest(column: str) -> str:
    """The batch's value wins when it has one (the end record's)."""
    return f"COALESCE(excluded.{column}, spans.{column})"


def _from_start(column: str) -> str:
    """The start record's value wins; else the first seen."""
    return f"CASE WHEN excluded.has_start = 1 THEN excluded.{column} ELSE {_first(column)} END"


_SPAN_MERGE = {
    "parent_span_id": _first("parent_span_id"),
    "name": _from_start("name"),
    "kind": _from_start("kind"),
    "service": _first("service"),
    "start_us": _smaller("start_us"),
    "last_us": _larger("last_us"),
    "end_us": _latest("end_us"),
    "duration_ms": _latest("duration_ms"),
    "status": _latest("status"),
    "record_count": "spans.record_count + excluded.record_count",
    "has_start": _larger("has_start"),
    "has_end": _larger("has_end"),
    "incomplete": _larger("incomplete"),
    "input_tokens": _latest("input_tokens"),
    "output_tokens": _latest("output_tokens"),
    "total_tokens": _latest("total_tokens"),
    "cost_usd": _latest("cost_usd"),
    "model": _latest("model"),
    "thread_id": _first("thread_id"),
    "input_preview": _from_start("input_preview"),
    "output_preview": _latest("output_preview"),
    "tags": _from_start("tags"),
    "metadata": _from_start("metadata"),
}
"""How a batch's delta merges into a span row, column by column (every column but the key)."""

if set(_SPAN_MERGE) != set(column_names(spans, without=("trace_id", "span_id"))):
    raise ImportError("spans' columns changed: say how each one merges in _SPAN_MERGE")


def upsert_spans_sql(values: str) -> str:
    """The statement merging span rows into ``spans``; ``values`` gives them (``VALUES (?, …)``, a SELECT)."""
    return (
        f"INSERT INTO spans ({', '.join(SPAN_COLUMNS)}) {values} "
        "ON CONFLICT (trace_id, span_id) DO UPDATE SET "
        + ", ".join(f"{column} = {merge}" for column, merge in _SPAN_MERGE.items())
    )
