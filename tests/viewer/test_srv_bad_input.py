"""Hostile or broken ingest bodies: each gets a 4xx, nothing is written, and the server keeps serving."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from conftest import TRACE, ingest, rec

GOOD = rec("hello", "00f067aa0ba902b7", "00.000100")


def _line(record: Any) -> bytes:
    return json.dumps(record).encode()


def _nested(depth: int) -> bytes:
    return (
        b'{"timestamp":"2026-11-24T12:00:00Z","level":"info","event":"x","logger":"l","service":"s",'
        b'"trace_id":"'
        + TRACE.encode()
        + b'","span_id":"00f067aa0ba902b7","deep":'
        + b"[" * depth
        + b"]" * depth
        + b"}"
    )


CASES: dict[str, tuple[bytes, dict[str, str]]] = {
    "truncated JSON": (_line(GOOD)[:-7], {}),
    "truncated array": (b"[" + _line(GOOD) + b",", {}),
    "wrong type": (_line({**GOOD, "seq": "seven"}), {}),
    "level not allowed": (_line({**GOOD, "level": "loud"}), {}),
    "missing trace id": (_line({k: v for k, v in GOOD.items() if k != "trace_id"}), {}),
    "non-hex trace id": (_line({**GOOD, "trace_id": "z" * 32}), {}),
    "upper-case span id": (_line({**GOOD, "span_id": "00F067AA0BA902B7"}), {}),
    "all-zero trace id": (_line({**GOOD, "trace_id": "0" * 32}), {}),
    "path-traversal trace id": (_line({**GOOD, "trace_id": "../../../../etc/passwd"}), {}),
    "not an object": (b"[1, 2, 3]", {}),
    "NaN": (_line(GOOD)[:-1] + b', "x": NaN}', {}),
    "10 MB field": (_line({**GOOD, "blob": "a" * 10_000_000}), {}),
    "nesting 10,000 deep": (_nested(10_000), {}),
    "invalid UTF-8": (_line(GOOD)[:-2] + b'\xff\xfe"}', {}),
    "lone surrogate escape": (_line(GOOD)[:-1] + b', "x": "a\\ud800b"}', {}),
    "gzip bomb": (gzip.compress(b" " * (64 * 1024 * 1024)), {"content-encoding": "gzip"}),
    "not gzip": (b"plain text", {"content-encoding": "gzip"}),
    "unknown encoding": (_line(GOOD), {"content-encoding": "br"}),
    "bad batch id": (_line(GOOD), {"x-aitrace-batch-id": "a b\tc"}),
    "future schema": (_line(GOOD), {"x-aitrace-schema": "3"}),
    "a span_end without status": (
        _line({**GOOD, "event": "span_end", "span_name": "s", "span_kind": "f", "duration_ms": 1.0}),
        {},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_batches_are_refused_whole(client: Any, case: str) -> None:
    body, headers = CASES[case]
    # a good record first: nothing of the batch may be written
    if not headers and not body.startswith(b"["):
        body = _line({**GOOD, "span_id": "00f067aa0ba902b8"}) + b"\n" + body
    response = client.post(
        "/api/ingest", content=body, headers={"content-type": "application/x-ndjson", **headers}
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.json()["error"]
    assert client.get("/api/health").json()["records"] == 0
    assert ingest(client, [GOOD]).json() == {"ingested": 1}  # still serving


def test_invalid_utf8_is_found_in_its_record(client: Any) -> None:
    body = b"\n".join([_line(GOOD), _line(GOOD), _line(GOOD)[:-2] + b'\xff"}', _line(GOOD)])
    response = client.post("/api/ingest", content=body, headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 400
    assert response.json()["index"] == 2
    assert response.json()["error"].startswith("record 2: not valid UTF-8")
    assert client.get("/api/health").json()["records"] == 0


def test_the_error_names_the_first_bad_record(client: Any) -> None:
    records = [GOOD, GOOD, {**GOOD, "trace_id": "xyz"}, {**GOOD, "level": 3}]
    response = ingest(client, records)
    assert response.status_code == 400
    body = response.json()
    assert body["index"] == 2
    assert body["error"].startswith("record 2: trace_id: 'xyz'")


def test_oversized_bodies_get_413(client: Any) -> None:
    big = json.dumps([{**GOOD, "blob": "a" * 1_000_000} for _ in range(25)]).encode()
    assert len(big) > 20 * 1024 * 1024
    assert (
        client.post("/api/ingest", content=big, headers={"content-type": "application/json"}).status_code
        == 413
    )
    assert (
        client.post(
            "/api/ingest",
            content=gzip.compress(big),
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        ).status_code
        == 413
    )
    response = ingest(client, [{**GOOD, "blob": "a" * 10_000_000}])
    assert response.status_code == 413
    assert response.json()["index"] == 0
    assert client.get("/api/health").json()["records"] == 0


def test_unknown_fields_and_prototype_keys_are_kept_as_data(client: Any) -> None:
    odd = {
        **GOOD,
        "__proto__": {"polluted": True},
        "constructor": {"prototype": {"x": 1}},
        "a.b.__proto__": 1,
        "<script>alert(1)</script>": "<img src=x onerror=alert(1)>",
        "emoji": "🙂",
        "nul": "a\u0000b",
    }
    assert ingest(client, [odd]).json() == {"ingested": 1}
    detail = client.get(f"/api/traces/{TRACE}")
    assert detail.headers["content-type"].startswith("application/json")
    assert detail.json()["records"] == [odd]


def test_nul_characters_anywhere_are_stored(client: Any) -> None:
    # PostgreSQL text cannot hold NUL: the derived columns get U+FFFD, the stored record keeps the escape
    odd = {**GOOD, "event": "nul\u0000event", "logger": "l\u0000g", "service": "s\u0000v", "x": "\u0000"}
    assert ingest(client, [odd]).json() == {"ingested": 1}
    assert client.get(f"/api/traces/{TRACE}").json()["records"] == [odd]
    hits = client.get("/api/search", params={"q": "nul"}).json()
    assert [h["trace_id"] for h in hits["hits"]] == [TRACE]
