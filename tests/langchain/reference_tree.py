"""LangChain's own run tree, kept by a ``BaseTracer`` next to ``AITraceHandler``, and the check against it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run

from aitrace_core.testing import CapturedRecords

__all__ = ["KeptRun", "RunKeeper", "assert_same_tree"]


@dataclass
class KeptRun:
    id: UUID
    parent_run_id: UUID | None
    name: str
    run_type: str
    ended: bool = False
    error: str | None = None


class RunKeeper(BaseTracer):
    """Keeps every run LangChain reports (id, parent, error); the reference aitrace's tree must match."""

    run_inline = True

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[UUID, KeptRun] = {}
        self._kept_lock = threading.Lock()

    def _start_trace(self, run: Run) -> None:
        super()._start_trace(run)
        with self._kept_lock:
            self.kept[run.id] = KeptRun(run.id, run.parent_run_id, run.name, run.run_type)

    def _end_trace(self, run: Run) -> None:
        with self._kept_lock:
            kept = self.kept.get(run.id)
            if kept is not None:
                kept.ended = True
                kept.error = run.error
        super()._end_trace(run)

    def _persist_run(self, run: Run) -> None:
        return None


def assert_same_tree(records: CapturedRecords, keeper: RunKeeper) -> int:
    """aitrace's spans match LangChain's runs one for one: same runs, same parents, ended, failed alike.

    Returns the number of runs compared.
    """
    spans = records.spans()
    by_run: dict[str, Any] = {}
    for view in spans.values():
        if view.start is not None and "run_id" in view.start:
            assert view.start["run_id"] not in by_run, f"two spans for run {view.start['run_id']}"
            by_run[view.start["run_id"]] = view
    kept = keeper.kept
    assert kept, "LangChain reported no runs"
    missing = {str(i): f"{r.run_type}:{r.name}" for i, r in kept.items() if str(i) not in by_run}
    extra = {i: v.name for i, v in by_run.items() if UUID(i) not in kept}
    assert not missing, f"runs LangChain reported that have no span: {missing}"
    assert not extra, f"spans for runs LangChain never reported: {extra}"
    lc_span_ids = {v.span_id for v in by_run.values()}
    for run_id, run in kept.items():
        view = by_run[str(run_id)]
        where = f"{run.run_type}:{run.name} ({run_id})"
        if run.parent_run_id is None:
            assert view.parent_span_id not in lc_span_ids, f"root {where} nests under another run"
            assert "parent_run_id" not in view.start
        else:
            parent = by_run[str(run.parent_run_id)]
            got = spans[view.parent_span_id].name if view.parent_span_id in spans else None
            assert view.parent_span_id == parent.span_id, (
                f"{where}: parent span {got}, LangChain's parent {kept[run.parent_run_id].name}"
            )
            assert view.start["parent_run_id"] == str(run.parent_run_id)
            assert view.start["trace_id"] == parent.start["trace_id"]
        assert run.ended, f"LangChain never ended {where}"
        assert view.end is not None, f"span of {where} never ended"
        if run.error is not None:
            assert view.status in ("error", "interrupted", "cancelled"), (where, view.status, run.error)
        else:
            assert view.status != "cancelled", where
            assert view.status != "error" or view.end.get("tool.status") == "error", where
    return len(kept)
