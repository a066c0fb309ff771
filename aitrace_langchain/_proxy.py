"""The run-scoped proxy span made current while a LangChain run's body executes.

LangChain and LangGraph run end callbacks in a different asyncio context than the start callbacks (shielded
tasks), so a plain ``attach``/``detach`` either fails ("Failed to detach context") or leaves a finished span
current. Instead, the handler attaches a proxy: while the run is open it stands for the run's span; once
the run ends it stands for whatever was current when it was attached (skipping other ended proxies), so a
context that could not be detached falls back to the live parent, never to a finished span.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import Span, SpanContext
from opentelemetry.util.types import Attributes, AttributeValue

__all__ = ["RunScopedSpan"]


class RunScopedSpan(Span):
    """Stands for ``span`` while open and for ``fallback`` (resolved) once closed."""

    __slots__ = ("_fallback", "_span")

    def __init__(self, span: Span, fallback: Span) -> None:
        self._span: Span | None = span
        self._fallback = fallback

    def close(self) -> None:
        """The run ended: from now on, stand for the live span that was current before it."""
        self._span = None

    def target(self) -> Span:
        """The span this proxy stands for now."""
        span = self._span
        if span is not None:
            return span
        fb = self._fallback
        # Path compression: skip chains of closed proxies once, remember the result.
        while isinstance(fb, RunScopedSpan) and fb._span is None:
            fb = fb._fallback
        self._fallback = fb
        return fb.target() if isinstance(fb, RunScopedSpan) else fb

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
