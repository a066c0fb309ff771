"""``Shaper``: callback payloads → JSON-ready record values (messages, documents, redaction, shared messages).

The one stateful piece the field extractors use; its public methods (``value``, ``text``, ``message``,
``response_message``, ``refs``) are all they need.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.prompt_values import PromptValue

from aitrace_core import TraceRefs, to_jsonable

from ._messages import content_parts, message_fields, message_to_genai
from ._privacy import REDACTED, Redactor

__all__ = ["Shaper"]


class Shaper:
    """Turns callback payloads into JSON-ready values in one walk: compact messages and documents, and
    redaction. Anything else goes through aitrace_core's serializer.

    ``cache`` (a dict owned by the caller, e.g. per trace) remembers converted messages and other shared
    objects by identity, so a conversation passed from node to node is converted once. With ``dedup``, it
    also holds the trace's :class:`aitrace_core.TraceRefs`: a message goes into the record in full the first
    time the trace writes it and as a reference afterwards (between the caller's ``refs(cache).begin()`` and
    ``commit(span_id)``; outside of those, in full).
    """

    __slots__ = ("_key_cache", "_min_match", "_rx_sub", "dedup", "fast_messages", "max_depth", "redactor")

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
        self.fast_messages = not any(self._secret(k) for k in _GENAI_KEYS) and all(
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
        """``value`` with secret-looking text redacted."""
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
        """``obj`` as JSON-ready data, redacted; with the trace's ``cache``, messages shared (see above)."""
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

    def response_message(self, msg: Any, finish_reason: Any = None) -> Any:
        """A model's response message shaped in full (a new dict, never shared yet), with its finish reason:
        what ``value({**message_to_genai(msg), "finish_reason": str(reason)}, None, 1)`` gives."""
        if self.fast_messages:
            shaped = self._message(msg, 0)
            if finish_reason:
                shaped["finish_reason"] = self._leaf(str(finish_reason), 2)
            return shaped
        genai = message_to_genai(msg)
        if finish_reason:
            genai["finish_reason"] = str(finish_reason)
        return self.value(genai, None, 1)

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
        if not self.fast_messages or depth + 6 > self.max_depth:
            return self.value(message_to_genai(msg), None, depth + 1)
        leaf = self._leaf
        d2, d3, d4 = depth + 2, depth + 3, depth + 4
        mtype, content, tool_calls, tool_call_id, status, name, role = message_fields(msg)
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
                for part in content_parts(content):
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
