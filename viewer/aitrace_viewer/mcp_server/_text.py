"""Records → short plain text for a coding agent: one-line previews of values, messages and errors."""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "BOUNDARY_FIELDS",
    "clip",
    "error_line",
    "fmt_ms",
    "message_line",
    "messages_of",
    "one_line",
    "span_summary",
    "value_line",
]

#: Fields every record has or that the outline shows in its own words: not repeated as "other fields".
BOUNDARY_FIELDS = frozenset(
    {
        "timestamp",
        "level",
        "event",
        "logger",
        "service",
        "trace_id",
        "span_id",
        "parent_span_id",
        "seq",
        "span_name",
        "span_kind",
        "duration_ms",
        "status",
    }
)


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces."""
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with a visible ``…[+N chars]`` when longer."""
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    keep = max(limit - 14, 1)
    return f"{flat[:keep]}…[+{len(flat) - keep} chars]"


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.1f} ms" if ms >= 1 else f"{ms:.2f} ms"


def _compact_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return repr(value)


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and "role" in value and isinstance(value.get("parts"), list)


def message_line(message: dict[str, Any], limit: int = 200) -> str:
    """``role: text`` of one message of the GenAI form (``{"role", "parts": [...]}``), tool calls as
    ``→ name(arguments)`` and tool results as ``← result``."""
    role = str(message.get("role") or "?")
    bits: list[str] = []
    for part in message.get("parts") or []:
        if not isinstance(part, dict):
            bits.append(_compact_json(part))
            continue
        kind = part.get("type")
        if kind == "text":
            bits.append(str(part.get("content") or ""))
        elif kind == "tool_call":
            bits.append(f"→ {part.get('name')}({_compact_json(part.get('arguments'))})")
        elif kind == "tool_call_response":
            response = part.get("response")
            bits.append("← " + (response if isinstance(response, str) else _compact_json(response)))
        else:
            bits.append(_compact_json({k: v for k, v in part.items() if k != "type"}))
    name = message.get("name")
    head = f"{role}({name})" if name and role == "tool" else role
    return clip(f"{head}: {' '.join(b for b in bits if b)}", limit)


def messages_of(value: Any) -> list[dict[str, Any]] | None:
    """The chat messages a value holds (a message, a list of them, or a state with ``messages``)."""
    if _is_message(value):
        return [value]
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if isinstance(value, list) and value and all(_is_message(m) for m in value):
        return value
    return None


def value_line(value: Any, limit: int = 160) -> str:
    """One line for an input or output: the last chat message when it holds messages, else the text or
    compact JSON."""
    messages = messages_of(value)
    if messages:
        more = f"[{len(messages)} msgs, last] " if len(messages) > 1 else ""
        return more + message_line(messages[-1], max(limit - len(more), 20))
    if isinstance(value, str):
        return clip(value, limit)
    return clip(_compact_json(value), limit)


def error_line(record: dict[str, Any], limit: int = 200) -> str | None:
    """``Type: message`` of an end record with an error, else None."""
    kind, message = record.get("error.type"), record.get("error.message")
    if kind is None and message is None:
        return None
    return clip(f"{kind or 'error'}: {message or ''}", limit)


def span_summary(start: dict[str, Any] | None, end: dict[str, Any] | None, limit: int = 160) -> str:
    """What a span took in and gave out (and its error), on one line of about ``limit`` characters."""
    start, end = start or {}, end or {}
    bits: list[str] = []
    error = error_line(end, limit)
    if error:
        bits.append("ERROR " + error)
    if start.get("span_kind") == "llm":
        given = start.get("gen_ai.input.messages")
        out = end.get("gen_ai.output.messages")
        if given is not None:
            bits.append("in: " + value_line(given, limit // 2))
        if out is not None:
            bits.append("out: " + value_line(out, limit // 2))
        tokens = end.get("gen_ai.usage.total_tokens")
        if tokens is not None:
            bits.append(f"{tokens} tok")
    else:
        if "input" in start:
            bits.append("in: " + value_line(start["input"], limit // 2))
        if "output" in end:
            bits.append("out: " + value_line(end["output"], limit // 2))
    return clip(" | ".join(bits), limit + 40) if bits else ""
