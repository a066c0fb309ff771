"""OpenTelemetry attribute dialects (GenAI, OpenInference, OpenLLMetry) → the record fields the lenses read.

Pure functions over a flat attribute mapping. What a dialect says is rewritten into aitrace's fields
(docs/otlp.md has the table); the attributes consumed that way are left out, every other one is kept as is.
Nothing here raises on odd values: a value of the wrong type is kept under its own name instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["Normalised", "normalise"]

# span kinds of each dialect → aitrace's span_kind
_OPENINFERENCE_KINDS = {
    "LLM": "llm", "CHAIN": "chain", "TOOL": "tool", "RETRIEVER": "retriever", "EMBEDDING": "embedding",
    "AGENT": "agent", "RERANKER": "reranker", "GUARDRAIL": "guardrail", "EVALUATOR": "evaluator",
    "PROMPT": "chain",
}
_TRACELOOP_KINDS = {"workflow": "chain", "task": "chain", "agent": "agent", "tool": "tool", "llm": "llm"}
_GENAI_OPERATIONS = {
    "chat": "llm", "text_completion": "llm", "generate_content": "llm", "embeddings": "embedding",
    "execute_tool": "tool", "invoke_agent": "agent", "create_agent": "agent",
}
#: attributes renamed one to one (older or other names → the GenAI name aitrace writes)
_RENAMES = {
    "gen_ai.system": "gen_ai.provider.name",
    "llm.provider": "gen_ai.provider.name",
    "llm.system": "gen_ai.provider.name",
    "llm.model_name": "gen_ai.request.model",
    "gen_ai.usage.prompt_tokens": "gen_ai.usage.input_tokens",
    "gen_ai.usage.completion_tokens": "gen_ai.usage.output_tokens",
    "llm.usage.total_tokens": "gen_ai.usage.total_tokens",
    "llm.token_count.prompt": "gen_ai.usage.input_tokens",
    "llm.token_count.completion": "gen_ai.usage.output_tokens",
    "llm.token_count.total": "gen_ai.usage.total_tokens",
    "llm.token_count.prompt_details.cache_read": "gen_ai.usage.cache_read.input_tokens",
    "llm.token_count.prompt_details.cache_write": "gen_ai.usage.cache_creation.input_tokens",
    "llm.token_count.completion_details.reasoning": "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.cache_read_input_tokens": "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens": "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cached_tokens": "gen_ai.usage.cache_read.input_tokens",
    "llm.cost.total": "gen_ai.usage.cost_usd",
    "session.id": "gen_ai.conversation.id",
    "tool.name": "gen_ai.tool.name",
    "tool_call.id": "gen_ai.tool.call.id",
}
#: request fields go on the span_start record, everything else on span_end
_START_FIELDS = frozenset(
    {
        "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.input.messages",
        "gen_ai.system_instructions", "gen_ai.tool.definitions", "input", "gen_ai.tool.name",
        "gen_ai.tool.call.id", "gen_ai.conversation.id",
    }
)
_INDEXED = (
    "gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.", "llm.output_messages.", "llm.tools."
)
_MAX_INDEX = 100_000


class Normalised:
    """A span's attributes sorted into ``start`` and ``end`` fields, and the ``kind`` they imply (or None)."""

    __slots__ = ("end", "kind", "start")

    def __init__(self) -> None:
        self.start: dict[str, Any] = {}
        self.end: dict[str, Any] = {}
        self.kind: str | None = None

    def put(self, key: str, value: Any) -> None:
        (self.start if key in _START_FIELDS else self.end)[key] = value


