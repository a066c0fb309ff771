"""Spans: the ``span()`` context manager and the low-level ``open_span`` that integrations build on.

Every span writes exactly one ``span_start`` and one ``span_end`` record. An exception is recorded
(``error.type``, ``error.message``, ``error.stacktrace``) and re-raised unchanged; cancellation
(``GeneratorExit``, ``asyncio.CancelledError``) ends the span as ``cancelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from ._fields import MISSING, merge_user_fields
from ._otel_in import OtelSpanRecorder
from ._runtime import emit, format_timestamp, runtime

__all__ = ["SpanHandle", "error_fields", "open_span", "span", "status_for_exception"]

F = TypeVar("F", bound=Callable[..., Any])

def status_for_exception(exc: BaseException) -> str:
    """``cancelled`` for ``GeneratorExit``/``CancelledError``/``KeyboardInterrupt``, else ``error``."""
    if isinstance(exc, (GeneratorExit, asyncio.CancelledError, KeyboardInterrupt)):
        return "cancelled"
    return "error"


def error_fields(exc: BaseException) -> dict[str, str]:
    """``error.type``, ``error.message`` and ``error.stacktrace`` of an exception. Never raises."""
    t = type(exc)
    try:
        message = str(exc)
    except Exception:
        message = f"<{t.__name__}: str() failed>"
    try:
        stack = "".join(traceback.format_exception(t, exc, exc.__traceback__))
    except Exception:
        stack = ""
    mod = t.__module__
    return {
        "error.type": t.__qualname__ if mod == "builtins" else f"{mod}.{t.__qualname__}",
        "error.message": message,
        "error.stacktrace": stack,
    }


class SpanHandle:
    """One open span. ``end()`` writes its end record exactly once; later calls do nothing."""

    __slots__ = (
        "_end_attrs", "_ended", "_lock", "_t0", "kind", "logger", "name", "otel_span", "parent_span_id",
        "sampled", "span_id", "trace_id",
    )

    def __init__(self, name: str, kind: str, logger: str, otel_span: trace.Span) -> None:
        self.name = name
        self.kind = kind
        self.logger = logger
        self.otel_span = otel_span
        ctx = otel_span.get_span_context()
        self.sampled = bool(ctx.trace_flags.sampled)
        self.trace_id = f"{ctx.trace_id:032x}"
        self.span_id = f"{ctx.span_id:016x}"
        parent = getattr(otel_span, "parent", None)
        self.parent_span_id = f"{parent.span_id:016x}" if parent is not None and parent.is_valid else None
        self._t0 = time.perf_counter_ns()
        self._ended = False
        self._end_attrs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def context(self, base: otel_context.Context | None = None) -> otel_context.Context:
        """An OTel context in which this span is current."""
        return trace.set_span_in_context(self.otel_span, base)

    def set(self, **attributes: Any) -> None:
        """Attributes to write on the end record."""
        self._end_attrs.update(attributes)

    def _record(self, event: str, level: str) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "timestamp": format_timestamp(),
            "level": level,
            "event": event,
            "logger": self.logger,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
        }
        if self.parent_span_id is not None:
            rec["parent_span_id"] = self.parent_span_id
        return rec

    def log(self, event: str, level: str = "info", **fields: Any) -> None:
        """Write a log record inside this span, whatever span is current."""
        if not self.sampled:
            return
        rec = self._record(event, level)
        merge_user_fields(rec, fields)
        emit(rec)

    def end(
        self,
        status: str = "ok",
        *,
        output: Any = MISSING,
        error: BaseException | None = None,
        attributes: dict[str, Any] | None = None,
        incomplete: bool = False,
    ) -> bool:
        """Write the end record (``duration_ms``, ``status``, output, error) and end the OTel span."""
        with self._lock:
            if self._ended:
                return False
            self._ended = True
        duration_ms = (time.perf_counter_ns() - self._t0) / 1e6
        try:
            if self.sampled:
                rec = self._record("span_end", "error" if status == "error" else "info")
                rec["span_name"] = self.name
                rec["span_kind"] = self.kind
                rec["duration_ms"] = round(duration_ms, 3)
                rec["status"] = status
                if incomplete:
                    rec["incomplete"] = True
                if output is not MISSING:
                    rec["output"] = output
                if error is not None:
                    rec.update(error_fields(error))
                merge_user_fields(rec, self._end_attrs)
                merge_user_fields(rec, attributes)
                emit(rec)
            if status == "error":
                self.otel_span.set_status(
                    Status(
                        StatusCode.ERROR, f"{type(error).__name__}: {error}" if error is not None else None
                    )
                )
        finally:
            self.otel_span.end()
        return True


class _LightSpan(NonRecordingSpan):
    """An id-only OTel span, used while nothing would export SDK spans (aitrace's records carry the data).

    It is current, propagates and parents like an SDK span, at a tenth of the cost.
    """

    def __init__(self, context: SpanContext, parent: SpanContext | None) -> None:
        super().__init__(context)
        self.parent = parent


_MASK64 = (1 << 64) - 1
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)


def _light_span(parent_ctx: otel_context.Context | None) -> _LightSpan:
    parent = trace.get_current_span(parent_ctx).get_span_context()
    span_id = random.getrandbits(64) or 1
    if parent.is_valid:  # ParentBased: follow the parent's sampling decision
        return _LightSpan(SpanContext(parent.trace_id, span_id, False, parent.trace_flags), parent)
    trace_id = random.getrandbits(128) or 1
    flags = _SAMPLED if (trace_id & _MASK64) < runtime.sample_bound else _NOT_SAMPLED
    return _LightSpan(SpanContext(trace_id, span_id, False, flags), None)


def _light_child(name: str, kind: str, logger: str, parent: SpanHandle) -> SpanHandle | None:
    """``SpanHandle(name, kind, logger, _light_span(parent.context()))``, reusing the parent's formatted ids.

    None when the parent's span context is not valid (then the span starts a trace of its own, as usual).
    """
    parent_sc = parent.otel_span.get_span_context()
    if not parent_sc.is_valid:
        return None
    span_id = random.getrandbits(64) or 1
    handle = SpanHandle.__new__(SpanHandle)
    handle.name = name
    handle.kind = kind
    handle.logger = logger
    context = SpanContext(parent_sc.trace_id, span_id, False, parent_sc.trace_flags)
    handle.otel_span = _LightSpan(context, parent_sc)
    handle.sampled = bool(parent_sc.trace_flags.sampled)
    handle.trace_id = parent.trace_id
    handle.span_id = f"{span_id:016x}"
    handle.parent_span_id = parent.span_id
    handle._t0 = time.perf_counter_ns()
    handle._ended = False
    handle._end_attrs = {}
    handle._lock = threading.Lock()
    return handle


def _has_processors(provider: Any) -> bool:
    """True when SDK spans would go somewhere (someone added a span processor / exporter other than aitrace's
    recorder, which skips aitrace's own spans)."""
    try:
        procs = provider._active_span_processor._span_processors
        return len(procs) > 1 or (len(procs) == 1 and type(procs[0]) is not OtelSpanRecorder)
    except Exception:  # an SDK whose internals changed: be safe, create real spans
        return True


def open_span(
    name: str,
    kind: str = "function",
    *,
    parent: SpanHandle | otel_context.Context | None = None,
    logger: str = "aitrace",
    input: Any = MISSING,
    attributes: dict[str, Any] | None = None,
    start_time_ns: int | None = None,
) -> SpanHandle:
    """Start a span and write its start record, without making it current.

    ``parent`` is a :class:`SpanHandle`, an OTel context, or None for the current context. Integrations use
    this with explicit parents; application code wants :func:`span` or :func:`auto_span`.
    """
    tracer = runtime.get_tracer()
    light = runtime.own_provider and not _has_processors(runtime.provider)
    handle: SpanHandle | None = None
    if isinstance(parent, SpanHandle):
        if light:  # a child of a handle: ids straight from the parent, no OTel context to build
            handle = _light_child(name, kind, logger, parent)
        parent_ctx: otel_context.Context | None = parent.context() if handle is None else None
    else:
        parent_ctx = parent
    if handle is None:
        if light:
            otel_span: trace.Span = _light_span(parent_ctx)
        else:
            otel_span = tracer.start_span(name, context=parent_ctx)
        handle = SpanHandle(name, kind, logger, otel_span)
    if handle.sampled:
        rec = handle._record("span_start", "info")
        if start_time_ns is not None:
            rec["timestamp"] = format_timestamp(start_time_ns)
        rec["span_name"] = name
        rec["span_kind"] = kind
        if input is not MISSING:
            rec["input"] = input
        merge_user_fields(rec, attributes)
        emit(rec)
    return handle


class span:
    """A span as a sync or async context manager: ``with span("load", user=42) as s: s.set(rows=10)``."""

    __slots__ = ("_attributes", "_handle", "_kind", "_logger", "_name", "_token")

    def __init__(self, name: str, *, kind: str = "function", logger: str | None = None, **attributes: Any):
        self._name = name
        self._kind = kind
        self._logger = logger or "aitrace"
        self._attributes = attributes
        self._handle: SpanHandle | None = None
        self._token: object | None = None

    def __enter__(self) -> SpanHandle:
        handle = open_span(self._name, self._kind, logger=self._logger, attributes=self._attributes)
        self._handle = handle
        self._token = otel_context.attach(handle.context())
        return handle

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        handle, token = self._handle, self._token
        self._handle = self._token = None
        if token is not None:
            _detach(token)
        if handle is not None:
            if exc is None:
                handle.end("ok")
            else:
                handle.end(status_for_exception(exc), error=exc)

    async def __aenter__(self) -> SpanHandle:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _detach(token: Any) -> None:
    # A context that moved to another task has nothing to restore here.
    with contextlib.suppress(Exception):
        token.var.reset(token)
