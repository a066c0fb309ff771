"""Field extractors of LLM and chat-model runs: request fields at the start, response fields at the end.

Each field (or group of fields read together) has its own extractor, run through :func:`~._guard.put`: one
that meets something it cannot read (an odd message, a weird ``llm_output``) costs its own fields only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from aitrace_core import TraceRefs

from ._guard import Failed, put, reraise
from ._shaper import Shaper

__all__ = ["llm_end_fields", "llm_span_name", "llm_start_fields", "usage_fields"]

_PARAM_NAMES = {
    "temperature": "gen_ai.request.temperature",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
    "stop": "gen_ai.request.stop_sequences",
}

#: Invocation parameters already written under their own names (or not worth writing).
_NOT_EXTRA_PARAMS = frozenset(
    {"tools", "functions", "_type", "messages", "model", "model_name", "stream", *_PARAM_NAMES}
)


# -- start: the request ------------------------------------------------------------------------------------


def llm_start_fields(
    serialized: Mapping[str, Any] | None,
    messages: Sequence[Sequence[Any]] | None,
    prompts: Sequence[str] | None,
    invocation_params: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    shaper: Shaper,
    hide_inputs: bool = False,
    cache: dict[Any, Any] | None = None,
    failed: Failed = reraise,
) -> dict[str, Any]:
    """Request fields of an LLM or chat-model run: operation, provider, model, parameters, tools, messages."""
    md = metadata or {}
    params = invocation_params or {}
    out: dict[str, Any] = {"gen_ai.operation.name": "chat" if messages is not None else "text_completion"}
    put(out, failed, request_model, serialized, params, md)
    put(out, failed, request_params, params, md)
    put(out, failed, request_tools, params, shaper, cache)
    put(out, failed, other_params, params, shaper)
    if hide_inputs:
        return out
    if messages is not None:
        put(out, failed, input_messages, messages, shaper, cache)
    elif prompts is not None:
        put(out, failed, input_prompts, prompts, shaper)
    return out


def request_model(
    serialized: Mapping[str, Any] | None, params: Mapping[str, Any], md: Mapping[str, Any]
) -> dict[str, Any]:
    """``gen_ai.provider.name`` and ``gen_ai.request.model``."""
    out: dict[str, Any] = {}
    provider = md.get("ls_provider")
    if provider:
        out["gen_ai.provider.name"] = provider
    model = md.get("ls_model_name") or params.get("model") or params.get("model_name")
    if model is None and serialized:
        kwargs = serialized.get("kwargs")
        if isinstance(kwargs, Mapping):
            model = kwargs.get("model") or kwargs.get("model_name")
    if model:
        out["gen_ai.request.model"] = str(model)
    return out


def request_params(params: Mapping[str, Any], md: Mapping[str, Any]) -> dict[str, Any]:
    """``gen_ai.request.temperature`` / ``max_tokens`` / ``top_p`` / ``stop_sequences`` …"""
    out: dict[str, Any] = {}
    for key, field in _PARAM_NAMES.items():
        value = params.get(key)
        if value is None and key in ("temperature", "max_tokens"):
            value = md.get(f"ls_{key}")
        if value is not None:
            out.setdefault(field, value)
    return out


def _tool_definition(tool: Any) -> Any:
    if isinstance(tool, Mapping):
        fn = tool.get("function") if tool.get("type") == "function" else tool
        if isinstance(fn, Mapping) and "name" in fn:
            out = {"type": "function", "name": fn.get("name"), "description": fn.get("description")}
            params = fn.get("parameters") or fn.get("input_schema")
            if params is not None:
                out["parameters"] = params
            return out
    return tool


def request_tools(params: Mapping[str, Any], shaper: Shaper, cache: dict[Any, Any] | None) -> dict[str, Any]:
    """``gen_ai.request.tools`` (names), and ``gen_ai.tool.definitions`` once per trace and tool set."""
    tools = params.get("tools") or params.get("functions")
    if not tools:
        return {}
    defs = [_tool_definition(t) for t in tools]
    names = [str(d.get("name")) if isinstance(d, Mapping) else type(d).__name__ for d in defs]
    out: dict[str, Any] = {"gen_ai.request.tools": names}
    # Full definitions once per trace and tool set (agents re-bind the same tools for every call).
    tools_key = ("tools", *names)
    if cache is None or tools_key not in cache:
        out["gen_ai.tool.definitions"] = shaper.value(defs)
        if cache is not None:
            cache[tools_key] = True
    return out


def other_params(params: Mapping[str, Any], shaper: Shaper) -> dict[str, Any]:
    """``llm.invocation_params``: the parameters not written under a name of their own."""
    rest = {k: v for k, v in params.items() if k not in _NOT_EXTRA_PARAMS}
    return {"llm.invocation_params": shaper.value(rest)} if rest else {}


def input_messages(
    messages: Sequence[Sequence[Any]], shaper: Shaper, cache: dict[Any, Any] | None
) -> dict[str, Any]:
    """``gen_ai.system_instructions``, ``gen_ai.input.messages`` (shared), ``llm.batch_size``."""
    out: dict[str, Any] = {}
    system: list[Any] = []
    conv: list[Any] = []
    refs = shaper.refs(cache)
    for msg in messages[0] if messages else ():
        genai = shaper.message(msg, cache) if isinstance(msg, BaseMessage) else shaper.value(msg, cache)
        if isinstance(genai, Mapping) and genai.get("role") == "system":
            system.extend(genai["parts"])
        else:
            conv.append(genai if refs is None or type(genai) is not dict else refs.share(genai))
    if system:
        out["gen_ai.system_instructions"] = system
    out["gen_ai.input.messages"] = conv if refs is None else TraceRefs.compact(conv)
    if len(messages) > 1:
        out["llm.batch_size"] = len(messages)
    return out


def input_prompts(prompts: Sequence[str], shaper: Shaper) -> dict[str, Any]:
    """``gen_ai.input.messages`` of a text-completion run: one user message per prompt."""
    return {
        "gen_ai.input.messages": shaper.value(
            [{"role": "user", "parts": [{"type": "text", "content": p}]} for p in prompts]
        )
    }


def llm_span_name(fields: dict[str, Any], serialized: Mapping[str, Any] | None, name: str | None) -> str:
    """The span name of an LLM run: ``"{operation} {model}"`` (``llm.class`` added to ``fields`` then), or
    the model class's name when the model is not known."""
    model = fields.get("gen_ai.request.model")
    ser = serialized or {}
    name = name or ser.get("name") or (ser.get("id") or ["llm"])[-1]
    span_name = f"{fields['gen_ai.operation.name']} {model}" if model else str(name)
    if model and name and name != span_name:
        fields["llm.class"] = name
    return span_name


