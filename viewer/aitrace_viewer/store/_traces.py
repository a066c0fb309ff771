# SQL is composed only from the schema's column names, constants and placeholders in this module:
# ruff: noqa: S608
"""The trace list: summaries as the API shows them, filters, pages and cursors, changes for live updates."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Engine, text

from ._derive import format_ts
from ._listsort import SORTS, Page
from ._search import text_filter

__all__ = [
    "SORTS",
    "SUMMARY_SELECT",
    "TraceFilters",
    "TraceRow",
    "changes_since",
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
    tags: list[str] = field(default_factory=list)
    """Traces carrying every one of these tags."""
    meta: list[tuple[str, str]] = field(default_factory=list)
    """Traces whose metadata has each of these keys with this value (as text: ``42``, ``true``, ``u7``)."""


def _like(value: str) -> str:
    """``value`` as a LIKE pattern matching itself anywhere (``ESCAPE '\\'``)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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


def _conditions(f: TraceFilters, pg: bool) -> tuple[list[str], dict[str, Any]]:
    """The WHERE terms of the filters (on ``traces``) and their parameters."""
    where: list[str] = []
    params: dict[str, Any] = {}
    for column, value in (("status", f.status), ("thread_id", f.thread_id)):
        if value is not None:
            where.append(f"{column} = :{column}")
            params[column] = value
    for column, value in (("service", f.service), ("model", f.model)):  # any part of the name, any case
        if value:
            where.append(f"lower({column}) LIKE :{column} ESCAPE '\\'")
            params[column] = _like(value.lower())
    if f.tags:  # (implied by what follows; lets the planner read the partial index of tagged traces)
        where.append("tags IS NOT NULL")
    if f.meta:
        where.append("metadata IS NOT NULL")
    for n, tag in enumerate(f.tags):  # the JSON array holds the tag as a JSON string
        where.append(f"tags LIKE :tag{n} ESCAPE '\\'")
        params[f"tag{n}"] = _like(json.dumps(tag, ensure_ascii=False))
    for n, (key, value) in enumerate(f.meta):
        if pg:
            where.append(f"(metadata::jsonb ->> :mkey{n}) = :mval{n}")
            params[f"mkey{n}"] = key
        else:  # json_extract reads true/false as 1/0: say them as PostgreSQL's ->> does
            path = f"json_extract(metadata, :mkey{n})"
            where.append(
                f"(CASE json_type(metadata, :mkey{n}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
                f"ELSE CAST({path} AS TEXT) END) = :mval{n}"
            )
            params[f"mkey{n}"] = '$."' + key.replace('"', "") + '"'
        params[f"mval{n}"] = value
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
    reader: Engine,
    pg: bool,
    filters: TraceFilters,
    limit: int,
    cursor: str | None,
    oldest_first: bool,
    sort: str = "started",
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of trace summaries in ``sort`` order (newest, longest, most first; or the other way round),
    traces without a value for the sort last, and the cursor of the next page if any."""
    where, params = _conditions(filters, pg)
    page = Page(sort, oldest_first, cursor)
    rows: list[Any] = []
    with reader.connect() as conn:
        for part_where, order, part_params in page.parts():
            terms = ["start_us IS NOT NULL", part_where, *where]
            sql = f"SELECT {SUMMARY_SELECT} FROM traces WHERE {' AND '.join(terms)} ORDER BY {order} LIMIT :n"
            want = limit + 1 - len(rows)
            rows.extend(conn.execute(text(sql), {**params, **part_params, "n": want}).all())
            if len(rows) > limit:
                break
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = TraceRow._make(rows[-1])
        next_cursor = page.cursor_after(getattr(last, SORTS[sort]), last.trace_id)
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
