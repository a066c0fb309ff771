"""What each MCP tool answers, as compact text read from the store; bad arguments raise BadArgument."""

from __future__ import annotations

import json
from typing import Any

from aitrace_core import is_span_id, is_trace_id, resolve_refs

from ..api._routes import resolve_span_refs
from ..store import Store, TraceFilters, parse_ts
from ..store._previews import root_start_records
from ._outline import Outline, OutlineError
from ._text import BOUNDARY_FIELDS, clip, error_line, fmt_ms, message_line, messages_of, span_summary

__all__ = ["LIMITS", "BadArgument", "TraceTools"]

STATUSES = ("ok", "error", "cancelled", "interrupted", "running")

#: (smallest, largest) accepted for each numeric argument.
LIMITS = {"limit": (1, 500), "max_chars": (500, 200_000)}


class BadArgument(ValueError):
    """A tool argument that cannot be used; its message says what is accepted."""


def _bounded(name: str, value: int) -> int:
    low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadArgument(f"{name} must be a whole number from {low} to {high:,} (got {value!r})")
    return value


def _trace_id(value: str) -> str:
    if not isinstance(value, str) or not is_trace_id(value):
        raise BadArgument(
            f"trace_id must be 32 lowercase hex characters, as list_traces shows them (got {value!r})"
        )
    return value


def _span_id(value: str) -> str:
    if not isinstance(value, str) or not is_span_id(value):
        raise BadArgument(
            f"span_id must be 16 lowercase hex characters, as get_trace shows them (got {value!r})"
        )
    return value