# -- end: the response -------------------------------------------------------------------------------------


def llm_end_fields(
    response: Any,
    shaper: Shaper,
    hide_outputs: bool = False,
    cache: dict[Any, Any] | None = None,
    failed: Failed = reraise,
) -> dict[str, Any]:
    """Response fields of an ``LLMResult``: output messages, finish reasons, response model and id, usage.

    With the trace's ``cache``, each output message is shared (see :class:`~._shaper.Shaper`): written in
    full here, referred to where the graph passes it on."""
    out: dict[str, Any] = {}
    try:
        generations = getattr(response, "generations", None) or []
        first: Sequence[Any] = generations[0] if generations else []
    except Exception:
        failed("generations")
        return out
    put(out, failed, response_ids, first)
    put(out, failed, finish_reasons, first)
    put(out, failed, response_model, first, response)
    put(out, failed, response_usage, first, response)
    if not hide_outputs:
        put(out, failed, output_messages, first, shaper, cache)
    return out


def _message(gen: Any) -> Any:
    return getattr(gen, "message", None)


def _metadata(msg: Any) -> Mapping[str, Any]:
    return getattr(msg, "response_metadata", None) or {}


def _finish_reason(gen: Any, msg: Any) -> Any:
    info = getattr(gen, "generation_info", None) or {}
    meta = _metadata(msg)
    return info.get("finish_reason") or meta.get("finish_reason") or meta.get("stop_reason")


def _llm_output(response: Any) -> Mapping[str, Any]:
    return getattr(response, "llm_output", None) or {}


def response_ids(first: Sequence[Any]) -> dict[str, Any]:
    """``gen_ai.response.id`` (the first message's) and ``gen_ai.response.tool_calls`` (how many)."""
    out: dict[str, Any] = {}
    for gen in first:
        msg = _message(gen)
        if msg is None:
            continue
        if getattr(msg, "id", None) and "gen_ai.response.id" not in out:
            out["gen_ai.response.id"] = msg.id
        calls = getattr(msg, "tool_calls", None)
        if calls:
            out["gen_ai.response.tool_calls"] = len(calls)
    return out


