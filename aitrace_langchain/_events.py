"""Field extractors of the log records on a run's span: agent steps, retries, LangGraph pauses, tokens."""

from __future__ import annotations

from typing import Any

from ._shaper import Shaper

__all__ = [
    "agent_action_fields",
    "agent_finish_fields",
    "interrupt_event_fields",
    "resume_event_fields",
    "retry_fields",
    "token_text",
]


def agent_action_fields(action: Any, shaper: Shaper, hide_inputs: bool) -> dict[str, Any]:
    """``agent_action``: ``tool``, ``tool_input``, ``log`` (a legacy ``AgentExecutor`` step)."""
    fields: dict[str, Any] = {"tool": getattr(action, "tool", None)}
    if not hide_inputs:
        fields["tool_input"] = shaper.value(getattr(action, "tool_input", None))
        fields["log"] = shaper.text(str(getattr(action, "log", "")))
    return fields


def agent_finish_fields(finish: Any, shaper: Shaper, hide_outputs: bool) -> dict[str, Any]:
    """``agent_finish``: ``return_values``."""
    if hide_outputs:
        return {}
    return {"return_values": shaper.value(getattr(finish, "return_values", None))}


def retry_fields(retry_state: Any, shaper: Shaper) -> dict[str, Any]:
    """``retry``: the ``attempt`` number and the ``error`` that caused it (tenacity's retry state)."""
    outcome = getattr(retry_state, "outcome", None)
    exc = outcome.exception() if outcome is not None and outcome.failed else None
    return {
        "attempt": getattr(retry_state, "attempt_number", None),
        "error": shaper.text(repr(exc)) if exc is not None else None,
    }


def resume_event_fields(event: Any) -> dict[str, Any]:
    """``graph_resume``: ``checkpoint_id``, ``langgraph.status``."""
    return {
        "checkpoint_id": getattr(event, "checkpoint_id", None),
        "langgraph.status": getattr(event, "status", None),
    }


def interrupt_event_fields(event: Any, shaper: Shaper, hide_outputs: bool) -> dict[str, Any]:
    """``graph_interrupt``: ``checkpoint_id``, ``langgraph.status``, the ``interrupts``."""
    fields = resume_event_fields(event)
    if not hide_outputs:
        fields["interrupts"] = shaper.value(list(getattr(event, "interrupts", ()) or ()))
    return fields


def token_text(token: str | list[str | dict[str, Any]]) -> str:
    """The text of a streamed token (a string, or content blocks)."""
    if isinstance(token, str):
        return token
    return "".join(t if isinstance(t, str) else str(t.get("text", "")) for t in token)
