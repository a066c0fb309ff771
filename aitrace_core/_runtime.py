"""Process-wide state and the one path every record takes: fields → processors → JSON line → sink."""

from __future__ import annotations

import contextlib
import itertools
import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, MutableMapping
from typing import Any, Protocol

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from ._encode import dumps_checked
from ._serialize import DEFAULT_LIMITS, Limits

__all__ = ["Sink", "current_ids", "emit", "format_timestamp", "runtime", "setup_tracing"]

Record = MutableMapping[str, Any]
RecordProcessor = Callable[[Record], "Record | None"]

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class Sink(Protocol):
    def write(self, line: bytes) -> bool: ...


class _Runtime:
    def __init__(self) -> None:
        self.service = "app"
        self.sink: Sink | None = None
        self.limits: Limits = DEFAULT_LIMITS
        self.level_no = 20
        self.processors: list[RecordProcessor] = []
        self.configured = False
        self.lock = threading.RLock()
        self.provider: TracerProvider | None = None
        self.tracer: trace.Tracer | None = None
        self.auto_configure: Callable[[], None] | None = None
        self.own_provider = False
        """True when ``provider`` is aitrace's own (no exporter unless someone adds a span processor)."""
        self.capture_otel = True
        """Whether spans other code makes through the OpenTelemetry SDK become records (docs/otlp.md)."""
        self.sample_bound = 1 << 64
        """Traces whose trace id's low 64 bits are below this are sampled (``TraceIdRatioBased``)."""

    def get_tracer(self) -> trace.Tracer:
        tracer = self.tracer
        if tracer is None:
            tracer = setup_tracing(self.service)
        return tracer

    def get_sink(self) -> Sink | None:
        sink = self.sink
        if sink is None and not self.configured and self.auto_configure is not None:
            with self.lock:
                if not self.configured:
                    try:
                        self.auto_configure()
                    except Exception as exc:  # e.g. a bad AITRACE_* value: say so once, then stay quiet
                        self.configured = True
                        with contextlib.suppress(Exception):
                            _internal.warning("aitrace: not configured, records are dropped: %s", exc)
            sink = self.sink
        return sink


runtime = _Runtime()

_seq = itertools.count()
_ts_cache: tuple[int, str] = (-1, "")


def format_timestamp(ns: int | None = None) -> str:
    """RFC 3339 UTC with microseconds: ``2026-11-24T12:00:00.123456Z``."""
    global _ts_cache
    if ns is None:
        ns = time.time_ns()
    sec, rem = divmod(ns, 1_000_000_000)
    cached_sec, prefix = _ts_cache  # one tuple, swapped whole: threads never see a second and a stale prefix
    if cached_sec != sec:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _ts_cache = (sec, prefix)
    return f"{prefix}.{rem // 1000:06d}Z"


_own_providers: weakref.WeakSet[TracerProvider] = weakref.WeakSet()
"""Providers aitrace made: a later ``configure`` must not take the one it installed globally for the app's."""


def setup_tracing(service_name: str, sample_ratio: float = 1.0) -> trace.Tracer:
    """OTel tracing with no exporter: spans give ids and context, records carry the data.

    A TracerProvider the application already installed is used as it is (its exporters keep working);
    otherwise aitrace installs its own, sampling whole traces by ``sample_ratio``, decided at the root.
    """
    with runtime.lock:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider) and current not in _own_providers:
            provider = current  # the application's own SDK provider
            runtime.own_provider = False
        else:
            runtime.own_provider = True
            runtime.sample_bound = round(max(0.0, min(1.0, sample_ratio)) * (1 << 64))
            provider = TracerProvider(
                resource=Resource.create({"service.name": service_name}),
                sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
            )
            _own_providers.add(provider)
            if not isinstance(current, TracerProvider):
                with contextlib.suppress(Exception):
                    trace.set_tracer_provider(provider)
        runtime.provider = provider
        runtime.tracer = provider.get_tracer("aitrace")
        from ._otel_in import add_recorder  # (it imports this module)

        add_recorder(provider)
        return runtime.tracer


def current_ids() -> tuple[str, str, str | None] | None:
    """``(trace_id, span_id, parent_span_id)`` of the current OTel span, or None outside any span.

    Returns None as well for a span that is not sampled (its records are not written).
    """
    span = trace.get_current_span()
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    if not ctx.trace_flags.sampled:
        return ("", "", None)
    parent = getattr(span, "parent", None)
    parent_id = f"{parent.span_id:016x}" if parent is not None and parent.is_valid else None
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}", parent_id


def new_trace_id() -> str:
    return f"{random.getrandbits(128) or 1:032x}"


def new_span_id() -> str:
    return f"{random.getrandbits(64) or 1:016x}"


def fill_ids(record: Record) -> bool:
    """Put the current span's ids on ``record``; False when the current trace is not sampled.

    A record written outside any span gets a trace of its own, so it is never lost.
    """
    ids = current_ids()
    if ids is None:
        record["trace_id"] = new_trace_id()
        record["span_id"] = new_span_id()
        return True
    if not ids[0]:
        return False
    record["trace_id"], record["span_id"] = ids[0], ids[1]
    if ids[2] is not None:
        record["parent_span_id"] = ids[2]
    return True


_last = threading.local()


def last_written() -> bool:
    """Whether the last record this thread emitted reached its sink (not dropped on the way)."""
    return bool(getattr(_last, "written", False))


def last_emit() -> tuple[int, bool]:
    """``(n, whole)``: how many records this thread has emitted, and whether the last one was handed to
    the sink within the configured caps as a whole (not dropped by a processor or the sink, not re-encoded
    with tighter caps)."""
    return getattr(_last, "n", 0), bool(getattr(_last, "whole", False))


def emit(record: Record, sink: Sink | None = None) -> bool:
    """Stamp, process, encode and hand one record to the sink (default: the configured one). Never raises;
    False if not written.

    ``record`` must already carry ``event``, ``level``, ``logger`` and ids; ``timestamp``, ``service`` and
    ``seq`` are added when missing.
    """
    _last.whole = _last.written = False
    _last.n = getattr(_last, "n", 0) + 1
    try:
        # The sink first: the first record may be what configures aitrace from the environment, and its
        # service name must come from that configuration too.
        if sink is None:
            sink = runtime.get_sink()
        if sink is None:
            return False
        if "timestamp" not in record:
            record["timestamp"] = format_timestamp()
        record.setdefault("service", runtime.service)
        record["seq"] = next(_seq)
        for processor in runtime.processors:
            out = processor(record)
            if out is None:
                return False
            record = out
        line, within = dumps_checked(record, runtime.limits)
        written = bool(sink.write(line))
        _last.written = written
        _last.whole = written and within
        return written
    except Exception:
        _internal.debug("aitrace: record not written", exc_info=True)
        return False


_internal = logging.getLogger("aitrace")
