"""The span tree of a trace without its records, and one span's records on demand (big traces)."""

from __future__ import annotations

import json
from typing import Any

from aitrace_viewer.store import parse_ts
from conftest import TRACE, ingest, rec
from test_srv_api import LLM, ROOT, TOOL, agent_trace


def tree_spans(client: Any, trace: str = TRACE) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    response = client.get(f"/api/traces/{trace}/tree")
    assert response.status_code == 200, response.text
    body = response.json()
    return body, [dict(zip(body["columns"], span, strict=True)) for span in body["spans"]]


def test_the_tree_has_every_span_and_none_of_the_records(client: Any) -> None:
    records = agent_trace()
    ingest(client, records)
    response = client.get(f"/api/traces/{TRACE}/tree")
    # (the summary shows the run's input in short, as the list does: the spans hold nothing of the records)
    spans_text = json.dumps(response.json()["spans"])
    assert "weather in Lisbon" not in spans_text  # an input: records are not in the tree
    assert "tool says hi" not in spans_text  # a log line's event neither
    body, spans = tree_spans(client)
    assert "records" not in body
    assert body["summary"]["span_count"] == 3
    by_id = {s["span_id"]: s for s in spans}
    assert set(by_id) == {r["span_id"] for r in records}
    ids = [s["span_id"] for s in spans]
    assert by_id[ROOT]["parent"] is None
    assert by_id[LLM]["parent"] == ids.index(ROOT)
    assert by_id[TOOL]["parent"] == ids.index(ROOT)
    assert (by_id[ROOT]["name"], by_id[ROOT]["kind"], by_id[ROOT]["status"]) == ("LangGraph", "graph", "ok")
    assert by_id[TOOL]["log_count"] == 1
    assert by_id[TOOL]["record_count"] == 3
    assert by_id[LLM]["total_tokens"] == 17
    assert by_id[LLM]["model"] == "fake-chat-1-2026"
    t0 = parse_ts(records[0]["timestamp"])
    tool_start = next(r for r in records if r["span_id"] == TOOL and r["event"] == "span_start")
    assert body["t0_us"] + by_id[TOOL]["start_us"] == parse_ts(tool_start["timestamp"])
    assert by_id[ROOT]["start_us"] == 0
    assert body["t0_us"] == t0
    assert by_id[ROOT]["duration_ms"] == 300.0


def test_a_running_span_in_the_tree_has_no_end(client: Any) -> None:
    ingest(client, agent_trace()[:-1])
    body, spans = tree_spans(client)
    root = next(s for s in spans if s["span_id"] == ROOT)
    assert (root["status"], root["end_us"], root["duration_ms"]) == ("running", None, None)
    assert body["summary"]["status"] == "running"


def test_a_spans_records_come_on_demand(client: Any) -> None:
    records = agent_trace()
    ingest(client, records)
    response = client.get(f"/api/traces/{TRACE}/spans/{TOOL}/records")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["records"] == [r for r in records if r["span_id"] == TOOL]
    assert body["more"] is False

    # capped: the first records and the end record, and it says some were left out
    first = client.get(f"/api/traces/{TRACE}/spans/{TOOL}/records", params={"limit": 1}).json()
    assert [r["event"] for r in first["records"]] == ["span_start", "span_end"]
    assert first["more"] is True

    missing = client.get(f"/api/traces/{TRACE}/spans/{'ab' * 8}/records")
    assert missing.status_code == 404
    assert missing.json()["error"] == "no such span in this trace"
    assert client.get(f"/api/traces/{TRACE}/spans/NOT-HEX/records").status_code == 400
    assert client.get(f"/api/traces/{'0' * 31}x/tree").status_code == 400
    assert client.get(f"/api/traces/{'ab' * 16}/tree").status_code == 404


def test_a_big_tree_is_sent_compressed(client: Any) -> None:
    records = [rec("span_start", "00f067aa0ba90000", "00.000001", seq=0, span_name="root", span_kind="graph")]
    for i in range(1, 3000):
        records.append(
            rec(
                "span_start",
                f"{i:016x}",
                f"00.{i:06d}",
                parent="00f067aa0ba90000",
                seq=i,
                span_name=f"step-{i}",
                span_kind="node",
            )
        )
    ingest(client, records)
    raw = client.get(f"/api/traces/{TRACE}/tree", headers={"accept-encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert int(raw.headers["content-length"]) * 3 < len(raw.content)  # httpx decoded it
    spans = json.loads(raw.content)["spans"]
    assert len(spans) == 3000
    plain = client.get(f"/api/traces/{TRACE}/tree", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert json.loads(plain.content)["spans"] == spans


def test_the_records_route_resolves_references_through_its_hook(client: Any, monkeypatch: Any) -> None:
    """The hook the message de-duplication plugs into: a record's ``{"$ref", "$span"}`` is resolved by reading
    the named span's records (here with a stand-in resolver; the real one comes with the record format)."""
    from aitrace_viewer.api import _routes

    message = {"role": "user", "content": "weather in Lisbon?"}
    records = agent_trace()
    records[0]["input"] = {"messages": [{**message, "$id": "m1"}]}
    records[1]["gen_ai.input.messages"] = [{"$ref": "m1", "$span": ROOT}]
    ingest(client, records)
    asked: list[str] = []

    def resolve(recs: list[dict[str, Any]], read: Any) -> list[dict[str, Any]]:
        def walk(value: Any) -> Any:
            if isinstance(value, dict) and "$ref" in value:
                asked.append(value["$span"])
                for other in read(value["$span"]):
                    for held in other.get("input", {}).get("messages", []):
                        if held.get("$id") == value["$ref"]:
                            return {k: v for k, v in held.items() if k != "$id"}
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v) for v in value]
            return value

        return [walk(r) for r in recs]

    monkeypatch.setattr(_routes, "span_refs_resolver", resolve)
    got = client.get(f"/api/traces/{TRACE}/spans/{LLM}/records").json()["records"]
    assert got[0]["gen_ai.input.messages"] == [message]
    assert asked == [ROOT]
    # records without references go out as stored, without the resolver
    asked.clear()
    assert client.get(f"/api/traces/{TRACE}/spans/{TOOL}/records").status_code == 200
    assert asked == []
