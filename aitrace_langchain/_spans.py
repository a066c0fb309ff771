"""``RunSpans``: open and end each LangChain run's span, parented by run id, current only inside the run."""

from __future__ import annotations

import contextlib
import random
import sys
import time
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import Any
from uuid import UUID

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from aitrace_core import open_span

from ._guard import MISSING, Guard, put
from ._metadata import metadata_field, user_metadata
from ._proxy import RunScopedSpan
from ._runs import Run, RunMap
from ._shaper import Shaper
from ._status import interrupt_fields, is_parent_command, redacted_error, run_status

__all__ = ["RunSpans"]

#: Tags LangChain and LangGraph add for their own bookkeeping; only the user's own tags are written.
_INTERNAL_TAGS = ("graph:step:", "seq:step:", "map:key:", "langsmith:", "branch:")

#: Before Python 3.11 asyncio cannot run a coroutine in a given context, so LangChain's async bodies never
#: see their own config: there an async run is current from its start to its end, as a sync LLM run is.
_PRE_311 = sys.version_info < (3, 11)


def _from_async_manager() -> bool:
    """Whether LangChain's async callback manager called the handler (an async run is starting)."""
    try:
        frame: FrameType | None = sys._getframe(2)
        # RunSpans.start ← on_*_start (← _llm_start) ← guarded ← _ahandle_event_for_handler
        for _ in range(6):
            if frame is None:
                return False
            if frame.f_code.co_name == "_ahandle_event_for_handler":
                return True
            frame = frame.f_back
    except Exception:  # an interpreter without frames: treat the run as async, current start to end
        return True
    return False


