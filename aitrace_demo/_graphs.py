"""The demo's LangGraph graphs, tools and offline models (what the scenarios in ``scenarios.py`` run)."""

from __future__ import annotations

import operator
import os
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
from langgraph.types import interrupt

import aitrace_core
from aitrace_langchain.testing import FakeChatModel, tool_call

__all__ = [
    "build_chat",
    "build_failing_graph",
    "build_human_in_the_loop",
    "build_rag",
    "build_react_agent",
    "build_router",
    "chat_model",
]

LOGGER = "aitrace_demo"
log = aitrace_core.get_logger(LOGGER)


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


