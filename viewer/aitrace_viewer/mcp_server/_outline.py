"""A trace's span tree as an indented text outline that fits a character budget (``get_trace``)."""

from __future__ import annotations

from collections import deque
from typing import Any

from ._text import fmt_ms, span_summary

__all__ = ["Outline", "OutlineError"]


class OutlineError(ValueError):
    """The outline cannot be made (a span id that is not in the trace)."""


class Outline:
    """A trace's tree as indented lines, fitted into a character budget: the top levels and every error's
    path first, deeper spans while room remains; a span whose children are not all shown says so."""

    NOTE_RESERVE = 110  # room kept for each "… N spans under here not shown" line

    def __init__(
        self,
        tree: dict[str, Any],
        boundaries: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]],
    ) -> None:
        columns = tree["columns"]
        self.summary = tree["summary"]
        self.rows = [dict(zip(columns, row, strict=False)) for row in tree["spans"]]
        self.boundaries = boundaries
        self.children: dict[int | None, list[int]] = {}
        for i, row in enumerate(self.rows):
            parent = row["parent"] if isinstance(row["parent"], int) else None
            self.children.setdefault(parent, []).append(i)
        self.index = {row["span_id"]: i for i, row in enumerate(self.rows)}

    def _line(self, i: int, depth: int) -> str:
        row = self.rows[i]
        start, end = self.boundaries.get(row["span_id"], (None, None))
        summary = span_summary(start, end)
        bits = [
            "  " * depth + f"- {row['kind'] or 'log'} {row['name']!r} [{row['span_id']}]",
            fmt_ms(row["duration_ms"]),
            str(row["status"]),
        ]
        if row.get("model"):
            bits.append(str(row["model"]))
        return " ".join(bits) + (f" — {summary}" if summary else "")

    def _subtree_size(self, i: int) -> int:
        count, stack = 0, [i]
        while stack:
            node = stack.pop()
            count += 1
            stack.extend(self.children.get(node, ()))
        return count

    def render(self, trace_id: str, top: str | None, max_chars: int) -> str:
        s = self.summary
        header = (
            f"trace {trace_id} {s.get('root_name')!r}: {s.get('status')}, {fmt_ms(s.get('duration_ms'))}, "
            f"{s.get('span_count')} spans, {s.get('error_count')} errors, tokens {s.get('total_tokens')}, "
            f"service {s.get('service')}, started {s.get('start')}"
        )
        if top is not None:
            if top not in self.index:
                raise OutlineError(
                    f"no span {top} in trace {trace_id} (get_trace without span_id lists them)"
                )
            roots = [self.index[top]]
            header += f"\nsubtree under span {top}:"
        else:
            roots = self.children.get(None, [])
        depth_of: dict[int, int] = {}
        # the order spans earn a place: errors and their ancestors, then breadth first
        order: list[int] = []
        queue = deque((r, 0) for r in roots)
        while queue:
            i, depth = queue.popleft()
            depth_of[i] = depth
            order.append(i)
            queue.extend((c, depth + 1) for c in self.children.get(i, ()))
        errors = [i for i in order if self.rows[i]["status"] == "error"]
        parent_of = {c: p for p, cs in self.children.items() if p is not None for c in cs}
        first: list[int] = []
        for i in errors:
            path = []
            node: int | None = i
            while node is not None and node in depth_of:
                path.append(node)
                node = parent_of.get(node)
            first += reversed(path)
        budget = max_chars - len(header) - 250
        shown: set[int] = set()
        lines: dict[int, str] = {}
        hidden_kids: dict[int, int] = {}  # shown span → how many of its children are not shown (yet)
        notes = 0  # shown spans with a hidden child: each needs a "… not shown" line
        for i in [*first, *order]:
            if i in shown:
                continue
            parent = parent_of.get(i)
            if parent is not None and parent in depth_of and parent not in shown:
                continue  # (breadth first: only under a shown parent)
            line = self._line(i, depth_of[i])
            kids = len(self.children.get(i, ()))
            after = (
                notes + (1 if kids else 0) - (1 if parent in hidden_kids and hidden_kids[parent] == 1 else 0)
            )
            if len(line) + 1 + after * self.NOTE_RESERVE > budget:
                if i in first:
                    continue
                break
            budget -= len(line) + 1
            notes = after
            shown.add(i)
            lines[i] = line
            hidden_kids[i] = kids
            if parent in hidden_kids:
                hidden_kids[parent] -= 1
        out = [header]
        hidden_roots = 0

        def walk(i: int) -> None:
            out.append(lines[i])
            kids = self.children.get(i, [])
            for c in kids:
                if c in shown:
                    walk(c)
            hidden = [c for c in kids if c not in shown]
            if hidden:
                n = sum(self._subtree_size(c) for c in hidden)
                sid = self.rows[i]["span_id"]
                pad = "  " * (depth_of[i] + 1)
                out.append(f'{pad}… {n} span(s) under here not shown: get_trace(trace_id, span_id="{sid}")')

        for r in roots:
            if r in shown:
                walk(r)
            else:
                hidden_roots += self._subtree_size(r)
        if hidden_roots:
            out.append(f"… {hidden_roots} more span(s) not shown: raise max_chars (up to 200,000)")
        if len(shown) < len(order):
            out.append(
                f"(showing {len(shown)} of {len(order)} spans within max_chars={max_chars:,}; "
                "get_span(trace_id, span_id) shows one span in full)"
            )
        return "\n".join(out)
