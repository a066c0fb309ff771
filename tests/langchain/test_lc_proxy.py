"""The run-scoped proxy span: the run's span while the run is entered, else what was current before it."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from aitrace_langchain._proxy import RunScopedSpan


def _span(n: int) -> NonRecordingSpan:
    return NonRecordingSpan(SpanContext(1, n, is_remote=False, trace_flags=TraceFlags(1)))


class _Scope:
    def __init__(self) -> None:
        self.inside = False

    def entered(self) -> bool:
        return self.inside


def test_proxy_span_stands_for_its_run_only_while_the_run_is_entered() -> None:
    caller, first, second = _span(1), _span(2), _span(3)
    a, b = _Scope(), _Scope()
    # two runs started one after the other in the caller's context (a batch): the second falls back on it
    outer = RunScopedSpan(first, caller, a)
    inner = RunScopedSpan(second, outer, b)
    assert inner.get_span_context().span_id == 1  # neither run executes here: the caller's span
    a.inside = True
    assert inner.get_span_context().span_id == 2
    b.inside = True
    assert inner.get_span_context().span_id == 3
    inner.close()
    assert inner.get_span_context().span_id == 2  # closed: its fallback, still asked the same way
    a.inside = False
    assert inner.get_span_context().span_id == 1


def test_many_stacked_proxies_resolve_without_recursion() -> None:
    top: Any = _span(1)
    for n in range(5000):  # a batch of 5000 items starts 5000 runs in the caller's context
        top = RunScopedSpan(_span(n + 10), top, _Scope())
    assert top.get_span_context().span_id == 1
    assert top.parent is None
