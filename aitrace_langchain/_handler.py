"""``AITraceHandler``: LangChain and LangGraph callbacks → aitrace spans and records.

Every LangChain run (chain, LangGraph graph and node, conditional edge, LLM / chat model, tool, retriever) is
one aitrace span with one ``span_start`` and one ``span_end`` record. Fields written, besides the core ones
(``span_name``, ``span_kind``, ``input``, ``output``, ``duration_ms``, ``status``, ``error.*``,
``incomplete``):

every run
    ``run_id``, ``parent_run_id``, ``tags`` (the user's, when any), ``metadata`` (start record: the user's
    LangChain metadata as given, e.g. ``config={"metadata": {"user_id": "u42"}}`` → ``{"user_id": "u42"}``;
    all of it on a root, only the keys a child adds or changes on a child; LangChain's and LangGraph's own
    keys — ``langgraph_*``, ``ls_*``, ``lc_*``, ``checkpoint_ns``, ``thread_id`` — are left out, the ones
    that matter being written as fields of their own; values serialized and redacted like inputs)
graph (``span_kind="graph"``)
    ``thread_id``, ``gen_ai.conversation.id``, ``checkpoint_ns`` (subgraphs), ``langgraph.resume`` (the
    input was a ``Command(resume=…)``), ``link.trace_id`` / ``link.span_id`` (the interrupted run this one
    resumes), ``langgraph.interrupt`` (end, when the graph paused)
node (``span_kind="node"``)
    ``langgraph_node``, ``langgraph_step``, ``langgraph_triggers``, ``langgraph_path``, ``checkpoint_ns``,
    ``thread_id``; ``langgraph.interrupt`` / ``langgraph.command`` when ``interrupt()`` or ``Command.PARENT``
    ended it (status ``interrupted``)
edge (``span_kind="edge"``)
    a routing function run after a node
LLM and chat model (``span_kind="llm"``)
    start: ``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.model``,
    ``gen_ai.request.temperature`` / ``max_tokens`` / ``top_p`` / ``stop_sequences`` …,
    ``gen_ai.request.tools`` (names of the tools offered), ``gen_ai.tool.definitions`` (their full
    definitions, on the first call in a trace that offers them), ``llm.invocation_params`` (the others),
    ``gen_ai.system_instructions``, ``gen_ai.input.messages``;
    end: ``gen_ai.output.messages`` (with ``finish_reason`` and ``tool_call`` parts),
    ``gen_ai.response.model``, ``gen_ai.response.id``, ``gen_ai.response.finish_reasons``,
    ``gen_ai.response.tool_calls`` (count), ``gen_ai.usage.input_tokens`` / ``output_tokens`` /
    ``total_tokens`` / ``cache_read.input_tokens`` / ``cache_creation.input_tokens`` /
    ``reasoning.output_tokens``, ``gen_ai.usage.cost_usd`` (known models only), ``llm.streamed``,
    ``llm.time_to_first_token_ms``; ``llm_token`` log records when ``log_tokens=True``
tool (``span_kind="tool"``)
    ``gen_ai.operation.name="execute_tool"``, ``gen_ai.tool.name``, ``gen_ai.tool.description``,
    ``gen_ai.tool.call.id``, ``input`` (arguments), ``output`` (result content), ``tool.status``,
    ``tool.artifact``
retriever (``span_kind="retriever"``)
    ``input`` (the query), ``output`` (documents: ``content``, ``metadata``, ``id``),
    ``retriever.documents.count``
log records on a run's span
    ``agent_action`` (``tool``, ``tool_input``, ``log``), ``agent_finish`` (``return_values``), ``retry``,
    ``graph_interrupt`` / ``graph_resume`` (LangGraph lifecycle events), custom events by their name
"""

from __future__ import annotations

import collections
import contextlib
import logging
import random
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from aitrace_core import error_fields, open_span

from ._mappers import (
    MISSING as _MISSING,
)
from ._mappers import (
    Shaper,
    chain_kind_and_name,
    graph_fields,
    interrupt_value,
    llm_end_fields,
    llm_start_fields,
    retriever_documents,
    tool_output_fields,
    tool_start_fields,
)
from ._metadata import metadata_added, user_metadata
from ._prices import PRICES, Price, estimate_cost
from ._privacy import DEFAULT_PATTERNS, DEFAULT_SECRET_KEYS, Redactor
from ._proxy import RunScopedSpan
from ._runs import Run, RunMap
from ._settings import handler_settings

