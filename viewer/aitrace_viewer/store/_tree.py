"""The compact span tree of a trace (``GET /api/traces/{id}/tree``): its spans without their records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

__all__ = ["TREE_COLUMNS", "TREE_SPAN_SQL", "compact_tree"]

#: What each span of the tree is, in order (docs/api.md). Times are microseconds after the trace's ``t0_us``.
TREE_COLUMNS = (
    "span_id",
    "parent",
    "name",
    "kind",
    "start_us",
    "end_us",
    "last_us",
    "duration_ms",
    "status",
    "record_count",
    "log_count",
    "total_tokens",
    "model",
)

# Everything but the parent's index is computed by the database: a 100,000-span tree is built in Python with
# one tuple per span.
TREE_SPAN_SQL = (
    "SELECT span_id, parent_span_id, name, kind, start_us - {p}, "
    "CASE WHEN has_end = 1 THEN end_us - {p} END, last_us - {p}, CASE WHEN has_end = 1 THEN duration_ms END, "
    "CASE WHEN has_end = 1 THEN COALESCE(status, 'ok') WHEN has_start = 1 THEN 'running' ELSE 'log' END, "
    "record_count, record_count - has_start - has_end, total_tokens, model "
    "FROM spans WHERE trace_id = {p} ORDER BY start_us, span_id"
)

_encode = msgspec.json.Encoder().encode


def compact_tree(summary: dict[str, Any], t0_us: int, rows: Sequence[Sequence[Any]]) -> bytes:
    """``{"summary", "t0_us", "columns", "spans": [[…], …]}`` from the rows of ``TREE_SPAN_SQL``
    (parameters: ``t0_us`` three times, then the trace id).

    ``parent`` is the index of the parent in ``spans`` (ordered by start), the parent's id when that span is
    not in the trace, or null for a root. A span with a start record and no end is ``running`` with null
    ``end_us`` and ``duration_ms``; one with neither (log lines only) has status ``log``.
    """
    get = {row[0]: i for i, row in enumerate(rows)}.get
    spans = [(r[0], None if r[1] is None else get(r[1], r[1]), *r[2:]) for r in rows]
    return b"".join(
        (
            b'{"summary":',
            _encode(summary),
            b',"t0_us":',
            str(t0_us).encode(),
            b',"columns":',
            _encode(TREE_COLUMNS),
            b',"spans":',
            _encode(spans),
            b"}",
        )
    )
