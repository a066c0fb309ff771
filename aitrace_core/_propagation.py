"""W3C ``traceparent`` propagation, so a trace continues in another service.

Only ``traceparent`` is read and written: no ``baggage``, nothing in a header can redirect where records go.
A malformed or all-zero header is ignored and a new trace starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, MutableMapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["continue_trace", "extract_context", "inject_headers"]

_propagator = TraceContextTextMapPropagator()


def inject_headers(headers: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Add ``traceparent`` for the current span to ``headers`` (a new dict if None) and return it."""
    carrier: MutableMapping[str, str] = {} if headers is None else headers
    _propagator.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str]) -> otel_context.Context:
    """An OTel context whose parent is the span named by ``traceparent`` in ``headers`` (case-insensitive).

    Without a valid header the context has no parent: spans started in it begin a new trace.
    """
    carrier = {k.lower(): v for k, v in headers.items() if isinstance(k, str) and isinstance(v, str)}
    value = carrier.get("traceparent")
    if value is None:
        return otel_context.Context()
    ctx = _propagator.extract({"traceparent": value.strip()}, context=otel_context.Context())
    if not trace.get_current_span(ctx).get_span_context().is_valid:
        return otel_context.Context()
    return ctx


@contextlib.contextmanager
def continue_trace(headers: Mapping[str, str]) -> Iterator[None]:
    """Make the caller's span (from ``traceparent`` in ``headers``) the parent of spans opened inside."""
    token = otel_context.attach(extract_context(headers))
    try:
        yield
    finally:
        otel_context.detach(token)
