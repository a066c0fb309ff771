"""Pure functions: records → the columns, search text and span deltas the store writes."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from ._preview import input_preview, meta_json, output_preview, tags_json

__all__ = ["SpanDelta", "format_ts", "parse_ts", "search_text", "span_deltas"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_STANDARD = frozenset(
    {"timestamp", "level", "logger", "service", "trace_id", "span_id", "parent_span_id", "seq", "duration_ms"}
)
MAX_SEARCH_CHARS = 100_000


def parse_ts(text: str) -> int:
    """RFC 3339 → microseconds since the epoch (fractions beyond microseconds are dropped)."""
    if len(text) == 27 and text[26] == "Z" and text[19] == "." and text.isascii() and text[20:26].isdigit():
        # the shipper's own form, 2026-11-24T12:00:00.123456Z: the whole second is shared by many records
        return _whole_second(text[:19]) + int(text[20:26])
    return _parse_ts(text)


@lru_cache(maxsize=4096)
def _whole_second(head: str) -> int:
    return _parse_ts(head + "Z")


#: The record schema's timestamp (RFC 3339): read here rather than by ``fromisoformat`` alone, which before
#: Python 3.11 takes neither ``Z`` nor fractions other than 3 or 6 digits.
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _parse_ts(text: str) -> int:
    match = _RFC3339.fullmatch(text)
    if match is None:  # another ISO 8601 form: as this Python reads it
        parsed = datetime.fromisoformat(text)
    else:
        head, fraction, zone = match.groups()
        zone = "+00:00" if zone is None or zone in "Zz" else zone
        parsed = datetime.fromisoformat(f"{head}.{(fraction or '')[:6].ljust(6, '0')}{zone}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    delta = parsed - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_ts(us: int | None) -> str | None:
    """Microseconds since the epoch → ``2026-11-24T12:00:00.000100Z``."""
    if us is None:
        return None
    seconds, micro = divmod(us, 1_000_000)
    return f"{_second(seconds)}.{micro:06d}Z"


@lru_cache(maxsize=8192)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _collect(value: Any, out: list[str], depth: int) -> None:
    """Append the strings and numbers inside ``value`` (containers 64 levels deep contribute nothing)."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, (dict, list)):
        if depth >= 64:
            return
        for item in value.values() if isinstance(value, dict) else value:
            if type(item) is str:
                out.append(item)
            elif len(out) <= MAX_SEARCH_CHARS:  # past that many pieces the text is long enough already
                _collect(item, out, depth + 1)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append(str(value))


def search_text(record: dict[str, Any]) -> str:
    """The text full-text search sees: the event, then every attribute value, cut at ``MAX_SEARCH_CHARS``."""
    out: list[str] = []
    for key, value in record.items():
        if key in _STANDARD:
            continue
        if type(value) is str:  # the common case, without a call
            out.append(value)
        elif len(out) <= MAX_SEARCH_CHARS:
            _collect(value, out, 0)
    text = " ".join(out)
    return text if len(text) <= MAX_SEARCH_CHARS else text[:MAX_SEARCH_CHARS]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class SpanDelta:
    """What one batch says about one span; merged into the ``spans`` row by an upsert."""

    __slots__ = (
        "cost_usd",
        "duration_ms",
        "end_us",
        "has_end",
        "has_start",
        "incomplete",
        "input_preview",
        "input_tokens",
        "kind",
        "last_us",
        "metadata",
        "model",
        "name",
        "output_preview",
        "output_tokens",
        "parent_span_id",
        "record_count",
        "service",
        "span_id",
        "start_us",
        "status",
        "tags",
        "thread_id",
        "total_tokens",
        "trace_id",
    )

    def __init__(self, trace_id: str, span_id: str) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_span_id: str | None = None
        self.name: str | None = None
        self.kind: str | None = None
        self.service: str | None = None
        self.start_us: int | None = None
        self.last_us: int | None = None
        self.end_us: int | None = None
        self.duration_ms: float | None = None
        self.status: str | None = None
        self.record_count = 0
        self.has_start = 0
        self.has_end = 0
        self.incomplete = 0
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.total_tokens: int | None = None
        self.cost_usd: float | None = None
        self.model: str | None = None
        self.thread_id: str | None = None
        self.input_preview: str | None = None
        self.output_preview: str | None = None
        self.tags: str | None = None
        self.metadata: str | None = None

    def add(self, record: dict[str, Any], ts_us: int) -> None:
        self.record_count += 1
        if self.start_us is None or ts_us < self.start_us:
            self.start_us = ts_us
        if self.last_us is None or ts_us > self.last_us:
            self.last_us = ts_us
        if self.parent_span_id is None:
            self.parent_span_id = record.get("parent_span_id")
        if self.service is None:
            self.service = record.get("service")
        if self.thread_id is None:
            thread = record.get("thread_id")
            if type(thread) is not str or not thread:
                thread = record.get("gen_ai.conversation.id")
            if type(thread) is str and thread:
                self.thread_id = thread
        event = record.get("event")
        if event == "span_start":
            self.has_start = 1
            self.name = _str(record.get("span_name")) or self.name
            self.kind = _str(record.get("span_kind")) or self.kind
            self.model = self.model or _str(record.get("gen_ai.request.model"))
            # what tells a trace apart in the list: a root's input (the trace's or LangChain's own root run's)
            if "parent_span_id" not in record or ("run_id" in record and "parent_run_id" not in record):
                self.input_preview = input_preview(record.get("input"))
            if "tags" in record:
                self.tags = tags_json(record["tags"])
            if "metadata" in record:
                self.metadata = meta_json(record["metadata"])
        elif event == "span_end":
            self.has_end = 1
            self.end_us = ts_us
            if self.name is None:
                self.name = _str(record.get("span_name"))
            if self.kind is None:
                self.kind = _str(record.get("span_kind"))
            self.duration_ms = _num(record.get("duration_ms"))
            self.status = _str(record.get("status"))
            if record.get("incomplete") is True:
                self.incomplete = 1
            model = _str(record.get("gen_ai.response.model")) or _str(record.get("gen_ai.request.model"))
            if model:
                self.model = model
            self.input_tokens = _int(record.get("gen_ai.usage.input_tokens"))
            self.output_tokens = _int(record.get("gen_ai.usage.output_tokens"))
            total = _int(record.get("gen_ai.usage.total_tokens"))
            if total is None and (self.input_tokens is not None or self.output_tokens is not None):
                total = (self.input_tokens or 0) + (self.output_tokens or 0)
            self.total_tokens = total
            self.cost_usd = _num(record.get("gen_ai.usage.cost_usd"))
            if "parent_span_id" not in record or ("run_id" in record and "parent_run_id" not in record):
                self.output_preview = output_preview(record.get("output"))
            elif "gen_ai.output.messages" in record:  # a model's answer: a chat root's final answer, maybe
                self.output_preview = output_preview(record["gen_ai.output.messages"])


def span_deltas(records: list[dict[str, Any]], ts: list[int]) -> dict[tuple[str, str], SpanDelta]:
    """Group a batch by span."""
    out: dict[tuple[str, str], SpanDelta] = {}
    for record, ts_us in zip(records, ts, strict=True):
        key = (record["trace_id"], record["span_id"])
        delta = out.get(key)
        if delta is None:
            delta = out[key] = SpanDelta(*key)
        delta.add(record, ts_us)
    return out
