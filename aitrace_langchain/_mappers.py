"""Pure mappers: LangChain callback arguments → record fields.

Each function takes plain callback arguments (messages, dicts, results) and returns a dict of record fields.
None of them touches spans or global state, so each can be tested with plain data. The handler wraps every
call, so a mapper that meets something unexpected costs a field, never the application.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.prompt_values import PromptValue

from aitrace_core import MISSING, TraceRefs, to_jsonable

from ._privacy import REDACTED, Redactor

__all__ = [
    "MISSING",
    "Shaper",
    "chain_kind_and_name",
    "graph_fields",
    "interrupt_value",
    "llm_end_fields",
    "llm_start_fields",
    "message_to_genai",
    "retriever_documents",
    "tool_output_fields",
    "tool_start_fields",
    "usage_fields",
]

_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "tool",
    "developer": "system",
    "AIMessageChunk": "assistant",
    "remove": "remove",
}
_GRAPH_INTEGRATIONS = frozenset({"langgraph", "langchain_create_agent"})
_GENERIC_NAMES = frozenset({None, "", "RunnableCallable", "RunnableLambda", "RunnableSequence"})



class Shaper:
    """Turns callback payloads into JSON-ready values in one walk: compact messages and documents, and
    redaction. Anything else goes through aitrace_core's serializer.

    ``cache`` (a dict owned by the caller, e.g. per trace) remembers converted messages and other shared
    objects by identity, so a conversation passed from node to node is converted once. With ``dedup``, it
    also holds the trace's :class:`aitrace_core.TraceRefs`: a message goes into the record in full the first
    time the trace writes it and as a reference afterwards (between the caller's ``refs(cache).begin()`` and
    ``commit(span_id)``; outside of those, in full).
    """

    __slots__ = ("_fast_messages", "_key_cache", "_min_match", "_rx_sub", "dedup", "max_depth", "redactor")

    def __init__(self, redactor: Redactor | None = None, max_depth: int = 24, dedup: bool = True) -> None:
        self.dedup = dedup
        self.redactor = redactor if redactor is not None and redactor.enabled else None
        # Redacts one string at least ``min_match`` long (the regex, behind a cheap literal pre-check).
        self._rx_sub = (
            self.redactor.long_text if self.redactor is not None and self.redactor.has_patterns else None
        )
        self._min_match = max(1, self.redactor.min_match) if self.redactor is not None else 1
        self._key_cache: dict[str, bool] = {}
        self.max_depth = max_depth
        # Messages are shaped in one pass (``_message``) unless a redaction rule could touch the fixed keys or
        # literal values of the GenAI message shape; then they take the general walk, which redacts those too.
        self._fast_messages = not any(self._secret(k) for k in _GENAI_KEYS) and all(
            self.text(v) == v for v in _GENAI_LITERALS
        )

    def refs(self, cache: dict[Any, Any] | None) -> TraceRefs | None:
        """The trace's shared-message registry kept in ``cache`` (made on first use); None without dedup."""
        if cache is None or not self.dedup:
            return None
        refs = cache.get(_REFS)
        if refs is None:
            refs = cache.setdefault(_REFS, TraceRefs())
        return refs  # type: ignore[no-any-return]

    def text(self, value: str) -> str:
        sub = self._rx_sub
        if sub is None or len(value) < self._min_match:
            return value
        return sub(value)

    def _secret(self, key: str) -> bool:
        hit = self._key_cache.get(key)
        if hit is None:
            r = self.redactor
            hit = r is not None and r.secret_key(key)
            if len(self._key_cache) < 4096:
                self._key_cache[key] = hit
        return hit

    def value(self, obj: Any, cache: dict[int, Any] | None = None, depth: int = 0) -> Any:
        t = type(obj)
        if t is str:
            sub = self._rx_sub
            if sub is None or len(obj) < self._min_match:
                return obj
            return sub(obj)
        if t is int or t is float or t is bool or obj is None:
            return obj
        if depth > self.max_depth:
            return f"[aitrace cut: depth limit, {t.__name__}]"
        if t is dict:
            return self._mapping(obj, cache, depth)
        if t is list or t is tuple:
            items = [self.value(v, cache, depth + 1) for v in obj]
            # a conversation passed on starts with a reference: merge the runs of references (only a saving)
            if len(items) > 1 and type(items[0]) is dict and "$ref" in items[0] and cache is not None:
                return TraceRefs.compact(items)
            return items
        if isinstance(obj, BaseMessage):
            if cache is None:
                return self._message(obj, depth)
            hit = cache.get(id(obj))
            if hit is None or hit[0] is not obj:
                hit = cache[id(obj)] = [obj, self._message(obj, depth), None]  # keeps obj alive
            elif hit[2] is not None:
                return hit[2]  # this trace refers to it already: the same reference every time
            refs = self.refs(cache)
            if refs is None:
                return hit[1]
            out = refs.share(hit[1])
            if len(out) == 2 and "$ref" in out:
                hit[2] = out
            return out
        if isinstance(obj, Mapping):
            return self._mapping(obj, cache, depth)
        if isinstance(obj, (list, tuple, set, frozenset)):
            return [self.value(v, cache, depth + 1) for v in obj]
        if isinstance(obj, PromptValue):
            msgs = getattr(obj, "messages", None)
            if msgs is not None:
                return {"messages": self.value(list(msgs), cache, depth + 1)}
            return self.value(obj.to_string(), cache, depth + 1)
        if isinstance(obj, Document):
            return self.value({"content": obj.page_content, "metadata": obj.metadata}, cache, depth + 1)
        if t.__name__ == "Command" and hasattr(obj, "resume"):
            cmd = {k: getattr(obj, k) for k in ("graph", "update", "resume", "goto") if getattr(obj, k, None)}
            return self.value({"command": cmd}, cache, depth + 1)
        if t.__name__ == "Send" and hasattr(obj, "node") and hasattr(obj, "arg"):
            # LangGraph's routing to a node, as data (repr() would print every message of the state)
            arg = obj.arg
            if isinstance(arg, Mapping) and arg.get("__type") == "tool_call_with_context":
                arg = {"tool_call": arg.get("tool_call")}  # the state it carries is the graph's, unchanged
            node = self.value(obj.node)
            return {"__type__": "Send", "node": node, "arg": self.value(arg, cache, depth + 1)}
        if t.__name__ == "Interrupt" and hasattr(obj, "value"):
            return self.value({"value": obj.value, "id": getattr(obj, "id", None)}, cache, depth + 1)
        return self.value(to_jsonable(obj), cache, depth + 1)

    def message(self, msg: Any, cache: dict[Any, Any] | None = None, depth: int = 0) -> Any:
        """A LangChain message shaped in full (converted once per trace and message object)."""
        if cache is None:
            return self._message(msg, depth)
        hit = cache.get(id(msg))
        if hit is None or hit[0] is not msg:
            hit = cache[id(msg)] = [msg, self._message(msg, depth), None]  # keeps msg alive
        return hit[1]

    def _mapping(self, obj: Mapping[Any, Any], cache: dict[int, Any] | None, depth: int) -> dict[str, Any]:
        """A mapping (at ``depth``, already within the depth limit): str keys, secret keys redacted."""
        if depth == 0 and obj.get("__type") == "tool_call_with_context" and "tool_call" in obj:
            # a Send to a ToolNode: the call is the input; the state it carries is the graph's, unchanged
            return {"tool_call": self.value(obj["tool_call"], cache, 1)}
        out: dict[str, Any] = {}
        check = self.redactor is not None
        known = self._key_cache
        sub = self._rx_sub
        min_match = self._min_match
        value = self.value
        child = depth + 1
        for k, v in obj.items():
            key = k if type(k) is str else str(k)
            if check:
                secret = known.get(key)
                if secret is None:
                    secret = self._secret(key)
                if secret:
                    out[key] = REDACTED
                    continue
            tv = type(v)
            if tv is str:
                out[key] = v if sub is None or len(v) < min_match else sub(v)
            elif tv is int or tv is bool or v is None or tv is float:
                out[key] = v
            else:
                out[key] = value(v, cache, child)
        return out

    def _leaf(self, v: Any, depth: int) -> Any:
        """``value(v, None, depth)`` with the str and scalar cases inline."""
        t = type(v)
        if t is str:
            sub = self._rx_sub
            return v if sub is None or len(v) < self._min_match else sub(v)
        if t is int or t is bool or v is None or t is float:
            return v
        return self.value(v, None, depth)

    def _message(self, msg: Any, depth: int) -> Any:
        """``value(message_to_genai(msg), None, depth + 1)`` in one pass (the same output, tested)."""
        if not self._fast_messages or depth + 6 > self.max_depth:
            return self.value(message_to_genai(msg), None, depth + 1)
        leaf = self._leaf
        d2, d3, d4 = depth + 2, depth + 3, depth + 4
        mtype, content, tool_calls, tool_call_id, status, name, role = _message_fields(msg)
        out: dict[str, Any] = {"role": leaf(role, d2)}
        if mtype == "tool":
            resp: dict[str, Any] = {
                "type": "tool_call_response",
                "id": leaf(tool_call_id, d4),
                "response": leaf(content, d4),
            }
            if status and status != "success":
                resp["status"] = leaf(status, d4)
            out["parts"] = [resp]
        else:
            parts: list[Any] = []
            if type(content) is str:
                if content:
                    parts.append({"type": "text", "content": leaf(content, d4)})
            else:
                for part in _parts(content):
                    if len(part) == 2 and part.get("type") == "text" and "content" in part:
                        parts.append({"type": "text", "content": leaf(part["content"], d4)})
                    else:
                        parts.append(self._mapping(part, None, d3))
            for tc in tool_calls or ():
                parts.append(
                    {
                        "type": "tool_call",
                        "id": leaf(tc.get("id"), d4),
                        "name": leaf(tc.get("name"), d4),
                        "arguments": leaf(tc.get("args"), d4),
                    }
                )
            out["parts"] = parts
        if name:
            out["name"] = leaf(name, d2)
        return out


