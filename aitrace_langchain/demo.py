"""Offline demo scenarios, each a real LangGraph graph traced by :class:`AITraceHandler`.

``run_all()`` runs every scenario once through whatever aitrace_core is configured with and returns the trace
ids it produced; ``aitrace demo`` uses it to fill a viewer with realistic traces:

    aitrace_core.configure(target="http://127.0.0.1:8000/api/ingest")
    trace_ids = aitrace_langchain.demo.run_all()
    aitrace_core.flush()

Every scenario runs inside a request span (as a web handler would call it), uses :class:`FakeChatModel` unless
``OPENAI_API_KEY`` is set and ``langchain-openai`` is installed, and writes its own log lines from nodes and
tools, so the viewer shows them under the right span. The scripts in ``examples/lc_*.py`` call into these.
"""

from __future__ import annotations

import operator
import os
import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, interrupt

import aitrace_core

from ._handler import AITraceHandler
from .testing import FakeChatModel, tool_call

__all__ = [
    "chat_model",
    "run_all",
    "run_chatbot",
    "run_failing_node",
    "run_human_in_the_loop",
    "run_rag",
    "run_react_agent",
    "run_router",
    "run_streaming_chat",
]

log = aitrace_core.get_logger("aitrace_langchain.demo")


def chat_model(respond: Callable[[list[BaseMessage]], AIMessage | str], **options: Any) -> BaseChatModel:
    """A real OpenAI model when ``OPENAI_API_KEY`` is set (and langchain-openai installed), else the fake."""
    if os.environ.get("OPENAI_API_KEY"):
        try:
            from langchain_openai import ChatOpenAI  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            pass
        else:
            name = os.environ.get("AITRACE_DEMO_MODEL", "gpt-4o-mini")
            return ChatOpenAI(model=name, temperature=0)  # type: ignore[no-any-return, unused-ignore]
    return FakeChatModel(respond=respond, **options)


def _last_human(messages: list[BaseMessage]) -> str:
    for msg in reversed(messages):
        if isinstance(msg, HumanMessage):
            return str(msg.content)
    return ""


def _config(handler: AITraceHandler | None, **configurable: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"callbacks": [handler or AITraceHandler()]}
    if configurable:
        config["configurable"] = configurable
    return config


# -- 1. ReAct agent with two tools and parallel tool calls ------------------------------------------------


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    log.info("looking up weather", city=city)
    return {"paris": "18°C, light rain", "tokyo": "24°C, sunny"}.get(city.lower(), "20°C, cloudy")


@tool
def get_time(city: str) -> str:
    """Local time in a city."""
    log.info("looking up time", city=city)
    return {"paris": "14:05", "tokyo": "21:05"}.get(city.lower(), "12:00")


def _react_respond(messages: list[BaseMessage]) -> AIMessage | str:
    if isinstance(messages[-1], ToolMessage):
        results = [m.content for m in messages if isinstance(m, ToolMessage)]
        return f"In Paris it is {results[-1]} and the weather is {results[-2]}."
    return AIMessage(
        content="Let me check both.",
        tool_calls=[tool_call("get_weather", {"city": "Paris"}), tool_call("get_time", {"city": "Paris"})],
    )


def build_react_agent() -> Any:
    """``create_agent`` with two tools; the model asks for both in one turn, so they run in parallel."""
    from langchain.agents import create_agent

    model = chat_model(_react_respond, cached_tokens=4, reasoning_tokens=2)
    return create_agent(
        model,
        tools=[get_weather, get_time],
        system_prompt="You are a helpful travel assistant.",
        name="travel_agent",
    )


def run_react_agent(handler: AITraceHandler | None = None) -> str:
    """The ReAct agent answering one question; returns the trace id."""
    agent = build_react_agent()
    with aitrace_core.span("demo: react agent", kind="function") as request:
        log.info("request received", user="demo")
        result = agent.invoke(
            {"messages": [HumanMessage("What's the weather and time in Paris?")]}, _config(handler)
        )
        log.info("answer ready", answer=result["messages"][-1].content)
    return request.trace_id


# -- 2. Router with several agents ------------------------------------------------------------------------


class RouterState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    route: str


@tool
def calculator(expression: str) -> str:
    """Evaluate a simple arithmetic expression like '12 * 7'."""
    log.info("calculating", expression=expression)
    a, op, b = expression.split()
    ops = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
    return str(ops[op](float(a), float(b)))


def _math_respond(messages: list[BaseMessage]) -> AIMessage | str:
    if isinstance(messages[-1], ToolMessage):
        return f"The result is {messages[-1].content}."
    return AIMessage(content="", tool_calls=[tool_call("calculator", {"expression": "12 * 7"})])


def _router_respond(messages: list[BaseMessage]) -> AIMessage | str:
    question = _last_human(messages).lower()
    if any(w in question for w in ("weather", "rain", "sunny")):
        return "weather"
    if any(ch.isdigit() for ch in question):
        return "math"
    return "general"


