"""The store's facade: one object the viewer calls for every read and write, on SQLite or PostgreSQL."""

from __future__ import annotations

import threading
import time
from typing import Any

from ._checkpoint import WalCheckpointer
from ._detail import span_records, trace_json, trace_records, trace_size, trace_tree_json
from ._engine import make_engines, sqlite_file, upgrade
from ._facets import facets
from ._find import find_spans
from ._ingest import IngestResult
from ._ingest_pg import ingest_pg
from ._ingest_sqlite import ingest_sqlite
from ._insights import InsightFilters, insights
from ._matches import trace_matches
from ._prune import delete_traces, expired_trace_ids, forget_batches
from ._search import search
from ._threads import list_threads
from ._traces import TraceFilters, changes_since, list_traces

__all__ = ["IngestResult", "InsightFilters", "Store", "TraceFilters"]


class Store:
    """All database work: the raw records (the source of truth) plus span and trace summaries kept up to date
    at ingest. Methods are synchronous; the server calls them from worker threads."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        """Open (and by default migrate) the database at ``url``; raises if it cannot be opened."""
        self.url = url
        path = sqlite_file(url)
        self.writer, self.reader = make_engines(url, background_checkpoint=path is not None)
        self.dialect = self.writer.dialect.name
        self.pg = self.dialect == "postgresql"
        # one writer per process (on SQLite, BEGIN IMMEDIATE also keeps other processes out)
        self._write_lock = threading.Lock()
        self._checkpointer: WalCheckpointer | None = None
        try:
            if migrate:
                upgrade(self.writer)
            else:
                self.writer.connect().close()  # the database opens
            if path is not None:  # only once the file is known to open
                self._checkpointer = WalCheckpointer(path)
        except BaseException:
            self._dispose()
            raise

    @property
    def database(self) -> str:
        return "postgresql" if self.pg else "sqlite"

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._dispose()

    def _dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()

    # ---------------------------------------------------------------- writes

    def _wake_checkpointer(self) -> None:
        """After a SQLite write: the WAL may want checkpointing."""
        if self._checkpointer is not None:
            self._checkpointer.wake()

    def ingest(
        self, records: list[dict[str, Any]], raws: list[str], batch_id: str | None = None
    ) -> IngestResult:
        """Store one validated batch in one transaction; a batch id seen before stores nothing."""
        if not records:
            return IngestResult(0)
        if self.pg:
            return ingest_pg(self.writer, self._write_lock, records, raws, batch_id)
        result = ingest_sqlite(self.writer, self._write_lock, records, raws, batch_id)
        self._wake_checkpointer()
        return result

    def delete_trace(self, trace_id: str) -> int:
        """Remove a trace's records and summaries; returns how many records went."""
        return self._delete([trace_id])

    def _delete(self, trace_ids: list[str]) -> int:
        if not trace_ids:
            return 0
        with self._write_lock, self.writer.begin() as conn:
            deleted = delete_traces(conn, self.pg, trace_ids)
        self._wake_checkpointer()
        return deleted

    def prune(self, older_than_s: float) -> tuple[int, int]:
        """Delete traces whose newest record is older than ``older_than_s`` seconds: ``(traces, records)``."""
        cutoff = time.time_ns() // 1000 - int(older_than_s * 1_000_000)
        n_traces = n_records = 0
        while True:
            with self.reader.connect() as conn:
                ids = expired_trace_ids(conn, cutoff)
            if not ids:
                break
            n_records += self._delete(ids)
            n_traces += len(ids)
        with self._write_lock, self.writer.begin() as conn:
            forget_batches(conn, cutoff)
        self._wake_checkpointer()
        return n_traces, n_records

    # ---------------------------------------------------------------- reads

    def analyze(self) -> None:
        """After a bulk load: give PostgreSQL's planner the tables' statistics now, not at the next autovacuum
        (planning with none, a text filter on a common word took 493 ms instead of 53 at a million records).
        SQLite has no autovacuum analysis, and its plans here are chosen without statistics: nothing to do."""
        if self.pg:
            with self.writer.begin() as conn:
                conn.exec_driver_sql("ANALYZE records, spans, traces")

    def count_records(self) -> int:
        with self.reader.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COALESCE(SUM(record_count), 0) FROM traces").scalar_one())

    def list_traces(
        self,
        filters: TraceFilters,
        limit: int = 50,
        cursor: str | None = None,
        oldest_first: bool = False,
        sort: str = "started",
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of trace summaries and the cursor of the next page (None on the last); ``sort`` is one
        of :data:`~._listsort.SORTS`, descending unless ``oldest_first``; ValueError on a bad cursor."""
        return list_traces(self.reader, self.pg, filters, limit, cursor, oldest_first, sort)

    def trace_matches(self, q: str, trace_ids: list[str]) -> dict[str, dict[str, Any]]:
        """For the traces of a list page filtered by text ``q``: a matching record's span and snippet each."""
        return trace_matches(self.reader, self.pg, q, trace_ids)

    def facets(self, limit: int = 200) -> dict[str, list[str]]:
        """The services and models present (for the filters' suggestions), each a sorted list."""
        return facets(self.reader, limit)

    def trace_json(self, trace_id: str) -> bytes | None:
        """The detail document (UTF-8 JSON): summary, spans and every record; None for no such trace."""
        return trace_json(self.reader, self.pg, trace_id)

    def trace_size(self, trace_id: str) -> tuple[int, int] | None:
        """``(span_count, record_count)`` of a trace, or None when there is no such trace."""
        return trace_size(self.reader, trace_id)

    def trace_tree_json(self, trace_id: str) -> bytes | None:
        """The compact span tree (store/_tree.py): every span, none of the records."""
        return trace_tree_json(self.reader, self.pg, trace_id)

    def span_records(self, trace_id: str, span_id: str, limit: int = 2000) -> tuple[list[str], bool]:
        """One span's stored records (raw JSON text) in time order, the first ``limit`` of them plus its end
        record when that is past the limit; and whether some were left out."""
        return span_records(self.reader, self.pg, trace_id, span_id, limit)

    def find_spans(self, trace_id: str, q: str, limit: int = 10_000) -> tuple[list[str], bool]:
        """Ids of the trace's spans whose name, log lines or values contain ``q``; and whether more did."""
        return find_spans(self.reader, self.pg, trace_id, q, limit)

    def trace_records(self, trace_id: str) -> list[dict[str, Any]]:
        """A trace's records, parsed, in time order."""
        return trace_records(self.reader, trace_id)

    def search(self, q: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` records matching the words of ``q``, with a snippet each."""
        return search(self.reader, self.pg, q, limit)

    def changes_since(self, updated_us: int, limit: int = 200) -> list[tuple[int, dict[str, Any]]]:
        """Trace summaries changed after ``updated_us`` (for the event stream), oldest change first."""
        return changes_since(self.reader, updated_us, limit)

    def latest_update(self) -> int:
        with self.reader.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COALESCE(MAX(updated_us), 0) FROM traces").scalar_one())

    def insights(self, filters: InsightFilters, bucket_us: int) -> dict[str, Any]:
        """Totals, a series per ``bucket_us`` and breakdowns for the insights page (store/_insights.py)."""
        return insights(self.reader, self.pg, filters, bucket_us)

    def list_threads(
        self, limit: int = 50, cursor: str | None = None, service: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of threads, most recently active first, and the next page's cursor (None on the last)."""
        return list_threads(self.reader, limit, cursor, service)
