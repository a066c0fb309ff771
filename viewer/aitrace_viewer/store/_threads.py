# SQL is composed only from constants, column names and placeholders in this module:
# ruff: noqa: S608
"""The threads index: traces grouped by thread id, most recently active first."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import Engine, bindparam, text

from ._derive import format_ts

__all__ = ["decode_thread_cursor", "encode_thread_cursor", "list_threads"]

_LAST = "max(COALESCE(last_us, end_us, start_us))"
_AGG = (
    f"thread_id, count(*), min(start_us), {_LAST}, sum(input_tokens), sum(output_tokens), "
    "sum(total_tokens), sum(cost_usd), sum(CASE WHEN error_count > 0 OR status = 'error' THEN 1 ELSE 0 END)"
)


def encode_thread_cursor(last_us: int, thread_id: str) -> str:
    return base64.urlsafe_b64encode(f"{last_us}:{thread_id}".encode()).decode().rstrip("=")


def decode_thread_cursor(cursor: str) -> tuple[int, str]:
    """Raises ValueError on anything that is not a cursor this server made."""
    padded = cursor + "=" * (-len(cursor) % 4)
    last, sep, thread_id = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
    if not sep or not thread_id:
        raise ValueError("bad cursor")
    return int(last), thread_id


def list_threads(
    reader: Engine, limit: int, cursor: str | None, service: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of threads, the most recently active first, and the cursor of the next page if any.

    A thread's status is its last turn's (``interrupted``: waiting for the user; ``running``: busy now)."""
    where = "thread_id IS NOT NULL AND start_us IS NOT NULL"
    params: dict[str, Any] = {"limit": limit + 1}
    if service is not None:
        where += " AND service = :service"
        params["service"] = service
    having = ""
    if cursor is not None:
        c_last, c_thread = decode_thread_cursor(cursor)
        having = f" HAVING {_LAST} < :c_last OR ({_LAST} = :c_last AND thread_id > :c_thread)"
        params["c_last"], params["c_thread"] = c_last, c_thread
    sql = (
        f"SELECT {_AGG} FROM traces WHERE {where} GROUP BY thread_id{having} "
        f"ORDER BY {_LAST} DESC, thread_id LIMIT :limit"
    )
    with reader.connect() as conn:
        rows = conn.execute(text(sql), params).all()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_thread_cursor(int(rows[-1][3]), rows[-1][0])
        last_status: dict[str, str | None] = {}
        if rows:
            turns = text(
                "SELECT thread_id, status FROM traces WHERE thread_id IN :ids AND start_us IS NOT NULL "
                "ORDER BY start_us, trace_id"
            ).bindparams(bindparam("ids", expanding=True))
            for thread_id, status in conn.execute(turns, {"ids": [r[0] for r in rows]}):
                last_status[thread_id] = status  # the latest turn's, after the loop
    threads = [
        {
            "thread_id": r[0],
            "turns": int(r[1]),
            "first": format_ts(r[2]),
            "last_activity": format_ts(r[3]),
            "input_tokens": None if r[4] is None else int(r[4]),
            "output_tokens": None if r[5] is None else int(r[5]),
            "total_tokens": None if r[6] is None else int(r[6]),
            "cost_usd": None if r[7] is None else float(r[7]),
            "error_turns": int(r[8] or 0),
            "status": last_status.get(r[0]),
        }
        for r in rows
    ]
    return threads, next_cursor
