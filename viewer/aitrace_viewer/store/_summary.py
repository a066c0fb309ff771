# SQL is composed only from the schema's column names and constants in this module:
# ruff: noqa: S608
"""Trace summaries: a batch's ``traces`` rows recomputed from their span rows, on either dialect's cursor."""

from __future__ import annotations

import abc
import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from ._tables import column_names, traces

__all__ = ["PgSummaryCursor", "SqliteSummaryCursor", "SummaryCursor", "summarise"]

CHUNK = 500
"""Trace ids per summary query (an SQLite built before 3.32 takes at most 999 parameters in a statement)."""


class SummaryCursor(abc.ABC):
    """A driver cursor running this module's SQL (``:ids``: a list of trace ids; other parameters by name)."""

    @abc.abstractmethod
    def select_in(self, sql: str, ids: list[str]) -> Iterable[Sequence[Any]]: ...

    @abc.abstractmethod
    def executemany(self, sql: str, rows: list[dict[str, Any]]) -> None: ...


class PgSummaryCursor(SummaryCursor):
    """The same SQL straight to a psycopg cursor: ``IN :ids`` becomes ``= ANY(%s)`` (one statement text for
    any number of ids, so psycopg prepares it once), ``:name`` becomes ``%(name)s``."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def select_in(self, sql: str, ids: list[str]) -> Iterable[Sequence[Any]]:
        rows: list[Sequence[Any]] = self.cursor.execute(_pg_sql(sql), {"ids": ids}).fetchall()
        return rows

    def executemany(self, sql: str, rows: list[dict[str, Any]]) -> None:
        self.cursor.executemany(_pg_sql(sql), rows)


@functools.lru_cache(maxsize=16)
def _pg_sql(sql: str) -> str:
    return re.sub(r":(\w+)", r"%(\1)s", sql.replace("IN :ids", "= ANY(:ids)"))


class SqliteSummaryCursor(SummaryCursor):
    """The same SQL straight to a sqlite3 cursor."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def select_in(self, sql: str, ids: list[str]) -> Iterable[Sequence[Any]]:
        rows: list[Sequence[Any]] = self.cursor.execute(
            sql.replace(":ids", "(" + ",".join("?" * len(ids)) + ")"), ids
        ).fetchall()
        return rows

    def executemany(self, sql: str, rows: list[dict[str, Any]]) -> None:
        self.cursor.executemany(sql, rows)


class _Totals(NamedTuple):
    """One trace's spans added up (a row of ``_TOTALS_SQL``)."""

    trace_id: str
    span_count: int
    record_count: int
    error_count: int
    start_us: int | None
    last_us: int | None
    max_end_us: int | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    cost_usd: float | None
    model: str | None
    thread_id: str | None
    incomplete: int
    open_spans: int
    any_service: str | None


_TOTALS = {
    "trace_id": "trace_id",
    "span_count": "count(*)",
    "record_count": "sum(record_count)",
    "error_count": "sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END)",
    "start_us": "min(start_us)",
    "last_us": "max(last_us)",
    "max_end_us": "max(end_us)",
    "input_tokens": "sum(CASE WHEN {nested} THEN NULL ELSE input_tokens END)",
    "output_tokens": "sum(CASE WHEN {nested} THEN NULL ELSE output_tokens END)",
    "total_tokens": "sum(CASE WHEN {nested} THEN NULL ELSE total_tokens END)",
    "cost_usd": "sum(CASE WHEN {nested} THEN NULL ELSE cost_usd END)",
    "model": "min(model)",
    "thread_id": "min(thread_id)",
    "incomplete": "max(incomplete)",
    "open_spans": "sum(CASE WHEN has_start = 0 OR has_end = 0 THEN 1 ELSE 0 END)",
    "any_service": "min(service)",
}
if tuple(_TOTALS) != _Totals._fields:
    raise ImportError("_TOTALS and _Totals name different columns")

_LLM_KINDS = "('llm', 'chat_model')"
_NESTED_LLM = (
    f"(s.kind IN {_LLM_KINDS} AND s.parent_span_id IS NOT NULL AND EXISTS (SELECT 1 FROM spans p "
    f"WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id AND p.kind IN {_LLM_KINDS}))"
)
"""An LLM span inside an LLM span: the same model call seen twice (a LangChain chat model's span and, under
it, the span an SDK instrumentation made for the HTTP call). The outer one counts in the trace's tokens and
cost; the inner one keeps its own figures on its span (docs/otlp.md)."""

_TOTALS_SQL = (
    f"SELECT {', '.join(v.format(nested=_NESTED_LLM) for v in _TOTALS.values())} "
    "FROM spans s WHERE trace_id IN :ids GROUP BY trace_id"
)


class _Root(NamedTuple):
    """A span with no parent (a row of ``_ROOTS_SQL``)."""

    trace_id: str
    span_id: str
    name: str | None
    kind: str | None
    service: str | None
    start_us: int | None
    end_us: int | None
    duration_ms: float | None
    status: str | None
    has_end: int
    has_start: int