#: Where a trace's cache keeps its TraceRefs (a key no object id or tool-set tuple can equal).
_REFS = "aitrace.refs"

#: Keys and literal values of the GenAI message shape (``message_to_genai``, ``llm_end_fields``).
_GENAI_KEYS = (
    "role",
    "parts",
    "name",
    "type",
    "content",
    "id",
    "arguments",
    "response",
    "status",
    "modality",
    "uri",
    "finish_reason",
)
_GENAI_LITERALS = ("text", "tool_call", "tool_call_response", "uri", "image", "unknown")


# -- messages -----------------------------------------------------------------------------------------


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, Sequence) else [content]:
        if isinstance(part, str):
            parts.append({"type": "text", "content": part})
        elif isinstance(part, Mapping):
            ptype = part.get("type")
            if ptype == "text" and "text" in part:
                parts.append({"type": "text", "content": part["text"]})
            elif ptype == "image_url":
                url = part.get("image_url")
                url = url.get("url") if isinstance(url, Mapping) else url
                parts.append({"type": "uri", "modality": "image", "uri": url})
            else:
                parts.append(dict(part))
        else:
            parts.append({"type": "unknown", "content": str(part)})
    return parts


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


def _message_fields(msg: Any) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    """``(type, content, tool_calls, tool_call_id, status, name, role)`` of a message, as
    ``message_to_genai`` reads them."""
    fields = getattr(msg, "__dict__", None)
    if type(fields) is not dict or not isinstance(msg, BaseMessage):
        fields = None
    mtype = _attr(msg, fields, "type", None)
    role = _ROLES.get(mtype, mtype) if isinstance(mtype, str) else "user"
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
    mtype, content, tool_calls, tool_call_id, status, name, role = _message_fields(msg)
    out: dict[str, Any] = {"role": role}
    if mtype == "tool":
        resp: dict[str, Any] = {"type": "tool_call_response", "id": tool_call_id, "response": content}
        if status and status != "success":
            resp["status"] = status
        out["parts"] = [resp]
    else:
        parts = _parts(content)
        for tc in tool_calls or ():
            parts.append(
                {"type": "tool_call", "id": tc.get("id"), "name": tc.get("name"), "arguments": tc.get("args")}
            )
        out["parts"] = parts
    if name:
        out["name"] = name
    return out


