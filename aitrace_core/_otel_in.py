"""OpenTelemetry spans and log records → aitrace records, and the span processor that writes other code's
spans in the same process.

One converter serves both ways in: :class:`OtelSpan` is what an SDK ``ReadableSpan`` (:func:`from_readable`)
and a span decoded from OTLP (the viewer's ``/v1/traces``) both become; :func:`span_records` turns it into
one ``span_start`` and one ``span_end`` record, plus one log record per span event. Attributes go through
:func:`~._dialects.normalise`, so GenAI, OpenInference and OpenLLMetry spans show in the LLM lens.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

from ._dialects import normalise
from ._notices import Once
from ._runtime import emit, format_timestamp, new_span_id, new_trace_id, runtime

__all__ = [
    "AITRACE_SCOPE",
    "OtelLog",
    "OtelSpan",
    "OtelSpanRecorder",
    "add_recorder",
    "from_readable",
    "log_record",
    "span_records",
]

AITRACE_SCOPE = "aitrace"
"""The instrumentation scope (tracer name) of aitrace's own spans: they write their own records."""

#: record keys an attribute may not take over (it is kept as ``attributes.<key>`` instead)
_RESERVED = frozenset(
    {
        "timestamp", "level", "event", "logger", "service", "trace_id", "span_id", "parent_span_id", "seq",
        "span_name", "span_kind", "duration_ms", "status", "incomplete", "error.type", "error.message",
        "error.stacktrace", "$id", "$ref", "$span",
    }
)
_OTEL_KINDS = {"SERVER": "server", "CLIENT": "client", "PRODUCER": "producer", "CONSUMER": "consumer"}
_LEVELS = ((21, "critical"), (17, "error"), (13, "warning"), (9, "info"), (1, "debug"))


@dataclass
class OtelSpan:
    """One finished span, from the SDK or from OTLP. Ids are integers; times are nanoseconds."""

    trace_id: int
    span_id: int
    parent_span_id: int | None
    name: str
    start_ns: int
    end_ns: int
    kind: str = "INTERNAL"
    attributes: Mapping[str, Any] = field(default_factory=dict)
    status_code: str = "UNSET"
    """``UNSET``, ``OK`` or ``ERROR``."""
    status_message: str = ""
    events: Sequence[tuple[str, int, Mapping[str, Any]]] = ()
    """``(name, time_ns, attributes)``."""
    links: Sequence[tuple[int, int, Mapping[str, Any]]] = ()
    """``(trace_id, span_id, attributes)``."""
    resource: Mapping[str, Any] = field(default_factory=dict)
    scope: str = ""


@dataclass
class OtelLog:
    """One OTLP log record (``trace_id`` / ``span_id`` 0 when it was written outside any span)."""

    time_ns: int
    severity_number: int = 0
    severity_text: str = ""
    body: Any = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    trace_id: int = 0
    span_id: int = 0
    event_name: str = ""
    resource: Mapping[str, Any] = field(default_factory=dict)
    scope: str = ""


