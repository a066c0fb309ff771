"""aitrace records → OpenTelemetry SDK spans and log records with GenAI-convention attributes (for OTLP).

A span is made when its ``span_end`` arrives, from that record and its ``span_start`` (held until then, at
most ``max_open`` of them); every other record is a log record under its span. Message references
(``$ref``, docs/schema.md) are resolved per trace, so a backend gets every message in full. Pure data in,
SDK objects out: no I/O; the caller exports them (``_otlp_target``, ``aitrace export --otlp``).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)

from ._refs import RefResolver, resolve_refs
from ._version import __version__

__all__ = ["RecordsToOtlp", "records_to_otlp"]

#: Record fields that become the span's or log record's own fields, not attributes.
_OWN = frozenset(
    {
        "timestamp", "level", "event", "logger", "service", "trace_id", "span_id", "parent_span_id", "seq",
        "span_name", "span_kind", "duration_ms", "status", "input", "output", "error.type", "error.message",
        "error.stacktrace",
    }
)
_LLM_KINDS = frozenset({"llm", "chat_model"})
#: aitrace span kinds → ``openinference.span.kind`` (Phoenix, Langfuse and Arize group spans by it).
_OPENINFERENCE = {
    "llm": "LLM", "chat_model": "LLM", "tool": "TOOL", "retriever": "RETRIEVER", "agent": "AGENT",
    "graph": "CHAIN", "node": "CHAIN", "chain": "CHAIN", "embedding": "EMBEDDING",
}
_SEVERITY = {
    "debug": SeverityNumber.DEBUG, "info": SeverityNumber.INFO, "warning": SeverityNumber.WARN,
    "error": SeverityNumber.ERROR, "critical": SeverityNumber.FATAL,
}
_SCOPE = InstrumentationScope("aitrace", __version__)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


def _ns(timestamp: Any) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 timestamp (``…Z``), or None."""
    if not isinstance(timestamp, str):
        return None
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _hex(value: Any, digits: int) -> int | None:
    if not isinstance(value, str) or len(value) != digits:
        return None
    try:
        number = int(value, 16)
    except ValueError:
        return None
    return number or None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def _attribute(value: Any) -> Any:
    """An OTel attribute value: scalars as they are, a list of one scalar type as a tuple, others JSON."""
    if value is None:
        return None
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list) and value:
        first = type(value[0])
        if first in (str, bool, int, float) and all(type(v) is first for v in value):
            return tuple(value)
    return _json(value)


def _text(value: Any) -> tuple[str, str]:
    """``(value, mime type)`` for ``input.value`` / ``output.value``."""
    if isinstance(value, str):
        return value, "text/plain"
    return _json(value), "application/json"


def _attributes(record: Mapping[str, Any], into: dict[str, Any]) -> None:
    for key, value in record.items():
        if key in _OWN or key.startswith("$"):
            continue
        converted = _attribute(value)
        if converted is not None:
            into[key] = converted