try:  # LangGraph ≥ 1.1: interrupt / resume lifecycle events reach subclasses of GraphCallbackHandler
    from langgraph.callbacks import GraphCallbackHandler as _Base
except ImportError:  # pragma: no cover - older LangGraph, or none
    _Base = BaseCallbackHandler  # type: ignore[misc,assignment]

try:
    from langgraph.errors import GraphBubbleUp, ParentCommand

    #: LangGraph control flow (interrupt(), Command.PARENT): ends a run as "interrupted", never "error".
    _CONTROL_FLOW: tuple[type[BaseException], ...] = (GraphBubbleUp,)
    _PARENT_COMMAND: tuple[type[BaseException], ...] = (ParentCommand,)
except ImportError:  # pragma: no cover
    _CONTROL_FLOW = _PARENT_COMMAND = ()

__all__ = ["AITraceHandler"]

_log = logging.getLogger("aitrace.langchain")
#: Tags LangChain and LangGraph add for their own bookkeeping; only the user's own tags are written.
_INTERNAL_TAGS = ("graph:step:", "seq:step:", "map:key:", "langsmith:", "branch:")


#: Before Python 3.11 asyncio cannot run a coroutine in a given context, so LangChain's async bodies never
#: see their own config: there an async run is current from its start to its end, as a sync LLM run is.
_PRE_311 = sys.version_info < (3, 11)


def _from_async_manager() -> bool:
    """Whether LangChain's async callback manager called this handler (an async run is starting)."""
    try:
        frame: FrameType | None = sys._getframe(2)
        for _ in range(4):  # _start ← on_*_start (← _llm_start) ← _ahandle_event_for_handler
            if frame is None:
                return False
            if frame.f_code.co_name == "_ahandle_event_for_handler":
                return True
            frame = frame.f_back
    except Exception:  # an interpreter without frames: treat the run as async, current start to end
        return True
    return False


