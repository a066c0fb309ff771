"""The compare page in real Chromium: aligned rows, colours, the first divergence, the diff as text, a
10,000-span pair of runs, and the self-contained comparison file."""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ui_records
from ui_server import UiServer

sys.path.insert(0, str(Path(__file__).parents[1]))

from compare_runs import run

pytestmark = [pytest.mark.browser]

MARKUP = 'Be brief <img src=x onerror="window.__pwned=1"><b>bold</b>'
BIG_A, BIG_B = "000000a1" + "ef" * 12, "000000b1" + "ef" * 12
CHANGED_TURN = 900


class Seeded:
    def __init__(self, server: UiServer, ids: dict[str, str]) -> None:
        self.url = server.url
        self.ids = ids


def _big_pair() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two 10,000-span agent loops, alike but for one tool's output in turn CHANGED_TURN."""
    a = ui_records.agent_loop_trace(10_000, trace_id=BIG_A)
    b = copy.deepcopy(ui_records.agent_loop_trace(10_000, trace_id=BIG_B))
    for r in b:
        if r.get("span_name") == f"lookup-{CHANGED_TURN}" and r["event"] == "span_end":
            r["output"] = "a different result"
    return a, b


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    runs = {"base": run(), "markup": run(system=MARKUP), "route": run(route="math")}
    big_a, big_b = _big_pair()
    server = UiServer(tmp_path_factory.mktemp("cmp") / "cmp.db")
    try:
        for records in [*runs.values(), big_a, big_b]:
            server.ingest(records)
        ids = {name: records[0]["trace_id"] for name, records in runs.items()}
        yield Seeded(server, ids)
    finally:
        server.stop()


