"""Every examples/lc_*.py runs offline and writes well-formed, closed trees; demo.run_all() too."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from lc_helpers import assert_all_closed

import aitrace_demo as demo
from aitrace_core.testing import CapturedRecords, capture_records

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("lc_*.py"))


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_one_example_per_scenario() -> None:
    assert {p.stem for p in EXAMPLES} >= {
        "lc_react_agent",
        "lc_router",
        "lc_rag",
        "lc_streaming_chat",
        "lc_human_in_the_loop",
        "lc_chatbot",
        "lc_failing_node",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_main_writes_closed_trees(
    records: CapturedRecords, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    trace_ids = _load(path).main()
    assert trace_ids
    assert set(trace_ids) == {r["trace_id"] for r in records}
    assert_all_closed(records)
    kinds = {r.get("span_kind") for r in records if r["event"] == "span_start"}
    assert {"graph", "node"} <= kinds
    # the application's own log lines are part of the trees
    assert [r for r in records if r["logger"] == "aitrace_demo" and r["event"] != "span_start"]


def test_example_runs_as_a_script(tmp_path: Path) -> None:
    out = tmp_path / "react.jsonl"
    env = {**os.environ, "HOME": str(tmp_path)}  # the caller's environment (PYTHONDONTWRITEBYTECODE, …)
    env.pop("OPENAI_API_KEY", None)  # offline: the fake model
    subprocess.run(
        [sys.executable, str(EXAMPLES[0].parent / "lc_react_agent.py"), str(out)],
        check=True,
        env=env,
        timeout=120,
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["span_name"] for r in lines if r["event"] == "span_start"} >= {
        "travel_agent",
        "execute_tool get_weather",
        "execute_tool get_time",
    }


def _graphs(records: CapturedRecords) -> set[str]:
    return {r["span_name"] for r in records if r["event"] == "span_start" and r.get("span_kind") == "graph"}


def test_demo_run_all_covers_every_scenario(records: CapturedRecords) -> None:
    trace_ids = demo.run_all()
    assert len(trace_ids) == len(set(trace_ids))
    assert set(trace_ids) == {r["trace_id"] for r in records}  # every trace it wrote, and only those
    roots = [v for v in records.spans().values() if v.start is not None and v.parent_span_id is None]
    assert sorted(v.start["trace_id"] for v in roots) == sorted(trace_ids)  # type: ignore[index]
    assert_all_closed(records)
    statuses = {(r["span_name"], r["status"]) for r in records if r["event"] == "span_end"}
    assert ("approval", "interrupted") in statuses
    assert ("charge_card", "error") in statuses
    assert {"retriever", "tool", "llm", "edge", "graph", "node"} <= {
        r.get("span_kind") for r in records if r["event"] == "span_start"
    }
    # every graph an example runs is among the demo's: the demo is every scenario
    shown = _graphs(records)
    with capture_records() as by_examples:
        for path in EXAMPLES:
            _load(path).main()
    assert _graphs(by_examples) <= shown
