"""A trace still running, written by a real process holding its root span open: the pages count its time."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# A process that opens a span, flushes its start record to the server, and keeps the span open until told.
HOLDER = """
import sys, aitrace_core
from aitrace_core import get_logger, open_span
aitrace_core.configure(service_name="holder", target=sys.argv[1])
handle = open_span("long job", "function")
get_logger("holder").info("started")
aitrace_core.flush()
print(handle.trace_id, flush=True)
sys.stdin.readline()
handle.end()
aitrace_core.flush()
print("ended", flush=True)
"""

SECONDS = re.compile(r"^(\d+\.\d\d) s$")  # how the pages write 1 s to 60 s


class Holder:
    def __init__(self, url: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, f"{url}/api/ingest"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.trace_id = self.proc.stdout.readline().strip()
        assert re.fullmatch(r"[0-9a-f]{32}", self.trace_id), self.trace_id
        self.opened = time.monotonic()

    def end(self) -> float:
        """End the span; returns the seconds it was held open at least."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        held = time.monotonic() - self.opened
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "ended"
        assert self.proc.wait(timeout=30) == 0
        return held

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def holder(seeded: Any) -> Iterator[Holder]:
    h = Holder(seeded.url)
    try:
        yield h
    finally:
        h.stop()


def seconds(locator: Any) -> float:
    """Wait until the locator shows a time of at least a second (it counts up), and return it."""
    expect(locator).to_have_text(SECONDS, timeout=20_000)
    match = SECONDS.match(locator.inner_text().strip())
    assert match, locator.inner_text()
    return float(match.group(1))


def test_a_running_trace_counts_its_time_until_it_ends(page: Any, seeded: Any, holder: Holder) -> None:
    tid = holder.trace_id
    api = seeded.server.client.get(f"/api/traces/{tid}").json()
    assert (api["summary"]["status"], api["summary"]["duration_ms"]) == ("running", None)

    # the list: the row says running and its duration counts up past a second
    page.goto(seeded.url + "/")
    row = page.locator(f"#trace-rows tr[data-trace='{tid}']")
    expect(row.locator(".status-dot")).to_have_attribute("title", "running")
    first = seconds(row.locator(".col-duration"))
    expect(row.locator(".col-duration")).not_to_have_text(f"{first:.2f} s")

    # the trace page: the header, the root's row and the waterfall's scale all follow the clock
    page.goto(f"{seeded.url}/traces/{tid}")
    expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))
    header = page.locator(".trace-summary .fig", has_text="duration").locator(".fig-value")
    expect(page.locator(".trace-summary .fig", has_text="status")).to_contain_text("running")
    shown = seconds(header)
    assert shown >= 1.0
    root = page.locator("#tree-scroll .span-row", has=page.locator(".name", has_text="long job"))
    root_time = seconds(root.locator(".dur"))
    expect(root.locator(".flag")).to_have_text("running")
    axis_end = page.locator(".axis .tick[data-key='1']")
    seconds(axis_end)
    expect(root.locator(".dur")).not_to_have_text(f"{root_time:.2f} s")  # it ticks
    # the root's bar covers the whole (growing) waterfall
    widths = root.locator(".bar").evaluate("b => [b.offsetWidth, b.parentElement.offsetWidth]")
    assert widths[0] >= 0.9 * widths[1], widths
    root.click()
    seconds(page.locator("#detail .chip-latency"))
    # the same from the span tree (the way a big trace opens)
    tree_page = page.context.new_page()
    tree_page.goto(f"{seeded.url}/traces/{tid}?load=tree")
    job = tree_page.locator(".name", has_text="long job")
    tree_root = tree_page.locator("#tree-scroll .span-row", has=job)
    seconds(tree_root.locator(".dur"))
    seconds(tree_page.locator(".axis .tick[data-key='1']"))

    held = holder.end()
    # the end arrives live: the final duration replaces the count, and stops moving
    expect(page.locator(".trace-summary .fig", has_text="status")).to_contain_text("ok", timeout=20_000)
    final = seeded.server.client.get(f"/api/traces/{tid}").json()["summary"]
    assert final["status"] == "ok"
    assert held * 1000 * 0.5 < final["duration_ms"] <= held * 1000 + 1000
    text = f"{final['duration_ms'] / 1000:.2f} s"
    expect(header).to_have_text(text)
    expect(root.locator(".dur")).to_have_text(text)
    expect(root.locator(".flag")).to_have_count(0)
    expect(tree_root.locator(".dur")).to_have_text(text)
    page.goto(seeded.url + "/")
    expect(row.locator(".col-duration")).to_have_text(text)