_ROOTS_SQL = (
    f"SELECT {', '.join(_Root._fields)} FROM spans WHERE trace_id IN :ids AND parent_span_id IS NULL "
    "ORDER BY trace_id, start_us"
)


class _Shown(NamedTuple):
    """A span carrying something the list shows (a row of ``_SHOWN_SQL``)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    start_us: int | None
    end_us: int | None
    input_preview: str | None
    output_preview: str | None
    tags: str | None
    metadata: str | None


_SHOWN_SQL = (
    f"SELECT {', '.join(_Shown._fields)} FROM spans WHERE trace_id IN :ids AND (input_preview IS NOT NULL "
    "OR output_preview IS NOT NULL OR tags IS NOT NULL OR metadata IS NOT NULL)"
)


def _shown(rows: list[_Shown], root: _Root | None) -> dict[str, str | None]:
    """What the list shows of one trace: the root's input and output in short, else the earliest input and
    the latest output of its other spans (LangChain's own root run, a model's final answer); the tags and
    metadata of the earliest span that has them (the LangChain root run: its children add only theirs)."""
    root_id = root.span_id if root is not None else None
    first = sorted(
        rows, key=lambda r: (r.span_id != root_id, r.start_us if r.start_us is not None else 2**63)
    )
    last = sorted(rows, key=lambda r: (r.span_id == root_id, r.end_us if r.end_us is not None else -1))
    return {
        "input_preview": next((r.input_preview for r in first if r.input_preview), None),
        "output_preview": next((r.output_preview for r in reversed(last) if r.output_preview), None),
        "tags": next((r.tags for r in first if r.tags), None),
        "metadata": next((r.metadata for r in first if r.metadata), None),
    }


_TRACE_COLUMNS = column_names(traces)
_UPSERT_TRACE_SQL = (
    f"INSERT INTO traces ({', '.join(_TRACE_COLUMNS)}) VALUES ({', '.join(':' + c for c in _TRACE_COLUMNS)}) "
    "ON CONFLICT (trace_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _TRACE_COLUMNS if c != "trace_id")
)


def summarise(cursor: SummaryCursor, trace_ids: list[str], now_us: int) -> None:
    """Recompute the trace rows of ``trace_ids`` from their span rows (``updated_us`` = ``now_us``)."""
    out = []
    for start in range(0, len(trace_ids), CHUNK):
        chunk = trace_ids[start : start + CHUNK]
        roots: dict[str, _Root] = {}
        for row in cursor.select_in(_ROOTS_SQL, chunk):
            root = _Root._make(row)
            roots.setdefault(root.trace_id, root)  # the earliest root, when a trace has several
        shown: dict[str, list[_Shown]] = {}
        for row in cursor.select_in(_SHOWN_SQL, chunk):
            span = _Shown._make(row)
            shown.setdefault(span.trace_id, []).append(span)
        for row in cursor.select_in(_TOTALS_SQL, chunk):
            totals = _Totals._make(row)
            found = roots.get(totals.trace_id)
            out.append({**_trace_row(totals, found, now_us), **_shown(shown.get(totals.trace_id, []), found)})
    if out:
        cursor.executemany(_UPSERT_TRACE_SQL, out)


def _trace_row(totals: _Totals, root: _Root | None, now_us: int) -> dict[str, Any]:
    """The ``traces`` row of one trace."""
    start_us, last_us, open_spans = totals.start_us, totals.last_us, totals.open_spans
    root_span_id = root_name = root_kind = None
    if root is None:  # the root's records have not arrived yet: still running
        status, service, ended = "running", totals.any_service, False
        end_us = totals.max_end_us if totals.max_end_us is not None else last_us
        duration = None
    else:
        root_span_id, root_name, root_kind = root.span_id, root.name, root.kind
        ended = bool(root.has_end)
        status = (root.status or "ok") if ended else "running"
        end_us = root.end_us if ended else last_us
        if not root.has_start and not root.has_end and totals.span_count == 1:  # log lines outside any span
            root_kind, status, end_us, open_spans = "log", "ok", last_us, 0
        if status == "running":  # no end yet: no duration (the pages count the time elapsed)
            duration = None
        elif root.duration_ms is not None:
            duration = root.duration_ms
        else:
            duration = None if start_us is None or end_us is None else (end_us - start_us) / 1000.0
        service = root.service or totals.any_service
    return {
        "trace_id": totals.trace_id,
        "root_span_id": root_span_id,
        "root_name": root_name,
        "root_kind": root_kind,
        "service": service,
        "start_us": start_us,
        "end_us": end_us,
        "last_us": last_us,
        "duration_ms": duration,
        "span_count": totals.span_count,
        "record_count": totals.record_count,
        "error_count": totals.error_count,
        "status": status,
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "total_tokens": totals.total_tokens,
        "cost_usd": totals.cost_usd,
        "model": totals.model,
        "thread_id": totals.thread_id,
        "incomplete": 1 if totals.incomplete or (ended and open_spans) else 0,
        "updated_us": now_us,
    }
