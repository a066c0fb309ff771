"""The error/status policy: how a run that raised ends, with what error text, and what a resumed run links to.

LangGraph control flow (``interrupt()``, ``Command.PARENT``) is ``interrupted``, cancellation ``cancelled``,
the rest ``error``; error text is redacted like any other; a graph run that resumes a paused thread links to
the run that paused it.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

from aitrace_core import error_fields

from ._graph import interrupt_value
from ._shaper import Shaper

try:
    from langgraph.errors import GraphBubbleUp, ParentCommand

    #: LangGraph control flow (interrupt(), Command.PARENT): ends a run as "interrupted", never "error".
    _CONTROL_FLOW: tuple[type[BaseException], ...] = (GraphBubbleUp,)
    _PARENT_COMMAND: tuple[type[BaseException], ...] = (ParentCommand,)
except ImportError:  # pragma: no cover
    _CONTROL_FLOW = _PARENT_COMMAND = ()

__all__ = ["ResumeLinks", "interrupt_fields", "is_parent_command", "redacted_error", "run_status"]


def run_status(error: BaseException) -> str:
    """``interrupted`` (LangGraph control flow), ``cancelled`` (``GeneratorExit``, ``CancelledError``,
    ``KeyboardInterrupt``) or ``error``: a handler never calls LangGraph's own control flow an error."""
    if isinstance(error, _CONTROL_FLOW):
        return "interrupted"
    if isinstance(error, (GeneratorExit, KeyboardInterrupt)) or type(error).__name__ == "CancelledError":
        return "cancelled"
    return "error"


def is_parent_command(error: BaseException) -> bool:
    """True for ``Command(graph=Command.PARENT)`` bubbling up (a hand-off, not a pause of the graph)."""
    return isinstance(error, _PARENT_COMMAND)


def interrupt_fields(error: BaseException, shaper: Shaper, hide_outputs: bool) -> dict[str, Any]:
    """``langgraph.interrupt`` (the ``interrupt()`` values) or ``langgraph.command`` of control flow."""
    value = interrupt_value(error)
    if value is None or hide_outputs:
        return {}
    key = "langgraph.command" if is_parent_command(error) else "langgraph.interrupt"
    return {key: shaper.value(value)}


def redacted_error(exc: BaseException, shaper: Shaper) -> BaseException:
    """``exc`` itself, or a stand-in with a redacted message when its message or stack holds a secret."""
    if shaper.redactor is None:
        return exc
    fields = error_fields(exc)
    if shaper.text(fields["error.message"]) == fields["error.message"] and (
        shaper.text(fields["error.stacktrace"]) == fields["error.stacktrace"]
    ):
        return exc
    return _redacted_copy(exc, shaper.text(fields["error.message"]))


def _redacted_copy(exc: BaseException, message: str) -> BaseException:
    """An exception that reports like ``exc`` (type name, module, stack) but with a redacted message."""
    cls = type(exc)
    surrogate_cls = type(
        cls.__name__,
        (Exception,),
        {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__str__": lambda self: message,
        },
    )
    surrogate: BaseException = surrogate_cls(message)
    surrogate.__traceback__ = exc.__traceback__
    surrogate.__suppress_context__ = True
    return surrogate


class ResumeLinks:
    """Per thread id, the trace and span of the last graph run that paused there (the most recent 1024), so
    the run that resumes it can link to it."""

    __slots__ = ("_links", "_lock", "limit")

    def __init__(self, limit: int = 1024) -> None:
        self._links: collections.OrderedDict[str, tuple[str, str]] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def paused(self, thread_id: str, trace_id: str, span_id: str) -> None:
        """The graph run ``span_id`` paused on ``thread_id``."""
        with self._lock:
            self._links[thread_id] = (trace_id, span_id)
            while len(self._links) > self.limit:
                self._links.popitem(last=False)

    def resumed(self, thread_id: str) -> dict[str, str]:
        """``link.trace_id`` and ``link.span_id``: the run a graph run on ``thread_id`` resumes, if any (it is
        forgotten once told)."""
        if not self._links:
            return {}
        with self._lock:
            link = self._links.pop(thread_id, None)
        return {"link.trace_id": link[0], "link.span_id": link[1]} if link is not None else {}
