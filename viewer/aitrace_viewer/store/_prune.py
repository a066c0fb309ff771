"""Deleting traces (records, full-text rows, summaries) and finding those past a retention cutoff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, Connection, bindparam, text

from ._tables import FULL_TEXT_TABLE

__all__ = ["PRUNE_CHUNK", "delete_traces", "expired_trace_ids", "forget_batches"]

PRUNE_CHUNK = 500
"""Traces deleted per transaction when pruning (each transaction holds the write lock)."""

_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_DELETE_FULL_TEXT = text(
    f"DELETE FROM {FULL_TEXT_TABLE} WHERE rowid IN (SELECT id FROM records WHERE trace_id IN :ids)"  # noqa: S608
).bindparams(_IDS)
_DELETE_RECORDS = text("DELETE FROM records WHERE trace_id IN :ids").bindparams(_IDS)
_DELETE_SPANS = text("DELETE FROM spans WHERE trace_id IN :ids").bindparams(_IDS)
_DELETE_TRACES = text("DELETE FROM traces WHERE trace_id IN :ids").bindparams(_IDS)
_EXPIRED = text(f"SELECT trace_id FROM traces WHERE last_us < :c LIMIT {PRUNE_CHUNK}")  # noqa: S608
_FORGET_BATCHES = text("DELETE FROM ingest_batches WHERE received_us < :c")


def delete_traces(conn: Connection, pg: bool, trace_ids: list[str]) -> int:
    """Remove the traces' records and summaries in ``conn``'s transaction; returns how many records went."""
    params = {"ids": trace_ids}
    if not pg:  # PostgreSQL's search column goes with its record
        conn.execute(_DELETE_FULL_TEXT, params)
    deleted = conn.execute(_DELETE_RECORDS, params).rowcount
    conn.execute(_DELETE_SPANS, params)
    conn.execute(_DELETE_TRACES, params)
    return int(deleted or 0)


def expired_trace_ids(conn: Connection, cutoff_us: int) -> list[str]:
    """Up to :data:`PRUNE_CHUNK` traces whose newest record is older than ``cutoff_us``."""
    return [trace_id for (trace_id,) in conn.execute(_EXPIRED, {"c": cutoff_us})]


def forget_batches(conn: Connection, cutoff_us: int) -> None:
    """Forget batch ids received before ``cutoff_us`` (a retry older than that would be stored again)."""
    conn.execute(_FORGET_BATCHES, {"c": cutoff_us})
