"""Field extractors of tool and retriever runs: tool name, call id, result and status; documents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._guard import MISSING, Failed, put, reraise, value_or_missing
from ._shaper import Shaper

__all__ = ["retriever_documents", "retriever_end", "tool_output_fields", "tool_start_fields"]


def tool_start_fields(
    serialized: Mapping[str, Any] | None, name: str | None, tool_call_id: str | None
) -> tuple[str, dict[str, Any]]:
    """``(tool name, fields)`` of a tool run: name, description and call id (the arguments are its input)."""
    ser = serialized or {}
    tool_name = str(name or ser.get("name") or "tool")
    out: dict[str, Any] = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool_name}
    desc = ser.get("description")
    if desc:
        out["gen_ai.tool.description"] = desc
    if tool_call_id:
        out["gen_ai.tool.call.id"] = str(tool_call_id)
    return tool_name, out


def tool_output_fields(
    output: Any, shaper: Shaper, hide_outputs: bool = False, failed: Failed = reraise
) -> tuple[str, Any, dict[str, Any]]:
    """``(status, output, fields)`` of a tool's result; a ``ToolMessage`` with ``status='error'`` is an error.

    ``output`` is the ToolMessage's content (or the raw result), or :data:`MISSING` when outputs are hidden
    (or cannot be read).
    """
    out: dict[str, Any] = {}
    status = "ok"
    value: Any = MISSING
    if getattr(output, "type", None) == "tool" and hasattr(output, "tool_call_id"):
        tstatus = getattr(output, "status", "success")
        out["tool.status"] = tstatus
        if output.tool_call_id:
            out["gen_ai.tool.call.id"] = str(output.tool_call_id)
        if tstatus == "error":
            status = "error"
        if not hide_outputs:
            value = value_or_missing(failed, "tool output", shaper.value, output.content)
            put(out, failed, tool_artifact, output, shaper)
    elif not hide_outputs:
        value = value_or_missing(failed, "tool output", shaper.value, output)
    return status, value, out


def tool_artifact(message: Any, shaper: Shaper) -> dict[str, Any]:
    """``tool.artifact``: what a tool returned beside its content (``content_and_artifact`` tools)."""
    artifact = getattr(message, "artifact", None)
    return {"tool.artifact": shaper.value(artifact)} if artifact is not None else {}


def retriever_end(
    documents: Sequence[Any], shaper: Shaper, max_documents: int, hide_outputs: bool, failed: Failed = reraise
) -> tuple[Any, dict[str, Any]]:
    """``(output, fields)`` of a retriever's result: the documents, and ``retriever.documents.count``."""
    fields: dict[str, Any] = {}
    put(fields, failed, documents_count, documents)
    if hide_outputs:
        return MISSING, fields
    return value_or_missing(
        failed, "retriever documents", retriever_documents, documents, shaper, max_documents
    ), fields


def documents_count(documents: Sequence[Any]) -> dict[str, Any]:
    """``retriever.documents.count``."""
    return {"retriever.documents.count": len(documents)}


def retriever_documents(
    documents: Sequence[Any], shaper: Shaper, max_documents: int = 20, max_chars: int = 4000
) -> list[dict[str, Any]]:
    """Retrieved documents as ``{id?, content, metadata}``, at most ``max_documents``, content capped."""
    out: list[dict[str, Any]] = []
    for doc in list(documents)[:max_documents]:
        content = str(getattr(doc, "page_content", doc))
        if len(content) > max_chars:
            content = f"{content[:max_chars]}…[aitrace cut: {max_chars} of {len(content)} chars]"
        item: dict[str, Any] = {
            "content": shaper.text(content),
            "metadata": shaper.value(getattr(doc, "metadata", {}) or {}),
        }
        doc_id = getattr(doc, "id", None)
        if doc_id:
            item["id"] = str(doc_id)
        out.append(item)
    return out
