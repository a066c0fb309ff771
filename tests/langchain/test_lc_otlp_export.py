"""configure(otlp_endpoint=...): a LangGraph run reaches an OTLP/HTTP receiver as GenAI spans and logs."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import structlog
from history_agent import history, react_agent
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from otlp_receiver import Receiver

import aitrace_core
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel, tool_call


def _file_spans(path: Path) -> dict[str, str | None]:
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    return {r["span_id"]: r.get("parent_span_id") for r in records if r["event"] == "span_end"}


def test_a_react_agent_run_arrives_with_its_tree_genai_attributes_and_messages(tmp_path: Path) -> None:
    target = tmp_path / "beside.jsonl"
    with Receiver() as receiver:
        aitrace_core.configure(service_name="shop", target=str(target), otlp_endpoint=receiver.url)
        question = "where is my order A-1?"
        react_agent().invoke(
            {"messages": [*history(2, seed=3), HumanMessage(question)]},
            config={"callbacks": [AITraceHandler()]},
        )
        assert aitrace_core.flush(10)
        expected = _file_spans(target)  # the aitrace target keeps working beside the export
        assert receiver.wait_for(lambda r: len(r.spans) >= len(expected))
        spans = receiver.spans

    # The tree: the same spans, parents and trace as aitrace's own records.
    assert {s["span_id"]: s["parent_span_id"] or None for s in spans} == expected
    assert len({s["trace_id"] for s in spans}) == 1
    assert {s["resource"]["service.name"] for s in spans} == {"shop"}

    chats = sorted((s for s in spans if s["attributes"].get("gen_ai.operation.name") == "chat"),
                   key=lambda s: s["start"])
    assert [c["name"] for c in chats] == ["chat fake-chat-1", "chat fake-chat-1"]
    first, second = chats
    assert first["kind"] == 3  # SPAN_KIND_CLIENT, as the conventions say for a model call
    assert first["attributes"]["gen_ai.request.model"] == "fake-chat-1"
    assert first["attributes"]["gen_ai.usage.input_tokens"] > 0
    assert first["attributes"]["gen_ai.usage.output_tokens"] > 0
    asked = json.loads(first["attributes"]["gen_ai.input.messages"])
    assert asked[-1] == {"role": "user", "parts": [{"type": "text", "content": question}]}
    answered = json.loads(first["attributes"]["gen_ai.output.messages"])
    assert [p["name"] for p in answered[0]["parts"] if p["type"] == "tool_call"] == [
        "lookup_order", "lookup_weather",
    ]
    # The second call's conversation repeats the history: in the records those messages are references to
    # the first call's span; the receiver gets every message in full.
    again = json.loads(second["attributes"]["gen_ai.input.messages"])
    assert again[: len(asked)] == asked
    assert "$ref" not in second["attributes"]["gen_ai.input.messages"]
    assert any(
        part.get("response") == "Order A-1: shipped on Monday." or "shipped on Monday" in json.dumps(part)
        for message in again if message["role"] == "tool" for part in message["parts"]
    )

    tools = {s["attributes"]["gen_ai.tool.name"]: s for s in spans
             if s["attributes"].get("gen_ai.operation.name") == "execute_tool"}
    assert set(tools) == {"lookup_order", "lookup_weather"}
    order = tools["lookup_order"]
    assert order["name"] == "execute_tool lookup_order"
    assert json.loads(order["attributes"]["gen_ai.tool.call.arguments"]) == {"order_id": "A-1"}
    assert "shipped on Monday" in order["attributes"]["gen_ai.tool.call.result"]
    call_ids = {p["id"] for p in answered[0]["parts"] if p["type"] == "tool_call"}
    assert {t["attributes"]["gen_ai.tool.call.id"] for t in tools.values()} == call_ids


@tool
def refund(order_id: str) -> str:
    """Refund an order."""
    structlog.get_logger("shop.refunds").warning("refund requested", order_id=order_id)
    return "refunded"


def test_log_lines_written_in_a_tool_arrive_as_otlp_logs_under_its_span(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

        model = FakeChatModel(responses=[_tool_message("refund", {"order_id": "B-7"}), "Done."])
        agent = create_react_agent(model, tools=[refund])
    with Receiver() as receiver:
        aitrace_core.configure(service_name="shop", target="none", otlp_endpoint=receiver.url)
        agent.invoke(
            {"messages": [HumanMessage("refund B-7")]}, config={"callbacks": [AITraceHandler()]}
        )
        assert aitrace_core.flush(10)
        assert receiver.wait_for(lambda r: bool(r.logs) and any(
            s["attributes"].get("gen_ai.tool.name") == "refund" for s in r.spans))
        logs, spans = receiver.logs, receiver.spans
    [line] = [entry for entry in logs if entry["body"] == "refund requested"]
    [span] = [s for s in spans if s["attributes"].get("gen_ai.tool.name") == "refund"]
    assert (line["trace_id"], line["span_id"]) == (span["trace_id"], span["span_id"])
    assert line["severity"] == "WARNING"
    assert line["attributes"]["order_id"] == "B-7"
    assert line["resource"]["service.name"] == "shop"
    # target="none": nothing went to the default file
    assert not list((Path.home() / "logs").rglob("*.jsonl"))


def _tool_message(name: str, args: dict[str, Any]) -> Any:
    from langchain_core.messages import AIMessage

    return AIMessage("", tool_calls=[tool_call(name, args, id="call_1")])
