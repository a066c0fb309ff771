"""The viewer in real Chromium: served pages against the real app, the no-server viewer, the exported file."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import ui_records
from aitrace_viewer.export_html import write_html
from playwright.sync_api import expect
from ui_records import BIG_TRACE

pytestmark = pytest.mark.browser

AGENT = "4bf92f3577b34da6a3ce929d0e0e4736"
XSS_TRACE = "deadbeef" * 4


def rows(page: Any) -> Any:
    return page.locator("#tree-scroll .row")


def span_row(page: Any, name: str) -> Any:
    return page.locator(
        "#tree-scroll .span-row", has=page.locator(".name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def open_trace(page: Any, seeded: Any, trace_id: str, fragment: str = "") -> None:
    page.goto(f"{seeded.url}/traces/{trace_id}{fragment}")
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))


def test_demo_react_agent_trace_shows_conversation_tokens_and_tool_calls(page: Any, seeded: Any) -> None:
    recs = seeded.demo_trace("demo: react agent")
    llm_end = next(
        r for r in recs if r["event"] == "span_end" and r.get("span_kind") in ("llm", "chat_model")
    )
    question = next(
        p["content"]
        for r in recs
        if r.get("gen_ai.input.messages")
        for m in r["gen_ai.input.messages"]
        if m["role"] == "user"
        for p in m.get("parts", [])
    )
    call = next(p for m in llm_end["gen_ai.output.messages"] for p in m["parts"] if p["type"] == "tool_call")
    tool_span = next(
        r for r in recs if r["event"] == "span_start" and r.get("gen_ai.tool.call.id") == call["id"]
    )

    open_trace(page, seeded, recs[0]["trace_id"])
    span_row(page, llm_end["span_name"]).first.click()
    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text(llm_end["span_name"])
    expect(detail.locator(".msg.role-user .msg-text").first).to_have_text(question)
    expect(detail.locator(".chip-token.tok-in")).to_have_text(f"input {llm_end['gen_ai.usage.input_tokens']}")
    expect(detail.locator(".chip-token.tok-out")).to_have_text(
        f"output {llm_end['gen_ai.usage.output_tokens']}"
    )
    expect(detail.locator(".chip-token.tok-total")).to_have_text(
        f"total {llm_end['gen_ai.usage.total_tokens']}"
    )
    box = detail.locator(".tool-call", has=page.locator(".tool-name", has_text=call["name"]))
    for key, value in call["arguments"].items():
        expect(box.locator(".json-children .json-entry", has_text=key)).to_contain_text(str(value))

    box.locator("a.span-link").click()  # the tool call → the tool span that ran it
    expect(detail.locator("h2")).to_have_text(tool_span["span_name"])
    expect(page).to_have_url(re.compile(f"#span={tool_span['span_id']}$"))
    expect(page.locator("#tree-scroll .row.selected .name")).to_have_text(call["name"])  # tool name
    expect(detail.locator(".lens-tool")).to_contain_text(call["id"])


def test_expand_collapse_and_keyboard(page: Any, seeded: Any) -> None:
    open_trace(page, seeded, AGENT)
    recs = ui_records.llm_agent_trace()
    n_spans = len({r["span_id"] for r in recs})
    n_logs = sum(1 for r in recs if r["event"] not in ("span_start", "span_end"))
    page.click("#collapse-all")
    expect(rows(page)).to_have_count(1)
    page.click("#expand-all")
    expect(rows(page)).to_have_count(n_spans + n_logs)
    expect(page.locator("#tree-scroll .log-row", has_text="calling weather service")).to_be_visible()

    span_row(page, "tools").locator(".twisty").click()  # collapse one node with the mouse
    expect(span_row(page, "get_weather")).to_have_count(0)

    page.click("#collapse-all")
    root = span_row(page, "LangGraph")
    root.click()
    tree = page.locator("#tree-scroll")
    tree.press("ArrowRight")  # opens the root
    expect(root).to_have_attribute("aria-expanded", "true")
    tree.press("ArrowDown")
    expect(page.locator("#detail h2")).to_have_text("agent")
    tree.press("Enter")  # opens "agent"
    expect(span_row(page, "FakeChatModel")).to_have_count(1)
    tree.press("ArrowLeft")  # closes it again
    expect(span_row(page, "FakeChatModel")).to_have_count(0)
    tree.press("ArrowLeft")  # to the parent
    expect(page.locator("#detail h2")).to_have_text("LangGraph")


def test_deep_link_selects_and_reveals_a_span(page: Any, seeded: Any) -> None:
    recs = ui_records.llm_agent_trace()
    deep = next(r for r in recs if r.get("span_name") == "forecast-docs")
    open_trace(page, seeded, AGENT, f"#span={deep['span_id']}")
    expect(page.locator("#tree-scroll .row.selected .name")).to_have_text("forecast-docs")
    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text("forecast-docs")
    expect(detail.locator(".document").first).to_contain_text("Paris: 18°C, light rain")
    expect(detail.locator(".document").first).to_contain_text("meteo.fr")  # metadata


def test_llm_lens_model_params_cost_and_ttft(page: Any, seeded: Any) -> None:
    open_trace(page, seeded, AGENT)
    span_row(page, "FakeChatModel").first.click()
    detail = page.locator("#detail")
    expect(detail.locator(".chip-model").first).to_have_text("gpt-4o-mini")
    expect(detail.locator(".chip-param", has_text="temperature")).to_have_text("temperature: 0.2")
    expect(detail.locator(".chip-token.tok-cached")).to_have_text("cached 128")
    expect(detail.locator(".chip-cost")).to_have_text("cost $0.000058")
    expect(detail.locator(".chip-ttft")).to_have_text("TTFT 22 ms")
    expect(detail.locator(".msg.role-system")).to_have_count(1)  # system instructions not shown twice


def test_list_filter_and_search(page: Any, seeded: Any) -> None:
    page.goto(seeded.url + "/")
    expect(page.locator("body")).to_have_attribute("data-list-ready", re.compile(r"\d+"))
    assert page.locator("#trace-rows tr").count() > 3
    page.fill("#filters input[name=service]", "weather-agent")
    page.click("#filters button[type=submit]")
    expect(page.locator("#trace-rows tr")).to_have_count(1)
    expect(page.locator("#trace-rows tr .trace-link")).to_have_text("LangGraph")
    expect(page).to_have_url(re.compile(r"\?service=weather-agent$"))

    page.fill("#filters input[name=service]", "")
    page.fill("#filters input[name=q]", "umbrella")
    page.click("#filters button[type=submit]")
    expect(page.locator("#trace-rows tr")).to_have_count(1)
    expect(page.locator("#trace-rows tr .trace-link")).to_have_text("LangGraph")

    page.fill("#filters input[name=q]", "")
    page.check("#filters input[name=errors]")
    page.click("#filters button[type=submit]")
    expect(page.locator("#trace-rows tr").first).to_be_visible()
    errors = [int(t) for t in page.locator("#trace-rows td.col-errors").all_inner_texts()]
    assert errors
    assert all(e > 0 for e in errors)

    page.locator("#trace-rows tr .trace-link").first.click()
    expect(page).to_have_url(re.compile(r"/traces/[0-9a-f]{32}$"))
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))


def test_list_pages_through_older_traces(page: Any, seeded: Any) -> None:
    page.goto(seeded.url + "/?limit=4")
    expect(page.locator("body")).to_have_attribute("data-list-ready", "4")
    first_page = page.locator("#trace-rows tr").evaluate_all("rs => rs.map((r) => r.dataset.trace)")
    page.click("#trace-more")
    expect(page.locator("body")).to_have_attribute("data-list-ready", "8")
    all_rows = page.locator("#trace-rows tr").evaluate_all("rs => rs.map((r) => r.dataset.trace)")
    assert all_rows[:4] == first_page
    assert len(set(all_rows)) == 8


def test_a_new_trace_arrives_live(page: Any, seeded: Any) -> None:
    page.goto(seeded.url + "/")
    expect(page.locator("body")).to_have_attribute("data-list-ready", re.compile(r"\d+"))
    expect(page.locator("#live-status")).to_have_text("● live")
    name = f"arrived-live-{uuid.uuid4().hex[:8]}"
    tid = uuid.uuid4().hex
    recs = ui_records.llm_agent_trace(trace_id=tid, t0_ms=3_600_000 * 24 * 3650)
    for r in recs:
        if r.get("span_name") == "LangGraph":
            r["span_name"] = name
    seeded.server.ingest(recs)
    row = page.locator(f"#trace-rows tr[data-trace='{tid}']")
    expect(row.locator(".trace-link")).to_have_text(name)
    expect(page.locator("#trace-rows tr").first).to_have_attribute("data-trace", tid)


def test_a_trace_still_running_grows_in_place(page: Any, seeded: Any) -> None:
    tid = uuid.uuid4().hex
    recs = ui_records.llm_agent_trace(trace_id=tid)
    seeded.server.ingest(recs[:5])
    open_trace(page, seeded, tid)
    expect(page.locator(".trace-summary .fig", has_text="status")).to_contain_text("running")
    expect(page.locator("#live-status")).to_have_text("● live")
    first = page.locator("#tree-scroll .span-row").first
    name = first.locator(".name").inner_text()
    first.click()
    expect(page.locator("#tree-scroll .row.selected .name")).to_have_text(name)
    page.evaluate("window.__same_page = true")
    spans_before = int(page.locator("body").get_attribute("data-tree-ready") or "0")
    seeded.server.ingest(recs[5:])
    # redrawn in place: the new spans and the final status, no reload, the selection kept
    expect(page.locator(".trace-summary .fig", has_text="status")).to_contain_text("ok")
    expect(page.locator(".trace-updated")).to_contain_text(f"{len(recs) - 5} new records")
    spans_after = len({r["span_id"] for r in recs})
    expect(page.locator("body")).to_have_attribute("data-tree-ready", str(spans_after))
    assert spans_after > spans_before
    assert page.evaluate("window.__same_page") is True
    expect(page.locator("#tree-scroll .row.selected .name")).to_have_text(name)
    expect(page.locator("#detail h2")).to_have_text(name)


def test_thread_page_shows_turns_as_one_conversation(page: Any, seeded: Any) -> None:
    thread = next(r["thread_id"] for r in seeded.demo_trace("demo: chatbot") if r.get("thread_id"))
    page.goto(f"{seeded.url}/threads/{thread}")
    expect(page.locator("body")).to_have_attribute("data-thread-ready", "2")
    expect(page.locator(".turn")).to_have_count(2)
    expect(page.locator(".turn").nth(0).locator(".msg.role-user")).to_contain_text("Ada")
    expect(page.locator(".turn").nth(1).locator(".msg.role-assistant")).to_be_visible()


def test_jsonl_dropped_on_the_no_server_viewer(page: Any, seeded: Any) -> None:
    recs = ui_records.llm_agent_trace() + ui_records.llm_agent_trace(
        trace_id="ab" * 16, question="And in Rome?"
    )
    text = "\n".join(json.dumps(r) for r in recs) + "\nnot json\n"
    page.goto(seeded.url + "/view")
    page.evaluate(
        """(text) => {
            const dt = new DataTransfer();
            dt.items.add(new File([text], "run.jsonl", {type: "application/x-ndjson"}));
            const drop = new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true});
            document.querySelector("#drop-zone").dispatchEvent(drop);
        }""",
        text,
    )
    expect(page.locator("#file-message")).to_contain_text("2 traces")
    expect(page.locator("#file-message")).to_contain_text("1 unreadable line")
    expect(page.locator("#file-traces tr.trace-row")).to_have_count(2)
    page.locator("#file-traces tr[data-trace='" + "ab" * 16 + "'] .trace-link").click()
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))
    span_row(page, "FakeChatModel").first.click()
    expect(page.locator("#detail .msg.role-user").first).to_contain_text("And in Rome?")


def test_exported_html_opens_offline_from_file_url(page: Any, tmp_path: Path) -> None:
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    out = write_html(ui_records.llm_agent_trace(), tmp_path / "trace.html")
    page.goto(out.as_uri())
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))
    expect(page.locator(".trace-summary h1")).to_have_text("LangGraph")
    span_row(page, "get_weather").click()
    expect(page.locator("#detail .lens-tool")).to_contain_text("18°C and light rain")
    expect(page).to_have_url(re.compile(r"#span=[0-9a-f]{16}$"))
    assert page.evaluate("window.__csp") == []
    assert [u for u in requests if not u.startswith("file://")] == []


def test_big_field_is_truncated_with_show_all(page: Any, tmp_path: Path) -> None:
    recs = ui_records.llm_agent_trace()
    big = "x" * 5_000_000
    for r in recs:
        if r.get("span_name") == "get_weather" and r["event"] == "span_end":
            r["output"] = big
    out = write_html(recs, tmp_path / "big-field.html")
    page.goto(out.as_uri())
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))
    span_row(page, "get_weather").click()
    button = page.locator("#detail .lens-tool .show-all")
    expect(button).to_have_text("show all (5,000,000 characters)")
    assert page.locator("#detail .lens-tool pre").first.evaluate("e => e.textContent.length") < 10_000
    button.click()
    expect(button).to_have_count(0)
    assert page.locator("#detail .lens-tool pre").first.evaluate("e => e.textContent.length") == 5_000_000


def test_ten_thousand_span_trace_renders_only_what_is_visible(page: Any, seeded: Any) -> None:
    open_trace(page, seeded, BIG_TRACE)
    expect(page.locator(".tree-count")).to_contain_text("10,000 spans")
    page.click("#expand-all")
    expect(page.locator(".tree-count")).to_contain_text(re.compile(r"1\d,\d{3} rows shown"))
    assert rows(page).count() < 150
    page.locator("#tree-scroll").evaluate("e => { e.scrollTop = e.scrollHeight; }")
    last = ui_records.big_trace(10_000, seed=16, trace_id=BIG_TRACE)
    last_start = [r for r in last if r["event"] == "span_start"][-1]
    expect(span_row(page, last_start["span_name"])).to_be_visible()
    assert rows(page).count() < 150

    page.click("#collapse-all")
    page.fill(".tree-find", last_start["span_name"])
    page.press(".tree-find", "Enter")  # find reveals a deep span in a collapsed tree
    expect(page.locator("#tree-scroll .row.selected .name")).to_have_text(last_start["span_name"])
    expect(page.locator("#detail h2")).to_have_text(last_start["span_name"])


def _watch(page: Any, origin: str) -> tuple[list[str], list[str]]:
    dialogs: list[str] = []
    outbound: list[str] = []

    def on_dialog(d: Any) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "request",
        lambda r: None if r.url.startswith((origin, "file://", "data:", "blob:")) else outbound.append(r.url),
    )
    return dialogs, outbound


def _poke_everything(page: Any) -> None:
    page.click("#expand-all")
    n = rows(page).count()
    for i in range(n):
        rows(page).nth(i).click()
        page.locator("#detail details:not([open]) > summary").evaluate_all(
            "els => els.forEach((e) => e.click())"
        )
        page.locator("#detail a").evaluate_all(
            "els => els.forEach((a) => a.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})))"
        )


def _assert_inert(page: Any, dialogs: list[str], outbound: list[str]) -> None:
    assert dialogs == []
    assert outbound == []
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__csp") == []
    assert page.evaluate("({}).polluted === undefined && Object.prototype.polluted === undefined")
    assert (
        page.locator("#detail img, #detail script, #detail svg, #detail iframe, #tree-scroll img").count()
        == 0
    )
    for a in page.locator("a[href]").evaluate_all("els => els.map((a) => a.getAttribute('href'))"):
        assert not a.lower().startswith(("javascript:", "data:")), a


def test_xss_payloads_stay_text_on_served_pages(page: Any, seeded: Any) -> None:
    dialogs, outbound = _watch(page, seeded.url)
    page.goto(seeded.url + "/")
    expect(page.locator(f"#trace-rows tr[data-trace='{XSS_TRACE}'] .trace-link")).to_have_text(
        ui_records.XSS[0]
    )
    open_trace(page, seeded, XSS_TRACE)
    expect(page.locator(".trace-summary h1")).to_have_text(ui_records.XSS[0])
    _poke_everything(page)
    span_row(page, ui_records.XSS[1]).click()
    expect(page.locator("#detail .lens-error")).to_contain_text(ui_records.XSS[3])
    expect(page.locator("#detail .msg").first).to_contain_text(ui_records.XSS[1])
    _assert_inert(page, dialogs, outbound)


def test_xss_payloads_stay_text_in_the_exported_file(page: Any, tmp_path: Path) -> None:
    dialogs, outbound = _watch(page, "file://")
    recs = ui_records.xss_trace()
    for r in recs:
        if "parent_span_id" not in r and "span_name" in r:
            r["span_name"] = "</script><script>window.__xss=1;alert(1)</script>"
    out = write_html(recs, tmp_path / "xss.html")
    page.goto(out.as_uri())
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))
    expect(page.locator(".trace-summary h1")).to_have_text(recs[0]["span_name"])
    _poke_everything(page)
    _assert_inert(page, dialogs, outbound)


def test_pages_are_served_with_a_strict_csp_and_no_inline_script(page: Any, seeded: Any) -> None:
    for path in ("/", f"/traces/{AGENT}", "/threads/t-1", "/view"):
        res = page.goto(seeded.url + path)
        csp = res.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert page.locator("script:not([src])").count() == 0
        assert page.locator("[onclick], [onerror], [onload]").count() == 0
    assert page.goto(seeded.url + "/traces/not-a-trace-id").status == 400


def test_narrow_window_stacks_tree_and_detail(browser: Any, seeded: Any) -> None:
    context = browser.new_context(viewport={"width": 600, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{seeded.url}/traces/{AGENT}")
        span_row(page, "get_weather").click()
        tree = page.locator("#tree-scroll").bounding_box()
        detail = page.locator("#detail").bounding_box()
        assert tree["width"] <= 600
        assert detail["width"] <= 600
        assert detail["y"] >= tree["y"] + tree["height"] - 1  # below the tree, not squeezed beside it
        expect(page.locator("#detail h2")).to_have_text("get_weather")
    finally:
        context.close()


LENS_MODULE = """
import { registerLens } from "/static/js/lenses.js";
registerLens({
  name: "weather", kinds: ["tool"], priority: 99,
  fields: [{ key: "weather.sky", label: "Sky", type: "text" }, { key: "weather.tags", type: "chips" }],
});
"""


def test_a_lens_module_of_your_own_shows_in_the_detail_panel(browser: Any, tmp_path: Path) -> None:
    from ui_server import running_server

    lens = tmp_path / "weather_lens.js"
    lens.write_text(LENS_MODULE, encoding="utf-8")
    trace = "ab" * 16
    base = {"level": "info", "logger": "t", "service": "lens-test", "trace_id": trace, "span_id": "1" * 16}
    records = [
        {
            **base,
            "timestamp": "2026-11-24T12:00:00.000001Z",
            "event": "span_start",
            "span_name": "forecast",
            "span_kind": "tool",
        },
        {
            **base,
            "timestamp": "2026-11-24T12:00:00.000900Z",
            "event": "span_end",
            "span_name": "forecast",
            "span_kind": "tool",
            "duration_ms": 0.9,
            "status": "ok",
            "weather.sky": "<b>sunny</b>",
            "weather.tags": ["warm", "dry"],
        },
    ]
    with running_server(tmp_path / "lens.db", env={"AITRACE_LENSES": json.dumps([str(lens)])}) as server:
        server.ingest(records)
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            page.goto(f"{server.url}/traces/{trace}")
            expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))
            span_row(page, "forecast").first.click()
            section = page.locator("#detail section.lens-weather")
            expect(section.locator("h3")).to_have_text("weather")
            expect(section).to_contain_text("<b>sunny</b>")  # its own field, still set as text
            expect(section.locator("b")).to_have_count(0)
            expect(section).to_contain_text("warm")
            # the module is served from the server's own origin, under the same strict CSP
            res = server.client.get(f"/lenses/0/{lens.name}")
            assert res.headers["content-type"].startswith("text/javascript")
            assert server.client.get("/lenses/0/other.js").status_code == 404
            assert server.client.get("/lenses/1/weather_lens.js").status_code == 404
            assert errors == []
        finally:
            context.close()


def test_filters_that_match_nothing_say_so_and_clear(page: Any, seeded: Any) -> None:
    """An empty page under filters is the filters' doing, not an empty server: say so, and offer to clear."""
    page.goto(seeded.url + "/?service=no-such-service")
    expect(page.locator("body")).to_have_attribute("data-list-ready", "0")
    expect(page.locator("#trace-nomatch")).to_be_visible()
    expect(page.locator("#trace-nomatch")).to_contain_text("No traces match these filters")
    expect(page.locator("#trace-empty")).to_be_hidden()
    page.click("#trace-clear")
    expect(page).to_have_url(seeded.url + "/")
    expect(page.locator("#filters input[name=service]")).to_have_value("")
    expect(page.locator("#trace-rows tr").first).to_be_visible()
    assert page.locator("#trace-rows tr").count() > 3
    expect(page.locator("#trace-nomatch")).to_be_hidden()
