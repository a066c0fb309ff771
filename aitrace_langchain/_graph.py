"""Field extractors of chains, LangGraph graphs, nodes and edges: kind, name, graph fields, interrupts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["chain_kind_and_name", "graph_fields", "interrupt_value"]

_GRAPH_INTEGRATIONS = frozenset({"langgraph", "langchain_create_agent"})
_GENERIC_NAMES = frozenset({None, "", "RunnableCallable", "RunnableLambda", "RunnableSequence"})


def _step_tag(tags: Sequence[str] | None, prefix: str) -> int | None:
    for tag in tags or ():
        if tag.startswith(prefix):
            try:
                return int(tag[len(prefix) :])
            except ValueError:
                return None
    return None


def chain_kind_and_name(
    serialized: Mapping[str, Any] | None,
    name: str | None,
    tags: Sequence[str] | None,
    metadata: Mapping[str, Any] | None,
    parent_kind: str | None,
    parent_name: str | None,
) -> tuple[str, str]:
    """``(span_kind, span_name)`` of a chain run: ``graph``, ``node``, ``edge`` or ``chain``.

    A LangGraph root (or a subgraph under a node) is a ``graph``; a task tagged ``graph:step:N`` whose name is
    its ``langgraph_node`` is a ``node``; a routing function after a node's body is an ``edge``.
    """
    md = metadata or {}
    if name is None and serialized:
        name = serialized.get("name") or (serialized.get("id") or [None])[-1]
    node = md.get("langgraph_node")
    if node is not None and node == name and _step_tag(tags, "graph:step:") is not None:
        return "node", str(name)
    if parent_kind is None and md.get("ls_integration") in _GRAPH_INTEGRATIONS:
        return "graph", name or "LangGraph"
    if parent_kind == "node":
        ns = md.get("checkpoint_ns")
        if ns and ns == md.get("langgraph_checkpoint_ns") and md.get("ls_integration") in _GRAPH_INTEGRATIONS:
            return "graph", name or "LangGraph"
        step = _step_tag(tags, "seq:step:")
        if step is not None and step >= 2 and name != parent_name:
            return "edge", str(name) if name not in _GENERIC_NAMES else f"edge from {parent_name}"
    return "chain", name or "chain"


def graph_fields(metadata: Mapping[str, Any] | None, kind: str, inputs: Any = None) -> dict[str, Any]:
    """LangGraph fields: node, step, triggers, path, checkpoint namespace; thread id on graphs and nodes;
    ``langgraph.resume`` on a graph whose input is a ``Command(resume=…)``."""
    md = metadata or {}
    out: dict[str, Any] = {}
    if kind == "node":
        for key in ("langgraph_node", "langgraph_step"):
            if key in md:
                out[key] = md[key]
        if "langgraph_triggers" in md:
            out["langgraph_triggers"] = [str(t) for t in md["langgraph_triggers"]]
        if "langgraph_path" in md:
            out["langgraph_path"] = [p if isinstance(p, (str, int)) else str(p) for p in md["langgraph_path"]]
        if "langgraph_checkpoint_ns" in md:
            out["checkpoint_ns"] = md["langgraph_checkpoint_ns"]
    elif kind == "graph" and md.get("checkpoint_ns"):
        out["checkpoint_ns"] = md["checkpoint_ns"]
    if kind in ("graph", "node") and md.get("thread_id") is not None:
        out["thread_id"] = str(md["thread_id"])
        if kind == "graph":
            out["gen_ai.conversation.id"] = str(md["thread_id"])
    if kind == "graph" and type(inputs).__name__ == "Command" and getattr(inputs, "resume", None) is not None:
        out["langgraph.resume"] = True
    return out


def interrupt_value(exc: BaseException) -> Any:
    """The payload of a ``GraphInterrupt`` (``[{value, id}]``) or a ``ParentCommand`` (the command)."""
    args = getattr(exc, "args", ())
    if not args:
        return None
    first = args[0]
    if isinstance(first, (list, tuple)):
        return [{"value": getattr(i, "value", i), "id": getattr(i, "id", None)} for i in first]
    return first
