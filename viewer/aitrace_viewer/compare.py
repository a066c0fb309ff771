"""Compare two runs: spans aligned by their place in the run, each pair diffed (docs/viewer.md, Compare).

    from aitrace_viewer.compare import compare
    result = compare(records_of_run_a, records_of_run_b)   # the JSON the CLI, the API and the page share

Records are those of one trace each, as the store or a .jsonl holds them (message references are resolved
here). Nothing here needs the server: the MCP server and ``aitrace diff`` call :func:`compare` directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from difflib import SequenceMatcher
from typing import Any

from aitrace_core import resolve_refs

from ._valuediff import Changes, diff_documents, diff_values, normalize

__all__ = ["compare", "split_traces"]

#: Fields that say which run, when or in what order, not what happened: never compared.
_NOT_COMPARED = frozenset(
    {
        "timestamp", "level", "event", "logger", "service", "trace_id", "span_id", "parent_span_id", "seq",
        "span_name", "span_kind", "duration_ms", "run_id", "parent_run_id", "checkpoint_ns", "langgraph_path",
        "langgraph_checkpoint_ns", "langgraph_step", "langgraph_triggers", "thread_id", "incomplete",
        "gen_ai.response.id", "gen_ai.conversation.id", "gen_ai.tool.call.id", "error.stacktrace",
        "llm.time_to_first_token_ms",
    }
)  # fmt: skip
#: Figures shown as deltas on a pair (they never make a pair "changed" by themselves).
_METRICS = {
    "input_tokens": "gen_ai.usage.input_tokens",
    "output_tokens": "gen_ai.usage.output_tokens",
    "cost_usd": "gen_ai.usage.cost_usd",
    "time_to_first_token_ms": "llm.time_to_first_token_ms",
}
_LLM_KINDS = frozenset({"llm", "chat_model"})
_TOTALS = ("duration_ms", "input_tokens", "output_tokens", "cost_usd", "span_count", "error_count")
#: Past this many (unmatched) siblings on each side, siblings are paired by position instead of aligned.
_ALIGN_LIMIT = 2_000


class _Span:
    __slots__ = (
        "children",
        "end",
        "end_at",
        "fine",
        "id",
        "kind",
        "label",
        "order",
        "start",
        "start_at",
        "tool",
    )

    def __init__(self, span_id: str, order: int) -> None:
        self.id = span_id
        self.order = order
        self.start: dict[str, Any] = {}
        self.end: dict[str, Any] = {}
        self.start_at = self.end_at = 1 << 62  # indexes of the start and end records among the trace's
        self.children: list[_Span] = []
        self.label = ""
        self.fine = ""
        self.tool = ""
        self.kind = "span"

    def get(self, key: str) -> Any:
        value = self.end.get(key)
        return self.start.get(key) if value is None else value

    def info(self) -> dict[str, Any]:
        return {
            "name": self.get("span_name"),
            "kind": self.kind,
            "duration_ms": _number(self.end.get("duration_ms")),
            "status": self.end.get("status") or ("running" if not self.end else None),
            "model": self.get("gen_ai.response.model") or self.get("gen_ai.request.model"),
        }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def split_traces(records: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Records grouped by ``trace_id``, in the order each trace first appears."""
    out: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if isinstance(record, Mapping) and isinstance(record.get("trace_id"), str):
            out.setdefault(record["trace_id"], []).append(dict(record))
    return out


def _build(records: list[dict[str, Any]], resolve: bool) -> tuple[list[_Span], list[dict[str, Any]]]:
    """The root spans (children in start order) and the records with their references resolved."""
    if resolve:
        records = resolve_refs(records)
    spans: dict[str, _Span] = {}
    parents: dict[str, str | None] = {}
    for at, record in enumerate(records):
        span_id = record.get("span_id")
        if not isinstance(span_id, str):
            continue
        span = spans.get(span_id)
        if span is None:
            span = spans[span_id] = _Span(span_id, len(spans))
            parents[span_id] = record.get("parent_span_id")
        event = record.get("event")
        if event == "span_start" and not span.start:
            span.start, span.start_at = record, at
        elif event == "span_end" and not span.end:
            span.end, span.end_at = record, at
    roots: list[_Span] = []
    for span in spans.values():  # in order of first record, so children come in start order
        parent = spans.get(parents[span.id] or "")
        (parent.children if parent is not None and parent is not span else roots).append(span)
    for span in reversed(spans.values()):  # children before parents (a child's first record comes later)
        _label(span)
    return roots, records