class RunSpans:
    """The spans of the open runs: parents by ``parent_run_id`` (a root under the caller's current span),
    sampling by trace, a proxy current only while LangChain executes inside the run, leftovers closed.

    Shared messages (``Shaper``'s references) are committed with the record that holds them in full, only
    when every field of that record was extracted: :meth:`begin` returns the mark to pass on.
    """

    __slots__ = ("guard", "logger_name", "runs", "sample_ratio", "shaper")

    def __init__(self, shaper: Shaper, guard: Guard, sample_ratio: float, logger_name: str) -> None:
        self.shaper = shaper
        self.guard = guard
        self.sample_ratio = sample_ratio
        self.logger_name = logger_name
        self.runs = RunMap()

    def parent(self, parent_run_id: UUID | None) -> tuple[Run | None, dict[Any, Any] | None]:
        """The parent run (None for a root) and the trace's conversion cache (None: sampled out)."""
        parent = self.runs.get(parent_run_id) if parent_run_id is not None else None
        if parent is None:
            return None, {}
        if parent.handle is None:
            return parent, None
        return parent, parent.root.cache

    def begin(self, cache: dict[Any, Any] | None, run_id: UUID) -> int:
        """Before shaping a record's values: messages shaped from here are committed with its span. Returns
        the mark that :meth:`start` and :meth:`end` compare with, to commit only a record no field failed."""
        refs = self.shaper.refs(cache)
        if refs is not None:
            refs.begin(run_id)
        return self.guard.failures

    def _commit(
        self, cache: dict[Any, Any] | None, span_id: str | None, run_id: UUID, mark: int | None
    ) -> None:
        refs = self.shaper.refs(cache)
        if refs is not None:
            # a field that failed may have offered messages it never wrote: none of them may be referred to
            whole = mark is None or mark == self.guard.failures
            refs.commit(span_id if whole else None, run_id)

    def start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        parent: Run | None,
        cache: dict[Any, Any] | None,
        kind: str,
        name: str,
        fields: dict[str, Any] | None,
        input: Any = MISSING,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        static: bool = False,
        mark: int | None = None,
    ) -> Run:
        """Open the run's span (its start record) and make it current; ``fields`` None: sampled out."""
        if _PRE_311 and not static:
            static = _from_async_manager()
        if cache is None or fields is None:  # inside a trace that was sampled out
            run = Run(None, kind, name)
            self.runs.add(run_id, run, parent)
            return run
        rid = fields["run_id"] = str(run_id)
        if parent_run_id is not None:
            fields["parent_run_id"] = parent.rid if parent is not None and parent.rid else str(parent_run_id)
        if tags:
            user_tags = [t for t in tags if not t.startswith(_INTERNAL_TAGS)]
            if user_tags:
                fields["tags"] = user_tags
        own_metadata = user_metadata(metadata)
        if own_metadata:
            parent_md = parent.metadata if parent is not None else None
            put(fields, self.guard.field_failed, metadata_field, own_metadata, parent_md, self.shaper)
        sibling = self._static_sibling(parent_run_id) if static else None
        if parent is None and self.sample_ratio < 1.0 and random.random() >= self.sample_ratio:
            return self._dropped(run_id, kind, name, static)
        parent_handle = parent.handle if parent is not None else None
        if input is MISSING:
            handle = open_span(name, kind, parent=parent_handle, logger=self.logger_name, attributes=fields)
        else:
            handle = open_span(
                name, kind, parent=parent_handle, logger=self.logger_name, attributes=fields, input=input
            )
        # messages first written by this start record may be referred to from now on
        self._commit(cache, handle.span_id if handle.sampled else None, run_id, mark)
        run = Run(handle, kind, name)
        run.ambiguous = sibling is not None
        run.rid = rid
        run.parent_id = parent_run_id
        run.metadata = own_metadata
        run.static = static
        run.start_ns = time.perf_counter_ns()
        if parent is None:
            run.cache = cache
        self.runs.add(run_id, run, parent)
        self._attach(run, handle.otel_span)
        return run

    def _dropped(self, run_id: UUID, kind: str, name: str, static: bool) -> Run:
        """A root run sampled out: a non-recording span is current, so nothing under it is written."""
        run = Run(None, kind, name)
        dropped = NonRecordingSpan(
            SpanContext(
                random.getrandbits(128) or 1,
                random.getrandbits(64) or 1,
                is_remote=False,
                trace_flags=TraceFlags(0),
            )
        )
        run.static = static
        self._attach(run, dropped)
        self.runs.add(run_id, run, None)
        return run

    @staticmethod
    def _static_sibling(parent_run_id: UUID | None) -> Run | None:
        """An LLM run just started in this context with the same parent (``generate`` with several prompts).

        Which of such siblings is executing cannot be told, so none of them is current (the first one is
        told here, before the new run takes its parent from the current context).
        """
        current = trace.get_current_span()
        if isinstance(current, RunScopedSpan) and current.is_open:
            other = current.scope
            if (
                isinstance(other, Run)
                and other.static
                and not other.tokens
                and other.parent_id == parent_run_id
            ):
                other.ambiguous = True
                return other
        return None

    @staticmethod
    def _attach(run: Run, span: trace.Span) -> None:
        """Make a proxy for the run's span current: it stands for the span only while the run is entered."""
        current = trace.get_current_span()
        proxy = RunScopedSpan(span, current, run)
        run.proxy = proxy
        run.token = otel_context.attach(trace.set_span_in_context(proxy))

    @staticmethod
    def _detach(run: Run) -> None:
        if run.proxy is not None:
            run.proxy.close()
            run.proxy = None
        token, run.token = run.token, None
        if token is not None:
            # Fails when the run ended in another context (a shielded task): the closed proxy falls back.
            with contextlib.suppress(Exception):
                token.var.reset(token)

    def end(
        self,
        run_id: UUID,
        status: str,
        output: Any = MISSING,
        error: BaseException | None = None,
        fields: dict[str, Any] | None = None,
        run: Run | None = None,
        mark: int | None = None,
    ) -> None:
        """End the run's span (its end record); ``run``: already popped from the open runs."""
        run = run or self.runs.pop(run_id)
        if run is None:
            return
        self._detach(run)
        cache = run.root.cache
        if run.root is run:
            run.cache = None
            if run.tree:
                self._close_leftovers(run, status)
        if run.handle is not None:
            if error is not None:
                error = redacted_error(error, self.shaper)
            if output is MISSING:
                ended = run.handle.end(status, error=error, attributes=fields)
            else:
                ended = run.handle.end(status, output=output, error=error, attributes=fields)
            self._commit(cache, run.handle.span_id if ended and run.handle.sampled else None, run_id, mark)

    def _close_leftovers(self, root: Run, status: str) -> None:
        """Runs of this tree that never got an end callback: close them, marked incomplete."""
        for run in reversed(self.runs.pop_tree(root)):
            self._detach(run)
            if run.handle is not None:
                run.handle.end(status if status != "ok" else "cancelled", incomplete=True)

    def pop_written(self, run_id: UUID) -> Run | None:
        """The run ending now, out of the open runs; None when nothing is to be written for it (unknown,
        or sampled out: then it is ended here)."""
        run = self.runs.pop(run_id)
        if run is None or run.handle is None:
            self.end(run_id, "ok", run=run)
            return None
        return run

    def fail(self, run_id: UUID, error: BaseException, hide_outputs: bool) -> None:
        """End a run that raised, with the status :func:`~._status.run_status` gives (and the interrupt)."""
        run = self.runs.pop(run_id)
        if run is None:
            return
        fields: dict[str, Any] = {}
        status = run_status(error)
        if status == "interrupted":
            put(fields, self.guard.field_failed, interrupt_fields, error, self.shaper, hide_outputs)
            if not is_parent_command(error):
                run.root.interrupt = fields.get("langgraph.interrupt", True)
        self.end(run_id, status, error=error, fields=fields, run=run)

    def log(self, run_id: UUID | None, event: str, **fields: Any) -> None:
        """A log record on the run's span (nothing when the run is unknown or sampled out)."""
        run = self.runs.get(run_id) if run_id is not None else None
        if run is not None and run.handle is not None:
            run.handle.log(event, **fields)
