"""The Insights and Threads pages in Chromium, light and dark, 1280 and 900 px wide, on planted traces whose
figures are worked out by hand in tests/insights_data.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from conftest import checked_page
from insights_data import SINCE, UNTIL, planted, trace_id
from langchain_core.messages import AnyMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, interrupt
from ui_server import UiServer

from aitrace_core.testing import capture_records
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel

pytestmark = pytest.mark.browser

# The theme's --accent and --error (static/css/aitrace.css), as Chromium reports colours.
ACCENT = {"light": "rgb(47, 111, 222)", "dark": "rgb(110, 168, 255)"}
ERROR = {"light": "rgb(217, 45, 32)", "dark": "rgb(249, 112, 102)"}
LOOKS = [("light", 1280), ("dark", 1280), ("light", 900), ("dark", 900)]


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def interrupted_conversation() -> list[dict[str, Any]]:
    """A real LangGraph run that drafts with a (fake) model, pauses for approval with ``interrupt()``, and is
    resumed with ``Command(resume="yes, ship it")``: two traces on thread ``th-resume``."""
    model = FakeChatModel(responses=["Draft: the parcel leaves on Monday.", "Sent to the customer."])

    def draft(state: State) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    def approve(state: State) -> dict[str, Any]:
        verdict = interrupt({"approve": state["messages"][-1].content})
        return {"messages": [HumanMessage(f"approval: {verdict}")]}

    def send(state: State) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(State)
    graph.add_node("draft", draft)
    graph.add_node("approve", approve)
    graph.add_node("send", send)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "approve")
    graph.add_edge("approve", "send")
    graph.add_edge("send", END)
    app = graph.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "th-resume"}, "callbacks": [AITraceHandler()]}
    with capture_records(service_name="approvals") as captured:
        app.invoke({"messages": [HumanMessage("Tell the customer when the parcel ships")]}, config)
        app.invoke(Command(resume="yes, ship it"), config)
    return list(captured.raw)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    srv = UiServer(tmp_path_factory.mktemp("insights") / "ui.db")
    try:
        srv.ingest(planted())
        srv.ingest(interrupted_conversation())
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def look_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in the scheme and width of the test's ``look`` parameter, in UTC, failing on script errors."""
    scheme, width = request.param
    with checked_page(browser, width, 900, color_scheme=scheme, timezone_id="UTC") as pg:
        pg.look = (scheme, width)
        yield pg