def finish_reasons(first: Sequence[Any]) -> dict[str, Any]:
    """``gen_ai.response.finish_reasons``."""
    reasons = []
    for gen in first:
        reason = _finish_reason(gen, _message(gen))
        if reason:
            reasons.append(str(reason))
    return {"gen_ai.response.finish_reasons": reasons} if reasons else {}


def response_model(first: Sequence[Any], response: Any) -> dict[str, Any]:
    """``gen_ai.response.model``: the last message's, else the ``llm_output``'s."""
    model = None
    for gen in first:
        msg = _message(gen)
        if msg is not None:
            meta = _metadata(msg)
            model = meta.get("model_name") or meta.get("model") or model
    if not model:
        llm_output = _llm_output(response)
        model = llm_output.get("model_name") or llm_output.get("model")
    return {"gen_ai.response.model": str(model)} if model else {}


def response_usage(first: Sequence[Any], response: Any) -> dict[str, Any]:
    """``gen_ai.usage.*`` from the first message's ``usage_metadata``, else the ``llm_output``'s."""
    usage: Mapping[str, Any] | None = None
    for gen in first:
        msg = _message(gen)
        if msg is not None:
            usage = usage or getattr(msg, "usage_metadata", None)
    return usage_fields(usage, None if usage else _llm_output(response))


def output_messages(first: Sequence[Any], shaper: Shaper, cache: dict[Any, Any] | None) -> dict[str, Any]:
    """``gen_ai.output.messages``, each with its ``finish_reason`` (shared with the trace's ``cache``)."""
    messages: list[Any] = []
    for gen in first:
        msg = _message(gen)
        if msg is not None:
            messages.append(shaper.response_message(msg, _finish_reason(gen, msg)))
        else:
            text = getattr(gen, "text", "")
            generated = {"role": "assistant", "parts": [{"type": "text", "content": text}]}
            messages.append(shaper.value(generated, None, 1))
    if not messages:
        return {}
    refs = shaper.refs(cache)
    if refs is not None:
        messages = [refs.share(m) if type(m) is dict else m for m in messages]
    return {"gen_ai.output.messages": messages}


def usage_fields(
    usage: Mapping[str, Any] | None, llm_output: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Token counts from ``usage_metadata`` (falling back to ``llm_output['token_usage']``)."""
    out: dict[str, Any] = {}
    if usage:
        mapping = (
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
            ("total_tokens", "gen_ai.usage.total_tokens"),
        )
        for src, dst in mapping:
            if isinstance(usage.get(src), int):
                out[dst] = usage[src]
        details = usage.get("input_token_details") or {}
        if isinstance(details.get("cache_read"), int):
            out["gen_ai.usage.cache_read.input_tokens"] = details["cache_read"]
        if isinstance(details.get("cache_creation"), int):
            out["gen_ai.usage.cache_creation.input_tokens"] = details["cache_creation"]
        odetails = usage.get("output_token_details") or {}
        if isinstance(odetails.get("reasoning"), int):
            out["gen_ai.usage.reasoning.output_tokens"] = odetails["reasoning"]
        return out
    tu = (llm_output or {}).get("token_usage") or (llm_output or {}).get("usage")
    if isinstance(tu, Mapping):
        for srcs, dst in (
            (("prompt_tokens", "input_tokens"), "gen_ai.usage.input_tokens"),
            (("completion_tokens", "output_tokens"), "gen_ai.usage.output_tokens"),
            (("total_tokens",), "gen_ai.usage.total_tokens"),
        ):
            for src in srcs:
                if isinstance(tu.get(src), int):
                    out[dst] = tu[src]
                    break
        pdet = tu.get("prompt_tokens_details") or {}
        if isinstance(pdet, Mapping) and isinstance(pdet.get("cached_tokens"), int):
            out["gen_ai.usage.cache_read.input_tokens"] = pdet["cached_tokens"]
        cdet = tu.get("completion_tokens_details") or {}
        if isinstance(cdet, Mapping) and isinstance(cdet.get("reasoning_tokens"), int):
            out["gen_ai.usage.reasoning.output_tokens"] = cdet["reasoning_tokens"]
    return out