def build_router() -> Any:
    """A router node classifies the question; one of three agents (each its own subgraph) answers it."""
    from langchain.agents import create_agent

    router_model = chat_model(_router_respond)
    math_agent = create_agent(chat_model(_math_respond), tools=[calculator], name="math_agent")
    weather_agent = create_agent(
        chat_model(_react_respond), tools=[get_weather, get_time], name="weather_agent"
    )
    general_model = chat_model(lambda msgs: "I can help with maths and weather questions.")

    def router(state: RouterState) -> dict[str, Any]:
        system = SystemMessage("Classify the question as math, weather or general. Answer with one word.")
        route = str(router_model.invoke([system, *state["messages"]]).content).strip().lower()
        log.info("routed", route=route)
        return {"route": route if route in ("math", "weather") else "general"}

    def general_agent(state: RouterState) -> dict[str, Any]:
        return {"messages": [general_model.invoke(state["messages"])]}

    graph = StateGraph(RouterState)
    graph.add_node("router", router)
    graph.add_node("math_agent", math_agent)
    graph.add_node("weather_agent", weather_agent)
    graph.add_node("general_agent", general_agent)
    graph.add_edge(START, "router")
    graph.add_conditional_edges(
        "router", lambda s: f"{s['route']}_agent", ["math_agent", "weather_agent", "general_agent"]
    )
    for node in ("math_agent", "weather_agent", "general_agent"):
        graph.add_edge(node, END)
    return graph.compile(name="router")


def run_router(handler: AITraceHandler | None = None) -> list[str]:
    """Three questions through the router, one per agent; returns their trace ids."""
    graph = build_router()
    ids = []
    for question in ("What is 12 * 7?", "Will it rain in Paris?", "Who are you?"):
        with aitrace_core.span("demo: router", kind="function") as request:
            graph.invoke({"messages": [HumanMessage(question)], "route": ""}, _config(handler))
        ids.append(request.trace_id)
    return ids


# -- 3. RAG over an in-memory retriever --------------------------------------------------------------------


class RagState(TypedDict):
    question: str
    documents: list[Document]
    answer: str


_DOCS = [
    Document(
        "aitrace writes one JSON record per line; spans have a start and an end record.",
        metadata={"source": "docs/schema.md"},
        id="schema",
    ),
    Document(
        "The viewer shows LangGraph nodes, LLM calls and tool calls as one tree.",
        metadata={"source": "README.md"},
        id="readme",
    ),
    Document(
        "AITraceHandler nests your own log lines under the node that wrote them.",
        metadata={"source": "docs/langchain.md"},
        id="handler",
    ),
]


class KeywordRetriever(BaseRetriever):
    """An in-memory retriever ranking documents by words shared with the query (no embeddings needed)."""

    documents: list[Document]
    k: int = 2

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        words = set(query.lower().split())
        scored = sorted(self.documents, key=lambda d: -len(words & set(d.page_content.lower().split())))
        return scored[: self.k]


def build_rag() -> Any:
    """retrieve (an in-memory keyword retriever) → generate (prompt with the documents → model)."""
    retriever = KeywordRetriever(documents=_DOCS, k=2)
    model = chat_model(lambda msgs: "aitrace shows each span's records in a tree; see docs/schema.md.")

    def retrieve(state: RagState) -> dict[str, Any]:
        docs = retriever.invoke(state["question"])
        log.info("retrieved", count=len(docs), sources=[d.metadata.get("source") for d in docs])
        return {"documents": docs}

    def generate(state: RagState) -> dict[str, Any]:
        context = "\n".join(d.page_content for d in state["documents"])
        answer = model.invoke(
            [SystemMessage(f"Answer from this context only:\n{context}"), HumanMessage(state["question"])]
        )
        return {"answer": answer.content}

    graph = StateGraph(RagState)
    graph.add_node("retrieve", retrieve)
    graph.add_node("generate", generate)
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "generate")
    graph.add_edge("generate", END)
    return graph.compile(name="rag")


def run_rag(handler: AITraceHandler | None = None) -> str:
    graph = build_rag()
    with aitrace_core.span("demo: rag", kind="function") as request:
        graph.invoke(
            {"question": "How does aitrace store spans?", "documents": [], "answer": ""}, _config(handler)
        )
    return request.trace_id


# -- 4. Streaming chat ---------------------------------------------------------------------------------------


class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def build_chat(
    respond: Callable[[list[BaseMessage]], AIMessage | str] | None = None,
    checkpointer: Any = None,
    name: str = "chatbot",
) -> Any:
    """One ``chatbot`` node calling the model with the conversation so far."""
    model = chat_model(
        respond or (lambda msgs: f"You said: {_last_human(msgs)}. Tell me more!"), chunk_words=1
    )

    def chatbot(state: ChatState) -> dict[str, Any]:
        log.info("chatbot turn", history=len(state["messages"]))
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(ChatState)
    graph.add_node("chatbot", chatbot)
    graph.add_edge(START, "chatbot")
    graph.add_edge("chatbot", END)
    return graph.compile(checkpointer=checkpointer, name=name)


