"""The prebuilt ReAct agent with a conversation history: the workload of bench_handler's history axis."""

from __future__ import annotations

import random
import warnings
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from aitrace_langchain.testing import FakeChatModel, tool_call

__all__ = ["ANSWER_CHARS", "QUESTION_CHARS", "build_react_agent", "history", "react_input"]

QUESTION_CHARS = 540
ANSWER_CHARS = 840

_WORDS = [
    "order", "invoice", "weather", "lisbon", "oslo", "refund", "shipping", "ticket", "agent", "router",
    "model", "answer", "question", "retry", "timeout", "card", "stock", "cart", "price", "graph", "node",
    "summary",
    "search", "customer", "delivery", "address", "warehouse",
]


@tool
def lookup_order(order_id: str) -> str:
    """Look up an order by its id."""
    return f"Order {order_id}: shipped on Monday, arriving Thursday, two items."


@tool
def lookup_weather(city: str) -> str:
    """Today's weather in a city."""
    return f"{city}: 18 degrees, light rain in the afternoon."


def _respond(messages: list[BaseMessage]) -> AIMessage | str:
    """Two tool calls for a new question, then the answer once their results are in."""
    if isinstance(messages[-1], ToolMessage):
        return "Your order shipped on Monday and arrives on Thursday; expect light rain in Oslo that day."
    return AIMessage(
        content="",
        tool_calls=[
            tool_call("lookup_order", {"order_id": "A-1042"}),
            tool_call("lookup_weather", {"city": "Oslo"}),
        ],
    )


def _text(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(_WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:chars]


def history(pairs: int, seed: int = 7) -> list[BaseMessage]:
    """``pairs`` earlier question/answer pairs (~540 and ~840 characters), as a checkpointer would load."""
    rng = random.Random(seed)
    out: list[BaseMessage] = []
    for i in range(pairs):
        out.append(HumanMessage(_text(rng, QUESTION_CHARS), id=f"h{i}"))
        out.append(AIMessage(_text(rng, ANSWER_CHARS), id=f"a{i}"))
    return out


def react_input(pairs: int) -> dict[str, Any]:
    """The agent's input: the history and one new question (fresh message objects on every call)."""
    question = HumanMessage("Where is my order A-1042, and what weather awaits it?")
    return {"messages": [*history(pairs), question]}


def build_react_agent() -> Any:
    """LangGraph's prebuilt ``create_react_agent`` with an offline model making two tool calls per turn."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated in favour of langchain's create_agent, still widely used
        from langgraph.prebuilt import create_react_agent

        return create_react_agent(FakeChatModel(respond=_respond), tools=[lookup_order, lookup_weather])