def _until(page: Any, script: str, what: str, timeout: float = 15.0) -> None:
    """Poll ``script`` (a function) in the page until it returns true (the page's CSP rules out Playwright's
    own polling, which evaluates strings)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


READY = "() => document.body.dataset.compareReady !== undefined"


def _open(page: Any, url: str) -> None:
    page.goto(url)
    _until(page, READY, "the compare view")


def _row_statuses(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        ".cmp-row", "els => els.map(e => [...e.classList].find(c => c.startsWith('st-')))"
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 900])
def test_a_different_route_side_by_side(page: Any, seeded: Seeded, scheme: str, width: int) -> None:
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size({"width": width, "height": 800})
    _open(page, f"{seeded.url}/compare?a={seeded.ids['base']}&b={seeded.ids['route']}")
    # the first divergence is selected on open: the router's model answered "math" instead of "weather"
    selected = page.locator(".cmp-row.selected")
    assert selected.count() == 1
    assert selected.locator(".cmp-a .name").inner_text() == "chat fake-router"
    detail = page.locator("#detail")
    assert "First divergence" in detail.inner_text()
    assert detail.locator(".cmp-diff del").inner_text() == "weather"
    assert detail.locator(".cmp-diff ins").inner_text() == "math"
    # the weather agent ran only in A: its rows have a gap on B's side; the math node only in B
    statuses = _row_statuses(page)
    assert statuses.count("st-only_a") == 8
    assert statuses.count("st-only_b") == 2
    only_a = page.locator(".cmp-row.st-only_a").first
    assert only_a.locator(".cmp-b.cmp-gap").count() == 1
    assert only_a.locator(".cmp-a .name").inner_text() == "weather_agent"
    # a tool's row says the tool, as the trace page does (the convention's full name stays in the title)
    names = page.eval_on_selector_all(".cmp-row.st-only_a .cmp-a .name", "els => els.map(e => e.textContent)")
    assert "get_weather" in names
    assert not [n for n in names if n.startswith("execute_tool")]
    # the colours differ by status and are not the page background, in light and in dark
    colours = page.evaluate(
        """() => Object.fromEntries(["st-changed", "st-only_a", "st-only_b"].map((s) => {
             const row = document.querySelector(`.cmp-row.${s}`);
             const side = s === "st-only_b" ? ".cmp-b" : ".cmp-a";
             const bg = s === "st-changed" ? getComputedStyle(row).backgroundColor
                                           : getComputedStyle(row.querySelector(side)).backgroundColor;
             return [s, bg];
           }))"""
    )
    assert len(set(colours.values())) == 3, colours
    assert not {"rgba(0, 0, 0, 0)", "transparent"} & set(colours.values()), colours
    # the totals: 12 spans against 6
    spans = page.locator('table.cmp-totals tr[data-key="span_count"] td')
    assert [spans.nth(i).inner_text() for i in range(3)] == ["12", "6", "−6 (−50.0%)"]
    # nothing spills sideways at this width
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_markup_in_a_prompt_stays_text(page: Any, seeded: Seeded) -> None:
    _open(page, f"{seeded.url}/compare?a={seeded.ids['base']}&b={seeded.ids['markup']}")
    detail = page.locator("#detail")
    assert detail.locator(".cmp-diff ins").first.inner_text() == MARKUP
    assert detail.locator("img, b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("window.__csp") == []
    # selecting another pair shows its diff; keyboard moves the selection
    same = page.locator(".cmp-row.st-same").first
    assert same.evaluate("el => getComputedStyle(el).backgroundColor") == "rgba(0, 0, 0, 0)"
    same.click()
    assert "Same inputs, outputs and status" in detail.inner_text()
    page.locator("#cmp-next").click()
    assert page.locator(".cmp-row.selected.st-changed").count() == 1


def test_two_10k_span_runs_open_on_their_one_difference(page: Any, seeded: Seeded) -> None:
    _open(page, f"{seeded.url}/compare?a={BIG_A}&b={BIG_B}")
    assert page.locator(".cmp-row").count() < 150  # virtualised: only what is on screen (and a margin)
    selected = page.locator(".cmp-row.selected")
    assert selected.locator(".cmp-a .name").inner_text() == f"lookup-{CHANGED_TURN}"
    assert "a different result" in page.locator("#detail").inner_text()
    # scroll to the end: the last rows are drawn, still only a screenful of them
    page.locator("#cmp-scroll").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    _until(
        page,
        "() => [...document.querySelectorAll('.cmp-row')].some(r => Number(r.dataset.row) > 9990)",
        "the last rows",
    )
    assert page.locator(".cmp-row").count() < 150
    page.locator("#cmp-only-diff").check()
    assert page.locator(".cmp-row").count() == 3  # the changed tool, with the tools node and root above it


def test_the_trace_page_offers_compare_and_the_form_fills_in(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.url}/traces/{seeded.ids['base']}")
    page.locator("#compare-with").click()
    page.locator('#compare-form input[name="b"]').fill(seeded.ids["route"])
    page.locator('#compare-form button[type="submit"]').click()
    _until(page, READY, "the compare view")
    assert page.locator(".cmp-row.st-only_b").count() == 2


def test_the_comparison_file_opens_offline(page: Any, tmp_path: Path) -> None:
    from aitrace_viewer.compare import compare
    from aitrace_viewer.export_html import write_compare_html

    out = write_compare_html(compare(run(), run(system=MARKUP)), tmp_path / "cmp.html")
    page.goto(out.as_uri())
    _until(page, READY, "the compare view")
    assert page.locator(".cmp-row.selected.st-changed").count() == 1
    assert "Be brief" in page.locator("#detail .cmp-diff").first.inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("window.__csp") == []


def test_two_files_dropped_on_the_no_server_viewer_are_compared(
    page: Any, seeded: Seeded, tmp_path: Path
) -> None:
    import json

    a, b = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in run()), encoding="utf-8")
    b.write_text("".join(json.dumps(r) + "\n" for r in run(route="math")), encoding="utf-8")
    page.goto(f"{seeded.url}/view")
    page.locator("#file-input").set_input_files([str(a), str(b)])
    _until(page, READY, "the compare view")
    assert "before.jsonl (A) compared with after.jsonl (B)" in page.locator("#file-message").inner_text()
    assert page.locator(".cmp-row.selected .cmp-a .name").inner_text() == "chat fake-router"
    assert page.locator(".cmp-row.st-only_b").count() == 2
    assert page.locator("#detail .cmp-diff ins").inner_text() == "math"
