"""A 40-turn agent run written with message references looks, in Chromium, as the same run written without."""

from __future__ import annotations

import json
import random
import re
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from aitrace_viewer.export_html import write_html
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from playwright.sync_api import expect
from ui_server import running_server

from aitrace_core.testing import capture_records
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel, tool_call

pytestmark = pytest.mark.browser

WORDS = ["order", "invoice", "weather", "refund", "shipping", "ticket", "customer", "delivery", "price"]
NEEDLE = "zebrafinch"


@tool
def lookup_order(order_id: str) -> str:
    """Look up an order by its id."""
    return f"Order {order_id}: shipped on Monday."


@tool
def lookup_weather(city: str) -> str:
    """Today's weather in a city."""
    return f"{city}: 18 degrees."


def _respond(messages: list[BaseMessage]) -> AIMessage | str:
    if isinstance(messages[-1], ToolMessage):
        return "Your order shipped on Monday; 18 degrees in Oslo."
    n = len(messages)
    calls = [
        tool_call("lookup_order", {"order_id": "A-1"}, id=f"call_o{n}"),
        tool_call("lookup_weather", {"city": "Oslo"}, id=f"call_w{n}"),
    ]
    return AIMessage("", tool_calls=calls)


def history(pairs: int) -> list[BaseMessage]:
    rng = random.Random(40)
    out: list[BaseMessage] = []
    for i in range(pairs):
        question = f"{i}: " + " ".join(rng.choice(WORDS) for _ in range(70))[:540]
        if i == pairs // 2:
            question += f" {NEEDLE}"
        out += [HumanMessage(question), AIMessage(" ".join(rng.choice(WORDS) for _ in range(110))[:840])]
    return out


def agent_run(dedup: bool) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

        agent = create_react_agent(FakeChatModel(respond=_respond), tools=[lookup_order, lookup_weather])
    with capture_records(resolve_refs=False, service_name="refs") as records:
        agent.invoke(
            {"messages": [*history(40), HumanMessage("Where is A-1?")]},
            {"callbacks": [AITraceHandler(dedup_messages=dedup)]},
        )
    return [json.loads(json.dumps(r)) for r in records.raw]


def shown(page: Any) -> dict[str, Any]:
    """What a user sees: the tree's span names, and the second LLM call's messages in the LLM lens."""
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))
    names = sorted(page.locator("#tree-scroll .span-row .name").all_inner_texts())
    page.locator("#tree-scroll .span-row", has=page.locator(".name", has_text="chat fake-chat-1")).nth(
        1
    ).click()
    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text("chat fake-chat-1")
    expect(detail.locator(".msg").first).to_be_visible()
    return {"names": names, "messages": detail.locator(".msg").all_inner_texts()}


def test_forty_turn_agent_looks_the_same_with_and_without_references(page: Any, tmp_path: Path) -> None:
    with_refs, without = agent_run(True), agent_run(False)
    assert '"$ref"' in json.dumps(with_refs)
    with running_server(tmp_path / "ui.db") as server:
        server.ingest(with_refs)
        server.ingest(without)
        views = []
        for recs in (with_refs, without):
            page.goto(f"{server.url}/traces/{recs[0]['trace_id']}")
            views.append(shown(page))
        hits = httpx.get(f"{server.url}/api/search", params={"q": NEEDLE}).json()["hits"]
        assert {h["trace_id"] for h in hits} == {with_refs[0]["trace_id"], without[0]["trace_id"]}
    assert views[0] == views[1]
    messages = views[0]["messages"]
    assert len(messages) >= 80 + 4  # the history, the question, the tool calls and their two results
    first, last_answer = history(40)[0].content, history(40)[-1].content
    assert any(first in m for m in messages[:2])
    assert any(last_answer in m for m in messages[78:81])

    # the exported file (no server): the same, from the records as written
    page.goto(write_html(with_refs, tmp_path / "trace.html").as_uri())
    assert shown(page) == views[1]