# -- chains and graphs ----------------------------------------------------------------------------------


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


def graph_fields(metadata: Mapping[str, Any] | None, kind: str) -> dict[str, Any]:
    """LangGraph fields: node, step, triggers, path, checkpoint namespace; thread id on graphs and nodes."""
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


# -- LLM ------------------------------------------------------------------------------------------------

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


def llm_start_fields(
    serialized: Mapping[str, Any] | None,
    messages: Sequence[Sequence[Any]] | None,
    prompts: Sequence[str] | None,
    invocation_params: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    shaper: Shaper,
    hide_inputs: bool = False,
    cache: dict[Any, Any] | None = None,
) -> dict[str, Any]:
    """Request fields of an LLM or chat-model run: operation, provider, model, parameters, tools, messages."""
    md = metadata or {}
    params = dict(invocation_params or {})
    out: dict[str, Any] = {"gen_ai.operation.name": "chat" if messages is not None else "text_completion"}
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
    for key, field in _PARAM_NAMES.items():
        value = params.get(key)
        if value is None and key in ("temperature", "max_tokens"):
            value = md.get(f"ls_{key}")
        if value is not None:
            out.setdefault(field, value)
    tools = params.get("tools") or params.get("functions")
    if tools:
        defs = [_tool_definition(t) for t in tools]
        names = [str(d.get("name")) if isinstance(d, Mapping) else type(d).__name__ for d in defs]
        out["gen_ai.request.tools"] = names
        # Full definitions once per trace and tool set (agents re-bind the same tools for every call).
        tools_key = ("tools", *names)
        if cache is None or tools_key not in cache:
            out["gen_ai.tool.definitions"] = shaper.value(defs)
            if cache is not None:
                cache[tools_key] = True
    rest = {k: v for k, v in params.items() if k not in _NOT_EXTRA_PARAMS}
    if rest:
        out["llm.invocation_params"] = shaper.value(rest)
    if hide_inputs:
        return out
    if messages is not None:
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
    elif prompts is not None:
        out["gen_ai.input.messages"] = shaper.value(
            [{"role": "user", "parts": [{"type": "text", "content": p}]} for p in prompts]
        )
    return out


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


