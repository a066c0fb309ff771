"""Make the README's screenshots from the demo data: the trace list, an agent's trace, two runs compared,
insights.

    python scripts/screenshots.py [--out docs/screenshots]

Runs the offline demo scenarios (aitrace_demo), serves them with the real app on 127.0.0.1 and a
throwaway SQLite file, and photographs the pages in Debian's Chromium (light and dark).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "tests"))

from ui_chromium import launch  # noqa: E402
from ui_server import running_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    import aitrace_demo as demo
    from aitrace_core.testing import capture_records

    with capture_records(service_name="travel-app") as captured:
        ids = demo.run_all()
    records = [json.loads(json.dumps(r)) for r in captured]
    agent_id = ids[0]  # the ReAct agent: model → tools → model
    agent = [r for r in records if r["trace_id"] == agent_id]
    llm = next(
        r
        for r in agent
        if r["event"] == "span_end"
        and r.get("gen_ai.output.messages")
        and any(p.get("type") == "tool_call" for m in r["gen_ai.output.messages"] for p in m.get("parts", []))
    )

    from compare_runs import run  # two runs of one graph: a prompt edited, a tool added

    before, after = run(), run(system="You are a terse weather assistant. Reply in French.", extra_tool=True)

    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(Path(tmp) / "shots.db") as server,
        sync_playwright() as pw,
    ):
        server.ingest(records)
        server.ingest(before)
        server.ingest(after)
        browser = launch(pw)
        for scheme, suffix in (("light", ""), ("dark", "-dark")):
            context = browser.new_context(
                viewport={"width": 1280, "height": 760}, color_scheme=scheme, device_scale_factor=1
            )
            page = context.new_page()
            page.goto(server.url + "/")
            page.wait_for_selector("body[data-list-ready]")
            page.screenshot(path=str(out / f"list{suffix}.png"))
            page.goto(f"{server.url}/traces/{agent_id}#span={llm['span_id']}")
            page.wait_for_selector("#detail .lens-llm")
            page.screenshot(path=str(out / f"trace{suffix}.png"))
            page.goto(f"{server.url}/compare?a={before[0]['trace_id']}&b={after[0]['trace_id']}")
            page.wait_for_selector(".cmp-row.selected")
            page.screenshot(path=str(out / f"compare{suffix}.png"))
            page.goto(server.url + "/insights?range=24h")
            page.wait_for_selector("body[data-insights-ready]")
            page.screenshot(path=str(out / f"insights{suffix}.png"))
            context.close()
        browser.close()
    for p in sorted(out.glob("*.png")):
        print(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)


if __name__ == "__main__":
    main()
