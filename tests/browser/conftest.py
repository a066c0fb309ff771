"""Browser fixtures: Debian's Chromium driven by Playwright, and the real app serving known traces."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import ui_records
from ui_chromium import CHROMIUM, launch
from ui_records import BIG_TRACE
from ui_server import UiServer

# Recorded by every page: Content-Security-Policy violations (an init script, before any page script).
CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def _need_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while
    # it is open, which would break every asyncio test collected after the browser tests.
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        try:
            yield b
        finally:
            b.close()


class Seeded:
    """The server and what was put in it."""

    def __init__(self, server: UiServer, demo: list[dict[str, Any]], demo_ids: list[str]) -> None:
        self.server = server
        self.url = server.url
        self.demo = demo
        self.demo_ids = demo_ids

    def demo_trace(self, root_name: str) -> list[dict[str, Any]]:
        for tid in self.demo_ids:
            recs = [r for r in self.demo if r["trace_id"] == tid]
            if any(r.get("span_name") == root_name and "parent_span_id" not in r for r in recs):
                return recs
        raise AssertionError(f"no demo trace named {root_name}")


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    _need_chromium()
    import aitrace_demo as demo
    from aitrace_core.testing import capture_records

    with capture_records(service_name="demo") as captured:
        ids = demo.run_all()
    records = [json.loads(json.dumps(r)) for r in captured]  # as a reader sees them: what the pages must show
    server = UiServer(tmp_path_factory.mktemp("ui") / "ui.db")
    try:
        server.ingest(captured.raw)  # as written: messages once per trace, then references
        server.ingest(ui_records.llm_agent_trace())
        server.ingest(ui_records.xss_trace())
        server.ingest(ui_records.big_trace(10_000, seed=16, trace_id=BIG_TRACE))
        yield Seeded(server, records, ids)
    finally:
        server.stop()


@contextlib.contextmanager
def checked_page(browser: Any, width: int = 1280, height: int = 860, **context_options: Any) -> Iterator[Any]:
    """A fresh page (``context_options`` as Playwright's ``new_context`` takes them: ``color_scheme``,
    ``timezone_id``…) that watches for Content-Security-Policy violations and fails the test on any
    uncaught script error."""
    context = browser.new_context(viewport={"width": width, "height": height}, **context_options)
    context.add_init_script(CSP_WATCH)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(15_000)
    try:
        yield pg
        assert errors == [], f"script errors on the page: {errors}"
    finally:
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page at 1280×860 that fails the test on any uncaught script error."""
    with checked_page(browser) as pg:
        yield pg
