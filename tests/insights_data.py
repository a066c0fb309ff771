"""Planted traces for the insights and threads tests, with the figures they must give worked out by hand.

Four traces start inside 2026-11-24 10:00–14:00 UTC (A, B at 10:xx, C at 11:xx, none at 12:xx, D at 13:xx)
and two outside (09:50, and 14:00 exactly: the range's end is exclusive); each outside trace calls gpt-4o and
runs the node "agent", so a range that leaks changes every figure.

| | start | service | root ms | status | LLM: model, in, out, $, ms | nodes: ms | tool get_weather | thread |
|---|---|---|---|---|---|---|---|---|
| A | 10:05 | shop | 100 | ok | gpt-4o, 10, 5, 0.01, 50 | agent 40, tools 20 | 10 ms ok | t-1 |
| B | 10:30 | shop | 300 | interrupted | gpt-4o, 20, 10, 0.02, 70 | agent 60, tools 30 | 15 ms error | t-1 |
| C | 11:10 | shop | 200 | ok | claude-sonnet-4-5, 30, 15, 0.03, 90 | agent 80 | – | t-2 |
| D | 13:20 | bank | 1000 | error | gpt-4o, 40, 20, 0.04, 110 | agent 100 | – | – |
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["DAY", "INSIDE", "OUTSIDE", "SINCE", "UNTIL", "planted", "trace_id"]

DAY = datetime(2026, 11, 24, tzinfo=timezone.utc)
SINCE = "2026-11-24T10:00:00Z"
UNTIL = "2026-11-24T14:00:00Z"

# name: (start, service, root ms, root status, llm, nodes, tool, thread)
INSIDE: dict[str, tuple[Any, ...]] = {
    "A": (
        (10, 5),
        "shop",
        100,
        "ok",
        ("gpt-4o", 10, 5, 0.01, 50),
        [("agent", 40), ("tools", 20)],
        ("ok", 10),
        "t-1",
    ),
    "B": (
        (10, 30),
        "shop",
        300,
        "interrupted",
        ("gpt-4o", 20, 10, 0.02, 70),
        [("agent", 60), ("tools", 30)],
        ("error", 15),
        "t-1",
    ),
    "C": ((11, 10), "shop", 200, "ok", ("claude-sonnet-4-5", 30, 15, 0.03, 90), [("agent", 80)], None, "t-2"),
    "D": ((13, 20), "bank", 1000, "error", ("gpt-4o", 40, 20, 0.04, 110), [("agent", 100)], None, None),
}
OUTSIDE: dict[str, tuple[Any, ...]] = {
    "E": ((9, 50), "shop", 5000, "ok", ("gpt-4o", 500, 500, 5.0, 4000), [("agent", 4500)], None, "t-1"),
    "F": ((14, 0), "shop", 7000, "error", ("gpt-4o", 700, 700, 7.0, 6000), [("agent", 6500)], None, "t-3"),
}


def trace_id(name: str) -> str:
    return f"{ord(name):032x}"


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _trace(name: str, spec: tuple[Any, ...]) -> list[dict[str, Any]]:
    (hour, minute), service, root_ms, root_status, llm, nodes, tool, thread = spec
    t0 = DAY + timedelta(hours=hour, minutes=minute)
    tid = trace_id(name)
    out: list[dict[str, Any]] = []
    seq = 0

    def span(sid: str, parent: str | None, start: datetime, ms: float, status: str, **fields: Any) -> None:
        nonlocal seq
        base: dict[str, Any] = {"level": "info", "logger": "test", "service": service, "trace_id": tid}
        base["span_id"] = sid
        if parent:
            base["parent_span_id"] = parent
        end_fields = {k[4:]: v for k, v in fields.items() if k.startswith("end_")}
        start_fields = {k: v for k, v in fields.items() if not k.startswith("end_")}
        out.append({**base, "timestamp": _ts(start), "event": "span_start", "seq": seq, **start_fields})
        end_ts = _ts(start + timedelta(milliseconds=ms))
        end = {**base, "timestamp": end_ts, "event": "span_end", "seq": seq + 1}
        named = {"span_name": fields["span_name"], "span_kind": fields["span_kind"]}
        out.append({**end, **named, "duration_ms": ms, "status": status, **end_fields})
        seq += 2

    root = "0000000000000001"
    root_fields: dict[str, Any] = {"span_name": f"run {name}", "span_kind": "graph"}
    if thread:
        root_fields["thread_id"] = thread
    span(root, None, t0, root_ms, root_status, **root_fields)
    at = t0 + timedelta(milliseconds=1)
    for i, (node, ms) in enumerate(nodes):
        node_id = f"{i + 2:016x}"
        span(node_id, root, at, ms, "ok", span_name=node, span_kind="node")
        if i == 0:
            model, tin, tout, cost, llm_ms = llm
            span(
                f"{100 + i:016x}",
                node_id,
                at,
                llm_ms,
                "ok",
                span_name="ChatModel",
                span_kind="llm",
                **{
                    "gen_ai.request.model": model,
                    "end_gen_ai.usage.input_tokens": tin,
                    "end_gen_ai.usage.output_tokens": tout,
                    "end_gen_ai.usage.cost_usd": cost,
                },
            )
        if node == "tools" and tool is not None:
            status, tool_ms = tool
            span(f"{200 + i:016x}", node_id, at, tool_ms, status, span_name="get_weather", span_kind="tool")
        at += timedelta(milliseconds=1)
    return out


def planted() -> list[dict[str, Any]]:
    """Every record of the six traces."""
    return [r for name, spec in {**INSIDE, **OUTSIDE}.items() for r in _trace(name, spec)]
