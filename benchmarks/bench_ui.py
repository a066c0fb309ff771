"""The viewer in Chromium: a 10,000- and a 100,000-span trace served, and the no-server sources.

    python benchmarks/bench_ui.py [--sizes 10000,100000] [--file-sizes 10000] [--runs 3]

Served trace page (real app on 127.0.0.1 in a child process, SQLite), per trace size, median of ``--runs``
page loads in a fresh browser context:

- "first rows": from navigation start to the first frame with tree rows (the page's ``aitrace:tree-painted``
  mark); target < 2 s at 100,000 spans.
- "API bytes": what the page fetched from ``/api/traces/…`` before its first rows (decoded body bytes, and
  bytes on the wire).
- "server RSS": the server process's resident memory before the page was opened, and its peak while it
  served the page (sampled every 10 ms from ``/proc``).
- "scroll frames": the tree pane scrolled 150 px per animation frame for 300 frames, then to the end;
  median and 95th percentile of the gaps between frames (≈16.7 ms is smooth) and the worst.

The 10,000-span trace is the baseline the 100,000-span one is read against. Sources from records (a .jsonl
picked in ``/view``, an exported HTML file from file://) are measured at ``--file-sizes``: first rows only.
The trace shape is a LangGraph agent loop (tests/browser/ui_records.py ``agent_loop_trace``): a wide root
with one small subtree per turn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import ui_records  # noqa: E402
from aitrace_viewer.export_html import write_html  # noqa: E402
from ui_chromium import launch  # noqa: E402
from ui_server import running_server  # noqa: E402

SCROLL_JS = """async () => {
  const el = document.querySelector("#tree-scroll");
  const frame = () => new Promise((r) => requestAnimationFrame(() => r(performance.now())));
  let last = await frame();
  const gaps = [];
  for (let i = 0; i < 300 && el.scrollTop + el.clientHeight < el.scrollHeight - 1; i++) {
    el.scrollTop += 150;
    const now = await frame();
    gaps.push(now - last);
    last = now;
  }
  el.scrollTop = el.scrollHeight;
  const now = await frame();
  gaps.push(now - last);
  await frame();
  const rowsInDom = document.querySelectorAll("#tree-scroll .row").length;
  return {gaps, rowsInDom, rows: Math.round(el.scrollHeight / 28)};
}"""

API_JS = """() => {
  const firstRows = performance.getEntriesByName("aitrace:tree-painted")[0].startTime;
  let decoded = 0, wire = 0;
  for (const e of performance.getEntriesByType("resource")) {
    if (!e.name.includes("/api/traces/") || e.responseEnd > firstRows) continue;
    decoded += e.decodedBodySize;
    wire += e.encodedBodySize;
  }
  return {decoded, wire};
}"""


def painted_at(page: Any) -> float:
    page.wait_for_selector("body[data-tree-ready]", state="attached", timeout=180_000)
    return float(page.evaluate("performance.getEntriesByName('aitrace:tree-painted')[0].startTime"))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssPeak:
    """Samples a process's RSS every 10 ms on a thread; ``peak`` after ``stop()``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = rss_kib(pid)
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_kib(self.pid))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def served_once(browser: Any, url: str, pid: int) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    try:
        rss = RssPeak(pid)
        try:
            page.goto(url)
            first = painted_at(page)
            api = page.evaluate(API_JS)
        finally:
            rss.stop()
        scroll = page.evaluate(SCROLL_JS)
        gaps = scroll["gaps"]
        return {
            "first": first,
            "decoded": api["decoded"],
            "wire": api["wire"],
            "rss_before": rss.before / 1024,
            "rss_peak": rss.peak / 1024,
            "median": statistics.median(gaps),
            "p95": pct(gaps, 0.95),
            "worst": max(gaps),
            "rows": scroll["rows"],
            "in_dom": scroll["rowsInDom"],
        }
    finally:
        context.close()


def file_once(browser: Any, open_page: Any) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    try:
        return float(open_page(page))
    finally:
        context.close()


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--file-sizes", default="10000", help="sizes opened from records ('' for none)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    file_sizes = [int(s) for s in args.file_sizes.split(",") if s]
    from playwright.sync_api import sync_playwright

    served: list[tuple[int, int, dict[str, Any]]] = []
    files: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp_s, sync_playwright() as pw:
        tmp = Path(tmp_s)
        browser = launch(pw)
        with running_server(tmp / "bench.db") as server:
            for n in sorted(set(sizes) | set(file_sizes)):
                tid = f"{n:08x}" + "ef" * 12
                recs = ui_records.agent_loop_trace(n, trace_id=tid)
                spans = len({r["span_id"] for r in recs})
                if n in sizes:
                    t = time.perf_counter()
                    server.ingest(recs)
                    print(
                        f"ingested {len(recs):,} records ({spans:,} spans) "
                        f"in {time.perf_counter() - t:.1f} s",
                        file=sys.stderr,
                    )
                    runs = [
                        served_once(browser, f"{server.url}/traces/{tid}", server.proc.pid)
                        for _ in range(args.runs)
                    ]
                    served.append((spans, len(recs), median_of(runs)))
                if n in file_sizes:
                    path = tmp / f"trace-{n}.jsonl"
                    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
                    html = write_html(recs, tmp / f"trace-{n}.html")

                    def dropped(page: Any, path: Path = path) -> float:
                        page.goto(f"{server.url}/view")
                        page.wait_for_selector("#file-input", state="attached")
                        t0 = float(page.evaluate("performance.now()"))
                        page.set_input_files("#file-input", str(path))
                        return painted_at(page) - t0

                    def exported(page: Any, html: Path = html) -> float:
                        page.goto(html.as_uri())
                        return painted_at(page)

                    for name, fn in (("file picked in /view", dropped), ("exported HTML, file://", exported)):
                        files.append(
                            (name, spans, statistics.median(file_once(browser, fn) for _ in range(args.runs)))
                        )
        browser.close()

    head = (
        f"{'spans':>8} {'records':>8} {'first rows':>11} {'API bytes':>10} {'(on wire)':>10} "
        f"{'server RSS':>11} {'(peak)':>8} {'frame median':>13} {'p95':>7} {'worst':>7} {'rows':>7} "
        f"{'rows in DOM':>11}"
    )
    print(f"\nserved trace page, median of {args.runs} loads (the first row is the baseline)\n")
    print(head)
    print("-" * len(head))
    for spans, n_recs, r in served:
        print(
            f"{spans:>8,} {n_recs:>8,} {r['first']:>8.0f} ms {r['decoded'] / 1e6:>7.1f} MB "
            f"{r['wire'] / 1e6:>7.1f} MB {r['rss_before']:>7.0f} MiB {r['rss_peak']:>4.0f} MiB "
            f"{r['median']:>10.1f} ms {r['p95']:>4.1f} ms {r['worst']:>4.0f} ms {r['rows']:>7,} "
            f"{r['in_dom']:>11,}"
        )
    if files:
        print(f"\nfrom records, no server (first rows, median of {args.runs})\n")
        for name, spans, ms in files:
            print(f"{name:<24} {spans:>8,} spans {ms:>8.0f} ms")
    print("\ntargets: first rows < 2 s at 100,000 spans; frames ≈ 16.7 ms while scrolling.")


if __name__ == "__main__":
    main()