def llm_end_fields(
    response: Any, shaper: Shaper, hide_outputs: bool = False, cache: dict[Any, Any] | None = None
) -> dict[str, Any]:
    """Response fields of an ``LLMResult``: output messages, finish reasons, response model and id, usage.

    With the trace's ``cache``, each output message is shared (see :class:`Shaper`): written in full here,
    referred to where the graph passes it on."""
    out: dict[str, Any] = {}
    generations = getattr(response, "generations", None) or []
    llm_output = getattr(response, "llm_output", None) or {}
    first = generations[0] if generations else []
    messages: list[Any] = []
    reasons: list[str] = []
    usage: Mapping[str, Any] | None = None
    model = llm_output.get("model_name") or llm_output.get("model")
    # Shaped message by message when the one-pass shaping applies (the same output as shaping the list).
    fast = shaper._fast_messages
    for gen in first:
        msg = getattr(gen, "message", None)
        info = getattr(gen, "generation_info", None) or {}
        meta = getattr(msg, "response_metadata", None) or {}
        reason = info.get("finish_reason") or meta.get("finish_reason") or meta.get("stop_reason")
        if reason:
            reasons.append(str(reason))
        if msg is not None:
            if hide_outputs:
                pass
            elif fast:
                shaped = shaper._message(msg, 0)
                if reason:
                    shaped["finish_reason"] = shaper._leaf(str(reason), 2)
                messages.append(shaped)
            else:
                genai = message_to_genai(msg)
                if reason:
                    genai["finish_reason"] = str(reason)
                messages.append(genai)
            usage = usage or getattr(msg, "usage_metadata", None)
            model = meta.get("model_name") or meta.get("model") or model
            if getattr(msg, "id", None) and "gen_ai.response.id" not in out:
                out["gen_ai.response.id"] = msg.id
            calls = getattr(msg, "tool_calls", None)
            if calls:
                out["gen_ai.response.tool_calls"] = len(calls)
        else:
            text = getattr(gen, "text", "")
            generated = {"role": "assistant", "parts": [{"type": "text", "content": text}]}
            messages.append(shaper.value(generated, None, 1) if fast else generated)
    if reasons:
        out["gen_ai.response.finish_reasons"] = reasons
    if model:
        out["gen_ai.response.model"] = str(model)
    out.update(usage_fields(usage, llm_output))
    if not hide_outputs and messages:
        outs = messages if fast else shaper.value(messages)
        refs = shaper.refs(cache)
        if refs is not None:
            outs = [refs.share(m) if type(m) is dict else m for m in outs]
        out["gen_ai.output.messages"] = outs
    return out


# -- tools and retrievers ---------------------------------------------------------------------------------


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
    output: Any, shaper: Shaper, hide_outputs: bool = False
) -> tuple[str, Any, dict[str, Any]]:
    """``(status, output, fields)`` of a tool's result; a ``ToolMessage`` with ``status='error'`` is an error.

    ``output`` is the ToolMessage's content (or the raw result), or a missing marker when outputs are hidden.
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
            value = shaper.value(output.content)
            artifact = getattr(output, "artifact", None)
            if artifact is not None:
                out["tool.artifact"] = shaper.value(artifact)
    elif not hide_outputs:
        value = shaper.value(output)
    return status, value, out


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