def _no_sideways_scroll(page: Any) -> None:
    """Neither the page nor its main panel (the insights box scrolls on its own) is wider than the window."""
    overflow = page.evaluate(
        """() => Math.max(...[document.documentElement, document.querySelector('#insights')]
             .filter(Boolean).map((el) => el.scrollWidth - el.clientWidth))"""
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {page.look}"


def _kpi(page: Any, name: str) -> str:
    text: str = page.locator(f'[data-kpi="{name}"] .kpi-value').inner_text()
    return text


@pytest.mark.parametrize("look_page", LOOKS, indirect=True, ids=lambda look: f"{look[0]}-{look[1]}")
def test_insights_show_the_planted_figures_in_the_theme(server: UiServer, look_page: Any) -> None:
    page = look_page
    scheme, _ = page.look
    page.goto(f"{server.url}/insights?since={SINCE}&until={UNTIL}")
    page.wait_for_selector("body[data-insights-ready]")
    assert _kpi(page, "runs") == "4"
    assert _kpi(page, "error_rate") == "50.0%"
    assert _kpi(page, "tokens") == "100 / 50"
    assert _kpi(page, "cost") == "$0.10"
    assert _kpi(page, "p50") == "250 ms"
    assert _kpi(page, "p95") == "895 ms"
    runs = page.locator('[data-chart="runs"] [data-series="runs"]')
    tips = runs.locator("circle title").all_text_contents()
    assert tips == ["10:00 · runs: 2", "11:00 · runs: 1", "12:00 · runs: 0", "13:00 · runs: 1"]
    path = runs.locator("path")
    assert path.evaluate("el => getComputedStyle(el).stroke") == ACCENT[scheme]
    errors = page.locator('[data-chart="runs"] [data-series="errors"] path')
    assert errors.evaluate("el => getComputedStyle(el).stroke") == ERROR[scheme]
    axis_text = page.locator('[data-chart="runs"] .chart-axis text').first
    assert axis_text.evaluate("el => parseFloat(getComputedStyle(el).fontSize) * el.getScreenCTM().a") >= 10
    model_bar = page.locator('svg.chart-bar g[data-key="gpt-4o"]')
    assert model_bar.locator("title").text_content() == "gpt-4o: 3"
    tool_row = page.locator('table.breakdown tr[data-key="get_weather"]')
    assert "1 (50.0%)" in tool_row.inner_text()
    _no_sideways_scroll(page)
    slowest = page.locator('table[data-top="slowest"] tbody tr')
    assert slowest.count() == 4
    slowest.first.locator("a.trace-link").click()
    page.wait_for_url(re.compile(f"/traces/{trace_id('D')}"))


@pytest.mark.parametrize("look_page", [("light", 1280)], indirect=True, ids=["light-1280"])
def test_insights_filters_and_presets_go_in_the_address(server: UiServer, look_page: Any) -> None:
    page = look_page
    page.goto(f"{server.url}/insights?since={SINCE}&until={UNTIL}")
    page.wait_for_selector("body[data-insights-ready='4']")
    services = page.locator("#insights-services option").evaluate_all("os => os.map(o => o.value)")
    assert services == ["bank", "shop"]
    page.fill("input[name=service]", "bank")
    page.click("#insights-filters button[type=submit]")
    page.wait_for_selector("body[data-insights-ready='1']")
    assert "service=bank" in page.url
    assert _kpi(page, "error_rate") == "100.0%"
    page.select_option("select[name=range]", "1h")
    page.fill("input[name=service]", "shop")
    page.click("#insights-filters button[type=submit]")
    page.wait_for_url(re.compile(r"\?range=1h&service=shop$"))
    page.wait_for_selector("body[data-insights-ready='0']")  # the planted day is past
    assert page.locator("input[name=since]").is_hidden()
    page.select_option("select[name=range]", "custom")
    page.fill("input[name=since]", "2026-11-20T00:00")
    page.fill("input[name=until]", "2026-11-24T23:00")
    page.fill("input[name=service]", "")
    page.click("#insights-filters button[type=submit]")
    page.wait_for_selector("body[data-insights-ready='6']")  # the days up to the planted one: all six
    assert "since=2026-11-20T00%3A00%3A00Z" in page.url
    assert page.locator('[data-chart="runs"] h2').inner_text() == "Runs and errors per day (UTC)"


@pytest.mark.parametrize("look_page", LOOKS, indirect=True, ids=lambda look: f"{look[0]}-{look[1]}")
def test_threads_index_lists_threads_and_opens_one(server: UiServer, look_page: Any) -> None:
    page = look_page
    page.goto(f"{server.url}/")
    page.click(".topbar >> text=Threads")
    page.wait_for_selector("body[data-threads-ready]")
    rows = page.locator("tr.thread-row")
    order = [rows.nth(i).get_attribute("data-thread") for i in range(rows.count())]
    assert order == ["th-resume", "t-3", "t-2", "t-1"]  # th-resume ran just now
    t1 = page.locator('tr[data-thread="t-1"] td')
    assert t1.nth(1).inner_text() == "3"  # turns: E, A, B
    assert t1.nth(3).inner_text() == "1,045"
    assert t1.nth(4).inner_text() == "$5.03"
    assert "waiting for input" in t1.nth(5).inner_text()
    assert "1 turn with errors" in t1.nth(5).inner_text()
    _no_sideways_scroll(page)
    page.click('tr[data-thread="t-1"] a')
    page.wait_for_selector("body[data-thread-ready='3']")
    assert page.locator(".topbar >> text=Insights").get_attribute("href") == "/insights"


def test_the_insights_module_draws_no_third_party_code() -> None:
    static = Path(__file__).resolve().parents[2] / "viewer" / "aitrace_viewer" / "static" / "js"
    charts = (static / "charts.js").read_text("utf-8")
    assert "import " not in charts  # self-contained: no library behind it
    assert "innerHTML" not in charts


@pytest.mark.parametrize("look_page", [("dark", 900)], indirect=True, ids=["dark-900"])
def test_the_resumed_turn_shows_what_it_was_resumed_with(server: UiServer, look_page: Any) -> None:
    page = look_page
    page.goto(f"{server.url}/threads")
    page.wait_for_selector("body[data-threads-ready]")
    row = page.locator('tr[data-thread="th-resume"] td')
    assert row.nth(1).inner_text() == "2"
    assert row.nth(5).inner_text().startswith("ok")
    page.click('tr[data-thread="th-resume"] a')
    page.wait_for_selector("body[data-thread-ready='2']")
    first, second = page.locator("section.turn").all()
    assert "Tell the customer when the parcel ships" in first.inner_text()
    assert "Draft: the parcel leaves on Monday." in first.inner_text()
    opening = second.locator(".msg").first
    assert opening.locator(".msg-head").inner_text().lower().startswith("user")
    assert "resumed with" in opening.locator(".msg-head").inner_text()
    assert opening.locator(".msg-text").inner_text() == "yes, ship it"
    assert "approval: yes, ship it" in second.inner_text()  # what the node made of it
    assert "Sent to the customer." in second.inner_text()
