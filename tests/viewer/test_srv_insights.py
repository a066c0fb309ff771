"""``/api/insights`` and ``/api/threads`` on SQLite and PostgreSQL, against figures worked out by hand from
the planted traces (tests/insights_data.py)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ingest
from insights_data import SINCE, UNTIL, planted, trace_id


@pytest.fixture
def loaded(client: Any) -> Any:
    assert ingest(client, planted()).status_code == 200
    return client


def _get(client: Any, path: str, **params: Any) -> dict[str, Any]:
    res = client.get(path, params=params)
    assert res.status_code == 200, res.text
    body: dict[str, Any] = res.json()
    return body


def _row(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["key"] == key]
    return row


def test_totals_count_the_traces_of_the_range_only(loaded: Any) -> None:
    totals = _get(loaded, "/api/insights", since=SINCE, until=UNTIL)["totals"]
    assert totals["count"] == 4  # A B C D; not E (09:50) nor F (14:00, the end is exclusive)
    assert totals["errors"] == 2  # B: a tool failed inside, caught; D: failed
    assert totals["error_rate"] == pytest.approx(0.5)
    assert (totals["input_tokens"], totals["output_tokens"]) == (100, 50)
    assert totals["cost_usd"] == pytest.approx(0.10)
    # durations 100, 200, 300, 1000: p50 between 200 and 300, p95 at 2.85 of 3 → 300 + 0.85 × 700
    assert totals["p50_ms"] == pytest.approx(250)
    assert totals["p95_ms"] == pytest.approx(895)


def test_the_series_has_one_point_per_hour_empty_hours_included(loaded: Any) -> None:
    body = _get(loaded, "/api/insights", since=SINCE, until=UNTIL)
    assert body["bucket"] == "hour"
    series = body["series"]
    assert [p["start"][:19] for p in series] == [f"2026-11-24T{h}:00:00" for h in (10, 11, 12, 13)]
    assert [p["count"] for p in series] == [2, 1, 0, 1]
    assert [p["errors"] for p in series] == [1, 0, 0, 1]
    assert [p["input_tokens"] for p in series] == [30, 30, None, 40]
    assert series[0]["p50_ms"] == pytest.approx(200)  # 100 and 300
    assert series[3]["p95_ms"] == pytest.approx(1000)
    assert series[2]["p50_ms"] is None


def test_a_range_over_two_days_is_drawn_per_day(loaded: Any) -> None:
    body = _get(loaded, "/api/insights", since="2026-11-20T00:00:00Z", until="2026-11-27T00:00:00Z")
    assert body["bucket"] == "day"
    assert [p["count"] for p in body["series"]] == [0, 0, 0, 0, 6, 0, 0]


def test_breakdowns_by_model_node_and_tool(loaded: Any) -> None:
    body = _get(loaded, "/api/insights", since=SINCE, until=UNTIL)
    gpt = _row(body["by_model"], "gpt-4o")
    assert (gpt["count"], gpt["input_tokens"], gpt["output_tokens"]) == (3, 70, 35)
    assert gpt["cost_usd"] == pytest.approx(0.07)
    assert gpt["p50_ms"] == pytest.approx(70)  # 50, 70, 110
    assert gpt["p95_ms"] == pytest.approx(106)  # 70 + 0.9 × 40
    claude = _row(body["by_model"], "claude-sonnet-4-5")
    assert (claude["count"], claude["p50_ms"], claude["p95_ms"]) == (1, 90, 90)
    assert [r["key"] for r in body["by_node"]] == ["agent", "tools"]  # most runs first
    agent = _row(body["by_node"], "agent")
    assert agent["count"] == 4
    assert agent["p50_ms"] == pytest.approx(70)  # 40, 60, 80, 100
    assert agent["p95_ms"] == pytest.approx(97)
    [tool] = body["by_tool"]
    assert (tool["key"], tool["count"], tool["errors"]) == ("get_weather", 2, 1)
    assert tool["p50_ms"] == pytest.approx(12.5)


def test_the_slowest_and_the_most_expensive_traces(loaded: Any) -> None:
    body = _get(loaded, "/api/insights", since=SINCE, until=UNTIL)
    assert [t["trace_id"] for t in body["slowest"]] == [trace_id(n) for n in "DBCA"]
    assert [t["trace_id"] for t in body["costliest"]] == [trace_id(n) for n in "DCBA"]


def test_filters_by_service_and_by_model(loaded: Any) -> None:
    shop = _get(loaded, "/api/insights", since=SINCE, until=UNTIL, service="shop")["totals"]
    assert (shop["count"], shop["errors"], shop["input_tokens"]) == (3, 1, 60)
    claude = _get(loaded, "/api/insights", since=SINCE, until=UNTIL, model="claude-sonnet-4-5")
    assert claude["totals"]["count"] == 1
    assert [r["key"] for r in claude["by_model"]] == ["claude-sonnet-4-5"]
    assert (claude["by_model"][0]["p50_ms"], claude["by_model"][0]["p95_ms"]) == (90, 90)
    gpt = _get(loaded, "/api/insights", since=SINCE, until=UNTIL, model="gpt-4o")
    agent = _row(gpt["by_node"], "agent")  # A, B, D: 40, 60, 100
    assert (agent["count"], agent["p50_ms"]) == (3, 60)
    assert agent["p95_ms"] == pytest.approx(96)  # 60 + 0.9 × 40
    tool = _row(gpt["by_tool"], "get_weather")  # A ok 10 ms, B error 15 ms
    assert (tool["count"], tool["errors"], tool["p50_ms"]) == (2, 1, 12.5)
    model = _row(gpt["by_model"], "gpt-4o")  # A, B, D: tokens 10+20+40 in, 5+10+20 out, $0.07
    assert (model["count"], model["input_tokens"], model["output_tokens"]) == (3, 70, 35)
    assert model["cost_usd"] == pytest.approx(0.07)
    assert [t["trace_id"] for t in claude["slowest"]] == [trace_id("C")]


def test_presets_end_now_and_bad_ranges_are_refused(loaded: Any) -> None:
    assert _get(loaded, "/api/insights", range="1h")["totals"]["count"] == 0  # the planted day is past
    assert _get(loaded, "/api/insights", range="7d")["bucket"] == "day"
    assert _get(loaded, "/api/insights", until=UNTIL)["totals"]["count"] == 5  # the day before: E too
    for params, words in (
        ({"range": "2w"}, "range must be one of"),
        ({"since": "yesterday"}, "since must be an RFC 3339 time"),
        ({"since": UNTIL, "until": SINCE}, "until must be after since"),
        ({"range": "1h", "since": SINCE}, "either range or since/until"),
        ({"since": SINCE, "bucket": "week"}, "bucket must be hour or day"),
    ):
        res = loaded.get("/api/insights", params=params)
        assert res.status_code == 400, params
        assert words in res.text


def test_threads_most_recently_active_first(loaded: Any) -> None:
    threads = _get(loaded, "/api/threads")["threads"]
    assert [t["thread_id"] for t in threads] == ["t-3", "t-2", "t-1"]
    t1 = threads[2]
    assert t1["turns"] == 3  # E, A, B
    assert (t1["input_tokens"], t1["output_tokens"], t1["total_tokens"]) == (530, 515, 1045)
    assert t1["cost_usd"] == pytest.approx(5.03)
    assert t1["status"] == "interrupted"  # its last turn, B, waits for the user
    assert t1["error_turns"] == 1  # B's tool failed
    assert t1["last_activity"].startswith("2026-11-24T10:30:00.3")
    assert threads[0]["status"] == "error"


def test_threads_page_through_with_a_cursor(loaded: Any) -> None:
    first = _get(loaded, "/api/threads", limit=2)
    assert [t["thread_id"] for t in first["threads"]] == ["t-3", "t-2"]
    rest = _get(loaded, "/api/threads", limit=2, cursor=first["next_cursor"])
    assert [t["thread_id"] for t in rest["threads"]] == ["t-1"]
    assert rest["next_cursor"] is None
    assert loaded.get("/api/threads", params={"cursor": "nonsense"}).status_code == 400
