"""``AITraceHandler``: LangChain and LangGraph callbacks → aitrace spans and records.

Every LangChain run (chain, LangGraph graph and node, conditional edge, LLM / chat model, tool, retriever) is
one aitrace span with one ``span_start`` and one ``span_end`` record. Fields written, besides the core ones
(``span_name``, ``span_kind``, ``input``, ``output``, ``duration_ms``, ``status``, ``error.*``,
``incomplete``):

every run
    ``run_id``, ``parent_run_id``, ``tags`` (when any)
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
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from aitrace_core import SpanHandle, error_fields, open_span

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
from ._prices import PRICES, Price, estimate_cost
from ._privacy import DEFAULT_PATTERNS, DEFAULT_SECRET_KEYS, Redactor
from ._proxy import RunScopedSpan

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
_TRUE = ("1", "true", "yes", "on")
#: Tags LangChain and LangGraph add for their own bookkeeping; only the user's own tags are written.
_INTERNAL_TAGS = ("graph:step:", "seq:step:", "map:key:", "langsmith:", "branch:")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ[name])
    except (KeyError, ValueError):
        return default


class _Run:
    """Everything the handler keeps about one open run (end callbacks only get the run id)."""

    __slots__ = (
        "cache",
        "first_token_ns",
        "handle",
        "interrupt",
        "kind",
        "model",
        "name",
        "proxy",
        "rid",
        "root",
        "start_ns",
        "thread_id",
        "token",
        "tokens",
        "tree",
    )

    def __init__(self, handle: SpanHandle | None, kind: str, name: str) -> None:
        self.handle = handle
        self.kind = kind
        self.name = name
        self.proxy: RunScopedSpan | None = None
        self.rid = ""  # str(run_id), written by the run and by its children as parent_run_id
        self.token: Any = None
        self.root: _Run = self
        self.tree: set[UUID] | None = None  # open descendants, on roots only
        self.cache: dict[int, Any] | None = None  # on roots: converted messages shared by the trace
        self.model: str | None = None
        self.thread_id: str | None = None
        self.start_ns = 0
        self.first_token_ns = 0
        self.tokens = 0
        self.interrupt: Any = None  # on roots: the interrupt() value that paused this graph run


class AITraceHandler(_Base):
    """LangChain callback handler that writes every run as an aitrace span.

    Use ``callbacks=[AITraceHandler()]`` in a call's config or a constructor, or :func:`instrument` to
    enable it everywhere. Records go wherever aitrace_core is configured (``aitrace_core.configure`` or
    ``AITRACE_*`` environment variables). Runs nest by ``parent_run_id``; a root run nests under the
    caller's current span, so a graph called inside ``@auto_span`` joins its trace. While a run's body
    executes, the run's span is the current OpenTelemetry span, so the application's own log lines carry
    its ``span_id``.

    Options (each also read from the environment when not given):

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
        self.hide_inputs = _env_flag("AITRACE_LANGCHAIN_HIDE_INPUTS") if hide_inputs is None else hide_inputs
        self.hide_outputs = (
            _env_flag("AITRACE_LANGCHAIN_HIDE_OUTPUTS") if hide_outputs is None else hide_outputs
        )
        self.log_tokens = _env_flag("AITRACE_LANGCHAIN_LOG_TOKENS") if log_tokens is None else log_tokens
        ratio = _env_float("AITRACE_LANGCHAIN_SAMPLE_RATIO", 1.0) if sample_ratio is None else sample_ratio
        self.sample_ratio = min(max(float(ratio), 0.0), 1.0)
        self.prices = PRICES if prices is None else prices
        self.max_documents = max_documents
        self.logger_name = logger_name
        dedup = os.environ.get("AITRACE_LANGCHAIN_DEDUP_MESSAGES", "1").strip().lower() in _TRUE
        self.shaper = Shaper(
            Redactor(redact_keys, redact_patterns), dedup=dedup if dedup_messages is None else dedup_messages
        )
        self._runs: dict[UUID, _Run] = {}
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

    def _parent(self, parent_run_id: UUID | None) -> tuple[_Run | None, dict[int, Any] | None]:
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
        parent: _Run | None,
        cache: dict[int, Any] | None,
        kind: str,
        name: str,
        fields: dict[str, Any] | None,
        input: Any = _MISSING,
        tags: Sequence[str] | None = None,
    ) -> _Run:
        if cache is None or fields is None:  # inside a trace that was sampled out
            run = _Run(None, kind, name)
            if parent is not None:
                run.root = parent.root
            with self._lock:
                self._runs[run_id] = run
            return run
        rid = fields["run_id"] = str(run_id)
        if parent_run_id is not None:
            fields["parent_run_id"] = parent.rid if parent is not None and parent.rid else str(parent_run_id)
        if tags:
            user_tags = [t for t in tags if not t.startswith(_INTERNAL_TAGS)]
            if user_tags:
                fields["tags"] = user_tags
        if parent is None and self.sample_ratio < 1.0 and random.random() >= self.sample_ratio:
            run = _Run(None, kind, name)
            run.tree = set()
            dropped = NonRecordingSpan(
                SpanContext(
                    random.getrandbits(128) or 1,
                    random.getrandbits(64) or 1,
                    is_remote=False,
                    trace_flags=TraceFlags(0),
                )
            )
            self._attach(run, dropped)
            with self._lock:
                self._runs[run_id] = run
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
        run = _Run(handle, kind, name)
        run.rid = rid
        run.start_ns = time.perf_counter_ns()
        self._attach(run, handle.otel_span)
        with self._lock:
            self._runs[run_id] = run
            if parent is None:
                run.tree = set()
                run.cache = cache
            else:
                run.root = parent.root
                if run.root.tree is not None:
                    run.root.tree.add(run_id)
        return run

    @staticmethod
    def _attach(run: _Run, span: trace.Span) -> None:
        proxy = RunScopedSpan(span, trace.get_current_span())
        run.proxy = proxy
        run.token = otel_context.attach(trace.set_span_in_context(proxy))

    @staticmethod
    def _detach(run: _Run) -> None:
        if run.proxy is not None:
            run.proxy.close()
        token, run.token = run.token, None
        if token is not None:
            # Fails when the run ended in another context (a shielded task): the closed proxy falls back.
            with contextlib.suppress(Exception):
                token.var.reset(token)

    def _pop(self, run_id: UUID) -> _Run | None:
        with self._lock:
            run = self._runs.pop(run_id, None)
            if run is not None and run.root is not run and run.root.tree is not None:
                run.root.tree.discard(run_id)
        return run

    def _end(
        self,
        run_id: UUID,
        status: str,
        output: Any = _MISSING,
        error: BaseException | None = None,
        fields: dict[str, Any] | None = None,
        run: _Run | None = None,
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

    def _close_leftovers(self, root: _Run, status: str) -> None:
        """Runs of this tree that never got an end callback: close them, marked incomplete."""
        with self._lock:
            ids = list(root.tree or ())
            leftovers = [r for r in (self._runs.pop(i, None) for i in ids) if r is not None]
            if root.tree is not None:
                root.tree.clear()
        for run in reversed(leftovers):
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
            run = self._start(run_id, parent_run_id, parent, cache, kind, name, fields, value, tags)
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
            self._start(run_id, parent_run_id, parent, None, "llm", "llm", None)
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
        run = self._start(run_id, parent_run_id, parent, cache, "llm", span_name, fields, tags=tags)
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
                run_id, parent_run_id, parent, cache, "tool", f"execute_tool {name}", fields, value, tags
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
