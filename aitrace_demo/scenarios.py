"""The demo's scenarios: each runs a real LangGraph graph under a request span and returns its trace ids.

``run_all()`` runs every scenario once through whatever aitrace_core is configured with; ``aitrace demo``
sends them to a viewer, and each ``examples/lc_*.py`` runs one of them through :func:`run_example`:

    aitrace_core.configure(target="http://127.0.0.1:8000/api/ingest")
    trace_ids = aitrace_demo.run_all()
    aitrace_core.flush()

Every scenario uses :class:`~aitrace_langchain.testing.FakeChatModel` unless ``OPENAI_API_KEY`` is set and
``langchain-openai`` is installed, and writes its own log lines from nodes and tools, so the viewer shows them
under the right span.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

import aitrace_core
from aitrace_core import span
from aitrace_langchain import AITraceHandler

from ._graphs import (
    build_chat,
    build_failing_graph,
    build_human_in_the_loop,
    build_rag,
    build_react_agent,
    build_router,
    log,
)

__all__ = ["SCENARIOS", "Scenario", "run_all", "run_example", "run_scenario"]


def _config(
    handler: AITraceHandler | None,
    *,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    **configurable: Any,
) -> dict[str, Any]:
    config: dict[str, Any] = {"callbacks": [handler or AITraceHandler()]}
    if tags:
        config["tags"] = tags
    if metadata:
        config["metadata"] = metadata
    if configurable:
        config["configurable"] = configurable
    return config


def run_react_agent(handler: AITraceHandler | None = None) -> list[str]:
    """The ReAct agent answering one question."""
    agent = build_react_agent()
    with span("demo: react agent", kind="function") as request:
        log.info("request received", user="demo")
        result = agent.invoke(
            {"messages": [HumanMessage("What's the weather and time in Paris?")]}, _config(handler)
        )
        log.info("answer ready", answer=result["messages"][-1].content)
    return [request.trace_id]


def run_router(handler: AITraceHandler | None = None) -> list[str]:
    """Three questions through the router, one per agent."""
    graph = build_router()
    ids = []
    for question in ("What is 12 * 7?", "Will it rain in Paris?", "Who are you?"):
        with span("demo: router", kind="function") as request:
            graph.invoke({"messages": [HumanMessage(question)], "route": ""}, _config(handler))
        ids.append(request.trace_id)
    return ids


def run_rag(handler: AITraceHandler | None = None) -> list[str]:
    """One question through retrieve → generate."""
    graph = build_rag()
    with span("demo: rag", kind="function") as request:
        graph.invoke(
            {"question": "How does aitrace store spans?", "documents": [], "answer": ""}, _config(handler)
        )
    return [request.trace_id]


def run_streaming_chat(handler: AITraceHandler | None = None) -> list[str]:
    """Streams the answer token by token (``stream_mode="messages"``): usage arrives on the last chunk."""
    graph = build_chat(
        lambda msgs: "Streaming sends the answer one small piece at a time, as it is written.",
        name="streaming_chat",
    )
    with span("demo: streaming chat", kind="function") as request:
        pieces = [
            chunk.content
            for chunk, _meta in graph.stream(
                {"messages": [HumanMessage("How does streaming work?")]},
                _config(handler),
                stream_mode="messages",
            )
        ]
        log.info("streamed", chunks=len(pieces))
    return [request.trace_id]


def run_human_in_the_loop(handler: AITraceHandler | None = None) -> list[str]:
    """First call pauses at ``interrupt()``; the second resumes the same thread. Two traces."""
    graph = build_human_in_the_loop()
    handler = handler or AITraceHandler()
    thread = f"refund-{uuid.uuid4().hex[:8]}"
    with span("demo: approval request", kind="function") as first:
        graph.invoke({"request": "", "approved": False, "result": ""}, _config(handler, thread_id=thread))
    with span("demo: approval resume", kind="function") as second:
        graph.invoke(Command(resume="yes"), _config(handler, thread_id=thread))
    return [first.trace_id, second.trace_id]


def run_chatbot(handler: AITraceHandler | None = None) -> list[str]:
    """Two turns of one conversation (same thread id, in-memory checkpointer)."""
    graph = build_chat(checkpointer=InMemorySaver())
    thread = f"chat-{uuid.uuid4().hex[:8]}"
    ids = []
    for text in ("Hi, I'm Ada.", "What did I just tell you?"):
        with span("demo: chatbot", kind="function") as request:
            config = _config(handler, tags=["chat"], metadata={"user_id": "ada"}, thread_id=thread)
            graph.invoke({"messages": [HumanMessage(text)]}, config)
        ids.append(request.trace_id)
    return ids


def run_failing_node(handler: AITraceHandler | None = None) -> list[str]:
    """The request catches the graph's error and answers 502, as a web handler would."""
    graph = build_failing_graph()
    with span("demo: checkout", kind="function") as request:
        try:
            graph.invoke({"order_id": "A-1001", "total": 0.0}, _config(handler))
        except ConnectionError as exc:
            log.error("checkout failed, answering 502", order_id="A-1001", reason=str(exc))
    return [request.trace_id]


@dataclass(frozen=True)
class Scenario:
    """One demo scenario: ``run(handler)`` returns the ids of the traces it wrote, in order."""

    name: str
    run: Callable[[AITraceHandler | None], list[str]]

    @property
    def service(self) -> str:
        """The service name its example script writes under (``lc-react-agent``)."""
        return "lc-" + self.name.replace("_", "-")


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("react_agent", run_react_agent),
        Scenario("router", run_router),
        Scenario("rag", run_rag),
        Scenario("streaming_chat", run_streaming_chat),
        Scenario("human_in_the_loop", run_human_in_the_loop),
        Scenario("chatbot", run_chatbot),
        Scenario("failing_node", run_failing_node),
    )
}


def run_scenario(name: str, handler: AITraceHandler | None = None) -> list[str]:
    """Run the scenario called ``name`` once; returns its trace ids."""
    return SCENARIOS[name].run(handler or AITraceHandler())


def run_all(handler: AITraceHandler | None = None) -> list[str]:
    """Run every scenario once with one handler; returns the trace ids, in order."""
    handler = handler or AITraceHandler()
    return [trace_id for scenario in SCENARIOS.values() for trace_id in scenario.run(handler)]


def run_example(name: str, argv: Sequence[str] | None = None) -> list[str]:
    """What ``python examples/lc_<name>.py [target]`` does: configure, run the scenario, say its trace ids,
    flush. The target defaults to ``$AITRACE_TARGET``, then ``~/logs/``."""
    args = list(sys.argv[1:] if argv is None else argv)
    aitrace_core.configure(service_name=SCENARIOS[name].service, target=args[0] if args else None)
    try:
        trace_ids = run_scenario(name)
        print("traces:", *trace_ids, file=sys.stderr)
    finally:
        aitrace_core.flush()
    return trace_ids
