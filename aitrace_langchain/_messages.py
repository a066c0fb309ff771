"""LangChain messages as GenAI semantic-convention messages (``{role, parts, name?}``): pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

__all__ = ["ROLES", "content_parts", "message_fields", "message_to_genai"]

#: LangChain message types → GenAI roles.
ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "tool",
    "developer": "system",
    "AIMessageChunk": "assistant",
    "remove": "remove",
}


def content_parts(content: Any) -> list[dict[str, Any]]:
    """A message's content as GenAI parts: text, image URIs, other blocks as given, anything else as text."""
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    out: list[dict[str, Any]] = []
    for part in content if isinstance(content, Sequence) else [content]:
        if isinstance(part, str):
            out.append({"type": "text", "content": part})
        elif isinstance(part, Mapping):
            ptype = part.get("type")
            if ptype == "text" and "text" in part:
                out.append({"type": "text", "content": part["text"]})
            elif ptype == "image_url":
                url = part.get("image_url")
                url = url.get("url") if isinstance(url, Mapping) else url
                out.append({"type": "uri", "modality": "image", "uri": url})
            else:
                out.append(dict(part))
        else:
            out.append({"type": "unknown", "content": str(part)})
    return out


_NO_VALUE: Any = object()


def _attr(msg: Any, fields: dict[str, Any] | None, name: str, default: Any) -> Any:
    """``getattr(msg, name, default)``, without the cost of pydantic's failing ``__getattr__`` for a name a
    message does not have: a message's fields are in its ``__dict__``, extra fields in
    ``__pydantic_extra__``, and anything else can only come from its class (a property)."""
    if fields is not None:
        value = fields.get(name, _NO_VALUE)
        if value is not _NO_VALUE:
            return value
        extra = getattr(msg, "__pydantic_extra__", None)
        if extra and name in extra:
            return extra[name]
        key = (type(msg), name)
        on_class = _ON_CLASS.get(key)
        if on_class is None:
            on_class = hasattr(key[0], name)
            if len(_ON_CLASS) < 1024:
                _ON_CLASS[key] = on_class
        if not on_class:
            return default
    return getattr(msg, name, default)


_ON_CLASS: dict[tuple[type, str], bool] = {}


def message_fields(msg: Any) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    """``(type, content, tool_calls, tool_call_id, status, name, role)`` of a message, as
    ``message_to_genai`` reads them."""
    fields = getattr(msg, "__dict__", None)
    if type(fields) is not dict or not isinstance(msg, BaseMessage):
        fields = None
    mtype = _attr(msg, fields, "type", None)
    role = ROLES.get(mtype, mtype) if isinstance(mtype, str) else "user"
    if mtype == "chat":
        role = _attr(msg, fields, "role", role)
    content = _attr(msg, fields, "content", "")
    if mtype == "tool":
        tool_calls = None
        tool_call_id = _attr(msg, fields, "tool_call_id", None)
        status = _attr(msg, fields, "status", None)
    else:
        tool_calls = _attr(msg, fields, "tool_calls", None)
        tool_call_id = status = None
    return mtype, content, tool_calls, tool_call_id, status, _attr(msg, fields, "name", None), role


def message_to_genai(msg: Any) -> dict[str, Any]:
    """A LangChain message as a GenAI semantic-convention message: ``{role, parts, name?}``.

    Text and multimodal content become parts; an AI message's tool calls become ``tool_call`` parts (with
    ids); a tool message becomes a ``tool_call_response`` part linked by ``id``.
    """
    mtype, content, tool_calls, tool_call_id, status, name, role = message_fields(msg)
    out: dict[str, Any] = {"role": role}
    if mtype == "tool":
        resp: dict[str, Any] = {"type": "tool_call_response", "id": tool_call_id, "response": content}
        if status and status != "success":
            resp["status"] = status
        out["parts"] = [resp]
    else:
        shaped = content_parts(content)
        for tc in tool_calls or ():
            shaped.append(
                {"type": "tool_call", "id": tc.get("id"), "name": tc.get("name"), "arguments": tc.get("args")}
            )
        out["parts"] = shaped
    if name:
        out["name"] = name
    return out
