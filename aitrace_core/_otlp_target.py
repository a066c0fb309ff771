"""The OTLP target: a shipper's batches of records sent as OTLP/HTTP spans and logs to a Collector.

Records are converted in the shipper's worker thread (``_otlp_convert``) and sent with the official
``opentelemetry-exporter-otlp-proto-http`` exporters (the ``aitrace[otlp]`` extra). What the receiver does not
take is appended, as records, to a spill file that ``aitrace export --otlp URL FILE`` sends later (or
``aitrace import`` loads), and the user is told where, once. A receiver that refuses connections costs no
wait: the exporter's retry is cut short, the batch spilled, and the next ``probe_interval`` seconds of
batches spilled without trying; at exit, the same, so the application ends at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.trace.export import SpanExportResult

from ._notices import Once, RateLimited
from ._otlp_convert import RecordsToOtlp
from ._targets import Budget, append_lines

__all__ = ["OtlpExporters", "OtlpTarget", "parse_headers", "push_records", "signal_url"]

_EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
)


class _OwnThreadsOnly(logging.Filter):
    """Hides the exporters' per-batch messages when they come from aitrace's worker: aitrace tells the user
    once itself. The application's own exporters, in its own threads, keep logging as they did."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName or "").startswith("aitrace-")


_too_many_open = RateLimited()
_NO_ENDPOINT = frozenset({404, 405, 501})
"""Statuses that say a receiver has no such endpoint at all (not a passing failure)."""
_filter = _OwnThreadsOnly()
for _name in _EXPORTER_LOGGERS:
    logging.getLogger(_name).addFilter(_filter)


def signal_url(endpoint: str, signal: str) -> str:
    """``<endpoint>/v1/<signal>`` for a base URL, as ``OTEL_EXPORTER_OTLP_ENDPOINT`` is read; a URL that
    already ends in ``/v1/traces`` or ``/v1/logs`` names the receiver of that path's base."""
    base = endpoint.strip().rstrip("/")
    for known in ("/v1/traces", "/v1/logs"):
        if base.endswith(known):
            base = base[: -len(known)]
    return f"{base}/v1/{signal}"


def parse_headers(text: str | None) -> dict[str, str] | None:
    """``key=value,key2=value2`` (the ``OTEL_EXPORTER_OTLP_HEADERS`` form, values URL-encoded) as a dict."""
    if not text:
        return None
    from urllib.parse import unquote

    headers: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            headers[key.strip().lower()] = unquote(value.strip())
    return headers


class _Session(requests.Session):
    """The exporters' HTTP session: notes a refused connection so the exporters' retry waits are cut."""

    def __init__(self, owner: OtlpExporters) -> None:
        super().__init__()
        self._owner = owner

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if self._owner.aborted:
            raise requests.ConnectionError("aitrace: export cut short")
        try:
            response = super().request(*args, **kwargs)
        except requests.ConnectionError:
            self._owner.refused()
            raise
        self._owner.statuses[str(response.url)] = response.status_code
        return response


