"""``AITraceHandler``: LangChain callbacks → aitrace spans and records (the fields: the package docstring)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from ._events import (
    agent_action_fields,
    agent_finish_fields,
    interrupt_event_fields,
    resume_event_fields,
    retry_fields,
    token_text,
)
from ._graph import chain_kind_and_name, graph_fields
from ._guard import MISSING, Guard, guarded, put, value_or_missing
from ._llm import llm_end_fields, llm_span_name, llm_start_fields
from ._price_file import price_table
from ._prices import Price, cost_fields
from ._privacy import DEFAULT_PATTERNS, DEFAULT_SECRET_KEYS, Redactor
from ._settings import handler_settings
from ._shaper import Shaper
from ._spans import RunSpans
from ._status import ResumeLinks
from ._tools import retriever_end, tool_output_fields, tool_start_fields

try:  # LangGraph ≥ 1.1: interrupt / resume lifecycle events reach subclasses of GraphCallbackHandler
    from langgraph.callbacks import GraphCallbackHandler as _Base
except ImportError:  # pragma: no cover - older LangGraph, or none
    _Base = BaseCallbackHandler  # type: ignore[misc,assignment]

__all__ = ["AITraceHandler"]


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
        the price table for cost estimates (default :data:`aitrace_langchain.PRICES`, with the models of the
        ``AITRACE_LANGCHAIN_PRICES_FILE`` file added, docs/prices.md).
    ``max_documents``
        retrieved documents kept per retriever run.
    ``dedup_messages`` (``AITRACE_LANGCHAIN_DEDUP_MESSAGES``, default on)
        write each chat message once per trace and refer to it afterwards (docs/schema.md, "References");
        off, every record carries its messages in full.

    The handler never raises into the application: a failure inside it is logged once a minute (logger
    ``aitrace.langchain``) and the run goes on. A field it cannot read (an odd message from a provider, a
    weird ``llm_output``) is left out of its record; the record and the span's other fields are written.
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
        self.log_tokens = opts.langchain_log_tokens
        self.prices = price_table(opts.langchain_prices_file) if prices is None else prices
        self.max_documents = max_documents
        #: Counts failures inside the handler and warns about them once a minute.
        self.guard = Guard()
        self._field_failed = self.guard.field_failed
        shaper = Shaper(Redactor(redact_keys, redact_patterns), dedup=opts.langchain_dedup_messages)
        self.spans = RunSpans(shaper, self.guard, opts.langchain_sample_ratio, logger_name)
        self._resume_links = ResumeLinks()

    @property
    def shaper(self) -> Shaper:
        """Turns callback payloads into record values (redaction, shared messages)."""
        return self.spans.shaper

    @shaper.setter
    def shaper(self, shaper: Shaper) -> None:
        self.spans.shaper = shaper

    @property
    def sample_ratio(self) -> float:
        """The fraction of traces kept, decided once per root run."""
        return self.spans.sample_ratio

    @sample_ratio.setter
    def sample_ratio(self, ratio: float) -> None:
        self.spans.sample_ratio = ratio

    @property
    def logger_name(self) -> str:
        """The ``logger`` field of the records written."""
        return self.spans.logger_name

    @property
    def open_runs(self) -> int:
        """How many runs are open right now (0 when nothing is running: no state outlives its run)."""
        return len(self.spans.runs)

    def _shaped(self, value: Any, cache: dict[Any, Any] | None, where: str) -> Any:
        """``value`` as a record's input or output; :data:`MISSING` (left out) when it cannot be shaped."""
        return value_or_missing(self._field_failed, where, self.shaper.value, value, cache)

    # -- chains, graphs and nodes ---------------------------------------------------------------------------

    @guarded
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
        parent, cache = self.spans.parent(parent_run_id)
        up = (parent.kind, parent.name) if parent is not None else (None, None)
        kind, name = chain_kind_and_name(serialized, kwargs.get("name"), tags, metadata, *up)
        if cache is None:
            self.spans.start(run_id, parent_run_id, parent, None, kind, name, None)
            return
        fields: dict[str, Any] = {}
        put(fields, self._field_failed, graph_fields, metadata, kind, inputs)
        thread_id = fields.get("thread_id")
        if kind == "graph" and parent is None and thread_id is not None:
            fields.update(self._resume_links.resumed(thread_id))
        mark = self.spans.begin(cache, run_id)
        value = MISSING if self.hide_inputs else self._shaped(inputs, cache, "chain input")
        # A chain LangChain serialized is a legacy ``Chain`` or ``trace_as_chain_group``: its body runs
        # without a child config of its own, so it is current from start to end.
        static = serialized is not None
        run = self.spans.start(
            run_id, parent_run_id, parent, cache, kind, name, fields, value, tags, metadata, static, mark
        )
        run.thread_id = thread_id

    @guarded
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self.spans.pop_written(run_id)
        if run is None or run.handle is None:
            return
        status = "ok"
        fields: dict[str, Any] = {}
        paused = run.interrupt if run.root is run else None
        if run.kind == "graph" and isinstance(outputs, Mapping) and "__interrupt__" in outputs:
            paused = self._shaped(outputs["__interrupt__"], None, "langgraph.interrupt")
            paused = True if paused is MISSING else paused
        if paused is not None:
            status = "interrupted"
            if not self.hide_outputs and paused is not True:
                fields["langgraph.interrupt"] = paused
            if run.root is run and run.thread_id is not None:
                self._resume_links.paused(run.thread_id, run.handle.trace_id, run.handle.span_id)
        mark = self.spans.begin(run.root.cache, run_id)
        output = MISSING if self.hide_outputs else self._shaped(outputs, run.root.cache, "chain output")
        self.spans.end(run_id, status, output=output, fields=fields, run=run, mark=mark)

    @guarded
    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.spans.fail(run_id, error, self.hide_outputs)

    # -- LLMs and chat models --------------------------------------------------------------------------------

    def _llm_start(
        self,
        serialized: dict[str, Any] | None,
        messages: Any,
        prompts: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        parent, cache = self.spans.parent(parent_run_id)
        if cache is None:
            self.spans.start(run_id, parent_run_id, parent, None, "llm", "llm", None, static=True)
            return
        mark = self.spans.begin(cache, run_id)
        params = kwargs.get("invocation_params")
        shaper, failed = self.shaper, self._field_failed
        fields = llm_start_fields(
            serialized, messages, prompts, params, metadata, shaper, self.hide_inputs, cache, failed
        )
        span_name = llm_span_name(fields, serialized, kwargs.get("name"))
        model = fields.get("gen_ai.request.model")
        run = self.spans.start(
            run_id,
            parent_run_id,
            parent,
            cache,
            "llm",
            span_name,
            fields,
            MISSING,
            tags,
            metadata,
            True,
            mark,
        )
        run.model = model

    @guarded
    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[Any]], **kwargs: Any
    ) -> None:
        self._llm_start(serialized, messages, None, **kwargs)

    @guarded
    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any) -> None:
        self._llm_start(serialized, None, prompts, **kwargs)

    @guarded
    def on_llm_new_token(
        self, token: str | list[str | dict[str, Any]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        run = self.spans.runs.get(run_id)
        if run is None:
            return
        if not run.first_token_ns:
            run.first_token_ns = time.perf_counter_ns()
        run.tokens += 1
        if self.log_tokens and not self.hide_outputs and run.handle is not None:
            text = self.shaper.text(token_text(token))
            run.handle.log("llm_token", level="debug", token=text, index=run.tokens - 1)

    @guarded
    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self.spans.pop_written(run_id)
        if run is None:
            return
        cache = run.root.cache
        mark = self.spans.begin(cache, run_id)
        fields = llm_end_fields(response, self.shaper, self.hide_outputs, cache, self._field_failed)
        put(fields, self._field_failed, cost_fields, fields, run.model, self.prices)
        if run.tokens:
            fields["llm.streamed"] = True
            fields["llm.time_to_first_token_ms"] = round((run.first_token_ns - run.start_ns) / 1e6, 3)
        self.spans.end(run_id, "ok", fields=fields, run=run, mark=mark)

    @guarded
    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.spans.fail(run_id, error, self.hide_outputs)

    # -- tools and retrievers --------------------------------------------------------------------------------

    @guarded
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
        parent, cache = self.spans.parent(parent_run_id)
        name, fields = tool_start_fields(serialized, kwargs.get("name"), kwargs.get("tool_call_id"))
        if cache is None:
            self.spans.start(run_id, parent_run_id, parent, None, "tool", name, None)
            return
        mark = self.spans.begin(cache, run_id)
        args = inputs if inputs is not None else input_str
        value = MISSING if self.hide_inputs else self._shaped(args, cache, "tool input")
        span_name = f"execute_tool {name}"
        self.spans.start(
            run_id, parent_run_id, parent, cache, "tool", span_name, fields, value, tags, metadata, mark=mark
        )

    @guarded
    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self.spans.pop_written(run_id)
        if run is None:
            return
        status, value, fields = tool_output_fields(output, self.shaper, self.hide_outputs, self._field_failed)
        self.spans.end(run_id, status, output=value, fields=fields, run=run)

    @guarded
    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.spans.fail(run_id, error, self.hide_outputs)

    @guarded
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
        ser = serialized or {}
        name = kwargs.get("name") or ser.get("name") or (ser.get("id") or ["retriever"])[-1]
        parent, cache = self.spans.parent(parent_run_id)
        fields: dict[str, Any] | None = {} if cache is not None else None
        value = MISSING
        if not self.hide_inputs:
            value = value_or_missing(self._field_failed, "retriever query", self.shaper.text, query)
        self.spans.start(
            run_id, parent_run_id, parent, cache, "retriever", str(name), fields, value, tags, metadata, True
        )

    @guarded
    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        output, fields = retriever_end(
            documents, self.shaper, self.max_documents, self.hide_outputs, self._field_failed
        )
        self.spans.end(run_id, "ok", output=output, fields=fields)

    @guarded
    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.spans.fail(run_id, error, self.hide_outputs)

    # -- events inside a run ---------------------------------------------------------------------------------

    @guarded
    def on_agent_action(self, action: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.spans.log(run_id, "agent_action", **agent_action_fields(action, self.shaper, self.hide_inputs))

    @guarded
    def on_agent_finish(self, finish: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.spans.log(run_id, "agent_finish", **agent_finish_fields(finish, self.shaper, self.hide_outputs))

    @guarded
    def on_retry(self, retry_state: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.spans.log(run_id, "retry", level="warning", **retry_fields(retry_state, self.shaper))

    @guarded
    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.spans.log(run_id, str(name), data=self.shaper.value(data))

    @guarded
    def on_interrupt(self, event: Any) -> None:
        """LangGraph paused for ``interrupt()``: a ``graph_interrupt`` record on the graph's span."""
        fields = interrupt_event_fields(event, self.shaper, self.hide_outputs)
        self.spans.log(getattr(event, "run_id", None), "graph_interrupt", **fields)

    @guarded
    def on_resume(self, event: Any) -> None:
        """LangGraph resumed from a checkpoint: a ``graph_resume`` record on the graph's span."""
        self.spans.log(getattr(event, "run_id", None), "graph_resume", **resume_event_fields(event))

    def __repr__(self) -> str:
        return f"AITraceHandler(open_runs={len(self.spans.runs)})"
