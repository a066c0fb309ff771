"""Compare two runs: server-side compare time of two 10,000-span traces, beside the single-trace view API.

    python benchmarks/bench_compare.py [--spans 10000] [--runs 7] [--no-browser]

A real server on 127.0.0.1 (SQLite, a child process) holds two LangGraph agent loops of ``--spans`` spans
(tests/browser/ui_records.py ``agent_loop_trace``): alike but for one tool output in the middle (the usual
case: a small change), and a third whose every model call answers differently (the worst case: every LLM pair
changed, each with a text diff). Medians of ``--runs`` requests, interleaved:

- baseline: ``GET /api/traces/{A}``, the single-trace view's detail document;
- ``GET /api/compare?a=A&b=B`` for each pair, and ``compare()`` in process on the records (no HTTP, no DB).

Then, in Chromium, the compare page of the first pair: time to its first rows, and the frame gaps while its
rows are scrolled 150 px per frame (≈16.7 ms is smooth), beside the trace page of A scrolled the same way.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import ui_records  # noqa: E402
from aitrace_viewer.compare import compare  # noqa: E402
from ui_chromium import launch  # noqa: E402
from ui_server import running_server  # noqa: E402

A, B, C = ("0000a" + c * 27 for c in "abc")

SCROLL_JS = """async (sel) => {
  const el = document.querySelector(sel);
  const frame = () => new Promise((r) => requestAnimationFrame(() => r(performance.now())));
  let last = await frame();
  const gaps = [];
  for (let i = 0; i < 300 && el.scrollTop + el.clientHeight < el.scrollHeight - 1; i++) {
    el.scrollTop += 150;
    const now = await frame();
    gaps.push(now - last);
    last = now;
  }
  return gaps;
}"""


def _runs(spans: int) -> dict[str, list[dict[str, Any]]]:
    a = ui_records.agent_loop_trace(spans, trace_id=A)
    b = copy.deepcopy(ui_records.agent_loop_trace(spans, trace_id=B))
    turns = spans // 6
    for r in b:
        if r.get("span_name") == f"lookup-{turns // 2}" and r["event"] == "span_end":
            r["output"] = "a different result"
    c = copy.deepcopy(ui_records.agent_loop_trace(spans, trace_id=C))
    for r in c:
        for message in r.get("gen_ai.output.messages") or ():
            message["content"] = f"I will look this up again, differently: {r['span_id']}"
    return {A: a, B: b, C: c}


def _ms(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    runs = _runs(args.spans)
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "bench.db") as server:
        for records in runs.values():
            server.ingest(records)
        client = server.client
        cases = {
            "GET /api/traces/{A} (baseline)": lambda: client.get(f"/api/traces/{A}").raise_for_status(),
            "GET /api/compare A↔B (one change)": lambda: client.get(
                f"/api/compare?a={A}&b={B}"
            ).raise_for_status(),
            "GET /api/compare A↔C (every LLM changed)": lambda: client.get(
                f"/api/compare?a={A}&b={C}"
            ).raise_for_status(),
            "compare() in process, A↔B": lambda: compare(runs[A], runs[B]),
            "compare() in process, A↔C": lambda: compare(runs[A], runs[C]),
        }
        for fn in cases.values():  # warm up
            fn()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):  # interleaved, so a busy moment hits every case alike
            for name, fn in cases.items():
                times[name].append(_ms(fn))
        base = statistics.median(times["GET /api/traces/{A} (baseline)"])
        print(
            f"{args.spans:,} spans per trace, median of {args.runs} (ms), ratio to the single-trace view API"
        )
        print(f"{'case':44} {'median':>9} {'min':>9} {'× view':>8}")
        for name, values in times.items():
            med = statistics.median(values)
            print(f"{name:44} {med:9.1f} {min(values):9.1f} {med / base:8.2f}")
        if args.no_browser:
            return
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = launch(pw)
            try:
                print(
                    "\nChromium, 1280×860: first rows (ms) and scroll frame gaps (ms), 300 frames of 150 px"
                )
                print(f"{'page':32} {'first rows':>11} {'median gap':>11} {'p95 gap':>8} {'worst':>7}")
                pages = [
                    ("trace page of A (baseline)", f"/traces/{A}", "#tree-scroll", "#tree-scroll .row"),
                    ("compare page A↔B", f"/compare?a={A}&b={B}", "#cmp-scroll", ".cmp-row"),
                ]
                for label, path, scroller, row in pages:
                    context = browser.new_context(viewport={"width": 1280, "height": 860})
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(server.url + path)
                    page.wait_for_selector(row, timeout=60_000)
                    first = (time.perf_counter() - t0) * 1000
                    gaps = page.evaluate(SCROLL_JS, scroller)
                    print(
                        f"{label:32} {first:11.0f} {statistics.median(gaps):11.1f} {_pct(gaps, 0.95):8.1f} "
                        f"{max(gaps):7.1f}"
                    )
                    context.close()
            finally:
                browser.close()


if __name__ == "__main__":
    main()