class OtlpExporters:
    """A span exporter and a log exporter sharing one session; one connection error ends the batch's
    export at once (the exporters' own retries apply to 429/502/503/504 within ``timeout``)."""

    def __init__(
        self, endpoint: str | None, headers: Mapping[str, str] | None, timeout: float, use_gzip: bool
    ) -> None:
        self.aborted = False
        self.refused_at: float | None = None
        self.statuses: dict[str, int] = {}
        """The last HTTP status each URL answered."""
        self.session = _Session(self)
        compression = Compression.Gzip if use_gzip else Compression.NoCompression
        traces = signal_url(endpoint, "traces") if endpoint else None
        logs = signal_url(endpoint, "logs") if endpoint else None
        self.spans = OTLPSpanExporter(
            endpoint=traces, headers=headers, timeout=timeout, compression=compression, session=self.session
        )
        self.logs = OTLPLogExporter(
            endpoint=logs, headers=headers, timeout=timeout, compression=compression, session=self.session
        )
        self.traces_url: str = self.spans._endpoint
        self.logs_url: str = self.logs._endpoint

    def refused(self) -> None:
        self.refused_at = time.monotonic()
        self.abort()

    def abort(self) -> None:
        """Stop an export in progress (its retry wait ends at once); the exporters are not used again."""
        if self.aborted:
            return
        self.aborted = True
        for exporter in (self.spans, self.logs):
            with contextlib.suppress(Exception):
                exporter.shutdown()  # type: ignore[no-untyped-call]

    def export(self, spans: Sequence[Any], logs: Sequence[Any]) -> tuple[bool, bool]:
        """``(spans delivered, logs delivered)``; never raises."""
        spans_ok = logs_ok = True
        with contextlib.suppress(Exception):
            if spans and not self.aborted:
                spans_ok = self.spans.export(spans) is SpanExportResult.SUCCESS
            elif spans:
                spans_ok = False
            if logs and not self.aborted:
                logs_ok = self.logs.export(logs) is LogRecordExportResult.SUCCESS
            elif logs:
                logs_ok = False
            return spans_ok, logs_ok
        return False, False


