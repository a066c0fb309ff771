"""`aitrace mcp` driven by the MCP SDK's own client (stdio, HTTP) over a store of real LangGraph runs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aitrace_viewer.api import parse_batch
from aitrace_viewer.store import Store
from conftest import free_port, wait_for
from history_agent import react_agent
from langchain_core.messages import HumanMessage
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from server_process import LoggedProcess

from aitrace_core.testing import capture_records
from aitrace_demo._graphs import build_failing_graph
from aitrace_langchain import AITraceHandler

HEX32 = re.compile(r"\b[0-9a-f]{32}\b")


def _runs() -> list[dict[str, Any]]:
    """Two turns of a ReAct agent on thread "support-7" and one checkout graph whose node raises."""
    agent = react_agent()
    with capture_records() as records:
        config: dict[str, Any] = {"callbacks": [AITraceHandler()], "configurable": {"thread_id": "support-7"}}
        agent.invoke({"messages": [HumanMessage("where is my order A-1?")]}, config=config)
        agent.invoke({"messages": [HumanMessage("and the weather in Oslo?")]}, config=config)
        with pytest.raises(ConnectionError):
            build_failing_graph().invoke(
                {"order_id": "o-17", "total": 0.0}, config={"callbacks": [AITraceHandler()]}
            )
    return list(records.raw)


@pytest.fixture(scope="module")
def runs() -> list[dict[str, Any]]:
    return _runs()


@pytest.fixture
def filled_db(tmp_path: Path, runs: list[dict[str, Any]]) -> str:
    url = f"sqlite:///{tmp_path / 'traces.db'}"
    store = Store(url)
    try:
        body = "".join(json.dumps(r) + "\n" for r in runs).encode()
        records, raws = parse_batch(body, 1_000_000)
        store.ingest(records, raws)
    finally:
        store.close()
    return url


def _stdio(*args: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "PATH")}
    return StdioServerParameters(command=sys.executable, args=["-m", "aitrace_viewer", "mcp", *args], env=env)


def _text(result: Any) -> str:
    return "\n".join(part.text for part in result.content if getattr(part, "type", "") == "text")


async def _session(server: Any, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[Any]]:
    async with Client(server, read_timeout_seconds=60) as client:
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        results = [await client.call_tool(name, args) for name, args in calls]
    return tools, results


def _call(server: Any, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[Any]]:
    return asyncio.run(_session(server, calls))


def test_an_agent_finds_the_failing_run_and_reads_its_error_over_stdio(filled_db: str) -> None:
    """list_traces(errors) → get_trace → get_span: the path an agent takes from "it failed" to the stack."""
    server = _stdio("--db", filled_db)
    tools, (listed, everything) = _call(server, [("list_traces", {"errors": True}), ("list_traces", {})])
    assert tools == ["compare_traces", "get_span", "get_thread", "get_trace", "list_traces", "search"]
    assert not listed.is_error
    failing = HEX32.findall(_text(listed))
    assert len(failing) == 1, _text(listed)
    assert "'checkout'" in _text(listed)
    assert len(HEX32.findall(_text(everything))) == 3
    assert "where is my order A-1?" in _text(everything)  # the input preview

    _, (outline,) = _call(server, [("get_trace", {"trace_id": failing[0]})])
    text = _text(outline)
    assert "charge_card" in text
    assert "load_order" in text
    assert "ConnectionError" in text
    assert "payment provider unreachable after 3 attempts" in text
    node = re.search(r"'charge_card' \[([0-9a-f]{16})\]", text)
    assert node, text

    _, (span,) = _call(server, [("get_span", {"trace_id": failing[0], "span_id": node.group(1)})])
    detail = _text(span)
    assert "stack trace:" in detail
    assert "raise ConnectionError" in detail
    assert "payment provider slow" in detail  # the log line the node wrote before failing


def test_thread_search_and_message_references(filled_db: str) -> None:
    """A conversation's two turns in order with the user's words and the answers; search names the trace and
    span; an LLM span's messages come out whole although the store keeps them written once per trace."""
    server = _stdio("--db", filled_db)
    _, (thread, hits) = _call(
        server, [("get_thread", {"thread_id": "support-7"}), ("search", {"query": "Oslo degrees"})]
    )
    turns = _text(thread)
    assert turns.index("where is my order A-1?") < turns.index("and the weather in Oslo?")
    assert turns.count("Your order shipped on Monday; 18 degrees in Oslo.") == 2
    found = _text(hits)
    hit = re.search(r"([0-9a-f]{32})  ([0-9a-f]{16})", found)
    assert hit, found

    _, (outline,) = _call(server, [("get_trace", {"trace_id": hit.group(1)})])
    llm = re.findall(r"- llm 'chat fake-chat-1' \[([0-9a-f]{16})\]", _text(outline))
    assert len(llm) == 2
    _, (span,) = _call(server, [("get_span", {"trace_id": hit.group(1), "span_id": llm[-1]})])
    detail = _text(span)
    assert "message not found" not in detail
    assert "user: " in detail
    assert "lookup_weather" in detail
    assert "tool(lookup_order): ← Order A-1" in detail


