"""The trace list's API: previews, tags and metadata, filters, sorts with cursors, matches, delete — on SQLite
and PostgreSQL, with records written by real LangGraph runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ingest, rec

from aitrace_core.testing import capture_records
from aitrace_langchain import AITraceHandler


def _chat_runs(*turns: tuple[str, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """One LangGraph chat run per ``(user text, extra config)``, as the shipper writes its records."""
    from langchain_core.messages import HumanMessage

    from aitrace_demo._graphs import build_chat

    graph = build_chat(respond=lambda msgs: f"Answer to {msgs[-1].content}")
    out = []
    for text, extra in turns:
        with capture_records(service_name=extra.pop("service", "shop"), resolve_refs=False) as captured:
            graph.invoke({"messages": [HumanMessage(text)]}, {"callbacks": [AITraceHandler()], **extra})
        out.append([json.loads(json.dumps(r)) for r in captured.raw])
    return out


def _listed(client: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/traces", params=params)
    assert response.status_code == 200, response.text
    traces: list[dict[str, Any]] = response.json()["traces"]
    return traces


def test_a_row_previews_its_run_with_tags_metadata_and_thread(client: Any) -> None:
    (run,) = _chat_runs(
        (
            "Where is my parcel 77?",
            {
                "tags": ["nightly"],
                "metadata": {"user_id": "u42", "tier": 2},
                "configurable": {"thread_id": "th-9"},
            },
        )
    )
    assert ingest(client, run).status_code == 200
    (row,) = _listed(client)
    assert row["input_preview"] == "Where is my parcel 77?"
    assert row["output_preview"] == "Answer to Where is my parcel 77?"
    assert row["tags"] == ["nightly"]
    assert row["metadata"] == {"user_id": "u42", "tier": 2}
    assert row["thread_id"] == "th-9"


def test_previews_hold_when_a_run_arrives_in_several_batches_and_while_it_runs(client: Any) -> None:
    (run,) = _chat_runs(("Split me up", {"tags": ["batchy"]}))
    root = next(r for r in run if "parent_span_id" not in r)
    root_end = next(r for r in run if r["span_id"] == root["span_id"] and r["event"] == "span_end")
    first, rest = run[:2], [r for r in run[2:] if r is not root_end]
    ingest(client, first)
    (row,) = _listed(client)
    assert row["status"] == "running"
    assert row["input_preview"] == "Split me up"
    assert row["tags"] == ["batchy"]
    ingest(client, rest)
    ingest(client, [root_end])
    (row,) = _listed(client)
    assert row["status"] == "ok"
    assert (row["input_preview"], row["output_preview"]) == ("Split me up", "Answer to Split me up")
    assert row["tags"] == ["batchy"]


def test_filters_by_tag_metadata_thread_and_by_part_of_a_service_or_model(client: Any) -> None:
    runs = _chat_runs(
        ("first", {"tags": ["a", "x_y"], "metadata": {"user_id": "u1"}, "service": "Checkout-API"}),
        (
            "second",
            {"tags": ["b"], "metadata": {"user_id": "u2", "beta": True}, "configurable": {"thread_id": "t2"}},
        ),
        ("third", {"tags": ["a", "b"], "metadata": {"user_id": "u1"}}),
    )
    for run in runs:
        ingest(client, run)

    def inputs(**params: Any) -> list[str]:
        return sorted(t["input_preview"] for t in _listed(client, **params))

    assert inputs(tag="a") == ["first", "third"]
    assert inputs(tag=["a", "b"]) == ["third"]
    assert inputs(tag="x%y") == []  # LIKE's wildcards are plain characters in a tag
    assert inputs(tag="x_y") == ["first"]
    assert inputs(meta="user_id=u1") == ["first", "third"]
    assert inputs(meta=["user_id=u2", "beta=true"]) == ["second"]
    assert inputs(meta="user_id=u") == []
    assert inputs(thread_id="t2") == ["second"]
    assert inputs(service="checkout") == ["first"]
    assert inputs(model="fake") == ["first", "second", "third"]
    assert inputs(model="gpt") == []
    assert client.get("/api/traces", params={"meta": "user_id"}).status_code == 400
    facets = client.get("/api/facets").json()
    assert facets == {"services": ["Checkout-API", "shop"], "models": ["fake-chat-1"]}


def test_an_inner_error_under_an_ok_root_is_counted_and_found_by_errors_only(client: Any) -> None:
    from aitrace_demo.scenarios import run_failing_node

    with capture_records(service_name="demo", resolve_refs=False) as captured:
        run_failing_node()
    ingest(client, [json.loads(json.dumps(r)) for r in captured.raw])
    ingest(client, _chat_runs(("fine", {}))[0])
    (caught,) = _listed(client, errors="true")
    assert caught["status"] == "ok"
    assert caught["error_count"] >= 1
    assert _listed(client, status="error") == []
    assert len(_listed(client, status="ok")) == 2


_KEY = {"duration": "duration_ms", "tokens": "total_tokens", "cost": "cost_usd", "errors": "error_count"}


@pytest.mark.parametrize("sort", ["started", "duration", "tokens", "cost", "errors"])
def test_each_sort_orders_and_pages_through_every_trace_once(client: Any, sort: str) -> None:
    texts = ["a", "bb bb", "ccc ccc ccc", "dd", "e e e e e e e e", "ff"]
    for run in _chat_runs(*((t, {}) for t in texts)):
        ingest(client, run)
    # and a trace with no tokens, no cost and no end yet: it sorts after every trace that has a value
    (pending,) = _chat_runs(("pending", {}))
    ingest(client, pending[:1])
    for order in ("desc", "asc"):
        seen: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"sort": sort, "order": order, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/traces", params=params).json()
            seen += page["traces"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len({t["trace_id"] for t in seen}) == len(seen) == 7
        key = (lambda t: t["start"]) if sort == "started" else (lambda t: t[_KEY[sort]])
        values = [key(t) for t in seen]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=order == "desc")
        if sort in ("duration", "tokens", "cost"):
            assert values[-1] is None
            assert seen[-1]["input_preview"] == "pending"
    started_cursor = client.get("/api/traces", params={"limit": 1}).json()["next_cursor"]
    if sort != "started":  # a cursor of one sort is refused by another, not misread
        assert client.get("/api/traces", params={"sort": sort, "cursor": started_cursor}).status_code == 400


def test_a_text_filter_gives_each_row_the_matching_span_and_a_marked_snippet(client: Any) -> None:
    runs = _chat_runs(("Is it raining in Lisbon today?", {}), ("Nothing to see", {}))
    for run in runs:
        ingest(client, run)
    (row,) = _listed(client, q="lisbon")
    match = row["match"]
    span_records = client.get(f"/api/traces/{row['trace_id']}/spans/{match['span_id']}/records").json()
    assert any("Lisbon" in json.dumps(r) for r in span_records["records"])
    marked = [text for text, mark in match["snippet"] if mark]
    assert marked
    assert all(t.lower() == "lisbon" for t in marked)
    assert "raining in" in "".join(text for text, _ in match["snippet"])


def test_delete_removes_the_trace_from_list_search_and_detail(client: Any) -> None:
    keep, gone = _chat_runs(("keep me", {}), ("delete me zebra", {}))
    ingest(client, keep)
    ingest(client, gone)
    tid = gone[0]["trace_id"]
    assert client.get("/api/search", params={"q": "zebra"}).json()["hits"]
    assert client.delete(f"/api/traces/{tid}", headers={"origin": "http://evil.example"}).status_code == 403
    assert client.delete(f"/api/traces/{tid}").status_code == 200
    assert [t["input_preview"] for t in _listed(client)] == ["keep me"]
    assert client.get("/api/search", params={"q": "zebra"}).json()["hits"] == []
    assert _listed(client, q="zebra") == []
    assert client.get(f"/api/traces/{tid}").status_code == 404
    assert client.get(f"/api/traces/{tid}/tree").status_code == 404
    # the deleted trace's words do not come back with records stored after it
    assert ingest(client, _chat_runs(("stored after the delete", {}))[0]).status_code == 200
    assert client.get("/api/search", params={"q": "zebra"}).json()["hits"] == []
    assert _listed(client, q="zebra") == []


def test_metadata_holding_a_nul_character_still_filters(client: Any) -> None:
    """PostgreSQL's jsonb refuses the JSON escape of NUL: such a value must not turn the list into a 500."""
    start = rec("span_start", "00f067aa0ba902b7", "00.000100", span_name="job", span_kind="function")
    start["metadata"] = {"note": "a\x00b", "user_id": "u1"}
    end = rec("span_end", "00f067aa0ba902b7", "00.100100", seq=1, span_name="job", span_kind="function")
    end.update(duration_ms=100.0, status="ok")
    stored = ingest(client, [start, end])
    assert stored.status_code == 200, stored.text
    response = client.get("/api/traces", params={"meta": "user_id=u1"})
    assert response.status_code == 200, response.text
    assert [t["metadata"]["user_id"] for t in response.json()["traces"]] == ["u1"]