def _label(span: _Span) -> None:
    """A span's place among its siblings: the coarse label (node, tool or model class name) and a finer key
    (plus the tool it runs, or the model it asks) that aligns siblings first."""
    kind = span.kind = str(span.get("span_kind") or "span")
    if kind in _LLM_KINDS:
        span.label = str(span.get("llm.class") or "llm")
        span.fine = f"{span.label}|{span.get('gen_ai.request.model') or ''}"
        return
    if kind == "tool":
        span.label = span.tool = str(span.get("gen_ai.tool.name") or span.get("span_name") or "tool")
    else:
        span.label = str(span.get("langgraph_node") or span.get("span_name") or kind)
        span.tool = next((c.tool for c in span.children if c.tool), "")
    span.fine = f"{kind}|{span.label}|{span.tool}"


def _align(a: list[_Span], b: list[_Span]) -> list[tuple[_Span | None, _Span | None]]:
    """Siblings paired by their fine keys in order, then leftovers by their labels; the rest alone."""
    n = min(len(a), len(b))
    head = 0
    while head < n and a[head].fine == b[head].fine:
        head += 1
    tail = 0
    while tail < n - head and a[-1 - tail].fine == b[-1 - tail].fine:
        tail += 1
    out: list[tuple[_Span | None, _Span | None]] = list(zip(a[:head], b[:head], strict=False))
    out += _align_middle(a[head : len(a) - tail], b[head : len(b) - tail], True)
    out += zip(a[len(a) - tail :], b[len(b) - tail :], strict=False)
    return out


def _align_middle(a: list[_Span], b: list[_Span], fine: bool) -> list[tuple[_Span | None, _Span | None]]:
    if not a or not b:
        return [(x, None) for x in a] + [(None, y) for y in b]
    if len(a) > _ALIGN_LIMIT and len(b) > _ALIGN_LIMIT:  # pairing by position keeps this linear
        paired = [(x, y) if x.label == y.label else None for x, y in zip(a, b, strict=False)]
        out: list[tuple[_Span | None, _Span | None]] = []
        for i, pair in enumerate(paired):
            out += [pair] if pair is not None else [(a[i], None), (None, b[i])]
        n = len(paired)
        return out + [(x, None) for x in a[n:]] + [(None, y) for y in b[n:]]
    ka = [x.fine if fine else x.label for x in a]
    kb = [y.fine if fine else y.label for y in b]
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if tag == "equal":
            out += zip(a[i1:i2], b[j1:j2], strict=False)
        elif tag == "replace" and fine:
            out += _align_middle(a[i1:i2], b[j1:j2], False)
        else:
            out += [(x, None) for x in a[i1:i2]] + [(None, y) for y in b[j1:j2]]
    return out


def _named(
    level: list[tuple[_Span | None, _Span | None]],
) -> Iterator[tuple[str, _Span | None, _Span | None]]:
    """Each pair of a level with its name in the path: the label and its occurrence, ``agent#2``."""
    counts: dict[str, int] = {}
    for a, b in level:
        label = (a or b).label  # type: ignore[union-attr]
        counts[label] = counts.get(label, 0) + 1
        yield f"{label}#{counts[label]}", a, b