class OtlpTarget:
    """A shipper target (``_targets.Target``) that sends records as OTLP spans and logs."""

    def __init__(
        self,
        endpoint: str | None,
        *,
        counters: dict[str, int],
        spill_path: Path,
        headers: Mapping[str, str] | None = None,
        request_timeout: float = 10.0,
        use_gzip: bool = True,
        probe_interval: float = 5.0,
    ) -> None:
        self.endpoint = endpoint
        self.headers = dict(headers) if headers else None
        self.counters = counters
        self.spill_path: Path | None = spill_path
        self.request_timeout = request_timeout
        self.use_gzip = use_gzip
        self.probe_interval = probe_interval
        self._lock = threading.Lock()
        self._init_state()
        self.description = self._exporters.traces_url

    def _init_state(self) -> None:
        self._converter = RecordsToOtlp()
        self._held: dict[tuple[str, str], bytes] = {}
        """Encoded ``span_start`` records of spans still open, in the order they started."""
        self._exporters = self._new_exporters()
        self._away_until = 0.0
        self._no_logs = False
        """The receiver has no logs endpoint (Phoenix, Jaeger, Tempo take traces only)."""
        self._told = Once()

    def _new_exporters(self) -> OtlpExporters:
        return OtlpExporters(self.endpoint, self.headers, self.request_timeout, self.use_gzip)

    def send(self, lines: list[bytes], budget: Budget) -> None:
        try:
            self._send(lines, budget)
        except Exception as exc:  # a bug of ours: the records are kept, and said once
            self._spill(lines, f"aitrace could not convert them: {type(exc).__name__}: {exc}")

    def _send(self, lines: list[bytes], budget: Budget) -> None:
        span_lines: list[bytes] = []  # the records of the spans made now (start and end)
        log_lines: list[bytes] = []
        held = self._held
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                self.counters["dropped_io"] += 1
                continue
            if not isinstance(record, dict) or not self._converter.add(record):
                self.counters["dropped_io"] += 1
                continue
            event = record.get("event")
            if event == "span_start":  # held until its span ends and is sent (or spilled) with it
                held[(record["trace_id"], record["span_id"])] = line
                if len(held) > self._converter.max_open:  # its span will be made from its end alone
                    held.pop(next(iter(held)))
                    self.counters["dropped_io"] += 1
                    _too_many_open.warn(
                        "aitrace: more than %d spans open at once; the oldest's start record is not exported "
                        "(its span is, from its end record)",
                        self._converter.max_open,
                    )
            elif event == "span_end":
                start = held.pop((record["trace_id"], record["span_id"]), None)
                span_lines += [line] if start is None else [start, line]
            else:
                log_lines.append(line)
        spans, logs = self._converter.take()
        if budget.closing():  # anything still open will not end in this process: send what it has
            more_spans, more_logs = self._converter.finish()
            spans += more_spans
            logs += more_logs
            span_lines += held.values()
            held.clear()
        if self._no_logs and log_lines:
            self.counters["dropped_io"] += len(log_lines)
            logs, log_lines = [], []
        if not spans and not logs:
            return
        if time.monotonic() < self._away_until:
            self._spill(span_lines + log_lines, "the receiver did not answer (connection refused)")
            return
        with self._lock:
            if self._exporters.aborted:
                self._exporters = self._new_exporters()
            exporters = self._exporters
        spans_ok, logs_ok = exporters.export(spans, logs)
        if exporters.refused_at is not None:
            self._away_until = exporters.refused_at + self.probe_interval
        status = exporters.statuses.get(exporters.logs_url)
        if not logs_ok and status in _NO_ENDPOINT:
            self._no_logs = True
            self.counters["dropped_io"] += len(log_lines)
            self._told.warn(
                "no-logs",
                "aitrace: the OTLP receiver at %s does not take logs (HTTP %s): log records are not exported "
                "(spans are; the aitrace target, if any, keeps every record)",
                exporters.logs_url, status,
            )
            logs_ok, log_lines = True, []
        delivered = (span_lines if spans_ok else []) + (log_lines if logs_ok else [])
        self.counters["sent"] += len(delivered)
        failed = ([] if spans_ok else span_lines) + ([] if logs_ok else log_lines)
        if failed:
            reason = (
                "the receiver did not answer (connection refused)"
                if exporters.refused_at is not None
                else "the receiver refused them or did not answer in time"
            )
            self._spill(failed, reason)

    def _spill(self, lines: list[bytes], reason: str) -> None:
        """Keep ``lines`` in the spill file; the first time, say where and how to send them later."""
        if not lines:
            return
        path = self.spill_path
        try:
            assert path is not None
            append_lines(path, lines)
        except (OSError, AssertionError) as exc:
            self.counters["dropped_io"] += len(lines)
            self._told.warn(
                "lost",
                "aitrace: OTLP export to %s failed (%s) and the spill file %s cannot be written (%s); "
                "records dropped",
                self.description, reason, path, exc,
            )
            return
        self.counters["spilled"] += len(lines)
        self._told.warn(
            "spill",
            "aitrace: OTLP export to %s failed (%s); the records are kept in %s — send them later with "
            "`aitrace export --otlp %s %s`",
            self.endpoint or self.description, reason, path, self.endpoint or "URL", path,
        )

    def keep(self, lines: list[bytes]) -> None:
        self._spill(lines, "the application ended before they were sent")

    def local(self) -> bool:
        return time.monotonic() < self._away_until

    def abort(self) -> None:
        with self._lock:
            self._exporters.abort()

    def after_fork(self) -> None:
        if self.spill_path is not None:
            self.spill_path = self.spill_path.with_name(f"{self.spill_path.stem}-{os.getpid()}.jsonl")
        self._init_state()

    def close(self) -> None:
        with self._lock:
            self._exporters.abort()


def push_records(
    records: Sequence[Mapping[str, Any]],
    endpoint: str | None,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    chunk: int = 1_000,
) -> tuple[int, int]:
    """Send ``records`` (a stored trace, a .jsonl file) to an OTLP receiver now: ``(spans, log records)``
    sent. Raises ``ConnectionError`` naming the receiver and what it answered when a chunk is not taken."""
    from ._otlp_convert import records_to_otlp

    spans, logs, _skipped = records_to_otlp(records)
    exporters = OtlpExporters(endpoint, headers, timeout, True)
    try:
        for kind, items in (("spans", spans), ("log records", logs)):
            for at in range(0, len(items), chunk):
                part = items[at : at + chunk]
                ok = exporters.export(part, []) if kind == "spans" else exporters.export([], part)
                if not all(ok):
                    url = exporters.traces_url if kind == "spans" else exporters.logs_url
                    why = "connection refused" if exporters.refused_at is not None else "refused or no answer"
                    raise ConnectionError(
                        f"the OTLP receiver at {url} did not take {kind} {at + 1}-{at + len(part)} of "
                        f"{len(items)} ({why})"
                    )
    finally:
        exporters.abort()
    return len(spans), len(logs)
