"""A 100,000-span trace in real Chromium: the page opens from the span tree and loads records per span."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import ui_records
from playwright.sync_api import expect
from ui_server import UiServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HUGE = "000186a0" + "5a" * 12
N_SPANS = 100_000

# What the page fetched from the API: [(url, decoded bytes)].
FETCHED_JS = """() => performance.getEntriesByType("resource")
  .filter((e) => e.name.includes("/api/"))
  .map((e) => [new URL(e.name).pathname, e.decodedBodySize])"""


class Huge:
    def __init__(self, server: UiServer, records: list[dict[str, Any]]) -> None:
        self.server = server
        self.url = server.url
        self.records = records
        self.span_ids = list(dict.fromkeys(r["span_id"] for r in records))
        self.bytes = sum(len(json.dumps(r)) for r in records)

    def starts(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["event"] == "span_start" and r["span_name"] == name]


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Huge]:
    records = ui_records.agent_loop_trace(N_SPANS, trace_id=HUGE)
    server = UiServer(tmp_path_factory.mktemp("huge") / "huge.db")
    try:
        server.ingest(records)
        yield Huge(server, records)
    finally:
        server.stop()


def test_the_tree_endpoint_answers_without_the_records(huge: Huge) -> None:
    response = huge.server.client.get(f"/api/traces/{HUGE}/tree")
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert "records" not in body
    assert [span[0] for span in body["spans"]] == list(huge.span_ids)  # in order of first record
    assert len(response.content) < huge.bytes / 3  # far less than the records it leaves out
    assert "fetched page" not in response.text  # a log line's text stays out of the tree
    one = huge.starts("fetch")[7]
    records = huge.server.client.get(f"/api/traces/{HUGE}/spans/{one['span_id']}/records").json()["records"]
    assert records == [r for r in huge.records if r["span_id"] == one["span_id"]]


def test_a_100k_span_trace_opens_scrolls_and_follows_a_deep_link(page: Any, huge: Huge) -> None:
    page.set_default_timeout(60_000)
    page.goto(f"{huge.url}/traces/{HUGE}")
    expect(page.locator("body")).to_have_attribute("data-tree-ready", str(len(huge.span_ids)))
    rows = page.locator("#tree-scroll .row")
    expect(rows.first).to_be_visible()
    assert rows.count() < 150  # virtualized: only what is on screen (and a margin) is in the DOM
    fetched = page.evaluate(FETCHED_JS)
    assert f"/api/traces/{HUGE}" not in [path for path, _ in fetched]  # not the whole trace at once
    assert sum(size for _, size in fetched) < huge.bytes / 3

    # scroll to the end: the last turn's node is there, still with few rows in the DOM
    last_tools = huge.starts("tools")[-1]
    page.locator("#tree-scroll").evaluate("e => { e.scrollTop = e.scrollHeight; }")
    expect(page.locator(f"#tree-scroll .span-row[data-span='{last_tools['span_id']}']")).to_be_visible()
    assert rows.count() < 150

    # a deep link into a collapsed subtree: revealed, selected, its records loaded into the detail panel
    logs = {r["span_id"]: r for r in huge.records if r["event"].startswith("fetched page")}
    deep = next(r for r in huge.starts("fetch")[9_000:] if r["span_id"] in logs)
    log_line = logs[deep["span_id"]]
    page.goto(f"{huge.url}/traces/{HUGE}#span={deep['span_id']}")
    selected = page.locator("#tree-scroll .row.selected")
    expect(selected).to_have_attribute("data-span", deep["span_id"])
    expect(selected.locator(".name")).to_have_text("fetch")
    tool = next(r for r in huge.records if r["span_id"] == deep["parent_span_id"])
    expect(page.locator(f"#tree-scroll .span-row[data-span='{tool['span_id']}']")).to_be_visible()
    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text("fetch")
    expect(detail.locator(".lens-records")).to_contain_text(log_line["event"])
    expect(detail.locator(".lens-records h3")).to_contain_text("records (3)")

    # find in the trace reaches a span of a collapsed turn too
    page.fill(".tree-find", tool["span_name"])
    page.press(".tree-find", "Enter")
    expect(selected).to_have_attribute("data-span", tool["span_id"])
    expect(detail.locator(".lens-tool")).to_contain_text(f"result {tool['span_name'].split('-')[1]}")


def test_tool_calls_link_to_their_tool_spans_in_a_100k_span_trace(page: Any, huge: Huge) -> None:
    page.set_default_timeout(60_000)
    llm_end = [r for r in huge.records if r["event"] == "span_end" and r["span_kind"] == "chat_model"][12_000]
    call = llm_end["gen_ai.output.messages"][0]["tool_calls"][0]
    starts = (r for r in huge.records if r["event"] == "span_start")
    tool = next(r for r in starts if r.get("gen_ai.tool.call.id") == call["id"])
    page.goto(f"{huge.url}/traces/{HUGE}#span={llm_end['span_id']}")
    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text("FakeChatModel")
    box = detail.locator(".tool-call", has=page.locator(".tool-name", has_text=call["name"]))
    link = box.locator("a.span-link")
    expect(link).to_have_text(f"→ {tool['span_name']}")
    link.click()
    expect(page.locator("#tree-scroll .row.selected")).to_have_attribute("data-span", tool["span_id"])
    expect(detail.locator("h2")).to_have_text(tool["span_name"])
    back = detail.locator(".lens-tool a.span-link")
    expect(back).to_have_text("← asked for by FakeChatModel")
    back.click()
    expect(page.locator("#tree-scroll .row.selected")).to_have_attribute("data-span", llm_end["span_id"])
    # all of it with the records of a few spans, not the whole trace's
    paths = [path for path, _ in page.evaluate(FETCHED_JS)]
    assert f"/api/traces/{HUGE}" not in paths
    assert sum(1 for p in paths if p.endswith("/records")) <= 20

def test_a_small_trace_opened_from_its_tree_shows_log_lines_and_records(page: Any, seeded: Any) -> None:
    recs = ui_records.llm_agent_trace()
    page.goto(f"{seeded.url}/traces/{recs[0]['trace_id']}?load=tree")
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))
    assert "/tree" in page.evaluate("document.body.dataset.url")
    page.click("#collapse-all")
    page.click("#expand-all")
    # the tool's log line shows once the tool's records have come
    name = page.locator(".name", has_text=re.compile("^get_weather$"))
    page.locator("#tree-scroll .span-row", has=name).click()
    expect(page.locator("#tree-scroll .log-row", has_text="calling weather service")).to_be_visible()
    expect(page.locator("#detail .lens-tool")).to_contain_text("18°C and light rain")
    deep = next(r for r in recs if r.get("span_name") == "forecast-docs")
    page.goto(f"{seeded.url}/traces/{recs[0]['trace_id']}?load=tree#span={deep['span_id']}")
    expect(page.locator("#tree-scroll .row.selected .name")).to_have_text("forecast-docs")
    expect(page.locator("#detail .document").first).to_contain_text("Paris: 18°C, light rain")

