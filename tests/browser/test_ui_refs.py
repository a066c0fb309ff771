"""A 40-turn agent run written with message references looks, in Chromium, as the same run written without."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from aitrace_viewer.export_html import write_html
from history_agent import history as shared_history
from history_agent import react_agent
from langchain_core.messages import BaseMessage, HumanMessage
from playwright.sync_api import expect
from ui_server import running_server

from aitrace_core.testing import capture_records
from aitrace_langchain import AITraceHandler

pytestmark = pytest.mark.browser

NEEDLE = "zebrafinch"


def history(pairs: int) -> list[BaseMessage]:
    def plant(i: int, question: str) -> str:
        return f"{i}: " + question + (f" {NEEDLE}" if i == pairs // 2 else "")

    return shared_history(pairs, seed=40, edit=plant)


def agent_run(dedup: bool) -> list[dict[str, Any]]:
    agent = react_agent()
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
