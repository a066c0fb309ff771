# SQL is composed only from constants of this module and placeholders:
# ruff: noqa: S608
"""Text search in the list: for each trace of a page, one matching record's span and a marked snippet."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Engine, bindparam, text

from ._derive import search_text
from ._search import TEXT_FILTER_HITS, fts_query
from ._tables import FULL_TEXT_TABLE

__all__ = ["MATCH_ROWS", "marked_snippet", "trace_matches"]

MATCH_ROWS = 2000
"""Matching records read for one page of the list, the newest first: a bound on the cost of snippets."""

_OPEN, _CLOSE = "\x02", "\x03"  # FTS5 snippet() marks, split into parts here (control characters)

# SQLite in two steps: the newest matching record of each trace (rowids only), then a snippet of just those
# (snippet() re-reads a record's text: made for every matching row, it cost seconds at a million records)
_SQLITE_HITS = text(  # the same bounded set of newest hits as the list's text filter, then their records
    "SELECT id, trace_id, span_id FROM records WHERE id IN "
    f"(SELECT rowid FROM {FULL_TEXT_TABLE} WHERE {FULL_TEXT_TABLE} MATCH :q "
    f"ORDER BY rowid DESC LIMIT {TEXT_FILTER_HITS}) AND trace_id IN :ids ORDER BY id DESC"
).bindparams(bindparam("ids", expanding=True))
_SQLITE_SNIPPETS = text(
    f"SELECT rowid, snippet({FULL_TEXT_TABLE}, 0, '{_OPEN}', '{_CLOSE}', '…', 12) FROM {FULL_TEXT_TABLE} "
    f"WHERE {FULL_TEXT_TABLE} MATCH :q AND rowid IN :rowids"
).bindparams(bindparam("rowids", expanding=True))
_PG_HITS = text(
    "SELECT id, trace_id, span_id FROM records WHERE search @@ plainto_tsquery('simple', :q) "
    f"AND trace_id IN :ids ORDER BY id DESC LIMIT {MATCH_ROWS}"
).bindparams(bindparam("ids", expanding=True))
_PG_RAWS = text("SELECT id, raw FROM records WHERE id IN :rowids").bindparams(
    bindparam("rowids", expanding=True)
)

Parts = list[tuple[str, bool]]


def _split_marked(snippet: str) -> Parts:
    """FTS5's snippet with its marks → ``(text, marked)`` parts."""
    parts: Parts = []
    for piece in re.split(f"({_OPEN}[^{_CLOSE}]*{_CLOSE})", snippet):
        if piece.startswith(_OPEN) and piece.endswith(_CLOSE):
            parts.append((piece[1:-1], True))
        elif piece:
            parts.append((piece, False))
    return parts


def marked_snippet(body: str, q: str, width: int = 60) -> Parts:
    """The text around the first word of ``q`` found in ``body`` (any case), every word of ``q`` marked."""
    words = [re.escape(w) for w in q.split() if w]
    if not words:
        return [(body[: 2 * width], False)]
    pattern = re.compile("|".join(sorted(words, key=len, reverse=True)), re.IGNORECASE)
    first = pattern.search(body)
    if first is None:
        return [(body[: 2 * width] + ("…" if len(body) > 2 * width else ""), False)]
    start = max(0, first.start() - width)
    end = min(len(body), first.end() + width)
    window = body[start:end]
    parts: Parts = [("…", False)] if start else []
    at = 0
    for m in pattern.finditer(window):
        if m.start() > at:
            parts.append((window[at : m.start()], False))
        parts.append((m.group(0), True))
        at = m.end()
    if at < len(window):
        parts.append((window[at:], False))
    if end < len(body):
        parts.append(("…", False))
    return parts


def trace_matches(reader: Engine, pg: bool, q: str, trace_ids: list[str]) -> dict[str, dict[str, Any]]:
    """For each of ``trace_ids`` with a record matching ``q``: ``{"span_id", "snippet": [[text, marked], …]}``
    of its newest such record (the newest first, as the list's text filter reads them: bounded work)."""
    if not trace_ids:
        return {}
    newest: dict[str, tuple[int, str]] = {}
    with reader.connect() as conn:
        if pg:
            sql, params = _PG_HITS, {"q": q, "ids": trace_ids}
        else:
            match = fts_query(q)
            if not match:
                return {}
            sql, params = _SQLITE_HITS, {"q": match, "ids": trace_ids}
        for rowid, trace_id, span_id in conn.execute(sql, params):
            newest.setdefault(trace_id, (rowid, span_id))
        if not newest:
            return {}
        rowids = [rowid for rowid, _ in newest.values()]
        if pg:
            raws = conn.execute(_PG_RAWS, {"rowids": rowids}).all()
            texts = {rowid: marked_snippet(search_text(json.loads(raw)), q) for rowid, raw in raws}
        else:
            found = conn.execute(_SQLITE_SNIPPETS, {"q": params["q"], "rowids": rowids}).all()
            texts = {rowid: _split_marked(snippet) for rowid, snippet in found}
    return {
        trace_id: {"span_id": span_id, "snippet": [[t, m] for t, m in texts.get(rowid, [])]}
        for trace_id, (rowid, span_id) in newest.items()
    }
