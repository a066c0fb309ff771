"""The run-scoped proxy span made current for a LangChain run.

A start callback runs in the caller's context: a plain ``attach`` would leave the run's span current there
until the run ends, so a ``batch`` would chain its items and the caller's own log lines between stream chunks
would land on the run. And LangChain runs end callbacks in other asyncio contexts than the start callbacks
(shielded tasks), so a plain ``detach`` fails ("Failed to detach context") or leaves a finished span current.

So the handler attaches a proxy instead. It stands for the run's span only while the run is *entered* (asked
of its scope, see :mod:`aitrace_langchain._runs`: LangChain executes inside the run in this context), and
otherwise for whatever was current when it was attached, asked the same way. Once the run ends the proxy is
closed and stands for that fallback for good, so a context that could not be detached never points at a
finished span.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from opentelemetry.trace import Span, SpanContext
from opentelemetry.util.types import Attributes, AttributeValue

__all__ = ["RunScopedSpan", "Scope"]


class Scope(Protocol):
    def entered(self) -> bool:
        """True while the run executes in the current context."""
        ...


class RunScopedSpan(Span):
    """Stands for ``span`` while open and its scope is entered (always, without a scope), else for
    ``fallback`` (resolved the same way)."""

    __slots__ = ("_fallback", "_span", "scope")

    _fallback: Span

    def __init__(self, span: Span, fallback: Span, scope: Scope | None = None) -> None:
        # Closed proxies in the fallback chain stand for their own fallback for good: skip them now.
        while isinstance(fallback, RunScopedSpan) and fallback._span is None:
            fallback = fallback._fallback
        self._span: Span | None = span
        self._fallback = fallback
        self.scope = scope

    @property
    def is_open(self) -> bool:
        return self._span is not None

    def close(self) -> None:
        """The run ended: from now on, stand for the live span that was current before it."""
        self._span = None
        self.scope = None

    def target(self) -> Span:
        """The span this proxy stands for now, in the current context."""
        proxy: RunScopedSpan = self
        while True:  # iterative: a batch of many items stacks many proxies in the caller's context
            span = proxy._span
            if span is not None:
                scope = proxy.scope
                if scope is None or scope.entered():
                    return span
            fb = proxy._fallback
            if isinstance(fb, RunScopedSpan) and fb._span is None:
                # Path compression: skip chains of closed proxies once, remember the result.
                while isinstance(fb, RunScopedSpan) and fb._span is None:
                    fb = fb._fallback
                proxy._fallback = fb
            if not isinstance(fb, RunScopedSpan):
                return fb
            proxy = fb

    @property
    def parent(self) -> SpanContext | None:
        """The parent's span context, read by aitrace's log processor for ``parent_span_id``."""
        return getattr(self.target(), "parent", None)

    def get_span_context(self) -> SpanContext:
        return self.target().get_span_context()

    def is_recording(self) -> bool:
        return self.target().is_recording()

    def end(self, end_time: int | None = None) -> None:
        # The run's span is ended by the handler, never through the current context.
        return None

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        self.target().set_attributes(attributes)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.target().set_attribute(key, value)

    def add_event(self, name: str, attributes: Attributes = None, timestamp: int | None = None) -> None:
        self.target().add_event(name, attributes, timestamp)

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        self.target().add_link(context, attributes)

    def update_name(self, name: str) -> None:
        self.target().update_name(name)

    def set_status(self, status: Any, description: str | None = None) -> None:
        self.target().set_status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        self.target().record_exception(exception, attributes, timestamp, escaped)

    def __repr__(self) -> str:
        return f"RunScopedSpan(open={self._span is not None}, target={self.target()!r})"
