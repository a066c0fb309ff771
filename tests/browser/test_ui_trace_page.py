"""The trace page answers at a glance: the run first, find by any text, errors flagged, small traces open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import ui_records
from aitrace_viewer.export_html import write_html
from conftest import checked_page
from playwright.sync_api import expect
from ui_records import BIG_TRACE

pytestmark = pytest.mark.browser

LOOKS = [("light", 1280), ("dark", 1280), ("light", 900), ("dark", 900)]


@pytest.fixture(params=LOOKS, ids=[f"{s}-{w}" for s, w in LOOKS])
def looks(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    """A page in each colour scheme at 1280 and 900 px wide, failing on any script error."""
    scheme, width = request.param
    with checked_page(browser, width, color_scheme=scheme) as pg:
        yield pg


def opened(page: Any, url: str) -> None:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))


def trace_of(seeded: Any, root: str) -> tuple[str, list[dict[str, Any]]]:
    recs = seeded.demo_trace(root)
    return recs[0]["trace_id"], recs


def in_view(page: Any, locator: Any) -> None:
    """The element is on screen: inside the window and inside its scrolled panel."""
    box = locator.bounding_box()
    assert box is not None
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    assert box["x"] >= 0, box
    assert box["x"] + min(box["width"], 50) <= width, box
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= height, box
    panel = page.locator("#detail").bounding_box()
    assert panel["y"] <= box["y"] <= panel["y"] + panel["height"], (box, panel)


def test_opens_on_the_run_its_conversation_and_every_node(looks: Any, seeded: Any) -> None:
    page = looks
    tid, recs = trace_of(seeded, "demo: react agent")
    graph_end = next(r for r in recs if r["event"] == "span_end" and r.get("span_kind") == "graph")
    question = graph_end["output"]["messages"][0]["parts"][0]["content"]
    answer = graph_end["output"]["messages"][-1]["parts"][0]["content"]
    opened(page, f"{seeded.url}/traces/{tid}")

    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text("demo: react agent")  # the root, selected
    expect(page.locator("#tree-scroll .row.selected .name")).to_have_text("demo: react agent")
    run = detail.locator(".lens-run")
    expect(run.locator(".run-from a")).to_have_text(graph_end["span_name"])
    output = run.locator(".field", has=page.locator(".field-label", has_text="Output"))
    expect(output.locator(".msg.role-user .msg-text")).to_have_text(question)  # a conversation, not JSON
    expect(output.locator(".msg.role-assistant .msg-text").last).to_have_text(answer)
    expect(output.locator(".msg.role-tool").first).to_contain_text("light rain")
    expect(output.locator(".tool-call .tool-name").first).to_have_text("get_weather")
    in_view(page, output.locator(".msg.role-user .msg-text"))

    # every span of a small trace is shown: nodes and subgraphs open, tools by their tool's name
    n_spans = len({r["span_id"] for r in recs if r["event"] == "span_start"})
    n_logs = sum(1 for r in recs if r["event"] not in ("span_start", "span_end"))
    expect(page.locator(".tree-count")).to_contain_text(f"{n_spans} spans · {n_spans + n_logs} rows shown")
    tool = page.locator("#tree-scroll .span-row", has=page.locator(".kind-tool")).first
    expect(tool.locator(".name")).to_have_text(re.compile(r"^(get_weather|get_time)$"))
    tool.click()
    expect(detail.locator("h2")).to_have_text(re.compile(r"^execute_tool (get_weather|get_time)$"))


def test_a_graph_span_draws_its_messages_state_as_a_conversation(page: Any, seeded: Any) -> None:
    tid, recs = trace_of(seeded, "demo: react agent")
    graph = next(r for r in recs if r["event"] == "span_start" and r.get("span_kind") == "graph")
    question = graph["input"]["messages"][0]["parts"][0]["content"]
    opened(page, f"{seeded.url}/traces/{tid}#span={graph['span_id']}")
    lens = page.locator("#detail .lens-io")
    inp = lens.locator(".field", has=page.locator(".field-label", has_text="Input"))
    expect(inp.locator(".state-messages .msg.role-user .msg-text")).to_have_text(question)
    expect(inp.locator(".json-tree")).to_have_count(0)  # nothing but the messages in this state


def test_a_caught_failure_is_flagged_in_the_header_and_the_run(looks: Any, seeded: Any) -> None:
    page = looks
    tid, recs = trace_of(seeded, "demo: checkout")
    failed = [r for r in recs if r["event"] == "span_end" and r.get("status") == "error"]
    root_end = next(r for r in recs if r["event"] == "span_end" and "parent_span_id" not in r)
    assert root_end["status"] == "ok"
    assert len(failed) == 2
    opened(page, f"{seeded.url}/traces/{tid}")
    flag = page.locator(".trace-summary .trace-title .trace-errors")
    expect(flag).to_have_text("2 error spans")
    in_view_header = flag.bounding_box()
    assert in_view_header["x"] + in_view_header["width"] <= page.viewport_size["width"]
    expect(page.locator(".trace-summary .fig", has_text="status")).to_contain_text("ok")
    below = page.locator("#detail .lens-run .run-error")
    expect(below).to_contain_text(failed[0]["error.message"])


def test_system_prompt_heading_is_said_once(page: Any, seeded: Any) -> None:
    tid, recs = trace_of(seeded, "demo: react agent")
    llm = next(r for r in recs if r.get("gen_ai.system_instructions"))
    prompt = llm["gen_ai.system_instructions"][0]["content"]
    opened(page, f"{seeded.url}/traces/{tid}#span={llm['span_id']}")
    lens = page.locator("#detail .lens-llm")
    system = lens.locator(".msg.role-system")
    expect(system.locator(".msg-text")).to_have_text(prompt)
    expect(system.locator(".role")).to_have_text("system")  # said once, by the message's own head
    expect(lens.locator(".field-label", has_text=re.compile("^system$", re.I))).to_have_count(0)


def test_find_steps_through_names_values_and_log_lines(looks: Any, seeded: Any) -> None:
    page = looks
    tid, recs = trace_of(seeded, "demo: react agent")
    opened(page, f"{seeded.url}/traces/{tid}")
    page.click("#collapse-all")
    find = page.locator(".tree-find")
    note = page.locator(".find-note")
    tool = next(r for r in recs if r["event"] == "span_end" and "light rain" in str(r.get("output")))

    find.fill("LIGHT RAIN")  # a tool's output, any case: the spans that hold it, in tree order
    n = len({r["span_id"] for r in recs if "light rain" in str(r).lower()})
    find.press("Enter")
    expect(note).to_have_text(re.compile(rf"^1 of {n}$"))
    for _ in range(n):  # each one is reachable; the tool that said it among them
        if page.locator("#detail h2").inner_text() == tool["span_name"]:
            break
        page.click(".find-next")
    expect(page.locator("#detail h2")).to_have_text(tool["span_name"])
    selected = page.locator("#tree-scroll .row.selected")
    expect(selected).to_be_visible()  # its collapsed ancestors were opened
    mark = page.locator("#detail mark.find-hit").first
    expect(mark).to_have_text(re.compile("light rain", re.I))
    at = note.inner_text()
    find.press("Shift+Enter")
    find.press("Enter")
    expect(note).to_have_text(at)  # back and forth returns to the same match

    page.locator("#tree-scroll .span-row").first.click()  # from the root: the first match is the first
    find.fill("Paris")
    total = len({r["span_id"] for r in recs if "paris" in str(r).lower()})
    assert total >= 3
    find.press("Enter")
    expect(note).to_have_text(f"1 of {total}")
    find.press("Shift+Enter")  # wraps round
    expect(note).to_have_text(f"{total} of {total}")
    page.click(".find-prev")
    expect(note).to_have_text(f"{total - 1} of {total}")

    find.fill("no such text anywhere")
    find.press("Enter")
    expect(note).to_have_text("no match")


def test_find_searches_log_lines_of_a_ten_thousand_span_trace(page: Any, seeded: Any) -> None:
    recs = ui_records.big_trace(10_000, seed=16, trace_id=BIG_TRACE)
    logs = [r for r in recs if r["event"].startswith("working on ")]
    target = logs[len(logs) * 3 // 4]
    for url in (f"{seeded.url}/traces/{BIG_TRACE}", f"{seeded.url}/traces/{BIG_TRACE}?load=tree"):
        opened(page, url)
        rows_before = page.locator(".tree-count").inner_text()
        assert re.search(r"10,000 spans · \d{1,3} rows shown", rows_before), rows_before  # collapsed
        page.fill(".tree-find", target["event"])
        page.press(".tree-find", "Enter")
        expect(page.locator(".find-note")).to_have_text("1 of 1")
        expect(page.locator("#tree-scroll .row.selected")).to_have_attribute("data-span", target["span_id"])
        expect(page.locator("#tree-scroll .row.selected")).to_be_visible()


def test_a_search_hit_link_selects_the_span_and_marks_the_text(looks: Any, seeded: Any) -> None:
    page = looks
    tid, recs = trace_of(seeded, "demo: react agent")
    tool = next(r for r in recs if r["event"] == "span_end" and "light rain" in str(r.get("output")))
    opened(page, f"{seeded.url}/traces/{tid}?span={tool['span_id']}&q={quote('light rain')}")
    expect(page.locator("#detail h2")).to_have_text(tool["span_name"])
    mark = page.locator("#detail mark.find-hit-first")
    expect(mark).to_have_text("light rain")
    in_view(page, mark)
    colour = mark.evaluate("m => getComputedStyle(m).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), colour


def test_the_exported_file_behaves_the_same(page: Any, seeded: Any, tmp_path: Path) -> None:
    _, recs = trace_of(seeded, "demo: react agent")
    out = write_html(recs, tmp_path / "agent.html")
    opened(page, out.as_uri())
    expect(page.locator("#detail h2")).to_have_text("demo: react agent")
    graph_end = next(r for r in recs if r["event"] == "span_end" and r.get("span_kind") == "graph")
    question = graph_end["output"]["messages"][0]["parts"][0]["content"]
    expect(page.locator("#detail .lens-run .msg.role-user .msg-text").first).to_have_text(question)
    page.fill(".tree-find", "light rain")
    page.press(".tree-find", "Enter")
    expect(page.locator(".find-note")).to_have_text(re.compile(r"^1 of \d+$"))
    expect(page.locator("#detail mark.find-hit").first).to_be_visible()

    several = write_html(recs + ui_records.llm_agent_trace(), tmp_path / "two.html")
    page.goto(several.as_uri())
    expect(page).to_have_title("2 traces · aitrace")