def test_bad_arguments_are_tool_errors_that_say_what_is_accepted(filled_db: str) -> None:
    server = _stdio("--db", filled_db)
    _, results = _call(
        server,
        [
            ("get_trace", {"trace_id": "not-an-id"}),
            ("get_trace", {"trace_id": "ab" * 16}),
            ("list_traces", {"limit": 10**9}),
            ("get_span", {"trace_id": "ab" * 16, "span_id": "cd" * 8}),
            ("list_traces", {"since": "yesterday"}),
            ("list_traces", {"limit": 2}),  # and the server still answers after them
        ],
    )
    messages = [_text(r) for r in results]
    assert [r.is_error for r in results] == [True, True, True, True, True, False]
    assert "32 lowercase hex" in messages[0]
    assert "no trace abab" in messages[1]
    assert "limit must be a whole number from 1 to 500" in messages[2]
    assert "no span cdcd" in messages[3]
    assert "RFC 3339" in messages[4]
    assert len(HEX32.findall(messages[5])) == 2


def test_a_big_trace_outline_stays_within_max_chars_and_says_how_to_see_the_rest(tmp_path: Path) -> None:
    """1,000 nodes with a tool span each under one graph: the outline fits the budget, shows the error deep
    inside, and tells how to get what it left out."""
    from aitrace_core import span

    with capture_records() as records, span("batch", kind="graph"):
        for i in range(1000):
            with span(f"step-{i}", kind="node"), span("lookup", kind="tool", order=i):
                pass
        with pytest.raises(KeyError), span("step-last", kind="node"), span("lookup", kind="tool"):
            raise KeyError("order 2000 missing")
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records.raw), encoding="utf-8")

    _, (listed,) = _call(_stdio("--file", str(path)), [("list_traces", {})])
    trace_id = HEX32.findall(_text(listed))[0]
    _, (small, large) = _call(
        _stdio("--file", str(path)),
        [
            ("get_trace", {"trace_id": trace_id, "max_chars": 3000}),
            ("get_trace", {"trace_id": trace_id, "max_chars": 200_000}),
        ],
    )
    outline = _text(small)
    assert len(outline) <= 3000
    assert "KeyError" in outline
    assert "'step-last'" in outline
    assert re.search(r"… \d+ span\(s\) under here not shown: get_trace\(trace_id, span_id=", outline)
    whole = _text(large)
    assert "'step-999'" in whole
    assert "not shown" not in whole
    assert whole.count("- tool 'lookup'") == 1001


class McpHttp(LoggedProcess):
    def __init__(self, db: str, token: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        args = [
            "-m",
            "aitrace_viewer",
            "mcp",
            "--http",
            "--port",
            str(self.port),
            "--db",
            db,
            "--token",
            token,
        ]
        super().__init__([sys.executable, *args], env=dict(os.environ))

        def listening() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"aitrace mcp --http exited: {self.output()}")
            try:
                httpx.get(self.url, timeout=2)
                return True
            except httpx.HTTPError:
                return False

        wait_for(listening, 60, "aitrace mcp --http to listen")


