"""``aitrace_spans``: what the code under test did, as spans and records, with helpers to assert on it."""

from __future__ import annotations

from typing import Any

from aitrace_core.testing import CapturedRecords, SpanView

__all__ = ["TestSpans", "ToolCall"]


class ToolCall(dict[str, Any]):
    """One tool run: ``name``, ``args`` (its input), ``output``, ``status`` and ``call_id``."""


class TestSpans:
    """The records of the current test (references to earlier messages resolved), as spans.

    ``aitrace_spans.of_kind("llm")``, ``aitrace_spans.tool_calls()``, ``aitrace_spans.total_tokens()``; the
    records themselves are ``aitrace_spans.records`` (a :class:`aitrace_core.testing.CapturedRecords`).
    """

    __test__ = False  # (not a test class, whatever its name)

    def __init__(self, records: CapturedRecords) -> None:
        self.records = records

    def spans(self) -> list[SpanView]:
        """Every span with a start record, in start order."""
        return [view for view in self.records.spans().values() if view.start is not None]

    def of_kind(self, kind: str) -> list[SpanView]:
        """Spans of one kind: ``llm``, ``tool``, ``node``, ``graph``, ``chain``, ``retriever``…"""
        return [view for view in self.spans() if view.kind == kind]

    def named(self, name: str) -> list[SpanView]:
        return [view for view in self.spans() if view.name == name]

    def one(self, name: str) -> SpanView:
        """The only span called ``name``; AssertionError when there are none or several."""
        return self.records.one(name)

    def errors(self) -> list[SpanView]:
        """Spans that ended in error (the test's own phases not counted)."""
        return [v for v in self.spans() if v.status == "error" and v.kind != "test"]

    def tool_calls(self) -> list[ToolCall]:
        """The tools that ran, in order."""
        out = []
        for view in self.of_kind("tool"):
            start, end = view.start or {}, view.end or {}
            out.append(
                ToolCall(
                    name=start.get("gen_ai.tool.name") or view.name,
                    args=start.get("input"),
                    output=end.get("output"),
                    status=view.status,
                    call_id=start.get("gen_ai.tool.call.id"),
                )
            )
        return out

    def llm_calls(self) -> list[SpanView]:
        return self.of_kind("llm")

    def total_tokens(self) -> int:
        """Tokens of every model call (input + output) the test made."""
        total = 0
        for view in self.llm_calls():
            end = view.end or {}
            tokens = end.get("gen_ai.usage.total_tokens")
            if tokens is None:
                tokens = (end.get("gen_ai.usage.input_tokens") or 0) + (
                    end.get("gen_ai.usage.output_tokens") or 0
                )
            total += int(tokens)
        return total

    def logs(self, event: str | None = None) -> list[dict[str, Any]]:
        """Log records (not span starts or ends), optionally only those with this ``event``."""
        return [
            r
            for r in self.records
            if r.get("event") not in ("span_start", "span_end") and (event is None or r.get("event") == event)
        ]