def _time(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return parse_ts(value)
    except ValueError:
        raise BadArgument(
            f"{name} must be an RFC 3339 time, e.g. 2026-11-24T12:00:00Z (got {value!r})"
        ) from None


def _cut(text: str, max_chars: int, how: str) -> str:
    """``text`` within ``max_chars``, ending with a note that says how much was left out and how to get it."""
    if len(text) <= max_chars:
        return text
    note = f"\n… cut here: {len(text):,} characters in all, shown {{shown:,}}; {how}"
    keep = max(max_chars - len(note) - 8, 0)
    head = text[:keep]
    if "\n" in head:
        head = head[: head.rfind("\n")]
    return head + note.format(shown=len(head))


def _trace_line(summary: dict[str, Any], root: dict[str, Any] | None) -> str:
    bits = [
        summary["trace_id"],
        summary.get("start") or "-",
        fmt_ms(summary.get("duration_ms")),
        summary.get("status") or "-",
        repr(summary.get("root_name") or "?"),
        f"spans={summary.get('span_count')}",
        f"errors={summary.get('error_count')}",
    ]
    if summary.get("total_tokens") is not None:
        bits.append(f"tokens={summary['total_tokens']}")
    if summary.get("cost_usd") is not None:
        bits.append(f"cost=${summary['cost_usd']:.4g}")
    if summary.get("model"):
        bits.append(f"model={summary['model']}")
    if summary.get("thread_id"):
        bits.append(f"thread={summary['thread_id']}")
    if summary.get("service"):
        bits.append(f"service={summary['service']}")
    line = "  ".join(str(b) for b in bits)
    if root is not None and "input" in root:
        line += "  | in: " + span_summary({"input": root["input"]}, None, 100)[4:]
    return line


class TraceTools:
    """The MCP tools' work over one :class:`Store` (read-only)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_traces(
        self,
        *,
        limit: int = 20,
        service: str | None = None,
        status: str | None = None,
        errors: bool = False,
        since: str | None = None,
        until: str | None = None,
        model: str | None = None,
        thread_id: str | None = None,
        query: str | None = None,
    ) -> str:
        limit = _bounded("limit", limit)
        if status is not None and status not in STATUSES:
            raise BadArgument(f"status must be one of {', '.join(STATUSES)} (got {status!r})")
        if query is not None and len(query) > 1000:
            raise BadArgument("query must be at most 1000 characters")
        filters = TraceFilters(
            service=service or None,
            status=status,
            errors=bool(errors),
            since_us=_time(since, "since"),
            until_us=_time(until, "until"),
            model=model or None,
            thread_id=thread_id or None,
            q=query or None,
        )
        traces, next_cursor = self.store.list_traces(filters, limit, None)
        if not traces:
            return "no traces match"
        roots = root_start_records(self.store.reader, [t["trace_id"] for t in traces])
        lines = [f"{len(traces)} trace(s), newest first (trace_id  start  duration  status  name  …):"]
        lines += [_trace_line(t, roots.get(t["trace_id"])) for t in traces]
        if next_cursor is not None:
            lines.append(
                f"… more traces match: raise limit (up to {LIMITS['limit'][1]}) or narrow since/until"
            )
        return "\n".join(lines)

    def get_trace(self, trace_id: str, *, span_id: str | None = None, max_chars: int = 8000) -> str:
        trace_id = _trace_id(trace_id)
        max_chars = _bounded("max_chars", max_chars)
        if span_id is not None:
            span_id = _span_id(span_id)
        raw_tree = self.store.trace_tree_json(trace_id)
        if raw_tree is None:
            raise BadArgument(f"no trace {trace_id} in this store (list_traces shows the ones there are)")
        tree = json.loads(raw_tree)
        try:
            return Outline(tree, self._boundaries(trace_id)).render(trace_id, span_id, max_chars)
        except OutlineError as exc:
            raise BadArgument(str(exc)) from None

    def compare_traces(self, trace_a: str, trace_b: str, *, max_chars: int = 8000) -> str:
        from ..cli_diff import format_text
        from ..compare import compare

        runs = []
        for name, value in (("trace_a", trace_a), ("trace_b", trace_b)):
            trace_id = _trace_id(value)
            records = self.store.trace_records(trace_id)
            if not records:
                raise BadArgument(
                    f"no trace {trace_id} ({name}) in this store (list_traces shows the ones there are)"
                )
            runs.append(records)
        max_chars = _bounded("max_chars", max_chars)
        text = format_text(compare(runs[0], runs[1]))
        return _cut(text, max_chars, "get_span on a pair's span ids shows either side in full")

    def _boundaries(self, trace_id: str) -> dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]]:
        """Each span's start and end record, with message references resolved."""
        out: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
        for record in resolve_refs(self.store.trace_records(trace_id)):
            event, sid = record.get("event"), record.get("span_id")
            if event not in ("span_start", "span_end") or not isinstance(sid, str):
                continue
            start, end = out.get(sid, (None, None))
            out[sid] = (record, end) if event == "span_start" else (start, record)
        return out

    def get_span(self, trace_id: str, span_id: str, *, max_chars: int = 12_000) -> str:
        trace_id, span_id = _trace_id(trace_id), _span_id(span_id)
        max_chars = _bounded("max_chars", max_chars)
        records, more = self._span_records(trace_id, span_id, 2000)
        if not records:
            raise BadArgument(f"no span {span_id} in trace {trace_id} (get_trace lists its spans)")
        text = _span_text(trace_id, span_id, records, more, field_limit=max(max_chars // 3, 400))
        return _cut(text, max_chars, "call get_span with a larger max_chars (up to 200,000) to see the rest")

    def _span_records(self, trace_id: str, span_id: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """A span's records (the first ``limit`` and its end), message references resolved from the spans
        they name, as the viewer's span-records route does."""
        raws, more = self.store.span_records(trace_id, span_id, limit)
        cache: dict[str, list[dict[str, Any]]] = {}

        def reader(other: str) -> list[dict[str, Any]]:
            if other not in cache:
                cache[other] = [json.loads(r) for r in self.store.span_records(trace_id, other, 10_000)[0]]
            return cache[other]

        return resolve_span_refs([json.loads(r) for r in raws], reader), more

    def search(self, query: str, *, limit: int = 20) -> str:
        limit = _bounded("limit", limit)
        if not isinstance(query, str) or not query.strip() or len(query) > 1000:
            raise BadArgument("query must be 1-1000 characters of words to find")
        hits = self.store.search(query, limit)
        if not hits:
            return f"no records match {query!r}"
        lines = [f"{len(hits)} hit(s), newest first (trace_id  span_id  time  event: snippet):"]
        lines += [
            f"{h['trace_id']}  {h['span_id']}  {h['timestamp']}  {h['event']}: "
            + clip(h["snippet"] or "", 200)
            for h in hits
        ]
        return "\n".join(lines)

    def get_thread(self, thread_id: str, *, max_chars: int = 8000) -> str:
        if not isinstance(thread_id, str) or not 0 < len(thread_id) <= 1000:
            raise BadArgument("thread_id must be 1-1000 characters")
        max_chars = _bounded("max_chars", max_chars)
        traces, _ = self.store.list_traces(TraceFilters(thread_id=thread_id), 500, None, True)
        if not traces:
            raise BadArgument(f"no traces with thread_id {thread_id!r} (list_traces shows thread ids)")
        roots = root_start_records(self.store.reader, [t["trace_id"] for t in traces])
        ends = {t["trace_id"]: self._root_end(t["trace_id"], roots.get(t["trace_id"])) for t in traces}
        lines = [f"thread {thread_id!r}: {len(traces)} turn(s), oldest first"]
        for n, summary in enumerate(traces, start=1):
            root, end = roots.get(summary["trace_id"]) or {}, ends.get(summary["trace_id"]) or {}
            lines.append(
                f"turn {n}: {summary['trace_id']}  {summary.get('start')}  "
                f"{fmt_ms(summary.get('duration_ms'))}  {summary.get('status')}  "
                f"errors={summary.get('error_count')}"
            )
            asked = _new_user_message(root.get("input"))
            if asked:
                lines.append("  " + asked)
            answer = messages_of(end.get("output"))
            if answer:
                lines.append("  " + message_line(answer[-1], 300))
            error = error_line(end)
            if error:
                lines.append("  ERROR " + error)
        return _cut(
            "\n".join(lines), max_chars, "call get_thread with a larger max_chars, or get_trace per turn"
        )

    def _root_end(self, trace_id: str, root: dict[str, Any] | None) -> dict[str, Any] | None:
        if root is None:
            return None
        records, _ = self._span_records(trace_id, root["span_id"], 10)
        return next((r for r in reversed(records) if r.get("event") == "span_end"), None)


def _new_user_message(value: Any) -> str | None:
    """The last user message of a turn's input."""
    messages = messages_of(value)
    if messages:
        users = [m for m in messages if m.get("role") == "user"]
        return message_line(users[-1] if users else messages[-1], 300)
    return None if value is None else "input: " + clip(json.dumps(value, default=str), 300)


def _span_text(
    trace_id: str, span_id: str, records: list[dict[str, Any]], more: bool, field_limit: int
) -> str:
    start = next((r for r in records if r.get("event") == "span_start"), None)
    end = next((r for r in reversed(records) if r.get("event") == "span_end"), None)
    head = start or end or records[0]
    lines = [
        f"span {span_id} of trace {trace_id}: {head.get('span_kind') or 'log'} {head.get('span_name')!r}, "
        f"status {(end or {}).get('status', 'running' if start else 'log')}, "
        f"{fmt_ms((end or {}).get('duration_ms'))}, parent {head.get('parent_span_id') or '(root)'}, "
        f"started {head.get('timestamp')}"
    ]
    error = error_line(end or {}, field_limit)
    if error:
        lines.append("ERROR " + error)
        stack = (end or {}).get("error.stacktrace")
        if stack:
            lines.append("stack trace:\n" + _clip_block(str(stack), field_limit))
    for label, record, key in (
        ("input messages", start, "gen_ai.input.messages"),
        ("output messages", end, "gen_ai.output.messages"),
        ("input", start, "input"),
        ("output", end, "output"),
    ):
        if record is None or key not in record:
            continue
        messages = messages_of(record[key])
        if messages:
            lines.append(f"{label}:")
            lines += ["  " + message_line(m, field_limit) for m in messages]
        else:
            lines.append(f"{label}: " + _clip_block(_pretty(record[key]), field_limit))
    shown = {"gen_ai.input.messages", "gen_ai.output.messages", "input", "output"}
    shown |= {"error.type", "error.message", "error.stacktrace"}
    for label, record in (("start fields", start), ("end fields", end)):
        if record is None:
            continue
        rest = {k: v for k, v in record.items() if k not in BOUNDARY_FIELDS and k not in shown}
        if rest:
            lines.append(f"{label}:")
            lines += [f"  {k}: {clip(_compact(v), field_limit)}" for k, v in rest.items()]
    logs = [r for r in records if r is not start and r is not end]
    if logs:
        lines.append(f"log records ({len(logs)}{'+, more not read' if more else ''}):")
        for rec in logs:
            rest = {k: v for k, v in rec.items() if k not in BOUNDARY_FIELDS}
            extra = " " + clip(json.dumps(rest, ensure_ascii=False, default=str), field_limit) if rest else ""
            lines.append(f"  {rec.get('timestamp')} {rec.get('level')} {rec.get('event')!r}{extra}")
    return "\n".join(lines)


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _clip_block(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 30] + f"…[+{len(text) - limit + 30} chars]"