class AITraceHandler(_Base):
    """LangChain callback handler that writes every run as an aitrace span.

    Use ``callbacks=[AITraceHandler()]`` in a call's config or a constructor, or :func:`instrument` to
    enable it everywhere. Records go wherever aitrace_core is configured (``aitrace_core.configure`` or
    ``AITRACE_*`` environment variables). Runs nest by ``parent_run_id``; a root run nests under the
    caller's current span, so a graph called inside ``@auto_span`` joins its trace. While LangChain executes
    inside a run (a node, tool, chain step or model call), the run's span is the current OpenTelemetry span,
    so the application's own log lines there carry its ``span_id``. Outside it — after ``batch`` has
    started its items, between the chunks of a ``stream`` — the caller's own span is current again: the
    caller's log lines, and a second run started there, are the caller's. (The graph's own loop between
    nodes, e.g. checkpointer I/O, runs in the caller's context and counts as the caller's too.)

    Options (when not given, read from ``AITRACE_LANGCHAIN_*`` or the config file's ``langchain_*`` keys; an
    invalid argument raises :class:`~aitrace_core.ConfigError`, see docs/configuration.md):

    ``hide_inputs`` / ``hide_outputs`` (``AITRACE_LANGCHAIN_HIDE_INPUTS`` / ``_HIDE_OUTPUTS``)
        leave out inputs (prompts, messages, tool arguments, queries) or outputs (responses, results, tokens).
    ``redact_keys`` / ``redact_patterns``
        values under these key names and text matching these regexes become ``[REDACTED]``, in inputs,
        outputs, streamed tokens and error text. Defaults: common secret key names and API-key shapes.
    ``log_tokens`` (``AITRACE_LANGCHAIN_LOG_TOKENS``)
        write one ``llm_token`` record per streamed token.
    ``sample_ratio`` (``AITRACE_LANGCHAIN_SAMPLE_RATIO``)
        keep this fraction of traces, decided once per root run.
    ``prices``
        the price table for cost estimates (default :data:`aitrace_langchain.PRICES`).
    ``max_documents``
        retrieved documents kept per retriever run.
    ``dedup_messages`` (``AITRACE_LANGCHAIN_DEDUP_MESSAGES``, default on)
        write each chat message once per trace and refer to it afterwards (docs/schema.md, "References");
        off, every record carries its messages in full.

    The handler never raises into the application: a failure inside it is logged once a minute (logger
    ``aitrace.langchain``) and the run goes on.
    """

    run_inline = True
    raise_error = False

    def __init__(
        self,
        *,
        hide_inputs: bool | None = None,
        hide_outputs: bool | None = None,
        redact_keys: Sequence[str] = tuple(DEFAULT_SECRET_KEYS),
        redact_patterns: Sequence[str] = DEFAULT_PATTERNS,
        log_tokens: bool | None = None,
        sample_ratio: float | None = None,
        prices: Mapping[str, Price] | None = None,
        max_documents: int = 20,
        logger_name: str = "aitrace_langchain",
        dedup_messages: bool | None = None,
    ) -> None:
        super().__init__()
        opts = handler_settings(
            hide_inputs=hide_inputs,
            hide_outputs=hide_outputs,
            log_tokens=log_tokens,
            sample_ratio=sample_ratio,
            dedup_messages=dedup_messages,
        )
        self.hide_inputs, self.hide_outputs = opts.langchain_hide_inputs, opts.langchain_hide_outputs
        self.log_tokens, self.sample_ratio = opts.langchain_log_tokens, opts.langchain_sample_ratio
        self.prices = PRICES if prices is None else prices
        self.max_documents = max_documents
        self.logger_name = logger_name
        self.shaper = Shaper(Redactor(redact_keys, redact_patterns), dedup=opts.langchain_dedup_messages)
        self._runs = RunMap()
        self._lock = threading.Lock()
        self._interrupted: collections.OrderedDict[str, tuple[str, str]] = collections.OrderedDict()
        self._failures = 0
        self._warned_at = 0.0

    # -- introspection ----------------------------------------------------------------------------------

    @property
    def open_runs(self) -> int:
        """How many runs are open right now (0 when nothing is running: no state outlives its run)."""
        return len(self._runs)

    # -- the one guarded dispatch ------------------------------------------------------------------------

    def _failed(self, where: str) -> None:
        self._failures += 1
        now = time.monotonic()
        if now - self._warned_at >= 60.0:
            self._warned_at = now
            _log.warning(
                "aitrace: LangChain callback %s failed (%d failures so far); the run goes on untraced",
                where,
                self._failures,
                exc_info=True,
            )

    # -- starting and ending spans -----------------------------------------------------------------------

    def _parent(self, parent_run_id: UUID | None) -> tuple[Run | None, dict[int, Any] | None]:
        """The parent run (None for a root) and the trace's conversion cache (None: sampled out)."""
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if parent is None:
            return None, {}
        if parent.handle is None:
            return parent, None
        return parent, parent.root.cache

    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        parent: Run | None,
        cache: dict[int, Any] | None,
        kind: str,
        name: str,
        fields: dict[str, Any] | None,
        input: Any = _MISSING,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        static: bool = False,
    ) -> Run:
        if _PRE_311 and not static:
            static = _from_async_manager()
        if cache is None or fields is None:  # inside a trace that was sampled out
            run = Run(None, kind, name)
            self._runs.add(run_id, run, parent)
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
            added = metadata_added(own_metadata, parent.metadata if parent is not None else None)
            if added:
                fields["metadata"] = self.shaper.value(added)
        sibling = self._static_sibling(parent_run_id) if static else None
        if parent is None and self.sample_ratio < 1.0 and random.random() >= self.sample_ratio:
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
            self._runs.add(run_id, run, None)
            return run
        if input is _MISSING:
            handle = open_span(
                name,
                kind,
                parent=parent.handle if parent is not None else None,
                logger=self.logger_name,
                attributes=fields,
            )
        else:
            handle = open_span(
                name,
                kind,
                parent=parent.handle if parent is not None else None,
                logger=self.logger_name,
                attributes=fields,
                input=input,
            )
        refs = self.shaper.refs(cache)
        if refs is not None:  # messages first written by this start record may be referred to from now on
            refs.commit(handle.span_id if handle.sampled else None, run_id)
        run = Run(handle, kind, name)
        run.ambiguous = sibling is not None
        run.rid = rid
        run.parent_id = parent_run_id
        run.metadata = own_metadata
        run.static = static
        run.start_ns = time.perf_counter_ns()
        if parent is None:
            run.cache = cache
        self._runs.add(run_id, run, parent)
        self._attach(run, handle.otel_span)
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

    def _pop(self, run_id: UUID) -> Run | None:
        return self._runs.pop(run_id)

    def _end(
        self,
        run_id: UUID,
        status: str,
        output: Any = _MISSING,
        error: BaseException | None = None,
        fields: dict[str, Any] | None = None,
        run: Run | None = None,
    ) -> None:
        run = run or self._pop(run_id)
        if run is None:
            return
        self._detach(run)
        refs = self.shaper.refs(run.root.cache)
        if run.root is run:
            run.cache = None
            if run.tree:
                self._close_leftovers(run, status)
        if run.handle is not None:
            if error is not None:
                error = self._redacted_error(error)
            if output is _MISSING:
                ended = run.handle.end(status, error=error, attributes=fields)
            else:
                ended = run.handle.end(status, output=output, error=error, attributes=fields)
            if refs is not None:
                refs.commit(run.handle.span_id if ended and run.handle.sampled else None, run_id)

    def _close_leftovers(self, root: Run, status: str) -> None:
        """Runs of this tree that never got an end callback: close them, marked incomplete."""
        for run in reversed(self._runs.pop_tree(root)):
            self._detach(run)
            if run.handle is not None:
                run.handle.end(status if status != "ok" else "cancelled", incomplete=True)

    def _begin(self, cache: dict[Any, Any] | None, run_id: UUID) -> None:
        """Before shaping a record's values: messages shaped from here are committed with its span."""
        refs = self.shaper.refs(cache)
        if refs is not None:
            refs.begin(run_id)

    def _redacted_error(self, exc: BaseException) -> BaseException:
        shaper = self.shaper
        if shaper.redactor is None:
            return exc
        fields = error_fields(exc)
        if shaper.text(fields["error.message"]) == fields["error.message"] and (
            shaper.text(fields["error.stacktrace"]) == fields["error.stacktrace"]
        ):
            return exc
        return _redacted_copy(exc, shaper.text(fields["error.message"]))

    def _status_for(self, error: BaseException, fields: dict[str, Any]) -> str:
        if isinstance(error, _CONTROL_FLOW):
            value = interrupt_value(error)
            key = "langgraph.command" if isinstance(error, _PARENT_COMMAND) else "langgraph.interrupt"
            if value is not None and not self.hide_outputs:
                fields[key] = self.shaper.value(value)
            return "interrupted"
        if isinstance(error, (GeneratorExit, KeyboardInterrupt)) or type(error).__name__ == "CancelledError":
            return "cancelled"
        return "error"

    def _error(self, run_id: UUID, error: BaseException, callback: str) -> None:
        """End a run from any ``on_*_error`` callback; guarded like every callback."""
        try:
            run = self._pop(run_id)
            if run is None:
                return
            fields: dict[str, Any] = {}
            status = self._status_for(error, fields)
            if status == "interrupted" and not isinstance(error, _PARENT_COMMAND):
                run.root.interrupt = fields.get("langgraph.interrupt", True)
            self._end(run_id, status, error=error, fields=fields, run=run)
        except Exception:
            self._failed(callback)

    def _log(self, run_id: UUID | None, event: str, **fields: Any) -> None:
        run = self._runs.get(run_id) if run_id is not None else None
        if run is not None and run.handle is not None:
            run.handle.log(event, **fields)

    # -- chains, graphs and nodes ---------------------------------------------------------------------------

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            parent, cache = self._parent(parent_run_id)
            kind, name = chain_kind_and_name(
                serialized,
                kwargs.get("name"),
                tags,
                metadata,
                parent.kind if parent is not None else None,
                parent.name if parent is not None else None,
            )
            if cache is None:
                self._start(run_id, parent_run_id, parent, None, kind, name, None)
                return
            fields = graph_fields(metadata, kind)
            if (
                kind == "graph"
                and type(inputs).__name__ == "Command"
                and getattr(inputs, "resume", None) is not None
            ):
                fields["langgraph.resume"] = True
            thread_id = fields.get("thread_id")
            if kind == "graph" and parent is None and thread_id is not None and self._interrupted:
                with self._lock:
                    link = self._interrupted.pop(thread_id, None)
                if link is not None:
                    fields["link.trace_id"], fields["link.span_id"] = link
            self._begin(cache, run_id)
            value = _MISSING if self.hide_inputs else self.shaper.value(inputs, cache)
            # A chain LangChain serialized is a legacy ``Chain`` or ``trace_as_chain_group``: its body runs
            # without a child config of its own, so it is current from start to end.
            run = self._start(
                run_id,
                parent_run_id,
                parent,
                cache,
                kind,
                name,
                fields,
                value,
                tags,
                metadata,
                static=serialized is not None,
            )
            run.thread_id = thread_id
        except Exception:
            self._failed("on_chain_start")

    def on_chain_end(
        self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            run = self._pop(run_id)
            if run is None or run.handle is None:
                self._end(run_id, "ok", run=run)
                return
            status = "ok"
            fields: dict[str, Any] = {}
            paused = run.interrupt if run.root is run else None
            if run.kind == "graph" and isinstance(outputs, Mapping) and "__interrupt__" in outputs:
                paused = self.shaper.value(outputs["__interrupt__"])
            if paused is not None:
                status = "interrupted"
                if not self.hide_outputs and paused is not True:
                    fields["langgraph.interrupt"] = paused
                if run.root is run and run.thread_id is not None and run.handle is not None:
                    with self._lock:
                        self._interrupted[run.thread_id] = (run.handle.trace_id, run.handle.span_id)
                        while len(self._interrupted) > 1024:
                            self._interrupted.popitem(last=False)
            self._begin(run.root.cache, run_id)
            output = _MISSING if self.hide_outputs else self.shaper.value(outputs, run.root.cache)
            self._end(run_id, status, output=output, fields=fields, run=run)
        except Exception:
            self._failed("on_chain_end")

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._error(run_id, error, "on_chain_error")

    # -- LLMs and chat models --------------------------------------------------------------------------------

    def _llm_start(
        self,
        serialized: dict[str, Any] | None,
        messages: Any,
        prompts: Any,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
    ) -> None:
        parent, cache = self._parent(parent_run_id)
        if cache is None:
            self._start(run_id, parent_run_id, parent, None, "llm", "llm", None, static=True)
            return
        self._begin(cache, run_id)
        fields = llm_start_fields(
            serialized,
            messages,
            prompts,
            kwargs.get("invocation_params"),
            metadata,
            self.shaper,
            self.hide_inputs,
            cache,
        )
        model = fields.get("gen_ai.request.model")
        ser = serialized or {}
        name = kwargs.get("name") or ser.get("name") or (ser.get("id") or ["llm"])[-1]
        span_name = f"{fields['gen_ai.operation.name']} {model}" if model else str(name)
        if model and name and name != span_name:
            fields["llm.class"] = name
        run = self._start(
            run_id,
            parent_run_id,
            parent,
            cache,
            "llm",
            span_name,
            fields,
            tags=tags,
            metadata=metadata,
            static=True,
        )
        run.model = model

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._llm_start(serialized, messages, None, run_id, parent_run_id, tags, metadata, kwargs)
        except Exception:
            self._failed("on_chat_model_start")

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._llm_start(serialized, None, prompts, run_id, parent_run_id, tags, metadata, kwargs)
        except Exception:
            self._failed("on_llm_start")

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            run = self._runs.get(run_id)
            if run is None:
                return
            if not run.first_token_ns:
                run.first_token_ns = time.perf_counter_ns()
            run.tokens += 1
            if self.log_tokens and not self.hide_outputs and run.handle is not None:
                text = (
                    token
                    if isinstance(token, str)
                    else "".join(t if isinstance(t, str) else str(t.get("text", "")) for t in token)
                )
                run.handle.log("llm_token", level="debug", token=self.shaper.text(text), index=run.tokens - 1)
        except Exception:
            self._failed("on_llm_new_token")

    def on_llm_end(
        self, response: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            run = self._pop(run_id)
            if run is None or run.handle is None:
                self._end(run_id, "ok", run=run)
                return
            self._begin(run.root.cache, run_id)
            fields = llm_end_fields(response, self.shaper, self.hide_outputs, run.root.cache)
            cost = estimate_cost(fields.get("gen_ai.response.model") or run.model, fields, self.prices)
            if cost is not None:
                fields["gen_ai.usage.cost_usd"] = cost
            if run.tokens:
                fields["llm.streamed"] = True
                fields["llm.time_to_first_token_ms"] = round((run.first_token_ns - run.start_ns) / 1e6, 3)
            self._end(run_id, "ok", fields=fields, run=run)
        except Exception:
            self._failed("on_llm_end")

    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._error(run_id, error, "on_llm_error")

    # -- tools and retrievers --------------------------------------------------------------------------------

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            parent, cache = self._parent(parent_run_id)
            name, fields = tool_start_fields(serialized, kwargs.get("name"), kwargs.get("tool_call_id"))
            if cache is None:
                self._start(run_id, parent_run_id, parent, None, "tool", name, None)
                return
            self._begin(cache, run_id)
            value = (
                _MISSING
                if self.hide_inputs
                else self.shaper.value(inputs if inputs is not None else input_str, cache)
            )
            self._start(
                run_id,
                parent_run_id,
                parent,
                cache,
                "tool",
                f"execute_tool {name}",
                fields,
                value,
                tags,
                metadata,
            )
        except Exception:
            self._failed("on_tool_start")

    def on_tool_end(
        self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            run = self._pop(run_id)
            if run is None or run.handle is None:
                self._end(run_id, "ok", run=run)
                return
            status, value, fields = tool_output_fields(output, self.shaper, self.hide_outputs)
            self._end(run_id, status, output=value, fields=fields, run=run)
        except Exception:
            self._failed("on_tool_end")

    def on_tool_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._error(run_id, error, "on_tool_error")

    def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            ser = serialized or {}
            name = kwargs.get("name") or ser.get("name") or (ser.get("id") or ["retriever"])[-1]
            parent, cache = self._parent(parent_run_id)
            value = _MISSING if self.hide_inputs else self.shaper.text(query)
            self._start(
                run_id,
                parent_run_id,
                parent,
                cache,
                "retriever",
                str(name),
                {} if cache is not None else None,
                value,
                tags,
                metadata,
                static=True,
            )
        except Exception:
            self._failed("on_retriever_start")

    def on_retriever_end(
        self, documents: Sequence[Any], *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            fields: dict[str, Any] = {"retriever.documents.count": len(documents)}
            output = (
                _MISSING
                if self.hide_outputs
                else retriever_documents(documents, self.shaper, self.max_documents)
            )
            self._end(run_id, "ok", output=output, fields=fields)
        except Exception:
            self._failed("on_retriever_end")

    def on_retriever_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._error(run_id, error, "on_retriever_error")

    # -- events inside a run ---------------------------------------------------------------------------------

    def on_agent_action(
        self, action: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            fields: dict[str, Any] = {"tool": getattr(action, "tool", None)}
            if not self.hide_inputs:
                fields["tool_input"] = self.shaper.value(getattr(action, "tool_input", None))
                fields["log"] = self.shaper.text(str(getattr(action, "log", "")))
            self._log(run_id, "agent_action", **fields)
        except Exception:
            self._failed("on_agent_action")

    def on_agent_finish(
        self, finish: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            fields: dict[str, Any] = {}
            if not self.hide_outputs:
                fields["return_values"] = self.shaper.value(getattr(finish, "return_values", None))
            self._log(run_id, "agent_finish", **fields)
        except Exception:
            self._failed("on_agent_finish")

    def on_retry(
        self, retry_state: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            outcome = getattr(retry_state, "outcome", None)
            exc = outcome.exception() if outcome is not None and outcome.failed else None
            self._log(
                run_id,
                "retry",
                level="warning",
                attempt=getattr(retry_state, "attempt_number", None),
                error=self.shaper.text(repr(exc)) if exc is not None else None,
            )
        except Exception:
            self._failed("on_retry")

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._log(run_id, str(name), data=self.shaper.value(data))
        except Exception:
            self._failed("on_custom_event")

    def on_interrupt(self, event: Any) -> None:
        """LangGraph paused for ``interrupt()``: a ``graph_interrupt`` record on the graph's span."""
        try:
            fields: dict[str, Any] = {
                "checkpoint_id": getattr(event, "checkpoint_id", None),
                "langgraph.status": getattr(event, "status", None),
            }
            if not self.hide_outputs:
                fields["interrupts"] = self.shaper.value(list(getattr(event, "interrupts", ()) or ()))
            self._log(getattr(event, "run_id", None), "graph_interrupt", **fields)
        except Exception:
            self._failed("on_interrupt")

    def on_resume(self, event: Any) -> None:
        """LangGraph resumed from a checkpoint: a ``graph_resume`` record on the graph's span."""
        try:
            self._log(
                getattr(event, "run_id", None),
                "graph_resume",
                checkpoint_id=getattr(event, "checkpoint_id", None),
                **{"langgraph.status": getattr(event, "status", None)},
            )
        except Exception:
            self._failed("on_resume")

    def __repr__(self) -> str:
        return f"AITraceHandler(open_runs={len(self._runs)})"


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
