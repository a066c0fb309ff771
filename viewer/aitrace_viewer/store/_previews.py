# SQL composed only from constants and placeholders.
"""The root span's start record of a few traces: what a one-line trace listing previews as its input."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, bindparam, text

__all__ = ["root_start_records"]

_ROOTS = text(
    "SELECT r.trace_id, r.raw FROM traces t JOIN records r "
    "ON r.trace_id = t.trace_id AND r.span_id = t.root_span_id AND r.event = 'span_start' "
    "WHERE t.trace_id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def root_start_records(reader: Engine, trace_ids: list[str]) -> dict[str, dict[str, Any]]:
    """``trace_id`` → its root span's start record (parsed), for the traces that have one."""
    if not trace_ids:
        return {}
    with reader.connect() as conn:
        rows = conn.execute(_ROOTS, {"ids": trace_ids}).all()
    out: dict[str, dict[str, Any]] = {}
    for trace_id, raw in rows:
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.setdefault(trace_id, record)
    return out
