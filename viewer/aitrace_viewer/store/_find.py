"""Find spans inside one trace by text: names, log lines and attribute values (not keys), case-insensitive."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine

__all__ = ["find_spans", "record_matches"]

_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def record_matches(value: Any, needle: str) -> bool:
    """True when a scalar value under ``value`` (not a key) contains ``needle`` (already lower-cased)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if needle in v.lower():
                return True
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, bool | int | float) and needle in json.dumps(v):
            return True
    return False


def find_spans(reader: Engine, pg: bool, trace_id: str, q: str, limit: int) -> tuple[list[str], bool]:
    """The ids of the trace's spans with a record that matches ``q``, in the order of their first
    matching record (at most ``limit``), and whether more matched.

    A text of printable ASCII other than quotes and backslashes appears verbatim in a matching record's
    JSON, so the database narrows the records down first; any other text reads all the trace's records.
    """
    needle = q.strip().lower()
    if not needle:
        return [], False
    p = "%s" if pg else "?"
    sql = f"SELECT span_id, raw FROM records WHERE trace_id = {p}"  # noqa: S608 - values are parameters
    params: tuple[Any, ...] = (trace_id,)
    if set(needle) <= _PLAIN:
        sql += f" AND {'strpos' if pg else 'instr'}(lower(raw), {p}) > 0"
        params += (needle,)
    sql += " ORDER BY ts_us, seq, id"
    found: dict[str, None] = {}
    with reader.begin() as conn:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(1000):
                for span_id, raw in rows:
                    if span_id in found:
                        continue
                    try:
                        record = json.loads(raw)
                    except ValueError:
                        continue
                    if record_matches(record, needle):
                        found[span_id] = None
                        if len(found) > limit:
                            return list(found)[:limit], True
        finally:
            cursor.close()
    return list(found), False
