"""``aitrace export --otlp URL SOURCE``: a stored trace or a .jsonl file sent to an OTLP/HTTP receiver."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from history_agent import history, react_agent
from langchain_core.messages import HumanMessage
from otlp_receiver import Receiver

import aitrace_core
from aitrace_core.cli import main
from aitrace_langchain import AITraceHandler


def _agent_run(path: Path) -> list[dict[str, Any]]:
    """A ReAct agent's run with history, written to ``path`` the way an application writes it."""
    aitrace_core.configure(service_name="shop", target=str(path))
    react_agent().invoke(
        {"messages": [*history(2, seed=5), HumanMessage("and my refund?")]},
        config={"callbacks": [AITraceHandler()]},
    )
    assert aitrace_core.flush(10)
    aitrace_core.shutdown()
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _check(receiver: Receiver, records: list[dict[str, Any]]) -> None:
    ends = {r["span_id"]: r.get("parent_span_id") for r in records if r["event"] == "span_end"}
    assert receiver.wait_for(lambda r: len(r.spans) == len(ends))
    assert {s["span_id"]: s["parent_span_id"] or None for s in receiver.spans} == ends
    chats = [s for s in receiver.spans if s["attributes"].get("gen_ai.operation.name") == "chat"]
    assert len(chats) == 2
    for chat in chats:  # the records refer to earlier messages; what is sent has every one in full
        messages = json.loads(chat["attributes"]["gen_ai.input.messages"])
        assert messages[-1]["role"] in ("user", "tool")
        assert all("$ref" not in m and "$id" not in m for m in messages)
        assert len(messages) >= 5


def test_export_otlp_sends_a_jsonl_file(tmp_path: Path) -> None:
    records = _agent_run(tmp_path / "run.jsonl")
    assert any("$ref" in json.dumps(r) for r in records)  # the file really holds references
    with Receiver() as receiver:
        result = CliRunner().invoke(main, ["export", "--otlp", receiver.url, str(tmp_path / "run.jsonl")])
        assert result.exit_code == 0, result.output
        _check(receiver, records)
    assert f"to {receiver.url}" in result.output


def test_export_otlp_sends_a_stored_trace(tmp_path: Path, db_url: str) -> None:
    records = _agent_run(tmp_path / "run.jsonl")
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(tmp_path / "run.jsonl"), "--db", db_url]).exit_code == 0
    [trace_id] = {r["trace_id"] for r in records}
    with Receiver() as receiver:
        result = runner.invoke(main, ["export", "--otlp", receiver.url, trace_id, "--db", db_url])
        assert result.exit_code == 0, result.output
        _check(receiver, records)


def test_export_otlp_to_a_receiver_that_is_down_says_so(tmp_path: Path) -> None:
    records = _agent_run(tmp_path / "run.jsonl")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(main, ["export", "--otlp", url, str(tmp_path / "run.jsonl")])
    assert result.exit_code == 1
    assert f"127.0.0.1:{port}/v1/traces did not take spans 1-" in result.output
    assert "connection refused" in result.output
    assert records
    bad = CliRunner().invoke(main, ["export", "--otlp", "127.0.0.1:4318", str(tmp_path / "run.jsonl")])
    assert bad.exit_code == 2
    assert "http(s) URL" in bad.output