def _put_attrs(record: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        record["attributes." + key if key in _RESERVED else key] = value


def _service(resource: Mapping[str, Any], default: str | None) -> str:
    name = resource.get("service.name")
    if isinstance(name, str) and name and default is None:
        return name[:1000]
    return default or "unknown_service"


def _other_resource(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "service.name"}


def span_records(span: OtelSpan, service: str | None = None) -> list[dict[str, Any]]:
    """The records of one span: ``span_start``, a log record per span event, ``span_end``.

    ``service``: the service to write (None: the resource's ``service.name``).
    """
    norm = normalise(span.attributes)
    kind = norm.kind or _OTEL_KINDS.get(span.kind, "function")
    base = {
        "logger": span.scope or "opentelemetry",
        "service": _service(span.resource, service),
        "trace_id": f"{span.trace_id:032x}",
        "span_id": f"{span.span_id:016x}",
    }
    if span.parent_span_id:
        base["parent_span_id"] = f"{span.parent_span_id:016x}"
    start: dict[str, Any] = {
        "timestamp": format_timestamp(span.start_ns),
        "level": "info",
        "event": "span_start",
        **base,
        "span_name": span.name[:1000] or "(unnamed)",
        "span_kind": kind,
    }
    if span.kind != "INTERNAL" and span.kind in _OTEL_KINDS:
        start["otel.span_kind"] = span.kind
    other = _other_resource(span.resource)
    if other and service is None:
        start["otel.resource"] = other
    _put_attrs(start, norm.start)
    records = [start]
    status = "error" if span.status_code == "ERROR" else "ok"
    error: dict[str, Any] = {}
    for name, time_ns, attrs in span.events:
        if name == "exception":
            error = {
                "error.type": str(attrs.get("exception.type", "")),
                "error.message": str(attrs.get("exception.message", "")),
                "error.stacktrace": str(attrs.get("exception.stacktrace", "")),
            }
        rec = {
            "timestamp": format_timestamp(time_ns),
            "level": "error" if name == "exception" else "info",
            "event": name[:100_000] or "(event)",
            **base,
        }
        _put_attrs(rec, attrs)
        records.append(rec)
    end_ns = max(span.end_ns, span.start_ns)
    end: dict[str, Any] = {
        "timestamp": format_timestamp(end_ns),
        "level": "error" if status == "error" else "info",
        "event": "span_end",
        **base,
        "span_name": start["span_name"],
        "span_kind": kind,
        "duration_ms": round((end_ns - span.start_ns) / 1e6, 3),
        "status": status,
    }
    if status == "error":
        end.update(error)
        if span.status_message and "error.message" not in end:
            end["error.message"] = span.status_message
    _put_attrs(end, norm.end)
    if span.links:
        end["otel.links"] = [
            {"trace_id": f"{tid:032x}", "span_id": f"{sid:016x}", **({"attributes": dict(a)} if a else {})}
            for tid, sid, a in span.links
        ]
    records.append(end)
    return records


def _level(number: int, text: str) -> str:
    for floor, name in _LEVELS:
        if number >= floor:
            return name
    lowered = text.lower()
    return {"warn": "warning", "fatal": "critical", "trace": "debug"}.get(lowered, lowered) if lowered in (
        "debug", "info", "warning", "warn", "error", "critical", "fatal", "trace"
    ) else "info"


def log_record(log: OtelLog, service: str | None = None) -> dict[str, Any]:
    """The record of one OTLP log record, under its span; one written outside any span gets a trace of its
    own (as aitrace's own records do)."""
    body = log.body
    event = body if isinstance(body, str) and body else log.event_name or "log"
    rec: dict[str, Any] = {
        "timestamp": format_timestamp(log.time_ns),
        "level": _level(log.severity_number, log.severity_text),
        "event": event[:100_000],
        "logger": log.scope or "opentelemetry",
        "service": _service(log.resource, service),
        "trace_id": f"{log.trace_id:032x}" if log.trace_id and log.span_id else new_trace_id(),
        "span_id": f"{log.span_id:016x}" if log.trace_id and log.span_id else new_span_id(),
    }
    if body is not None and not isinstance(body, str):
        rec["body"] = body
    if log.event_name:
        rec["event_name"] = log.event_name
    _put_attrs(rec, log.attributes)
    return rec


def from_readable(span: ReadableSpan) -> OtelSpan:
    """An SDK span as an :class:`OtelSpan`."""
    ctx = span.get_span_context()
    parent = span.parent
    status = span.status
    scope = span.instrumentation_scope
    return OtelSpan(
        trace_id=ctx.trace_id if ctx is not None else 0,
        span_id=ctx.span_id if ctx is not None else 0,
        parent_span_id=parent.span_id if parent is not None and parent.is_valid else None,
        name=span.name,
        start_ns=span.start_time or 0,
        end_ns=span.end_time or span.start_time or 0,
        kind=span.kind.name,
        attributes=dict(span.attributes or {}),
        status_code=status.status_code.name,
        status_message=status.description or "",
        events=[(e.name, e.timestamp, dict(e.attributes or {})) for e in span.events],
        links=[(lk.context.trace_id, lk.context.span_id, dict(lk.attributes or {})) for lk in span.links],
        resource=dict(span.resource.attributes) if span.resource is not None else {},
        scope=scope.name if scope is not None else "",
    )


_told = Once()


class OtelSpanRecorder(SpanProcessor):
    """Writes every span other code ends through the OpenTelemetry SDK as aitrace records, in the same
    trace and under the span that was current when it started (aitrace's own spans write their records
    themselves and are skipped). ``configure()`` adds one to the tracer provider it uses; add one yourself
    to a provider you never install globally: ``provider.add_span_processor(OtelSpanRecorder())``."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        try:
            scope = span.instrumentation_scope
            if (scope is not None and scope.name == AITRACE_SCOPE) or not runtime.capture_otel:
                return
            ctx = span.get_span_context()
            if ctx is None or not ctx.trace_flags.sampled:
                return
            for record in span_records(from_readable(span), runtime.service):
                emit(record)
        except Exception:
            why = traceback.format_exc(limit=3)
            _told.warn("on_end", "aitrace: an OpenTelemetry span could not be recorded: %s", why)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_recorded: weakref.WeakSet[TracerProvider] = weakref.WeakSet()
_lock = threading.Lock()


def add_recorder(provider: TracerProvider) -> None:
    """Add an :class:`OtelSpanRecorder` to ``provider`` once (however many times ``configure`` runs)."""
    with _lock:
        if provider in _recorded or any(isinstance(p, OtelSpanRecorder) for p in _processors(provider)):
            _recorded.add(provider)
            return
        with contextlib.suppress(Exception):
            provider.add_span_processor(OtelSpanRecorder())
            _recorded.add(provider)
    _watch_overrides()


def _processors(provider: TracerProvider) -> Sequence[SpanProcessor]:
    try:
        procs: Sequence[SpanProcessor] = provider._active_span_processor._span_processors
        return procs
    except Exception:
        return ()


class _OverrideNotice(logging.Filter):
    """Turns OpenTelemetry's "Overriding of current TracerProvider is not allowed" into aitrace's advice,
    once, when the provider in place is aitrace's own (the app installed its own after ``configure()``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        with contextlib.suppress(Exception):
            if "Overriding of current TracerProvider" in record.getMessage() and runtime.own_provider:
                _told.warn(
                    "override",
                    "aitrace: your TracerProvider was not installed: configure() had already installed "
                    "aitrace's. Spans made through the global OpenTelemetry API are still recorded by "
                    "aitrace, but the processors and exporters of your provider see none of them. Call "
                    "trace.set_tracer_provider(...) before aitrace's configure() (aitrace then adds its "
                    "recorder to yours), or add your processors to trace.get_tracer_provider().",
                )
        return True


_filter = _OverrideNotice()


def _watch_overrides() -> None:
    otel_logger = logging.getLogger(trace.__name__)
    if _filter not in otel_logger.filters:
        otel_logger.addFilter(_filter)
