"""Pure functions: a span's input/output → a short plain-text preview; its tags and metadata → stored JSON."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["PREVIEW_CHARS", "input_preview", "meta_json", "output_preview", "tags_json"]

PREVIEW_CHARS = 200
"""A preview keeps at most this many characters (the list shows fewer; the rest is for the tooltip)."""

_USER = frozenset({"user", "human"})
_ASSISTANT = frozenset({"assistant", "ai", "AIMessageChunk"})


def _cut(text: str) -> str | None:
    text = " ".join(text.split())  # one line: newlines and runs of spaces as one space
    if not text:
        return None
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _role(message: dict[str, Any]) -> str | None:
    role = message.get("role", message.get("type"))
    return role if isinstance(role, str) else None


def _message_text(message: dict[str, Any]) -> str | None:
    """A message's text: GenAI ``parts`` of type text, or LangChain's ``content`` (a string or blocks)."""
    parts = message.get("parts")
    if parts is None:
        parts = message.get("content")
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list):
        return None
    texts = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text":
            text = part.get("content", part.get("text"))
            if isinstance(text, str):
                texts.append(text)
    return " ".join(texts) if texts else None


def _messages(value: Any) -> list[Any] | None:
    """The chat messages a value carries: a LangGraph ``messages`` state, or a list of messages itself."""
    if isinstance(value, dict):
        value = value.get("messages")
    # (the ends only: this runs on every model answer at ingest, and a conversation can be long)
    if isinstance(value, list) and value and isinstance(value[0], dict) and isinstance(value[-1], dict):
        first, last = value[0], value[-1]
        if "$ref" in first or "$ref" in last or _role(first) is not None or _role(last) is not None:
            return value
    return None


def _plain(value: Any) -> str | None:
    """A value that is not a conversation: a string as is; an object of one field, that field; else JSON."""
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if value is None or value == {} or value == []:
        return None
    if isinstance(value, str):
        return _cut(value)
    try:
        return _cut(
            json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)[: 4 * PREVIEW_CHARS]
        )
    except (TypeError, ValueError):
        return None


def input_preview(value: Any) -> str | None:
    """A span's input in short: the first user message of a conversation, else the input itself."""
    messages = _messages(value)
    if messages is None:
        return _plain(value)
    for message in messages:
        if isinstance(message, dict) and _role(message) in _USER:
            text = _message_text(message)
            if text:
                return _cut(text)
    return None


def output_preview(value: Any) -> str | None:
    """A span's output in short: a conversation's final answer (the last assistant text), else the output.
    None when that answer is a reference to a message written elsewhere (the caller looks further)."""
    messages = _messages(value)
    if messages is None:
        if isinstance(value, dict) and "$ref" in value:
            return None
        return _plain(value)
    for message in reversed(messages):
        if not isinstance(message, dict):
            continue
        if "$ref" in message:
            return None
        if _role(message) in _ASSISTANT:
            text = _message_text(message)
            if text:
                return _cut(text)
    return None


def tags_json(value: Any) -> str | None:
    """The user's tags as a JSON array of strings (None when there are none)."""
    if not isinstance(value, list):
        return None
    tags = [t for t in value if isinstance(t, str) and t][:50]
    return json.dumps(tags, ensure_ascii=False) if tags else None


def meta_json(value: Any) -> str | None:
    """The user's metadata as a JSON object (None when there is none)."""
    if not isinstance(value, dict) or not value:
        return None
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return None
    # PostgreSQL's jsonb refuses the escape of NUL (the list reads metadata as jsonb): U+FFFD instead
    text = text.replace("\\u0000", "\\ufffd")
    return text if len(text) <= 8000 else None
