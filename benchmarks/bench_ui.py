"""The viewer in Chromium: time to first paint and to a full scroll of 1,000- and 10,000-span traces.

    python benchmarks/bench_ui.py [--sizes 1000,10000]

Sources: the served trace page (real app on 127.0.0.1, SQLite), a .jsonl opened in the no-server viewer
(/view), and an exported HTML file opened from file://. "First paint" is measured in the page: from navigation
start (or from the moment the file is handed over) to the first frame with tree rows; "(API part)" is how
much of it the server's /api/traces/{id} answer took (the trace page preloads that request while its scripts
load). "Full scroll" expands
every span and scrolls top to bottom one viewport per frame; "worst frame" is the longest gap between frames
on the way (≈16 ms is smooth). Baseline, in the same run: the same rows all put in the DOM at once, as a
non-virtualized tree would (the seed's viewer stopped at ~1,000 spans).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
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
  document.querySelector("#expand-all").click();
  await new Promise((r) => requestAnimationFrame(() => r()));
  const el = document.querySelector("#tree-scroll");
  const t0 = performance.now();
  let last = t0, worst = 0, steps = 0;
  while (el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
    el.scrollTop += el.clientHeight;
    await new Promise((r) => requestAnimationFrame(() => r()));
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    steps++;
  }
  const rowsInDom = document.querySelectorAll("#tree-scroll .row").length;
  return {ms: performance.now() - t0, worst, steps, rowsInDom, rows: Math.round(el.scrollHeight / 28)};
}"""

BASELINE_JS = """(n) => {
  const t0 = performance.now();
  const box = document.createElement("div");
  for (let i = 0; i < n; i++) {
    const row = document.createElement("div");
    row.className = "row";
    row.style.position = "static";
    row.textContent = "span " + i;
    box.appendChild(row);
  }
  document.body.appendChild(box);
  void box.offsetHeight;
  const ms = performance.now() - t0;
  box.remove();
  return ms;
}"""


API_MS_JS = """() => {
  const r = performance.getEntriesByType("resource").find((e) => e.name.includes("/api/traces/"));
  return r ? r.responseEnd - r.startTime : null;
}"""


def painted_at(page: Any) -> float:
    page.wait_for_selector("body[data-tree-ready]", state="attached", timeout=60_000)
    return float(page.evaluate("performance.getEntriesByName('aitrace:tree-painted')[0].startTime"))


def measure(browser: Any, source: str, spans: int, open_page: Any) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    try:
        first = open_page(page)
        api = page.evaluate(API_MS_JS)
        scroll = page.evaluate(SCROLL_JS)
        baseline = page.evaluate(BASELINE_JS, scroll["rows"])
        return {"source": source, "spans": spans, "first": first, "api": api, **scroll, "baseline": baseline}
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    from playwright.sync_api import sync_playwright

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp_s, sync_playwright() as pw:
        tmp = Path(tmp_s)
        browser = launch(pw)
        traces = {
            n: (f"{n:08x}" + "ef" * 12, ui_records.big_trace(n, seed=n, trace_id=f"{n:08x}" + "ef" * 12))
            for n in sizes
        }
        with running_server(tmp / "bench.db") as server:
            for n, (tid, recs) in traces.items():
                t = time.perf_counter()
                server.ingest(recs)
                print(
                    f"ingested {len(recs):,} records ({n:,} spans) in {time.perf_counter() - t:.1f} s",
                    file=sys.stderr,
                )

                def served(page: Any, tid: str = tid) -> float:
                    page.goto(f"{server.url}/traces/{tid}")
                    return painted_at(page)

                def dropped(page: Any, recs: list[dict[str, Any]] = recs, n: int = n) -> float:
                    path = tmp / f"trace-{n}.jsonl"
                    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
                    page.goto(f"{server.url}/view")
                    page.wait_for_selector("#file-input", state="attached")
                    t0 = float(page.evaluate("performance.now()"))
                    page.set_input_files("#file-input", str(path))
                    return painted_at(page) - t0

                def exported(page: Any, recs: list[dict[str, Any]] = recs, n: int = n) -> float:
                    out = write_html(recs, tmp / f"trace-{n}.html")
                    page.goto(out.as_uri())
                    return painted_at(page)

                results.append(measure(browser, "server /traces/…", n, served))
                results.append(measure(browser, "file picked in /view", n, dropped))
                results.append(measure(browser, "exported HTML, file://", n, exported))
        browser.close()

    head = (
        f"{'source':<24} {'spans':>7} {'1st paint':>10} {'(API part)':>11} {'rows':>7} "
        f"{'full scroll':>12} {'frames':>7} "
        f"{'worst frame':>12} {'rows in DOM':>12} {'baseline: all rows in DOM':>26}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r['source']:<24} {r['spans']:>7,} {r['first']:>8.0f} ms "
            f"{(format(r['api'], '.0f') + ' ms') if r['api'] is not None else '–':>11} {r['rows']:>7,} "
            f"{r['ms'] / 1000:>10.2f} s {r['steps']:>7,} "
            f"{r['worst']:>9.0f} ms {r['rowsInDom']:>12,} {r['baseline']:>23.0f} ms"
        )
    print(
        "\nfirst paint target at 10,000 spans: < 1000 ms. "
        "'full scroll' is paced by frames (one viewport per frame)."
    )


if __name__ == "__main__":
    main()
