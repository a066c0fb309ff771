"""Find span on a 10,000-span trace in Chromium, beside the names-only find it replaced.

    python benchmarks/bench_find.py [--spans 10000] [--runs 7]

The trace (tests/browser/ui_records.py ``big_trace``: nodes, chains, LLM calls, tools, log lines) is served by
the real app on 127.0.0.1; the page's own modules are timed inside the page, medians of ``--runs``:

- "names only (baseline)": the old find, a filter of span names.
- "first find": the per-span text index built (names, log lines, attribute values) and searched once.
- "next finds": later searches on the built index, for a name, an attribute value and a log line.
- "Enter → '1 of N'": the page's find box, from the key press to the match selected and the note shown.
- "server find": ``GET /api/traces/{id}/find`` (a trace opened as its span tree), beside fetching the
  trace's records ``GET /api/traces/{id}`` (baseline).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import ui_records  # noqa: E402
from ui_chromium import launch  # noqa: E402
from ui_server import running_server  # noqa: E402

TRACE = "0000f1d0" + "ab" * 12

IN_PAGE = """async ([traceId, queries, runs]) => {
  const { buildTree } = await import("/static/js/tree.js");
  const { spanFinder } = await import("/static/js/spanfind.js");
  const data = await (await fetch(`/api/traces/${traceId}`)).json();
  const time = (fn) => { const t = performance.now(); const n = fn(); return [performance.now() - t, n]; };
  const out = { names: [], first: [], next: [] };
  for (let i = 0; i < runs; i++) {
    const tree = buildTree(data.records);
    const q = queries[0].toLowerCase();
    out.names.push(time(() => tree.order.filter((s) => s.name.toLowerCase().includes(q)).length)[0]);
    const finder = spanFinder(tree);
    out.first.push(time(() => finder.find(queries[0]).length)[0]);
    for (const q2 of queries) out.next.push(time(() => finder.find(q2).length)[0]);
  }
  return out;
}"""

UI_FIND = """async (q) => {
  const box = document.querySelector(".tree-find");
  const note = document.querySelector(".find-note");
  box.value = q;
  box.dispatchEvent(new Event("input"));
  note.textContent = "";
  const t = performance.now();
  box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
  while (!/ of /.test(note.textContent)) await new Promise((r) => setTimeout(r, 0));
  return performance.now() - t;
}"""


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    records = ui_records.big_trace(args.spans, seed=7, trace_id=TRACE)
    starts = [r for r in records if r["event"] == "span_start"]
    logs = [r for r in records if r["event"].startswith("working on ")]
    # a name, an attribute value (the spans' input {"i": n}) and a log line
    queries = [starts[-1]["span_name"], str(len(starts) // 2), logs[-1]["event"]]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "find.db") as server:
        server.ingest(records)
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(f"{server.url}/traces/{TRACE}")
            page.wait_for_selector("body[data-tree-ready]", state="attached", timeout=120_000)
            pure = page.evaluate(IN_PAGE, [TRACE, queries, args.runs])
            ui = [page.evaluate(UI_FIND, q) for _ in range(args.runs) for q in queries]
            browser.close()
        api: list[float] = []
        base: list[float] = []
        for _ in range(args.runs):
            t = time.perf_counter()
            server.client.get(f"/api/traces/{TRACE}").raise_for_status()
            base.append((time.perf_counter() - t) * 1000)
            for q in queries:
                t = time.perf_counter()
                server.client.get(f"/api/traces/{TRACE}/find", params={"q": q}).raise_for_status()
                api.append((time.perf_counter() - t) * 1000)
    print(f"{args.spans:,} spans, {len(records):,} records; queries {queries}; medians of {args.runs} runs")
    print(f"{'names only (baseline)':34} {median_ms(pure['names'])}")
    print(f"{'first find (index + search)':34} {median_ms(pure['first'])}")
    print(f"{'next finds':34} {median_ms(pure['next'])}")
    print(f"{'Enter -> 1 of N (page)':34} {median_ms(ui)}")
    print(f"{'GET trace records (baseline)':34} {median_ms(base)}")
    print(f"{'GET /find (server)':34} {median_ms(api)}")


if __name__ == "__main__":
    main()
