"""The trace list's sorts and cursors: keyset pages over an indexed ``(column, trace_id)``, empty last."""

from __future__ import annotations

import base64
from typing import Any

__all__ = ["SORTS", "Page", "decode_cursor", "encode_cursor"]

SORTS = {
    "started": "start_us",
    "duration": "duration_ms",
    "tokens": "total_tokens",
    "cost": "cost_usd",
    "errors": "error_count",
}
"""The list's sorts → the ``traces`` column each orders by (each with an index on ``(column, trace_id)``)."""

_HEX = frozenset("0123456789abcdef")


def encode_cursor(sort: str, value: float | int | None, trace_id: str) -> str:
    """Where the next page starts: after the row with this sort value (None: among the rows without one)."""
    shown = "null" if value is None else repr(value)
    return base64.urlsafe_b64encode(f"{sort}:{shown}:{trace_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[float | int | None, str]:
    """``(value, trace_id)`` of a cursor of ``sort``; raises ValueError on anything this server did not make
    for that sort. (A cursor of an older server, ``start:trace_id``, still reads as a ``started`` one.)"""
    padded = cursor + "=" * (-len(cursor) % 4)
    parts = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii").split(":")
    if len(parts) == 2:
        parts.insert(0, "started")
    if len(parts) != 3 or parts[0] != sort:
        raise ValueError("bad cursor")
    _, shown, trace_id = parts
    if len(trace_id) != 32 or not set(trace_id) <= _HEX:
        raise ValueError("bad cursor")
    if shown == "null":
        return None, trace_id
    if sort in ("started", "errors", "tokens"):
        return int(shown), trace_id
    return float(shown), trace_id


class Page:
    """The SQL of one page of a sort: the rows with a value in order, then (when those run out) the rows
    without one by trace id, so each part walks an index and a cursor says which part it stopped in."""

    def __init__(self, sort: str, ascending: bool, cursor: str | None) -> None:
        self.sort = sort
        self.column = SORTS[sort]
        self.ascending = ascending
        self.after: tuple[float | int | None, str] | None = None
        if cursor is not None:
            self.after = decode_cursor(cursor, sort)

    def parts(self) -> list[tuple[str, str, dict[str, Any]]]:
        """``(where, order by, params)`` of each part still to read, in order."""
        col, op, way = self.column, (">" if self.ascending else "<"), ("ASC" if self.ascending else "DESC")
        valued = (f"{col} IS NOT NULL", f"{col} {way}, trace_id {way}")
        empty = (f"{col} IS NULL", f"trace_id {way}")
        out: list[tuple[str, str, dict[str, Any]]]
        if self.after is None:
            out = [(*valued, {})]
            if col != "start_us":  # (the list leaves out rows with no start at all)
                out.append((*empty, {}))
            return out
        value, trace_id = self.after
        params = {"c_value": value, "c_trace": trace_id}
        if value is None:
            return [(f"{empty[0]} AND trace_id {op} :c_trace", empty[1], params)]
        keyset = f"({col} {op} :c_value OR ({col} = :c_value AND trace_id {op} :c_trace))"
        out = [(f"{valued[0]} AND {keyset}", valued[1], params)]
        if col != "start_us":
            out.append((*empty, {}))
        return out

    def cursor_after(self, value: float | int | None, trace_id: str) -> str:
        return encode_cursor(self.sort, value, trace_id)
