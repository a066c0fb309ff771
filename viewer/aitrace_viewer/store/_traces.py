# SQL is composed only from the schema's column names, constants and placeholders in this module:
# ruff: noqa: S608
"""The trace list: summaries as the API shows them, filters, pages and cursors, changes for live updates."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Engine, text

from ._derive import format_ts
from ._search import text_filter

__all__ = [
    "SUMMARY_SELECT",
    "TraceFilters",
    "TraceRow",
    "changes_since",
    "decode_cursor",
    "encode_cursor",
    "list_traces",
    "summary_from_row",
]


@dataclass
class TraceFilters:
    service: str | None = None
    status: str | None = None
    errors: bool = False
    since_us: int | None = None
    until_us: int | None = None
    min_duration_ms: float | None = None
    max_duration_ms: float | None = None
    model: str | None = None
    thread_id: str | None = None
    span_name: str | None = None
    q: str | None = None


class TraceRow(NamedTuple):
    """The ``traces`` columns a summary is made of (``SUMMARY_SELECT`` selects them in this order)."""

    trace_id: str
    root_span_id: str | None
    root_name: str | None
    root_kind: str | None
    service: str | None
    start_us: int | None
    end_us: int | None
    last_us: int | None
    duration_ms: float | None
    span_count: int
    record_count: int
    error_count: int
    status: str | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    cost_usd: float | None
    model: str | None
    thread_id: str | None
    incomplete: int
    input_preview: str | None
    output_preview: str | None
    tags: str | None
    metadata: str | None


SUMMARY_SELECT = ", ".join(TraceRow._fields)


def summary_from_row(row: Sequence[Any]) -> dict[str, Any]:
    """A trace's summary as the API shows it, from the :class:`TraceRow` columns (a TraceRow or a row of
    ``SUMMARY_SELECT``: unpacked into the same names at once, the cheapest way to read 50 rows of 20)."""
    (
        trace_id,
        _root_span_id,
        root_name,
        root_kind,
        service,
        start_us,
        end_us,
        _last_us,
        duration_ms,
        span_count,
        record_count,
        error_count,
        status,
        input_tokens,
        output_tokens,
        total_tokens,
        cost_usd,
        model,
        thread_id,
        incomplete,
        input_preview,
        output_preview,
        tags,
        metadata,
    ) = row
    running = status == "running"  # (rows written before running traces had no duration carry one)
    return {
        "trace_id": trace_id,
        "root_name": root_name,
        "root_kind": root_kind,
        "service": service,
        "start": format_ts(start_us),
        "end": None if running else format_ts(end_us),
        "duration_ms": None if running else duration_ms,
        "span_count": span_count,
        "record_count": record_count,
        "error_count": error_count,
        "status": status,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": total_tokens,
        "cost_usd": cost_usd,
        "model": model,
        "thread_id": thread_id,
        "incomplete": bool(incomplete),
        "input_preview": input_preview,
        "output_preview": output_preview,
        "tags": json.loads(tags) if tags else [],
        "metadata": json.loads(metadata) if metadata else {},
    }


def encode_cursor(start_us: int, trace_id: str) -> str:
    return base64.urlsafe_b64encode(f"{start_us}:{trace_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """Raises ValueError on anything that is not a cursor this server made."""
    padded = cursor + "=" * (-len(cursor) % 4)
    start, _, trace_id = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii").partition(":")
    if len(trace_id) != 32 or any(c not in "0123456789abcdef" for c in trace_id):
        raise ValueError("bad cursor")
    return int(start), trace_id


def _conditions(f: TraceFilters, pg: bool) -> tuple[list[str], dict[str, Any]]:
    """The WHERE terms of the filters (on ``traces``) and their parameters."""
    where: list[str] = []
    params: dict[str, Any] = {}
    for column, value in (
        ("service", f.service),
        ("status", f.status),
        ("model", f.model),
        ("thread_id", f.thread_id),
    ):
        if value is not None:
            where.append(f"{column} = :{column}")
            params[column] = value
    if f.errors:
        where.append("error_count > 0")
    if f.since_us is not None:
        where.append("start_us >= :since")
        params["since"] = f.since_us
    if f.until_us is not None:
        where.append("start_us <= :until")
        params["until"] = f.until_us
    if f.min_duration_ms is not None:
        where.append("duration_ms >= :min_d")
        params["min_d"] = f.min_duration_ms
    if f.max_duration_ms is not None:
        where.append("duration_ms <= :max_d")
        params["max_d"] = f.max_duration_ms
    if f.span_name is not None:
        where.append("trace_id IN (SELECT trace_id FROM spans WHERE name = :span_name)")
        params["span_name"] = f.span_name
    if f.q:
        condition = text_filter(f.q, pg)
        if condition is not None:
            where.append(condition[0])
            params["q"] = condition[1]
    return where, params


def list_traces(
    reader: Engine, pg: bool, filters: TraceFilters, limit: int, cursor: str | None, oldest_first: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of trace summaries, newest first (or oldest), and the cursor of the next page if any."""
    where, params = _conditions(filters, pg)
    if cursor is not None:
        c_start, c_trace = decode_cursor(cursor)
        op = ">" if oldest_first else "<"
        where.append(f"(start_us {op} :c_start OR (start_us = :c_start AND trace_id {op} :c_trace))")
        params["c_start"], params["c_trace"] = c_start, c_trace
    order = "ASC" if oldest_first else "DESC"
    sql = (
        f"SELECT {SUMMARY_SELECT} FROM traces"
        + (" WHERE start_us IS NOT NULL" + "".join(" AND " + w for w in where))
        + f" ORDER BY start_us {order}, trace_id {order} LIMIT :limit"
    )
    params["limit"] = limit + 1
    with reader.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = TraceRow._make(rows[-1])
        assert last.start_us is not None  # (the query excludes rows without one)
        next_cursor = encode_cursor(last.start_us, last.trace_id)
    return [summary_from_row(r) for r in rows], next_cursor


_CHANGES = (
    f"SELECT {SUMMARY_SELECT}, updated_us FROM traces WHERE updated_us > :u AND start_us IS NOT NULL "
    "ORDER BY updated_us LIMIT :limit"
)
_UPDATED = len(TraceRow._fields)  # the index of updated_us in _CHANGES: after the summary's columns


def changes_since(reader: Engine, updated_us: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """Trace summaries changed after ``updated_us`` (for the event stream), oldest change first."""
    with reader.connect() as conn:
        rows = conn.execute(text(_CHANGES), {"u": updated_us, "limit": limit}).all()
    return [(int(r[_UPDATED]), summary_from_row(r[:_UPDATED])) for r in rows]