def _json(value: Any) -> Any:
    """A JSON text decoded (instrumentations write structures as JSON strings); anything else as it is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _tree(flat: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """``{prefix + "0.message.role": "user"}`` → ``{"0": {"message": {"role": "user"}}}``."""
    root: dict[str, Any] = {}
    for key, value in flat.items():
        node = root
        parts = key[len(prefix) :].split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return root


def _indexed(node: Any) -> list[Any]:
    """The values of a ``{"0": …, "1": …}`` node in index order (other keys ignored)."""
    if not isinstance(node, dict):
        return []
    items = [(int(k), v) for k, v in node.items() if k.isdigit() and int(k) < _MAX_INDEX]
    return [v for _, v in sorted(items, key=lambda kv: kv[0])]


def _text_part(text: Any) -> dict[str, Any]:
    return {"type": "text", "content": text if isinstance(text, str) else json.dumps(text)}


def _message(
    role: Any, content: Any, calls: list[dict[str, Any]], call_id: Any, finish: Any = None
) -> dict[str, Any]:
    """One message in the GenAI form: ``{role, parts: [text | tool_call | tool_call_response]}``."""
    role = str(role) if role is not None else "user"
    parts: list[dict[str, Any]] = []
    if role == "tool" and call_id is not None:
        parts.append({"type": "tool_call_response", "id": str(call_id), "response": content})
    elif isinstance(content, list):
        parts.extend(_text_part(c) for c in content)
    elif content is not None and content != "":
        parts.append(_text_part(content))
    parts.extend(calls)
    out: dict[str, Any] = {"role": role, "parts": parts}
    if finish is not None:
        out["finish_reason"] = str(finish)
    return out


def _call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": _json(arguments)}


def _openinference_messages(node: Any) -> list[dict[str, Any]]:
    out = []
    for item in _indexed(node):
        msg = item.get("message") if isinstance(item, dict) else None
        if not isinstance(msg, dict):
            continue
        content = msg.get("content")
        if content is None and isinstance(msg.get("contents"), dict):
            texts = [c.get("message_content", {}).get("text") for c in _indexed(msg["contents"])]
            content = [t for t in texts if isinstance(t, str)]
        calls = []
        for c in _indexed(msg.get("tool_calls")):
            tc = c.get("tool_call", {}) if isinstance(c, dict) else {}
            fn = tc.get("function", {}) if isinstance(tc.get("function"), dict) else {}
            calls.append(_call(tc.get("id"), fn.get("name"), fn.get("arguments")))
        out.append(_message(msg.get("role"), content, calls, msg.get("tool_call_id")))
    return out


def _indexed_genai_messages(node: Any) -> list[dict[str, Any]]:
    """The older ``gen_ai.prompt.{i}.*`` / ``gen_ai.completion.{i}.*`` (OpenLLMetry and others)."""
    out = []
    for msg in _indexed(node):
        if not isinstance(msg, dict):
            continue
        calls = [
            _call(c.get("id"), c.get("name"), c.get("arguments"))
            for c in _indexed(msg.get("tool_calls"))
            if isinstance(c, dict)
        ]
        role, content, finish = msg.get("role"), msg.get("content"), msg.get("finish_reason")
        out.append(_message(role, content, calls, msg.get("tool_call_id"), finish))
    return out


def _genai_messages(value: Any) -> Any:
    """``gen_ai.input.messages`` / ``output.messages``: already in the GenAI form, often as a JSON text."""
    value = _json(value)
    if isinstance(value, list):
        return value
    return None


def _kind(attrs: Mapping[str, Any]) -> str | None:
    oi = attrs.get("openinference.span.kind")
    if isinstance(oi, str) and oi.upper() in _OPENINFERENCE_KINDS:
        return _OPENINFERENCE_KINDS[oi.upper()]
    tl = attrs.get("traceloop.span.kind")
    if isinstance(tl, str) and tl.lower() in _TRACELOOP_KINDS:
        return _TRACELOOP_KINDS[tl.lower()]
    op = attrs.get("gen_ai.operation.name") or attrs.get("llm.request.type")
    if isinstance(op, str) and op in _GENAI_OPERATIONS:
        return _GENAI_OPERATIONS[op]
    if isinstance(op, str) and op == "completion":
        return "llm"
    if "gen_ai.request.model" in attrs or "llm.model_name" in attrs:
        return "llm"
    return None


def _value_field(norm: Normalised, attrs: Mapping[str, Any], used: set[str], key: str, field: str) -> None:
    """``input.value`` / ``traceloop.entity.input`` → ``input`` (JSON decoded when it is JSON)."""
    if key in attrs and field not in norm.start and field not in norm.end:
        norm.put(field, _json(attrs[key]))
        used.add(key)


def normalise(attrs: Mapping[str, Any]) -> Normalised:
    """Sort one span's attributes into aitrace fields (see the module docstring). Never raises."""
    norm = Normalised()
    used: set[str] = set()
    norm.kind = _kind(attrs)
    groups: dict[str, dict[str, Any]] = {}
    for key, value in attrs.items():
        if key.startswith(_INDEXED):
            prefix = next(p for p in _INDEXED if key.startswith(p))
            groups.setdefault(prefix, {})[key] = value
    # messages: the current GenAI form first, then the older indexed one, then OpenInference's
    for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
        messages = _genai_messages(attrs.get(key))
        if messages is not None:
            norm.put(key, messages)
            used.add(key)
    system = _json(attrs.get("gen_ai.system_instructions"))
    if isinstance(system, (list, str)):
        norm.put("gen_ai.system_instructions", system)
        used.add("gen_ai.system_instructions")
    for prefix, field in (
        ("gen_ai.prompt.", "gen_ai.input.messages"),
        ("gen_ai.completion.", "gen_ai.output.messages"),
    ):
        if prefix in groups:
            msgs = _indexed_genai_messages(_tree(groups[prefix], prefix))
            if msgs and field not in norm.start and field not in norm.end:
                norm.put(field, msgs)
                used.update(groups[prefix])
    for prefix, field in (
        ("llm.input_messages.", "gen_ai.input.messages"),
        ("llm.output_messages.", "gen_ai.output.messages"),
    ):
        if prefix in groups:
            msgs = _openinference_messages(_tree(groups[prefix], prefix))
            if msgs and field not in norm.start and field not in norm.end:
                norm.put(field, msgs)
                used.update(groups[prefix])
    if "llm.tools." in groups:
        tools = [
            _json(t.get("tool", {}).get("json_schema")) if isinstance(t, dict) else t
            for t in _indexed(_tree(groups["llm.tools."], "llm.tools."))
        ]
        if tools:
            norm.put("gen_ai.tool.definitions", tools)
            used.update(groups["llm.tools."])
    # one-to-one renames; a GenAI name given directly wins over an older or other one
    for key, field in _RENAMES.items():
        if key in attrs and field not in attrs:
            norm.put(field, attrs[key])
            used.add(key)
    if "llm.invocation_parameters" in attrs:
        params = _json(attrs["llm.invocation_parameters"])
        norm.put("llm.invocation_parameters", params)
        used.add("llm.invocation_parameters")
        # OpenInference's llm.model_name is the model that answered; the one asked for is a parameter
        asked = params.get("model") if isinstance(params, dict) else None
        if isinstance(asked, str) and "gen_ai.request.model" not in attrs:
            norm.put("gen_ai.request.model", asked)
            if "llm.model_name" in attrs and "gen_ai.response.model" not in attrs:
                norm.put("gen_ai.response.model", attrs["llm.model_name"])
    finish = attrs.get("llm.finish_reason")
    if finish is not None and "gen_ai.response.finish_reasons" not in attrs:
        norm.put("gen_ai.response.finish_reasons", [str(finish)])
        used.add("llm.finish_reason")
    _value_field(norm, attrs, used, "input.value", "input")
    _value_field(norm, attrs, used, "output.value", "output")
    _value_field(norm, attrs, used, "traceloop.entity.input", "input")
    _value_field(norm, attrs, used, "traceloop.entity.output", "output")
    _value_field(norm, attrs, used, "gen_ai.tool.call.arguments", "input")
    _value_field(norm, attrs, used, "gen_ai.tool.call.result", "output")
    if norm.kind == "llm" and "gen_ai.operation.name" not in attrs:
        norm.put("gen_ai.operation.name", "chat")
    for key, value in attrs.items():  # everything else, as it came
        if key not in used and key not in norm.start and key not in norm.end:
            norm.put(key, list(value) if isinstance(value, tuple) else value)
    for fields in (norm.start, norm.end):
        _conform(fields)
    return norm


_STRINGS = (
    "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model",
    "gen_ai.tool.name", "gen_ai.tool.call.id", "gen_ai.conversation.id", "thread_id", "run_id",
    "parent_run_id",
)
_COUNTS = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")


def _conform(fields: dict[str, Any]) -> None:
    """A value the record schema would refuse under its name is kept under ``otel.<name>`` instead."""
    for key in _STRINGS:
        if key in fields and not isinstance(fields[key], str):
            fields["otel." + key] = fields.pop(key)
    for key in _COUNTS:
        value = fields.get(key)
        if key in fields and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            fields["otel." + key] = fields.pop(key)
    reasons = fields.get("gen_ai.response.finish_reasons")
    if reasons is not None and not (isinstance(reasons, list) and all(isinstance(r, str) for r in reasons)):
        fields["gen_ai.response.finish_reasons"] = [str(r) for r in reasons] if isinstance(
            reasons, (list, tuple)
        ) else [str(reasons)]
    for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
        if key in fields and not isinstance(fields[key], list):
            fields["otel." + key] = fields.pop(key)
