"""The compact span tree of a trace (``GET /api/traces/{id}/tree``): its spans without their records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

__all__ = ["TREE_COLUMNS", "TREE_SPAN_SQL", "compact_tree"]

# Each span of the tree, column by column (docs/api.md), and the SQL computing it. Times are microseconds
# after the trace's ``t0_us``. Everything but the parent's index is computed by the database: a 100,000-span
# tree is built in Python with one tuple per span.
_TREE_SELECT = {
    "span_id": "span_id",
    "parent": "parent_span_id",
    "name": "name",
    "kind": "kind",
    "start_us": "start_us - {p}",
    "end_us": "CASE WHEN has_end = 1 THEN end_us - {p} END",
    "last_us": "last_us - {p}",
    "duration_ms": "CASE WHEN has_end = 1 THEN duration_ms END",
    "status": (
        "CASE WHEN has_end = 1 THEN COALESCE(status, 'ok') WHEN has_start = 1 THEN 'running' ELSE 'log' END"
    ),
    "record_count": "record_count",
    "log_count": "record_count - has_start - has_end",
    "total_tokens": "total_tokens",
    "model": "model",
}

#: What each span of the tree is, in order.
TREE_COLUMNS = tuple(_TREE_SELECT)

TREE_SPAN_SQL = (  # composed from this module's constants only
    f"SELECT {', '.join(_TREE_SELECT.values())} FROM spans WHERE trace_id = {{p}} "  # noqa: S608
    "ORDER BY start_us, span_id"
)
"""The tree's spans; ``{p}``: the driver's placeholder (parameters: ``t0_us`` three times, then trace id)."""

_SPAN_ID = TREE_COLUMNS.index("span_id")
_PARENT = TREE_COLUMNS.index("parent")
if (_SPAN_ID, _PARENT) != (0, 1):  # compact_tree copies the columns after these two as they are
    raise ImportError("the tree's first columns must be span_id and parent")

_encode = msgspec.json.Encoder().encode


def compact_tree(summary: dict[str, Any], t0_us: int, rows: Sequence[Sequence[Any]]) -> bytes:
    """``{"summary", "t0_us", "columns", "spans": [[…], …]}`` from the rows of ``TREE_SPAN_SQL``
    (parameters: ``t0_us`` three times, then the trace id).

    ``parent`` is the index of the parent in ``spans`` (ordered by start), the parent's id when that span is
    not in the trace, or null for a root. A span with a start record and no end is ``running`` with null
    ``end_us`` and ``duration_ms``; one with neither (log lines only) has status ``log``.
    """
    sid, parent, rest = _SPAN_ID, _PARENT, _PARENT + 1  # (locals: this runs once per span)
    get = {row[sid]: i for i, row in enumerate(rows)}.get
    spans = [(r[sid], None if r[parent] is None else get(r[parent], r[parent]), *r[rest:]) for r in rows]
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
