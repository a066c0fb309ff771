"""Test helpers: capture aitrace records in memory.

    from aitrace_core.testing import capture_records

    with capture_records() as records:
        do_work()
    assert records.spans()["..."].end["status"] == "ok"

Records are captured after the real encoding (the same JSON a shipper would send), parsed back into dicts.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ._logging import configure_structlog
from ._refs import RefResolver
from ._runtime import LEVELS, runtime
from ._schema import record_schema
from ._serialize import DEFAULT_LIMITS, Limits

__all__ = ["CapturedRecords", "SpanView", "capture_records"]


@dataclass
class SpanView:
    """The records of one span."""

    span_id: str
    start: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        rec = self.start or self.end
        return rec.get("span_name") if rec else None

    @property
    def kind(self) -> str | None:
        rec = self.start or self.end
        return rec.get("span_kind") if rec else None

    @property
    def parent_span_id(self) -> str | None:
        rec = self.start or self.end or (self.logs[0] if self.logs else None)
        return rec.get("parent_span_id") if rec else None

    @property
    def status(self) -> str | None:
        return self.end.get("status") if self.end else None


class CapturedRecords(list[dict[str, Any]]):
    """The captured records, in emission order, with helpers to look at them as spans.

    With ``resolve_refs`` (the default) the list holds them as a reader sees them: each message a trace
    wrote once and referred to afterwards (docs/schema.md) is in place, as if written in full every
    time. ``raw`` holds them exactly as written.
    """

    def __init__(self, records: Iterable[dict[str, Any]] = (), *, resolve_refs: bool = True) -> None:
        super().__init__()
        self.raw: list[dict[str, Any]] = []
        self._resolver = RefResolver() if resolve_refs else None
        self._lock = threading.Lock()
        for record in records:
            self._add(record)

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str], *, resolve_refs: bool = True) -> CapturedRecords:
        """Records read back from a .jsonl file (what a file target or a spill file holds)."""
        with open(path, encoding="utf-8") as fh:
            return cls((json.loads(line) for line in fh if line.strip()), resolve_refs=resolve_refs)

    def _add(self, record: dict[str, Any]) -> None:
        self.raw.append(record)
        resolver = self._resolver
        if resolver is not None and isinstance(record, dict) and resolver.add(record):
            record = resolver.resolve(record)
        self.append(record)

    def write(self, line: bytes) -> bool:
        record = json.loads(line)
        with self._lock:
            self._add(record)
        return True

    def events(self, event: str) -> list[dict[str, Any]]:
        return [r for r in self if r.get("event") == event]

    def spans(self) -> dict[str, SpanView]:
        """``span_id`` → :class:`SpanView`, children in start order."""
        views: dict[str, SpanView] = {}
        for rec in self:
            sid = rec.get("span_id")
            if not sid:
                continue
            view = views.setdefault(sid, SpanView(sid))
            if rec.get("event") == "span_start" and view.start is None:
                view.start = rec
            elif rec.get("event") == "span_end" and view.end is None:
                view.end = rec
            else:
                view.logs.append(rec)
        for view in views.values():
            if view.start is not None:
                parent = view.start.get("parent_span_id")
                if parent in views:
                    views[parent].children.append(view.span_id)
        return views

    def by_name(self, name: str) -> list[SpanView]:
        return [v for v in self.spans().values() if v.name == name]

    def one(self, name: str) -> SpanView:
        found = self.by_name(name)
        if len(found) != 1:
            raise AssertionError(f"expected one span named {name!r}, found {len(found)}")
        return found[0]

    def validate(self) -> None:
        """Check every record against the record schema (needs ``jsonschema``)."""
        import jsonschema

        validator = jsonschema.Draft202012Validator(record_schema())
        for i, rec in enumerate(self.raw):
            errors = sorted(validator.iter_errors(rec), key=lambda e: list(e.path))
            if errors:
                raise AssertionError(f"record {i} does not match the schema: {errors[0].message}\n{rec}")


@contextlib.contextmanager
def capture_records(
    *,
    level: str = "debug",
    service_name: str | None = None,
    limits: Limits | None = None,
    resolve_refs: bool = True,
) -> Iterator[CapturedRecords]:
    """Send every record written inside the block to a list instead of the configured target (with
    references resolved, unless ``resolve_refs=False``: see :class:`CapturedRecords`)."""
    captured = CapturedRecords(resolve_refs=resolve_refs)
    saved = (runtime.sink, runtime.configured, runtime.service, runtime.limits, runtime.level_no)
    with runtime.lock:
        runtime.sink = captured
        runtime.configured = True
        if service_name is not None:
            runtime.service = service_name
        runtime.limits = limits or (runtime.limits if saved[1] else DEFAULT_LIMITS)
        runtime.level_no = LEVELS[level]
        configure_structlog(level)
    try:
        yield captured
    finally:
        with runtime.lock:
            runtime.sink, runtime.configured, runtime.service, runtime.limits, runtime.level_no = saved
            configure_structlog(next((k for k, v in LEVELS.items() if v == saved[4]), "info"))
