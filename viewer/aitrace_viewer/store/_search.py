"""Full-text search over the records: FTS5 on SQLite, a tsvector on PostgreSQL, with a snippet per hit."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, text

from ._derive import format_ts, search_text
from ._tables import FULL_TEXT_TABLE

__all__ = ["TEXT_FILTER_HITS", "fts_query", "search", "text_filter"]

TEXT_FILTER_HITS = 20_000
"""The trace list's ``q`` filter looks at this many of the newest matching records (bounded cost)."""

# SQL composed only from constants of this module:
# ruff: noqa: S608
_PG_TEXT_FILTER = (
    "trace_id IN (SELECT trace_id FROM records WHERE search @@ plainto_tsquery('simple', :q) "
    f"ORDER BY id DESC LIMIT {TEXT_FILTER_HITS})"
)
_SQLITE_TEXT_FILTER = (  # bounded: the newest TEXT_FILTER_HITS matching records
    "trace_id IN (SELECT trace_id FROM records WHERE id IN "
    f"(SELECT rowid FROM {FULL_TEXT_TABLE} WHERE {FULL_TEXT_TABLE} MATCH :q "
    f"ORDER BY rowid DESC LIMIT {TEXT_FILTER_HITS}))"
)
_PG_SEARCH = (
    "SELECT trace_id, span_id, ts_us, event, raw FROM records "
    "WHERE search @@ plainto_tsquery('simple', :q) ORDER BY id DESC LIMIT :limit"
)
_SQLITE_SEARCH = (
    "SELECT r.trace_id, r.span_id, r.ts_us, r.event, "
    f"snippet({FULL_TEXT_TABLE}, 0, '', '', '…', 16) AS snippet "
    f"FROM {FULL_TEXT_TABLE} JOIN records r ON r.id = {FULL_TEXT_TABLE}.rowid "
    f"WHERE {FULL_TEXT_TABLE} MATCH :q ORDER BY {FULL_TEXT_TABLE}.rowid DESC LIMIT :limit"
)


def fts_query(q: str) -> str:
    """User text → an FTS5 query matching every word (quoted, so no query syntax leaks through)."""
    words = [w for w in q.split() if w]
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def text_filter(q: str, pg: bool) -> tuple[str, str] | None:
    """The trace list's condition for text ``q`` and the value of its ``:q``; None when ``q`` has no word."""
    if pg:
        return _PG_TEXT_FILTER, q
    match = fts_query(q)
    return (_SQLITE_TEXT_FILTER, match) if match else None


def search(reader: Engine, pg: bool, q: str, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` records matching ``q``, each with a snippet of its text around the words."""
    if pg:
        sql, params = _PG_SEARCH, {"q": q, "limit": limit}
    else:
        match = fts_query(q)
        if not match:
            return []
        sql, params = _SQLITE_SEARCH, {"q": match, "limit": limit}
    with reader.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    # (unpacked into names: reading an SQLAlchemy Row's columns by attribute costs several times more)
    return [
        {
            "trace_id": trace_id,
            "span_id": span_id,
            "timestamp": format_ts(ts_us),
            "event": event,
            "snippet": _snippet(json.loads(raw_or_snippet), q) if pg else raw_or_snippet,
        }
        for trace_id, span_id, ts_us, event, raw_or_snippet in rows
    ]


def _snippet(record: dict[str, Any], q: str, width: int = 60) -> str:
    body = search_text(record)
    lowered = body.lower()
    for word in q.lower().split():
        at = lowered.find(word)
        if at >= 0:
            start = max(0, at - width)
            return ("…" if start else "") + body[start : at + len(word) + width] + "…"
    return body[: 2 * width]