def _fields(record: dict[str, Any], skip: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a span's record says about what happened, without the fields in ``skip``."""
    return {
        k: v
        for k, v in record.items()
        if k not in _NOT_COMPARED and not k.startswith("gen_ai.usage.") and (skip is None or k not in skip)
    }


def _diff_fields(a: dict[str, Any], b: dict[str, Any], out: Changes, documents: bool = False) -> None:
    if a == b:  # the common case, without normalizing
        return
    a, b = normalize(a), normalize(b)
    if documents:
        diff_documents(a.pop("output", None), b.pop("output", None), "documents", out)
    diff_values(a, b, "", out)


def _delta(a: float | None, b: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {"a": a, "b": b, "delta": None, "relative": None}
    if a is not None and b is not None:
        out["delta"] = round(b - a, 6)
        out["relative"] = round((b - a) / a, 4) if a else None
    return out


def _diff_pair(a: _Span, b: _Span) -> tuple[Changes, dict[str, Any]]:
    """The pair's changes, each marked ``at`` ``start`` (what the span was given: inputs, model, prompt) or
    ``end`` (what it gave back, its status); and its figures with deltas."""
    changes = Changes()
    _diff_fields(_fields(a.start), _fields(b.start), changes)
    for change in changes:
        change["at"] = "start"
    ended = Changes()
    retriever = a.kind == "retriever" and b.kind == "retriever"
    _diff_fields(_fields(a.end, a.start), _fields(b.end, b.start), ended, retriever)
    for change in ended:
        change["at"] = "end"
        changes.put(change)
    changes.truncated = changes.truncated or ended.truncated
    metrics = {"duration_ms": _delta(_number(a.end.get("duration_ms")), _number(b.end.get("duration_ms")))}
    if a.kind in _LLM_KINDS or b.kind in _LLM_KINDS:
        for name, key in _METRICS.items():
            metrics[name] = _delta(_number(a.get(key)), _number(b.get(key)))
    return changes, metrics


def _first_divergence(
    pairs: list[dict[str, Any]], sides: list[tuple[_Span | None, _Span | None]]
) -> int | None:
    """The earliest pair in execution order (run A's record order) that is not the same. A pair given
    something different, or on one side only, diverges where it starts; a pair that only gave back something
    different (its output) diverges where it ends, after its children. A span only in B comes right after
    the pair before it."""
    best: tuple[float, int] | None = None
    last_start = -1.0
    for i, (pair, (a, _b)) in enumerate(zip(pairs, sides, strict=False)):
        if a is not None:
            last_start = float(a.start_at)
        status = pair["status"]
        if status == "same":
            continue
        if status == "only_b":
            at = last_start + 0.5
        elif status == "only_a" or any(c.get("at") == "start" for c in pair["changes"]):
            at = last_start
        else:
            at = float(a.end_at) if a is not None else last_start
        if best is None or at < best[0]:
            best = (at, i)
    return None if best is None else best[1]


def _summary(roots: list[_Span], records: list[dict[str, Any]]) -> dict[str, Any]:
    spans: list[_Span] = []
    stack = list(reversed(roots))
    while stack:
        span = stack.pop()
        spans.append(span)
        stack.extend(reversed(span.children))
    root = roots[0] if roots else None
    durations = [_number(r.end.get("duration_ms")) for r in roots]
    llm = [s for s in spans if s.kind in _LLM_KINDS]

    def total(key: str) -> float | None:
        values = [v for v in (_number(s.end.get(key)) for s in llm) if v is not None]
        return sum(values) if values else None

    return {
        "trace_id": records[0].get("trace_id") if records else None,
        "name": root.get("span_name") if root else None,
        "service": records[0].get("service") if records else None,
        "start": records[0].get("timestamp") if records else None,
        "status": (root.end.get("status") or "running") if root else None,
        "duration_ms": max((d for d in durations if d is not None), default=None),
        "input_tokens": total("gen_ai.usage.input_tokens"),
        "output_tokens": total("gen_ai.usage.output_tokens"),
        "cost_usd": total("gen_ai.usage.cost_usd"),
        "span_count": len(spans),
        "error_count": sum(1 for s in spans if s.end.get("status") == "error"),
    }


def compare(
    records_a: Iterable[Mapping[str, Any]], records_b: Iterable[Mapping[str, Any]], *, resolved: bool = False
) -> dict[str, Any]:
    """The comparison of run A with run B: both summaries, totals with deltas, the aligned pairs in
    execution order with their status and changes, and the index of the first divergence (or None).

    Message references (docs/schema.md) are resolved first, unless ``resolved`` says the records hold none.
    """
    roots_a, recs_a = _build(list(records_a), not resolved)  # type: ignore[arg-type]
    roots_b, recs_b = _build(list(records_b), not resolved)  # type: ignore[arg-type]
    pairs: list[dict[str, Any]] = []
    sides: list[tuple[_Span | None, _Span | None]] = []
    # depth-first over the aligned trees: parents before children, siblings in execution order
    Frame = tuple[Iterator[tuple[str, _Span | None, _Span | None]], str, "int | None", int]
    stack: list[Frame] = [(_named(_align(roots_a, roots_b)), "", None, 0)]
    while stack:
        level, prefix, parent, depth = stack[-1]
        item = next(level, None)
        if item is None:
            stack.pop()
            continue
        name, a, b = item
        path = f"{prefix}/{name}" if prefix else name
        pair: dict[str, Any] = {
            "path": path,
            "kind": (a or b).kind,  # type: ignore[union-attr]
            "a": a.id if a else None,
            "b": b.id if b else None,
            "parent": parent,
            "depth": depth,
            "a_info": a.info() if a else None,
            "b_info": b.info() if b else None,
        }
        if a is not None and b is not None:
            changes, metrics = _diff_pair(a, b)
            pair["status"] = "changed" if changes else "same"
            pair["changes"] = list(changes)
            if changes.truncated:
                pair["changes_truncated"] = True
            pair["metrics"] = metrics
            children = _align(a.children, b.children)
        elif a is not None:
            pair["status"], pair["changes"] = "only_a", []
            children = [(c, None) for c in a.children]
        else:
            assert b is not None
            pair["status"], pair["changes"] = "only_b", []
            children = [(None, c) for c in b.children]
        pairs.append(pair)
        sides.append((a, b))
        if children:
            stack.append((_named(children), path, len(pairs) - 1, depth + 1))
    sa, sb = _summary(roots_a, recs_a), _summary(roots_b, recs_b)
    first = _first_divergence(pairs, sides)
    return {
        "a": sa,
        "b": sb,
        "totals": {key: _delta(sa[key], sb[key]) for key in _TOTALS},
        "pairs": pairs,
        "first_divergence": first,
        "counts": {
            s: sum(1 for p in pairs if p["status"] == s) for s in ("same", "changed", "only_a", "only_b")
        },
    }
