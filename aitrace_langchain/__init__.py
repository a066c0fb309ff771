"""aitrace_langchain: LangChain and LangGraph runs as aitrace spans and records.

    from aitrace_langchain import AITraceHandler
    graph.invoke(inputs, config={"callbacks": [AITraceHandler()]})

or, without touching the application, ``aitrace_langchain.instrument()`` (or
``AITRACE_LANGCHAIN_TRACING=true`` in the environment, once ``aitrace_langchain`` is imported).

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

from ._global import instrument, is_instrumented, uninstrument
from ._handler import AITraceHandler
from ._prices import PRICES, Price, estimate_cost
from ._privacy import DEFAULT_PATTERNS, DEFAULT_SECRET_KEYS, Redactor

__all__ = [
    "DEFAULT_PATTERNS",
    "DEFAULT_SECRET_KEYS",
    "PRICES",
    "AITraceHandler",
    "Price",
    "Redactor",
    "estimate_cost",
    "instrument",
    "is_instrumented",
    "uninstrument",
]