@pytest.fixture
def mcp_http(filled_db: str) -> Iterator[McpHttp]:
    server = McpHttp(filled_db, "s3cret-token")
    try:
        yield server
    finally:
        server.stop()


def test_http_refuses_a_request_without_the_token_or_from_another_origin(mcp_http: McpHttp) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    no_token = httpx.post(mcp_http.url, json=hello, headers=headers, timeout=10)
    assert no_token.status_code == 401
    wrong = httpx.post(
        mcp_http.url, json=hello, headers={**headers, "Authorization": "Bearer nope"}, timeout=10
    )
    assert wrong.status_code == 401
    drive_by = httpx.post(
        mcp_http.url,
        json=hello,
        headers={**headers, "Authorization": "Bearer s3cret-token", "Origin": "http://evil.example"},
        timeout=10,
    )
    assert drive_by.status_code == 403
    rebound = httpx.post(
        mcp_http.url,
        json=hello,
        headers={**headers, "Authorization": "Bearer s3cret-token", "Host": "evil.example"},
        timeout=10,
    )
    assert rebound.status_code == 403


def test_http_with_the_token_serves_the_tools(mcp_http: McpHttp) -> None:
    import httpx2  # the HTTP client the MCP SDK is built on
    from mcp.client.streamable_http import streamable_http_client

    async def session() -> str:
        http = httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret-token"}, timeout=30)
        async with http, Client(streamable_http_client(mcp_http.url, http_client=http)) as client:
            return _text(await client.call_tool("list_traces", {"errors": True}))

    assert len(HEX32.findall(asyncio.run(session()))) == 1


def test_docs_name_every_tool_and_argument(tmp_path: Path) -> None:
    """docs/mcp.md documents the tools the server really offers (in-process client: no subprocess)."""
    from aitrace_viewer.mcp_server import build_server

    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:

        async def listing() -> list[Any]:
            async with Client(build_server(store)) as client:
                return list((await client.list_tools()).tools)

        tools = asyncio.run(listing())
    finally:
        store.close()
    doc = (Path(__file__).resolve().parents[2] / "docs" / "mcp.md").read_text("utf-8")
    sections = dict(re.findall(r"^### `(\w+)`\n(.*?)(?=^#)", doc + "\n#", re.S | re.M))
    assert set(sections) == {tool.name for tool in tools}, "docs/mcp.md has a section per tool"
    missing = [
        f"{tool.name}({arg})"
        for tool in tools
        for arg in tool.input_schema.get("properties", {})
        if not re.search(rf"^\| (`\w+`, )*`{arg}`", sections[tool.name], re.M)
    ]
    assert len(tools) == 6
    assert not missing, f"docs/mcp.md does not document {missing}"


def test_compare_traces_says_where_two_turns_diverged(filled_db: str) -> None:
    """The two turns of the thread differ in the user's question: the comparison names a first divergence and
    shows the new words; a run compared with itself matches; an unknown id is a tool error, not a crash."""
    from aitrace_viewer.mcp_server import build_server

    store = Store(filled_db)
    try:
        server = build_server(store)
        _, (thread,) = _call(server, [("get_thread", {"thread_id": "support-7"})])
        first, second = list(dict.fromkeys(HEX32.findall(_text(thread))))
        unknown = "f" * 32
        _, (diff, same, missing) = _call(
            server,
            [
                ("compare_traces", {"trace_a": first, "trace_b": second}),
                ("compare_traces", {"trace_a": first, "trace_b": first}),
                ("compare_traces", {"trace_a": first, "trace_b": unknown}),
            ],
        )
    finally:
        store.close()
    text = _text(diff)
    assert not diff.is_error, text
    assert f"A  {first}" in text
    assert f"B  {second}" in text
    assert "first divergence: #" in text
    assert "Oslo" in text  # the second turn's new question, in a word diff
    assert "the runs match" in _text(same)
    assert missing.is_error
    assert f"no trace {unknown}" in _text(missing)
