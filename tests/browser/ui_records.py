"""Records for the viewer's browser tests, benchmark and screenshots: big traces and hostile ones.

Built as plain dicts in the record format of docs/schema.md, so a test controls every field.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

__all__ = ["BIG_TRACE", "XSS", "agent_loop_trace", "big_trace", "hex_id", "llm_agent_trace", "xss_trace"]

BIG_TRACE = "00000010" + "cd" * 12
_BASE = dt.datetime(2026, 11, 24, 12, 0, 0, tzinfo=dt.timezone.utc)


def hex_id(n: int, seed: int) -> str:
    return f"{seed:0{n}x}"[-n:] if seed else "1".rjust(n, "0")


def _ts(ms: float) -> str:
    return (_BASE + dt.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Builder:
    def __init__(self, trace_id: str, service: str = "demo", t0_ms: float = 0.0) -> None:
        self.trace_id = trace_id
        self.service = service
        self.records: list[dict[str, Any]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self.t0 = t0_ms

    def new_span_id(self) -> str:
        return f"{next(self._ids):08x}{self.trace_id[-8:]}"

    def _base(
        self, span_id: str, parent: str | None, event: str, t: float, level: str = "info"
    ) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "timestamp": _ts(self.t0 + t),
            "level": level,
            "event": event,
            "logger": "tests",
            "service": self.service,
            "trace_id": self.trace_id,
            "span_id": span_id,
            "seq": next(self._seq),
        }
        if parent:
            rec["parent_span_id"] = parent
        return rec

    def start(self, span_id: str, parent: str | None, name: str, kind: str, t: float, **fields: Any) -> None:
        self.records.append(
            {**self._base(span_id, parent, "span_start", t), "span_name": name, "span_kind": kind, **fields}
        )

    def end(
        self,
        span_id: str,
        parent: str | None,
        name: str,
        kind: str,
        t0: float,
        t1: float,
        status: str = "ok",
        **fields: Any,
    ) -> None:
        self.records.append(
            {
                **self._base(span_id, parent, "span_end", t1, "error" if status == "error" else "info"),
                "span_name": name,
                "span_kind": kind,
                "duration_ms": round(t1 - t0, 3),
                "status": status,
                **fields,
            }
        )

    def log(
        self, span_id: str, parent: str | None, event: str, t: float, level: str = "info", **fields: Any
    ) -> None:
        self.records.append({**self._base(span_id, parent, event, t, level), **fields})


def big_trace(n_spans: int, *, seed: int = 1, trace_id: str | None = None) -> list[dict[str, Any]]:
    """A trace of ``n_spans`` spans: a graph of nodes, each with chains, LLM calls, tools and log lines."""
    rnd = random.Random(seed)
    b = _Builder(trace_id or f"{seed:08x}" + "ab" * 12)
    root = b.new_span_id()
    b.start(root, None, "BigGraph", "graph", 0.0, input={"messages": [{"role": "user", "content": "go"}]})
    made = 1
    t = 1.0
    stack: list[tuple[str, int]] = [(root, 0)]
    open_spans: list[tuple[str, str | None, str, str, float]] = []
    while made < n_spans:
        parent, depth = stack[-1]
        if depth >= 6 or (depth > 1 and rnd.random() < 0.35):
            stack.pop()
            sid, par, name, kind, st = open_spans.pop()
            t += 0.2
            b.end(sid, par, name, kind, st, t)
            continue
        kind = ["node", "chain", "chat_model", "tool", "retriever", "function"][
            min(depth, 5) if rnd.random() < 0.5 else rnd.randrange(6)
        ]
        sid = b.new_span_id()
        name = f"{kind}-{made}"
        t += 0.3
        fields: dict[str, Any] = {"input": {"i": made}}
        if kind == "chat_model":
            fields["gen_ai.request.model"] = "fake-model"
        b.start(sid, parent, name, kind, t, **fields)
        if rnd.random() < 0.3:
            b.log(sid, parent, f"working on {made}", t + 0.05, step=made)
        made += 1
        stack.append((sid, depth + 1))
        open_spans.append((sid, parent, name, kind, t))
    while open_spans:
        sid, par, name, kind, st = open_spans.pop()
        t += 0.2
        b.end(sid, par, name, kind, st, t)
    b.end(root, None, "BigGraph", "graph", 0.0, t + 0.1)
    return b.records


def agent_loop_trace(n_spans: int, *, trace_id: str) -> list[dict[str, Any]]:
    """A LangGraph agent that looped for ``n_spans`` spans, six a turn: the graph holds one ``agent`` node (a
    chain, a model call under it) and one ``tools`` node (a tool, a helper function under it) per turn, so the
    root is wide and every turn a small subtree, like a long ReAct loop."""
    b = _Builder(trace_id, service="loop-agent")
    root = b.new_span_id()
    b.start(root, None, "LangGraph", "graph", 0.0, input={"messages": [{"role": "user", "content": "go"}]})
    t = 1.0
    made, turn = 1, 0
    while made + 6 <= n_spans:
        turn += 1
        call_id = f"call_{turn}"
        agent, chain, llm = b.new_span_id(), b.new_span_id(), b.new_span_id()
        b.start(agent, root, "agent", "node", t, langgraph_node="agent", langgraph_step=2 * turn - 1)
        b.start(chain, agent, "RunnableSequence", "chain", t + 0.1)
        b.start(llm, chain, "FakeChatModel", "chat_model", t + 0.2, **{"gen_ai.request.model": "fake-model"})
        out = [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": call_id, "name": "lookup", "arguments": {"n": turn}}],
            }
        ]
        b.end(
            llm,
            chain,
            "FakeChatModel",
            "chat_model",
            t + 0.2,
            t + 0.9,
            **{
                "gen_ai.output.messages": out,
                "gen_ai.usage.input_tokens": 20 + turn % 7,
                "gen_ai.usage.output_tokens": 5,
            },
        )
        b.end(chain, agent, "RunnableSequence", "chain", t + 0.1, t + 0.95)
        b.end(agent, root, "agent", "node", t, t + 1.0)
        tools, tool, helper = b.new_span_id(), b.new_span_id(), b.new_span_id()
        b.start(tools, root, "tools", "node", t + 1.1, langgraph_node="tools", langgraph_step=2 * turn)
        b.start(
            tool,
            tools,
            f"lookup-{turn}",
            "tool",
            t + 1.2,
            **{"gen_ai.tool.call.id": call_id, "input": {"n": turn}},
        )
        b.start(helper, tool, "fetch", "function", t + 1.3)
        if turn % 3 == 0:
            b.log(helper, tool, f"fetched page {turn}", t + 1.35, page=turn)
        b.end(helper, tool, "fetch", "function", t + 1.3, t + 1.4)
        b.end(tool, tools, f"lookup-{turn}", "tool", t + 1.2, t + 1.5, output=f"result {turn}")
        b.end(tools, root, "tools", "node", t + 1.1, t + 1.6)
        made += 6
        t += 2.0
    b.end(root, None, "LangGraph", "graph", 0.0, t)
    return b.records


def llm_agent_trace(
    trace_id: str = "4bf92f3577b34da6a3ce929d0e0e4736",
    *,
    thread_id: str = "thread-1",
    question: str = "What is the weather in Paris?",
    t0_ms: float = 0.0,
) -> list[dict[str, Any]]:
    """A small LangGraph-style agent: model asks for a tool, the tool answers, the model replies."""
    b = _Builder(trace_id, service="weather-agent", t0_ms=t0_ms)
    lg = {"thread_id": thread_id}
    root = b.new_span_id()
    b.start(
        root, None, "LangGraph", "graph", 0, input={"messages": [{"role": "user", "content": question}]}, **lg
    )
    node1 = b.new_span_id()
    b.start(node1, root, "agent", "node", 1, langgraph_node="agent", langgraph_step=1, **lg)
    b.log(node1, root, "choosing a tool", 1.5, city="Paris")
    llm1 = b.new_span_id()
    sys_msg = "You are a helpful weather assistant."
    b.start(
        llm1,
        node1,
        "FakeChatModel",
        "chat_model",
        2,
        **{
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.max_tokens": 256,
            "gen_ai.system_instructions": sys_msg,
            "gen_ai.input.messages": [
                {"role": "system", "content": sys_msg},
                {"role": "user", "content": question},
            ],
        },
    )
    b.end(
        llm1,
        node1,
        "FakeChatModel",
        "chat_model",
        2,
        40,
        **{
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.response.finish_reasons": ["tool_calls"],
            "gen_ai.output.messages": [
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "call_weather_1",
                            "name": "get_weather",
                            "arguments": {"city": "Paris", "unit": "celsius"},
                        }
                    ],
                }
            ],
            "gen_ai.usage.input_tokens": 312,
            "gen_ai.usage.output_tokens": 18,
            "gen_ai.usage.total_tokens": 330,
            "gen_ai.usage.cache_read.input_tokens": 128,
            "gen_ai.usage.cost_usd": 0.0000576,
            "gen_ai.server.time_to_first_token_ms": 21.5,
        },
    )
    b.end(node1, root, "agent", "node", 1, 41, langgraph_node="agent", **lg)
    node2 = b.new_span_id()
    b.start(node2, root, "tools", "node", 42, langgraph_node="tools", langgraph_step=2, **lg)
    tool = b.new_span_id()
    b.start(
        tool,
        node2,
        "get_weather",
        "tool",
        43,
        input={"city": "Paris", "unit": "celsius"},
        **{"gen_ai.tool.name": "get_weather", "gen_ai.tool.call.id": "call_weather_1"},
    )
    b.log(tool, node2, "calling weather service", 44, url="https://weather.example/paris")
    ret = b.new_span_id()
    b.start(ret, tool, "forecast-docs", "retriever", 45, input="Paris weather")
    b.end(
        ret,
        tool,
        "forecast-docs",
        "retriever",
        45,
        50,
        **{
            "retrieval.documents": [
                {
                    "content": "Paris: 18°C, light rain in the afternoon.",
                    "metadata": {"source": "meteo.fr", "score": 0.92},
                },
                {
                    "content": "Île-de-France weekly outlook.",
                    "metadata": {"source": "weather.example", "score": 0.71},
                },
            ]
        },
    )
    b.end(
        tool,
        node2,
        "get_weather",
        "tool",
        43,
        60,
        output="18°C and light rain",
        **{"gen_ai.tool.name": "get_weather", "gen_ai.tool.call.id": "call_weather_1"},
    )
    b.end(node2, root, "tools", "node", 42, 61, langgraph_node="tools", **lg)
    node3 = b.new_span_id()
    b.start(node3, root, "agent", "node", 62, langgraph_node="agent", langgraph_step=3, **lg)
    llm2 = b.new_span_id()
    b.start(
        llm2,
        node3,
        "FakeChatModel",
        "chat_model",
        63,
        **{
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.provider.name": "openai",
            "gen_ai.input.messages": [
                {"role": "system", "content": sys_msg},
                {"role": "user", "content": question},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "call_weather_1",
                            "name": "get_weather",
                            "arguments": {"city": "Paris", "unit": "celsius"},
                        }
                    ],
                },
                {"role": "tool", "content": "18°C and light rain", "tool_call_id": "call_weather_1"},
            ],
        },
    )
    b.end(
        llm2,
        node3,
        "FakeChatModel",
        "chat_model",
        63,
        95,
        **{
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.output.messages": [
                {"role": "assistant", "content": "It is 18°C in Paris with light rain — take an umbrella."}
            ],
            "gen_ai.usage.input_tokens": 361,
            "gen_ai.usage.output_tokens": 14,
            "gen_ai.usage.total_tokens": 375,
            "gen_ai.usage.cost_usd": 0.0000626,
            "gen_ai.server.time_to_first_token_ms": 12.0,
        },
    )
    b.end(node3, root, "agent", "node", 62, 96, langgraph_node="agent", **lg)
    b.end(
        root,
        None,
        "LangGraph",
        "graph",
        0,
        97,
        output={
            "messages": [
                {"role": "assistant", "content": "It is 18°C in Paris with light rain — take an umbrella."}
            ]
        },
        **lg,
    )
    return b.records


XSS = [
    "<script>window.__xss=1;alert(1)</script>",
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "javascript:alert(1)",
    "<svg onload=alert(1)>",
    '"><iframe src="https://evil.example/"></iframe>',
]


def xss_trace(trace_id: str = "deadbeef" * 4) -> list[dict[str, Any]]:
    """Payloads in names, keys, values, messages, tool calls, errors and thread ids, plus __proto__ keys."""
    b = _Builder(trace_id, service="<b>svc</b>")
    root = b.new_span_id()
    evil = " | ".join(XSS)
    b.start(
        root,
        None,
        XSS[0],
        "graph",
        0,
        input={
            XSS[1]: XSS[2],
            "__proto__": {"polluted": True},
            "constructor": {"prototype": {"polluted": True}},
        },
        thread_id=XSS[2],
        **{"__proto__": {"polluted": True}, XSS[3]: "key is a payload"},
    )
    llm = b.new_span_id()
    b.start(
        llm,
        root,
        XSS[1],
        "chat_model",
        1,
        **{
            "gen_ai.request.model": XSS[0],
            "gen_ai.input.messages": [
                {"role": XSS[1], "content": evil},
                {"role": "user", "content": [{"type": "text", "text": XSS[4]}]},
            ],
        },
    )
    b.log(llm, root, XSS[4], 2, link=XSS[2], href=XSS[2], **{"url": "javascript:alert(document.domain)"})
    b.end(
        llm,
        root,
        XSS[1],
        "chat_model",
        1,
        5,
        status="error",
        **{
            "gen_ai.output.messages": [
                {
                    "role": "assistant",
                    "content": XSS[0],
                    "tool_calls": [
                        {"id": XSS[2], "name": XSS[1], "arguments": '{"q": "<img src=x onerror=alert(1)>"}'}
                    ],
                }
            ],
            "error.type": XSS[3],
            "error.message": evil,
            "error.stacktrace": evil + "\n" + evil,
            "retrieval.documents": [{"content": XSS[1], "metadata": {XSS[0]: XSS[2]}}],
        },
    )
    b.end(root, None, XSS[0], "graph", 0, 6, output=evil, thread_id=XSS[2])
    return b.records
