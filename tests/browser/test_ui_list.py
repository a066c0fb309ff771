"""The trace list in real Chromium: rows told apart, errors inside, filters in the URL, sorts, selection,
search snippets — in light and dark, at 1280 and 900 px, against LangGraph runs of our own and the demo's."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import checked_page
from playwright.sync_api import expect
from ui_server import UiServer

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'
PARCEL = {"tags": ["nightly", "eu"], "metadata": {"user_id": "u42"}}


def _run(graph: Any, text: str, service: str = "shop", **config: Any) -> tuple[str, list[dict[str, Any]]]:
    """One LangGraph chat run: its trace id and its records as the shipper writes them."""
    from langchain_core.messages import HumanMessage

    from aitrace_core.testing import capture_records
    from aitrace_langchain import AITraceHandler

    with capture_records(service_name=service, resolve_refs=False) as captured:
        graph.invoke({"messages": [HumanMessage(text)]}, {"callbacks": [AITraceHandler()], **config})
    records = [json.loads(json.dumps(r)) for r in captured.raw]
    return records[0]["trace_id"], records


class Listed:
    def __init__(self, server: UiServer, ids: dict[str, str]) -> None:
        self.server = server
        self.url = server.url
        self.ids = ids


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listed]:
    from aitrace_core.testing import capture_records
    from aitrace_demo._graphs import build_chat
    from aitrace_demo.scenarios import run_failing_node

    graph = build_chat(respond=lambda msgs: f"Here is what I found about {msgs[-1].content}")
    server = UiServer(tmp_path_factory.mktemp("list") / "list.db")
    ids: dict[str, str] = {}
    try:
        for key, text, service, config in (
            ("parcel", "Where is parcel 77?", "shop-api", PARCEL),
            ("lisbon", "Is it raining in Lisbon?", "weather-bot", {"configurable": {"thread_id": "conv-7"}}),
            ("refund", "Refund order 12 please", "shop-api", {"tags": ["eu"], "metadata": {"user_id": "u7"}}),
            ("xss", f"Say {XSS} twice", "shop-api", {"tags": [XSS]}),
        ):
            ids[key], records = _run(graph, text, service, **config)
            server.ingest(records)
        with capture_records(service_name="checkout", resolve_refs=False) as captured:
            (ids["checkout"],) = run_failing_node()
        server.ingest([json.loads(json.dumps(r)) for r in captured.raw])
        yield Listed(server, ids)
    finally:
        server.stop()


@pytest.fixture(params=[("light", 1280), ("dark", 900)], ids=["light-1280", "dark-900"])
def view(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    scheme, width = request.param
    with checked_page(browser, width, color_scheme=scheme) as pg:
        yield pg


def open_list(page: Any, url: str) -> None:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-list-ready", re.compile(r"\d+"))


def row(page: Any, trace_id: str) -> Any:
    return page.locator(f"#trace-rows tr[data-trace='{trace_id}']")


# the WCAG contrast ratio of an element's text against the page behind it
CONTRAST = """(el) => {
  const rgb = (c) => {
    if (!/^rgba?\\(/.test(c)) throw new Error(`not an rgb() colour: ${c}`);
    return c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  };
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  let bg = null;
  for (let n = el; n && !bg; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (!/rgba\\(.*, 0\\)|transparent/.test(c)) bg = c;
  }
  const back = rgb(bg || getComputedStyle(document.body).backgroundColor);
  let opacity = 1;  // a faded text is as faint as its colour mixed into the background
  for (let n = el; n; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
  const fore = rgb(getComputedStyle(el).color).map((v, i) => back[i] + (v - back[i]) * opacity);
  const a = lum(fore), b = lum(back);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_each_row_shows_its_input_output_tags_metadata_and_thread(view: Any, listed: Listed) -> None:
    open_list(view, listed.url + "/")
    parcel = row(view, listed.ids["parcel"])
    expect(parcel.locator(".preview-in")).to_contain_text("Where is parcel 77?")
    expect(parcel.locator(".preview-out")).to_contain_text("Here is what I found about Where is parcel 77?")
    expect(parcel.locator(".chip-tag")).to_have_text(["#nightly", "#eu"])
    expect(parcel.locator(".chip-meta")).to_have_text("user_id=u42")
    lisbon = row(view, listed.ids["lisbon"])
    expect(lisbon.locator(".chip-thread")).to_have_attribute("href", "/threads/conv-7")
    for el in (
        parcel.locator(".preview-out"),
        parcel.locator(".chip-tag").first,
        parcel.locator(".preview-in"),
    ):
        expect(el).to_be_visible()
        assert el.evaluate(CONTRAST) >= 4.5
    # the list fits the window: no sideways scrolling to reach the previews or the numbers
    wrap = view.locator(".table-wrap")
    assert wrap.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
    box = parcel.locator(".preview-in").bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= view.viewport_size["width"]
    # untrusted text stays text: the tag and the prompt are shown as written, nothing is run
    xss = row(view, listed.ids["xss"])
    expect(xss.locator(".preview-in")).to_contain_text(XSS)
    expect(xss.locator(".chip-tag")).to_have_text("#" + XSS)
    assert xss.locator("img").count() == 0
    assert view.evaluate("window.__xss") is None


def test_a_run_that_caught_its_graphs_error_is_flagged_and_found_by_errors_only(
    view: Any, listed: Any
) -> None:
    open_list(view, listed.url + "/")
    checkout = row(view, listed.ids["checkout"])
    flag = checkout.locator(".flag-inner-error")
    expect(flag).to_be_visible()
    expect(flag).to_contain_text("errors inside")
    assert flag.evaluate(CONTRAST) >= 3
    assert row(view, listed.ids["parcel"]).locator(".flag-inner-error").count() == 0
    expect(view.locator("#filter-help")).to_contain_text("how the run itself ended")
    expect(view.locator("#filter-help")).to_contain_text("any span failed")
    view.check("#filters input[name=errors]")
    view.click("#filters button[type=submit]")
    expect(view).to_have_url(re.compile(r"\?errors=true$"))
    expect(view.locator("#trace-rows tr")).to_have_count(1)
    expect(view.locator("#trace-rows tr")).to_have_attribute("data-trace", listed.ids["checkout"])
    # the run's own status is ok: "run failed" does not list it, and says why the list is empty
    view.uncheck("#filters input[name=errors]")
    view.select_option("#filters select[name=status]", "error")
    view.click("#filters button[type=submit]")
    expect(view.locator("#trace-nomatch")).to_be_visible()


def test_filters_by_tag_metadata_thread_and_part_of_a_name_live_in_the_url(page: Any, listed: Listed) -> None:
    open_list(page, listed.url + "/")
    # the service and model boxes suggest the values present
    expect(page.locator("#service-options option[value='weather-bot']")).to_have_count(1)
    expect(page.locator("#model-options option[value='fake-chat-1']")).to_have_count(1)
    page.fill("#filters input[name=model]", "fake")
    page.fill("#filters input[name=service]", "shop")
    page.fill("#filters input[name=tag]", "eu")
    page.click("#filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"\?service=shop&model=fake&tag=eu$"))
    expect(page.locator("#trace-rows tr")).to_have_count(2)
    ids = page.locator("#trace-rows tr").evaluate_all("rs => rs.map((r) => r.dataset.trace)")
    assert sorted(ids) == sorted([listed.ids["parcel"], listed.ids["refund"]])
    # a metadata chip is a link that adds its filter; the link survives a reload
    row(page, listed.ids["refund"]).locator(".chip-meta").click()
    expect(page).to_have_url(re.compile(r"meta=user_id%3Du7"))
    expect(page.locator("body")).to_have_attribute("data-list-ready", "1")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-list-ready", "1")
    expect(page.locator("#trace-rows tr")).to_have_attribute("data-trace", listed.ids["refund"])
    expect(page.locator("#filters input[name=meta]")).to_have_value("user_id=u7")
    open_list(page, listed.url + "/?thread_id=conv-7")
    expect(page.locator("#trace-rows tr")).to_have_attribute("data-trace", listed.ids["lisbon"])


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "").replace("$", "")
    return None if text in ("–", "") else float(text.split()[0])


@pytest.mark.parametrize(("sort", "column"), [("tokens", "col-tokens"), ("errors", "col-errors")])
def test_sorting_orders_rows_and_load_more_keeps_the_order(
    page: Any, listed: Any, sort: str, column: str
) -> None:
    open_list(page, listed.url + "/?limit=2")
    page.select_option("#filters select[name=sort]", sort)
    expect(page).to_have_url(re.compile(f"sort={sort}"))
    expect(page.locator("body")).to_have_attribute("data-list-ready", "2")
    while page.locator("#trace-more").is_visible():
        before = page.locator("#trace-rows tr").count()
        page.click("#trace-more")
        expect(page.locator("#trace-rows tr")).to_have_count(before + 1 if before == 4 else before + 2)
    ids = page.locator("#trace-rows tr").evaluate_all("rs => rs.map((r) => r.dataset.trace)")
    assert sorted(ids) == sorted(listed.ids.values())
    values = [_number(t) for t in page.locator(f"#trace-rows td.{column}").all_inner_texts()]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=True)
    assert values[: len(present)] == present  # traces without a value come last
    page.select_option("#filters select[name=order]", "asc")
    expect(page).to_have_url(re.compile("order=asc"))
    expect(page.locator("body")).to_have_attribute("data-list-ready", "2")
    first = [_number(t) for t in page.locator(f"#trace-rows td.{column}").all_inner_texts()]
    assert first[0] == min(present)


def test_select_rows_to_compare_or_delete_with_a_confirmation(page: Any, tmp_path: Path) -> None:
    from aitrace_demo._graphs import build_chat

    graph = build_chat()
    server = UiServer(tmp_path / "sel.db")
    try:
        ids = []
        for text in ("one", "two", "three"):
            tid, records = _run(graph, text)
            server.ingest(records)
            ids.append(tid)
        open_list(page, server.url + "/")
        compare, delete = page.locator("#compare-selected"), page.locator("#delete-selected")
        expect(compare).to_be_disabled()
        expect(delete).to_be_disabled()
        row(page, ids[0]).locator(".row-select").check()
        expect(compare).to_be_disabled()
        row(page, ids[2]).locator(".row-select").check()
        expect(page.locator("#selected-count")).to_have_text("2 selected")
        expect(compare).to_be_enabled()
        row(page, ids[1]).locator(".row-select").check()
        expect(compare).to_be_disabled()
        row(page, ids[1]).locator(".row-select").uncheck()

        dialogs: list[str] = []
        page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        delete.click()
        assert dialogs
        assert "2 traces" in dialogs[0]
        expect(page.locator("#trace-rows tr")).to_have_count(3)  # dismissed: nothing deleted
        page.once("dialog", lambda d: d.accept())
        delete.click()
        expect(page.locator("#trace-rows tr")).to_have_count(1)
        expect(page.locator("#trace-rows tr")).to_have_attribute("data-trace", ids[1])
        for gone in (ids[0], ids[2]):
            assert server.client.get(f"/api/traces/{gone}").status_code == 404
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-list-ready", "1")

        # two selected → Compare opens the compare page of exactly those two, in the order they were picked
        for text in ("four",):
            tid, records = _run(graph, text)
            server.ingest(records)
            ids.append(tid)
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-list-ready", "2")
        row(page, ids[3]).locator(".row-select").check()
        row(page, ids[1]).locator(".row-select").check()
        page.click("#compare-selected")
        # (the compare page then names the pair it selected in the hash)
        expect(page).to_have_url(re.compile(rf"/compare\?a={ids[3]}&b={ids[1]}(#pair=\d+)?$"))
    finally:
        server.stop()


def test_a_search_hit_shows_a_marked_snippet_linking_to_the_matching_span(view: Any, listed: Listed) -> None:
    open_list(view, listed.url + "/?q=lisbon")
    hit = row(view, listed.ids["lisbon"])
    expect(view.locator("#trace-rows tr")).to_have_count(1)
    marks = hit.locator(".row-match mark")
    expect(marks.first).to_have_text(re.compile("^lisbon$", re.IGNORECASE))
    expect(hit.locator(".row-match")).to_contain_text("raining in")
    assert marks.first.evaluate(CONTRAST) >= 4.5
    link = hit.locator(".row-match a").get_attribute("href")
    assert link is not None
    match = re.fullmatch(rf"/traces/{listed.ids['lisbon']}\?span=([0-9a-f]{{16}})&q=lisbon", link)
    assert match is not None, link
    path = f"/api/traces/{listed.ids['lisbon']}/spans/{match.group(1)}/records"
    span = listed.server.client.get(path).json()
    assert any("Lisbon" in json.dumps(r) for r in span["records"])
    # a hit whose text is markup: shown as text, the match marked, nothing run
    open_list(view, listed.url + "/?q=onerror")
    xss = row(view, listed.ids["xss"])
    expect(xss.locator(".row-match mark").first).to_have_text("onerror")
    expect(xss.locator(".row-match")).to_contain_text("<img src=x")
    assert xss.locator(".row-match img").count() == 0
    assert view.evaluate("window.__xss") is None
