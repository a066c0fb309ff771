"""``GET /api/traces/{id}/find``: the spans of one trace found by their names, log lines and values."""

from __future__ import annotations

from typing import Any

from conftest import TRACE, ingest, rec

ROOT, NODE, TOOL = "a" * 16, "b" * 16, "c" * 16
OTHER = "ef" * 16


def _trace() -> list[dict[str, Any]]:
    msg = {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris? \u2603"}]}
    return [
        rec(
            "span_start",
            ROOT,
            "00.000001",
            span_name="travel_agent",
            span_kind="graph",
            input={"messages": [msg]},
        ),
        rec("span_start", NODE, "00.000002", parent=ROOT, span_name="agent", span_kind="node", seq=1),
        rec("asking the forecast service", NODE, "00.000003", parent=ROOT, seq=2),
        rec(
            "span_start",
            TOOL,
            "00.000004",
            parent=NODE,
            span_name="execute_tool get_weather",
            span_kind="tool",
            seq=3,
        ),
        rec(
            "span_end",
            TOOL,
            "00.000005",
            parent=NODE,
            span_name="execute_tool get_weather",
            span_kind="tool",
            duration_ms=1.0,
            status="ok",
            output='18°C, "Light" rain',
            seq=4,
        ),
        rec(
            "span_end",
            NODE,
            "00.000006",
            parent=ROOT,
            span_name="agent",
            span_kind="node",
            duration_ms=4.0,
            status="ok",
            seq=5,
        ),
        rec(
            "span_end",
            ROOT,
            "00.000007",
            span_name="travel_agent",
            span_kind="graph",
            duration_ms=6.0,
            status="ok",
            seq=6,
        ),
    ]


def found(client: Any, q: str, trace: str = TRACE, **params: Any) -> Any:
    response = client.get(f"/api/traces/{trace}/find", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_find_names_log_lines_and_values_not_keys(client: Any) -> None:
    ingest(client, _trace())
    ingest(client, [rec("span_start", ROOT, "00.000001", trace=OTHER, span_name="Paris elsewhere")])
    assert found(client, "paris")["span_ids"] == [ROOT]  # in a message, any case; not the other trace
    assert found(client, "FORECAST SERVICE")["span_ids"] == [NODE]
    assert found(client, "get_weather")["span_ids"] == [TOOL]
    assert found(client, '"light" rain')["span_ids"] == [TOOL]  # quotes: read without the database's help
    assert found(client, "18°c")["span_ids"] == [TOOL]
    assert found(client, "\u2603")["span_ids"] == [ROOT]
    assert found(client, "span_kind")["span_ids"] == []  # a key, not a value
    assert found(client, "a", limit=2) == {
        "trace_id": TRACE,
        "q": "a",
        "span_ids": [ROOT, NODE],
        "more": True,
    }


def test_find_refuses_bad_requests_with_4xx(client: Any) -> None:
    assert client.get("/api/traces/nothex/find", params={"q": "x"}).status_code == 400
    assert client.get(f"/api/traces/{TRACE}/find").status_code == 400
    assert client.get(f"/api/traces/{TRACE}/find", params={"q": "x", "limit": 0}).status_code == 400
