"""The JSON API (docs/api.md)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import re
import time
from collections.abc import AsyncGenerator
from typing import Any, Literal

import anyio.to_thread
from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy.exc import DBAPIError, OperationalError

from aitrace_core import resolve_refs

from .. import __version__
from ..store import IngestResult, Store, TraceFilters, parse_ts
from ._parse import BodyReader, IngestError, parse_batch

__all__ = ["api_router", "notify_changed"]

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_BATCH_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_STATUSES = ("ok", "error", "cancelled", "interrupted", "running")


class BadRequest(HTTPException):
    status_code = 400


def _trace_id(value: str) -> str:
    if not _TRACE_ID.match(value) or value == "0" * 32:
        raise BadRequest(detail="trace_id must be 32 lowercase hex characters")
    return value


def _time(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_ts(value)
    except ValueError:
        raise BadRequest(detail=f"{name} must be an RFC 3339 time, e.g. 2026-11-24T12:00:00Z") from None


def _store(state: State) -> Store:
    store: Store = state.store
    return store


def _json(text: str, status: int = 200) -> Response[bytes]:
    return Response(text.encode(), media_type="application/json", status_code=status)


def notify_changed(state: State) -> None:
    """Wake the event streams (called after each committed write)."""
    event: asyncio.Event | None = state.get("changed")
    if event is not None:
        event.set()
        state.changed = asyncio.Event()


@post("/ingest", status_code=200, request_max_body_size=None, summary="Store a batch of records")
async def ingest(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """A JSON array or JSONL of records (gzip accepted), committed whole or refused whole."""
    settings = state.settings
    limit = settings.max_body_bytes
    encoding = request.headers.get("content-encoding")
    batch_id = request.headers.get("x-aitrace-batch-id")
    try:
        if batch_id is not None and not _BATCH_ID.match(batch_id):
            raise IngestError(400, "X-Aitrace-Batch-Id must be 1-200 printable ASCII characters")
        schema = request.headers.get("x-aitrace-schema")
        if schema is not None and schema.strip() not in ("1", "2"):
            raise IngestError(400, f"record schema version {schema!r} is not supported (this server: 1, 2)")
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and not encoding and int(length) > limit:
            raise IngestError(413, f"body over the limit of {limit:,} bytes")
        body = await BodyReader(limit, encoding).read(request.stream())
        store = _store(state)

        def parse_and_store() -> tuple[int, IngestResult]:  # one trip to a worker thread
            records, raws = parse_batch(body, settings.max_record_bytes)
            return len(records), store.ingest(records, raws, batch_id)

        count, result = await anyio.to_thread.run_sync(parse_and_store)
    except IngestError as exc:
        content: dict[str, Any] = {"error": exc.message, "detail": None}
        if exc.index is not None:
            content["index"] = exc.index
        return Response(content, status_code=exc.status)
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, OperationalError) or getattr(exc.orig, "sqlstate", "") in ("40001", "40P01"):
            return Response(
                {"error": "database busy, retry", "detail": None},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        raise
    if result.duplicate:
        return Response({"ingested": count, "duplicate": True})
    notify_changed(state)
    return Response({"ingested": result.ingested})


@get("/traces", summary="List traces, newest first")
async def list_traces(
    state: State,
    limit: int = Parameter(default=50, ge=1, le=500),
    cursor: str | None = None,
    service: str | None = None,
    status: str | None = None,
    errors: bool = False,
    since: str | None = None,
    until: str | None = None,
    min_duration_ms: float | None = None,
    max_duration_ms: float | None = None,
    model: str | None = None,
    thread_id: str | None = None,
    span_name: str | None = None,
    q: str | None = Parameter(default=None, max_length=1000),
) -> dict[str, Any]:
    if status is not None and status not in _STATUSES:
        raise BadRequest(detail=f"status must be one of {', '.join(_STATUSES)}")
    filters = TraceFilters(
        service=service,
        status=status,
        errors=errors,
        since_us=_time(since, "since"),
        until_us=_time(until, "until"),
        min_duration_ms=min_duration_ms,
        max_duration_ms=max_duration_ms,
        model=model,
        thread_id=thread_id,
        span_name=span_name,
        q=q or None,
    )
    try:
        traces, next_cursor = await anyio.to_thread.run_sync(
            _store(state).list_traces, filters, limit, cursor
        )
    except ValueError:
        raise BadRequest(detail="cursor is not one this server made") from None
    return {"traces": traces, "next_cursor": next_cursor}


@get("/traces/{trace_id:str}", summary="One trace: summary, spans and records")
async def trace_detail(state: State, trace_id: str) -> Response[bytes]:
    document = await anyio.to_thread.run_sync(_store(state).trace_json, _trace_id(trace_id))
    if document is None:
        return Response(
            b'{"error": "no such trace", "detail": null}', status_code=404, media_type="application/json"
        )
    return Response(document, media_type="application/json")


@get("/threads/{thread_id:str}", summary="Traces that share a thread id, oldest first")
async def thread_detail(state: State, thread_id: str) -> dict[str, Any]:
    if not 0 < len(thread_id) <= 1000:
        raise BadRequest(detail="thread_id must be 1-1000 characters")
    traces, _ = await anyio.to_thread.run_sync(
        lambda: _store(state).list_traces(TraceFilters(thread_id=thread_id), 500, None, True)
    )
    return {"thread_id": thread_id, "traces": traces}


@get("/search", summary="Full-text search over events and attribute values")
async def search(
    state: State,
    q: str = Parameter(min_length=1, max_length=1000),
    limit: int = Parameter(default=50, ge=1, le=500),
) -> dict[str, Any]:
    hits = await anyio.to_thread.run_sync(_store(state).search, q, limit)
    return {"hits": hits}


def csv_text(records: list[dict[str, Any]]) -> str:
    """Records as CSV: the standard columns first, then every other field (JSON for non-strings)."""
    first = [
        "timestamp",
        "level",
        "event",
        "logger",
        "service",
        "trace_id",
        "span_id",
        "parent_span_id",
        "seq",
    ]
    extra: dict[str, None] = {}
    for record in records:
        for key in record:
            if key not in first:
                extra.setdefault(key, None)
    columns = first + list(extra)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        row = []
        for column in columns:
            value = record.get(column)
            text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
            if text[:1] in ("=", "+", "-", "@", "\t", "\r"):  # not a formula in a spreadsheet
                text = "'" + text
            row.append(text)
        writer.writerow(row)
    return out.getvalue()


@get("/traces/{trace_id:str}/export", summary="A trace's records as a download")
async def export_trace(
    state: State, trace_id: str, format: Literal["json", "jsonl", "csv"] = "jsonl"
) -> Response[bytes]:
    trace_id = _trace_id(trace_id)
    store = _store(state)
    # whole records out: each message in place, as if written in full every time (docs/schema.md, References)
    records = await anyio.to_thread.run_sync(lambda: resolve_refs(store.trace_records(trace_id)))
    if not records:
        return Response(
            b'{"error": "no such trace", "detail": null}', status_code=404, media_type="application/json"
        )
    if format == "json":
        body, media = json.dumps(records, ensure_ascii=False, indent=1), "application/json"
    elif format == "csv":
        body, media = csv_text(records), "text/csv"
    else:
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        media = "application/x-ndjson"
    return Response(
        body.encode(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="trace-{trace_id}.{format}"'},
    )


@delete("/traces/{trace_id:str}", status_code=200, summary="Delete a trace")
async def delete_trace(state: State, trace_id: str) -> dict[str, int]:
    deleted = await anyio.to_thread.run_sync(_store(state).delete_trace, _trace_id(trace_id))
    if not deleted:
        raise HTTPException(status_code=404, detail="no such trace")
    notify_changed(state)
    return {"deleted": deleted}


@get("/health", summary="Liveness, version and size")
async def health(state: State) -> dict[str, Any]:
    store = _store(state)
    records = await anyio.to_thread.run_sync(store.count_records)
    return {"status": "ok", "version": __version__, "database": store.database, "records": records}


PING_SECONDS = 15.0


@get("/stream", summary="Server-sent events: `trace` on every new or changed trace, `ping` every 15 s")
async def stream(state: State) -> ServerSentEvent:
    store = _store(state)

    async def events() -> AsyncGenerator[ServerSentEventMessage, None]:
        seen = await anyio.to_thread.run_sync(store.latest_update)
        last_ping = time.monotonic()
        yield ServerSentEventMessage(event="ping", data="")
        while not state.get("stopping"):
            changed: asyncio.Event = state.changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=1.0)
            for updated, summary in await anyio.to_thread.run_sync(store.changes_since, seen):
                seen = max(seen, updated)
                yield ServerSentEventMessage(event="trace", data=json.dumps(summary))
            if time.monotonic() - last_ping >= PING_SECONDS:
                last_ping = time.monotonic()
                yield ServerSentEventMessage(event="ping", data="")

    return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


api_router = Router(
    path="/api",
    route_handlers=[
        ingest,
        list_traces,
        trace_detail,
        thread_detail,
        search,
        export_trace,
        delete_trace,
        health,
        stream,
    ],
    tags=["api"],
)