class RecordsToOtlp:
    """Feed records in the order they were written (:meth:`add`); take the spans and log records made so
    far (:meth:`take`); :meth:`finish` turns spans still open into spans marked ``aitrace.incomplete``.

    Memory is bounded: at most ``max_open`` open spans are held (beyond that the oldest one's start is let
    go and its span is made from its end record alone, counted in ``starts_dropped``), and at most
    ``max_traces`` traces' message indexes (a trace's is freed when its root span ends).
    """

    def __init__(self, *, max_open: int = 10_000, max_traces: int = 1_000) -> None:
        self.max_open = max_open
        self.max_traces = max_traces
        self.starts_dropped = 0
        self._open: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._resolvers: OrderedDict[str, RefResolver] = OrderedDict()
        self._resources: dict[str, Resource] = {}
        self._spans: list[ReadableSpan] = []
        self._logs: list[ReadableLogRecord] = []

    def add(self, record: Mapping[str, Any]) -> bool:
        """Take one record; False when it is not an aitrace record (no valid trace and span ids)."""
        trace_id, span_id = record.get("trace_id"), record.get("span_id")
        if _hex(trace_id, 32) is None or _hex(span_id, 16) is None:
            return False
        record = self._resolve(str(trace_id), record)
        event = record.get("event")
        if event == "span_start":
            self._open[(str(trace_id), str(span_id))] = dict(record)
            if len(self._open) > self.max_open:
                self._open.popitem(last=False)
                self.starts_dropped += 1
        elif event == "span_end":
            start = self._open.pop((str(trace_id), str(span_id)), None)
            self._spans.append(self._span(start, record))
            if not record.get("parent_span_id"):
                self._resolvers.pop(str(trace_id), None)
        else:
            self._logs.append(self._log(record))
        return True

    def take(self) -> tuple[list[ReadableSpan], list[ReadableLogRecord]]:
        """The spans and log records made since the last call."""
        spans, logs = self._spans, self._logs
        self._spans, self._logs = [], []
        return spans, logs

    def finish(self) -> tuple[list[ReadableSpan], list[ReadableLogRecord]]:
        """Everything left: spans whose end never came are closed at their start, ``aitrace.incomplete``."""
        for start in self._open.values():
            self._spans.append(self._span(start, None))
        self._open.clear()
        self._resolvers.clear()
        return self.take()

    # -- pieces ----------------------------------------------------------------------------------------
    def _resolve(self, trace_id: str, record: Mapping[str, Any]) -> Mapping[str, Any]:
        resolver = self._resolvers.get(trace_id)
        if resolver is None:
            resolver = self._resolvers[trace_id] = RefResolver()
            if len(self._resolvers) > self.max_traces:
                self._resolvers.popitem(last=False)
        else:
            self._resolvers.move_to_end(trace_id)
        return resolver.resolve(record) if resolver.add(record) else record

    def _resource(self, record: Mapping[str, Any]) -> Resource:
        service = str(record.get("service") or "app")
        resource = self._resources.get(service)
        if resource is None:
            if len(self._resources) > 256:
                self._resources.clear()
            # Not Resource.create: its detectors run in a thread pool, which cannot start at interpreter exit.
            resource = self._resources[service] = Resource(
                {"service.name": service, "telemetry.sdk.language": "python", "aitrace.version": __version__}
            )
        return resource

    def _span(self, start: Mapping[str, Any] | None, end: Mapping[str, Any] | None) -> ReadableSpan:
        last = end if end is not None else start
        assert last is not None
        first = start if start is not None else end
        assert first is not None
        trace_id = _hex(last["trace_id"], 32) or 1
        context = SpanContext(trace_id, _hex(last["span_id"], 16) or 1, is_remote=False, trace_flags=_SAMPLED)
        parent_id = _hex(last.get("parent_span_id") or first.get("parent_span_id"), 16)
        parent = SpanContext(trace_id, parent_id, False, _SAMPLED) if parent_id else None
        kind = str(last.get("span_kind") or first.get("span_kind") or "function")
        attributes: dict[str, Any] = {}
        if start is not None:
            _attributes(start, attributes)
        if end is not None:
            _attributes(end, attributes)
        attributes["aitrace.span_kind"] = kind
        if kind in _OPENINFERENCE:
            attributes.setdefault("openinference.span.kind", _OPENINFERENCE[kind])
        name = str(last.get("span_name") or first.get("span_name") or kind)
        for key, source in (("input", start), ("output", end)):
            if source is not None and source.get(key) is not None:
                attributes[f"{key}.value"], attributes[f"{key}.mime_type"] = _text(source[key])
        if kind == "tool":
            attributes.setdefault("gen_ai.operation.name", "execute_tool")
            attributes.setdefault("gen_ai.tool.name", name)
            if "input.value" in attributes:
                attributes.setdefault("gen_ai.tool.call.arguments", attributes["input.value"])
            if "output.value" in attributes:
                attributes.setdefault("gen_ai.tool.call.result", attributes["output.value"])
            name = f"execute_tool {attributes['gen_ai.tool.name']}"
        elif kind in _LLM_KINDS:
            operation = "chat" if kind == "chat_model" else "text_completion"
            attributes.setdefault("gen_ai.operation.name", operation)
            model = attributes.get("gen_ai.request.model") or attributes.get("gen_ai.response.model")
            name = f"{attributes['gen_ai.operation.name']} {model}" if model else name
        attributes["aitrace.span_name"] = str(last.get("span_name") or name)

        start_ns = _ns(start.get("timestamp")) if start is not None else None
        end_ns = _ns(end.get("timestamp")) if end is not None else None
        duration = end.get("duration_ms") if end is not None else None
        if end_ns is not None and isinstance(duration, (int, float)) and start_ns is None:
            start_ns = end_ns - int(duration * 1_000_000)
        elif start_ns is not None and isinstance(duration, (int, float)):
            end_ns = start_ns + int(duration * 1_000_000)
        if start_ns is None:
            start_ns = end_ns or 0
        if end_ns is None:
            end_ns = start_ns
            attributes["aitrace.incomplete"] = True

        status = Status(StatusCode.UNSET)
        events: list[Event] = []
        outcome = end.get("status") if end is not None else None
        if outcome:
            attributes["aitrace.status"] = str(outcome)
        if end is not None and outcome == "error":
            message = str(end.get("error.message") or "")
            status = Status(StatusCode.ERROR, message or None)
            error_type = str(end.get("error.type") or "Exception")
            attributes["error.type"] = error_type
            exception = {"exception.type": error_type, "exception.message": message}
            if end.get("error.stacktrace"):
                exception["exception.stacktrace"] = str(end["error.stacktrace"])
            events.append(Event("exception", exception, timestamp=end_ns))
        elif outcome == "ok":
            status = Status(StatusCode.OK)
        return ReadableSpan(
            name=name,
            context=context,
            parent=parent,
            resource=self._resource(last),
            attributes=attributes,
            events=events,
            kind=SpanKind.CLIENT if kind in _LLM_KINDS else SpanKind.INTERNAL,
            instrumentation_scope=_SCOPE,
            status=status,
            start_time=start_ns,
            end_time=end_ns,
        )

    def _log(self, record: Mapping[str, Any]) -> ReadableLogRecord:
        span = NonRecordingSpan(
            SpanContext(
                _hex(record["trace_id"], 32) or 1, _hex(record["span_id"], 16) or 1, False, _SAMPLED
            )
        )
        context: Context = set_span_in_context(span)
        level = str(record.get("level") or "info")
        attributes: dict[str, Any] = {}
        _attributes(record, attributes)
        if record.get("logger"):
            attributes["logger.name"] = str(record["logger"])
        for key in ("error.type", "error.message", "error.stacktrace"):
            if record.get(key) is not None:
                attributes[key.replace("error.", "exception.")] = str(record[key])
        timestamp = _ns(record.get("timestamp"))
        log_record = LogRecord(
            timestamp=timestamp,
            observed_timestamp=timestamp,
            context=context,
            severity_text=level.upper(),
            severity_number=_SEVERITY.get(level, SeverityNumber.INFO),
            body=str(record.get("event", "")),
            attributes=attributes,
        )
        return ReadableLogRecord(log_record, resource=self._resource(record), instrumentation_scope=_SCOPE)


def records_to_otlp(
    records: Iterable[Mapping[str, Any]],
) -> tuple[list[ReadableSpan], list[ReadableLogRecord], int]:
    """All of ``records`` (a file, a stored trace) as ``(spans, log records, records skipped)``; message
    references are resolved among all of them first, so their order does not matter."""
    records = resolve_refs(records)
    converter = RecordsToOtlp(max_open=10_000_000, max_traces=10_000_000)
    skipped = sum(1 for record in records if not converter.add(record))
    spans, logs = converter.finish()
    return spans, logs, skipped
