"""The prebuilt ReAct agent with a conversation history, offline: the message-reference tests' workload."""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from aitrace_langchain.testing import FakeChatModel, tool_call

WORDS = ["order", "invoice", "weather", "refund", "shipping", "ticket", "customer", "delivery", "price"]


@tool
def lookup_order(order_id: str) -> str:
    """Look up an order by its id."""
    return f"Order {order_id}: shipped on Monday."


@tool
def lookup_weather(city: str) -> str:
    """Today's weather in a city."""
    return f"{city}: 18 degrees."


def respond(messages: list[BaseMessage]) -> AIMessage | str:
    """Two tool calls (ids from the conversation's length, so two runs match), then the answer."""
    if isinstance(messages[-1], ToolMessage):
        return "Your order shipped on Monday; 18 degrees in Oslo."
    n = len(messages)
    return AIMessage(
        "",
        tool_calls=[
            tool_call("lookup_order", {"order_id": "A-1"}, id=f"call_o{n}"),
            tool_call("lookup_weather", {"city": "Oslo"}, id=f"call_w{n}"),
        ],
    )


def history(
    pairs: int, *, seed: int, edit: Callable[[int, str], str] = lambda i, question: question
) -> list[BaseMessage]:
    """``pairs`` earlier question/answer pairs of ~540 and ~840 characters; ``edit(i, question)`` may change
    the i-th question (plant a secret, a word to search for)."""
    rng = random.Random(seed)
    out: list[BaseMessage] = []
    for i in range(pairs):
        question = edit(i, " ".join(rng.choice(WORDS) for _ in range(70))[:540])
        out += [HumanMessage(question), AIMessage(" ".join(rng.choice(WORDS) for _ in range(110))[:840])]
    return out


def react_agent() -> Any:
    """LangGraph's prebuilt ReAct agent over an offline model that answers with :func:`respond`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

        return create_react_agent(FakeChatModel(respond=respond), tools=[lookup_order, lookup_weather])