def run_streaming_chat(handler: AITraceHandler | None = None) -> str:
    """Streams the answer token by token (``stream_mode="messages"``): usage arrives on the last chunk."""
    graph = build_chat(
        lambda msgs: "Streaming sends the answer one small piece at a time, as it is written.",
        name="streaming_chat",
    )
    with aitrace_core.span("demo: streaming chat", kind="function") as request:
        pieces = [
            chunk.content
            for chunk, _meta in graph.stream(
                {"messages": [HumanMessage("How does streaming work?")]},
                _config(handler),
                stream_mode="messages",
            )
        ]
        log.info("streamed", chunks=len(pieces))
    return request.trace_id


# -- 5. Human in the loop: interrupt and resume -------------------------------------------------------------


class ApprovalState(TypedDict):
    request: str
    approved: bool
    result: str


def build_human_in_the_loop() -> Any:
    """``draft`` → ``approve`` (``interrupt()`` asks a human) → ``execute``, with a checkpointer."""
    model = chat_model(lambda msgs: "Refund 42 EUR to order #1234.")

    def draft(state: ApprovalState) -> dict[str, Any]:
        return {"request": str(model.invoke([HumanMessage("Draft the refund for order #1234")]).content)}

    def approve(state: ApprovalState) -> dict[str, Any]:
        log.info("asking for approval", request=state["request"])
        decision = interrupt({"question": "Approve this refund?", "request": state["request"]})
        log.info("decision received", decision=decision)
        return {"approved": decision == "yes"}

    def execute(state: ApprovalState) -> dict[str, Any]:
        return {"result": "refunded" if state["approved"] else "cancelled"}

    graph = StateGraph(ApprovalState)
    graph.add_node("draft", draft)
    graph.add_node("approve", approve)
    graph.add_node("execute", execute)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "approve")
    graph.add_edge("approve", "execute")
    graph.add_edge("execute", END)
    return graph.compile(checkpointer=InMemorySaver(), name="approval")


def run_human_in_the_loop(handler: AITraceHandler | None = None) -> list[str]:
    """First call pauses at ``interrupt()``; the second resumes the same thread. Returns both trace ids."""
    graph = build_human_in_the_loop()
    handler = handler or AITraceHandler()
    thread = f"refund-{uuid.uuid4().hex[:8]}"
    with aitrace_core.span("demo: approval request", kind="function") as first:
        graph.invoke({"request": "", "approved": False, "result": ""}, _config(handler, thread_id=thread))
    with aitrace_core.span("demo: approval resume", kind="function") as second:
        graph.invoke(Command(resume="yes"), _config(handler, thread_id=thread))
    return [first.trace_id, second.trace_id]


# -- 6. Simple chatbot ---------------------------------------------------------------------------------------


def run_chatbot(handler: AITraceHandler | None = None) -> list[str]:
    """Two turns of one conversation (same thread id, in-memory checkpointer)."""
    graph = build_chat(checkpointer=InMemorySaver())
    thread = f"chat-{uuid.uuid4().hex[:8]}"
    ids = []
    for text in ("Hi, I'm Ada.", "What did I just tell you?"):
        with aitrace_core.span("demo: chatbot", kind="function") as request:
            graph.invoke({"messages": [HumanMessage(text)]}, _config(handler, thread_id=thread))
        ids.append(request.trace_id)
    return ids


# -- 7. A node that fails ------------------------------------------------------------------------------------


class OrderState(TypedDict):
    order_id: str
    total: float


def build_failing_graph() -> Any:
    """``load_order`` → ``charge_card``, which raises: the node, the graph and the request end in error."""

    def load_order(state: OrderState) -> dict[str, Any]:
        log.info("order loaded", order_id=state["order_id"])
        return {"total": 19.9}

    def charge_card(state: OrderState) -> dict[str, Any]:
        log.warning("payment provider slow", order_id=state["order_id"])
        raise ConnectionError("payment provider unreachable after 3 attempts")

    graph = StateGraph(OrderState)
    graph.add_node("load_order", load_order)
    graph.add_node("charge_card", charge_card)
    graph.add_edge(START, "load_order")
    graph.add_edge("load_order", "charge_card")
    graph.add_edge("charge_card", END)
    return graph.compile(name="checkout")


def run_failing_node(handler: AITraceHandler | None = None) -> str:
    """The request catches the graph's error and answers 502, as a web handler would."""
    graph = build_failing_graph()
    with aitrace_core.span("demo: checkout", kind="function") as request:
        try:
            graph.invoke({"order_id": "A-1001", "total": 0.0}, _config(handler))
        except ConnectionError as exc:
            log.error("checkout failed, answering 502", order_id="A-1001", reason=str(exc))
    return request.trace_id


def run_all(handler: AITraceHandler | None = None) -> list[str]:
    """Run every scenario once; returns the trace ids, in order."""
    handler = handler or AITraceHandler()
    ids = [run_react_agent(handler)]
    ids += run_router(handler)
    ids.append(run_rag(handler))
    ids.append(run_streaming_chat(handler))
    ids += run_human_in_the_loop(handler)
    ids += run_chatbot(handler)
    ids.append(run_failing_node(handler))
    return ids
