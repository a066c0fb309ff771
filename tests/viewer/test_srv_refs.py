"""Records written with message references come out of the server and the CLI whole (docs/schema.md)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import TRACE, ingest, rec
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from aitrace_core import resolve_refs
from aitrace_core.cli import main
from aitrace_core.testing import capture_records
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel, tool_call

ROOT = Path(__file__).resolve().parents[2]


@tool
def lookup(order_id: str) -> str:
    """Look up an order."""
    return f"Order {order_id} shipped."


def _respond(messages: list[BaseMessage]) -> AIMessage | str:
    if isinstance(messages[-1], ToolMessage):
        return "It shipped."
    return AIMessage("", tool_calls=[tool_call("lookup", {"order_id": "A-1"}, id=f"call_{len(messages)}")])


def _agent_records(dedup: bool) -> list[dict[str, Any]]:
    """The raw records of one prebuilt ReAct agent run with six earlier turns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

        agent = create_react_agent(FakeChatModel(respond=_respond), tools=[lookup])
    history: list[BaseMessage] = []
    for i in range(6):
        history += [HumanMessage(f"question {i} " * 20), AIMessage(f"answer {i} " * 30)]
    with capture_records(resolve_refs=False) as records:
        agent.invoke(
            {"messages": [*history, HumanMessage("Where is A-1?")]},
            {"callbacks": [AITraceHandler(dedup_messages=dedup)]},
        )
    return [json.loads(json.dumps(r)) for r in records.raw]


def _no_refs(text: str) -> bool:
    return '"$ref"' not in text and '"$id"' not in text


def test_export_gives_every_record_whole(client: Any) -> None:
    """The API's export (JSON, JSONL, CSV) resolves references; the trace detail keeps the records as
    ingested (the pages resolve them)."""
    raw = _agent_records(True)
    assert not _no_refs(json.dumps(raw))
    ingest(client, raw)
    trace = raw[0]["trace_id"]
    expected = resolve_refs(raw)
    as_json = client.get(f"/api/traces/{trace}/export", params={"format": "json"})
    assert _no_refs(as_json.text)
    assert sorted(map(json.dumps, as_json.json())) == sorted(map(json.dumps, expected))
    as_jsonl = client.get(f"/api/traces/{trace}/export", params={"format": "jsonl"}).text
    assert sorted(json.dumps(json.loads(line)) for line in as_jsonl.splitlines()) == sorted(
        map(json.dumps, expected)
    )
    as_csv = client.get(f"/api/traces/{trace}/export", params={"format": "csv"}).text
    assert _no_refs(as_csv)
    llm_inputs = [
        r["gen_ai.input.messages"] for r in csv.DictReader(io.StringIO(as_csv)) if r["gen_ai.input.messages"]
    ]
    assert len(json.loads(llm_inputs[-1])) == 6 * 2 + 3  # history, question, tool call, tool result
    detail = client.get(f"/api/traces/{trace}").json()
    assert not _no_refs(json.dumps(detail["records"]))  # as ingested


def test_cli_export_gives_every_record_whole(tmp_path: Path) -> None:
    raw = _agent_records(True)
    src = tmp_path / "run.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in raw), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'logs.db'}"
    assert CliRunner().invoke(main, ["import", str(src), "--db", db]).exit_code == 0
    for args in (["export", raw[0]["trace_id"], "--db", db], ["export", str(src)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert _no_refs(result.output)
        out = [json.loads(line) for line in result.output.splitlines()]
        assert sorted(map(json.dumps, out)) == sorted(map(json.dumps, resolve_refs(raw)))


_NODE_RESOLVE = """
import { readFileSync } from "node:fs";
import { resolveRefs } from "%s";
const records = readFileSync(process.argv[2], "utf8").split("\\n").filter(Boolean).map((l) => JSON.parse(l));
process.stdout.write(JSON.stringify(resolveRefs(records)));
"""


def test_the_pages_resolver_gives_what_python_gives_and_what_a_run_without_references_writes(
    tmp_path: Path,
) -> None:
    """refs.js (the pages, the no-server viewer, exported HTML) on a real run's records: the same records as
    aitrace_core.resolve_refs, and the same content as the run written without references."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    raw = _agent_records(True)
    src = tmp_path / "run.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in raw), encoding="utf-8")
    script = tmp_path / "resolve.mjs"
    script.write_text(
        _NODE_RESOLVE % (ROOT / "viewer/aitrace_viewer/static/js/refs.js").as_uri(), encoding="utf-8"
    )
    proc = subprocess.run(
        [node, str(script), str(src)], capture_output=True, text=True, timeout=60, check=True
    )
    from_js = json.loads(proc.stdout)
    assert from_js == resolve_refs(raw)
    volatile = {"timestamp", "seq", "trace_id", "span_id", "parent_span_id", "run_id", "parent_run_id"}
    volatile |= {"duration_ms", "gen_ai.response.id", "checkpoint_ns"}

    def content(records: list[dict[str, Any]]) -> list[str]:
        # JSON from JavaScript writes 0.0 as 0: compare numbers as numbers
        def norm(v: Any) -> Any:
            if isinstance(v, float) and v.is_integer():
                return int(v)
            if isinstance(v, dict):
                return {k: norm(x) for k, x in v.items()}
            return [norm(x) for x in v] if isinstance(v, list) else v

        return sorted(
            json.dumps(norm({k: v for k, v in r.items() if k not in volatile}), sort_keys=True)
            for r in records
        )

    assert content(from_js) == content(_agent_records(False))


def test_version_1_records_still_load_and_export_unchanged(client: Any) -> None:
    """A version 1 batch (no references; header ``X-Aitrace-Schema: 1``) is accepted as before, and
    exported exactly as ingested, JSON Schema ``$ref`` / ``$id`` strings in a user's field included."""
    schema_like = {"$ref": "#/$defs/Order", "$defs": {"Order": {"$id": "order", "type": "object"}}}
    span = "1" * 16
    old = [
        rec("span_start", span, "00.000100", seq=0, span_name="s", span_kind="chain", input=schema_like),
        rec(
            "span_end",
            span,
            "00.000900",
            seq=1,
            span_name="s",
            span_kind="chain",
            duration_ms=0.8,
            status="ok",
        ),
    ]
    assert ingest(client, old, **{"x-aitrace-schema": "1"}).status_code == 200
    assert client.get(f"/api/traces/{TRACE}/export", params={"format": "json"}).json() == old


def test_one_spans_records_come_whole_from_the_big_trace_route(client: Any) -> None:
    """A big trace's page loads a span's records on demand: its message references are resolved on the
    server from the spans they name, as if the run had been written without references."""
    raw = _agent_records(True)
    ingest(client, raw)
    trace = raw[0]["trace_id"]
    whole = resolve_refs(raw)
    referring = {r["span_id"] for r in raw if '"$ref"' in json.dumps(r)}
    assert referring  # the run did write references
    for span in referring:
        answer = client.get(f"/api/traces/{trace}/spans/{span}/records")
        assert answer.status_code == 200
        got = answer.json()["records"]
        assert _no_refs(json.dumps(got))
        assert sorted(map(json.dumps, got)) == sorted(
            json.dumps(r) for r in whole if r["span_id"] == span
        )
