"""aitrace_core's examples run offline and write the records they promise."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from aitrace_core.testing import CapturedRecords

from .conftest import Sink

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def _depth(records: CapturedRecords, span_id: str) -> int:
    spans = records.spans()
    depth = 1
    parent = spans[span_id].parent_span_id
    while parent:
        depth += 1
        parent = spans[parent].parent_span_id
    return depth


def test_checkout_builds_a_deep_tree_with_the_seeded_failures(tmp_path: Path) -> None:
    target = tmp_path / "checkout.jsonl"
    outcome = _load("checkout").main(str(target), seed=7, orders=8)
    records = CapturedRecords.from_jsonl(target)
    records.validate()

    roots = records.by_name("checkout")
    assert len(roots) == 8
    assert outcome["ok"] + outcome["failed"] == 8
    assert outcome["ok"] > 0  # seed 7 draws both
    assert outcome["failed"] > 0
    assert sum(1 for r in roots if r.status == "error") == outcome["failed"]
    assert len({r.start["trace_id"] for r in roots}) == 8  # type: ignore[index]
    assert max(_depth(records, sid) for sid in records.spans()) >= 4
    # every span is closed, and the failures are error spans with the exception's details
    spans = records.spans()
    assert all(v.end is not None for v in spans.values() if v.start is not None)
    errors = [v.end for v in spans.values() if v.status == "error"]
    assert {e["error.type"].rsplit(".", 1)[-1] for e in errors} <= {  # type: ignore[index]
        "OutOfStock", "PaymentDeclined", "InventoryTimeout"
    }
    assert records.events("checkout failed")
    assert all(r["level"] == "error" and "error.stacktrace" in r for r in records.events("checkout failed"))
    # the async notify step nests under its checkout
    for send in records.by_name("email.send"):
        assert _depth(records, send.span_id) == 3


def test_checkout_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    example = _load("checkout")

    def shape(path: Path) -> list[tuple[str, str | None]]:
        return [(r["event"], r.get("status")) for r in CapturedRecords.from_jsonl(path)]

    example.main(str(tmp_path / "a.jsonl"), seed=3)
    example.main(str(tmp_path / "b.jsonl"), seed=3)
    example.main(str(tmp_path / "c.jsonl"), seed=4)
    assert shape(tmp_path / "a.jsonl") == shape(tmp_path / "b.jsonl")
    assert shape(tmp_path / "a.jsonl") != shape(tmp_path / "c.jsonl")


def test_buffered_logger_example(tmp_path: Path) -> None:
    target = tmp_path / "jobs.jsonl"
    stats = _load("buffered_logger").main(str(target))
    records = CapturedRecords.from_jsonl(target)
    records.validate()
    assert [r["event"] for r in records] == [
        "job started", "loaded", "sending", "sending", "sending", "one recipient bounced", "job finished"
    ]
    assert stats["written"] == len(records) == stats["accepted"]
    assert records[2]["invoice"] == {"number": "INV-001", "total": "10.50"}
    assert records[1]["numbers"] == ["INV-001", "INV-002", "INV-003"]
    # records inside one span share its ids
    assert len({r["span_id"] for r in records[2:6]}) == 1


def test_target_modes_file_and_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "modes.jsonl"
    results = _load("target_modes").main(str(target))
    assert set(results) == {"file", "stdout"}
    assert results["file"]["written"] == results["stdout"]["written"] == 3
    file_records = CapturedRecords.from_jsonl(target)
    file_records.validate()
    out = capsys.readouterr().out
    stdout_records = CapturedRecords([__import__("json").loads(line) for line in out.splitlines() if line])
    stdout_records.validate()
    assert [r["event"] for r in file_records] == [r["event"] for r in stdout_records]
    assert file_records.one("demo.work").end["output"] == "file done"  # type: ignore[index]


def test_target_modes_http(sink: Sink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITRACE_TARGET", sink.url)
    results = _load("target_modes").main(str(tmp_path / "modes.jsonl"))
    assert results["http"]["sent"] == 3
    received = sink.accepted()
    received.validate()
    assert received.one("demo.work").end["output"] == "http done"  # type: ignore[index]


@pytest.mark.parametrize("name", ["checkout", "buffered_logger", "target_modes"])
def test_runs_as_a_script(name: str, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), str(target)],
        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    records = CapturedRecords.from_jsonl(target)
    assert records
    records.validate()
