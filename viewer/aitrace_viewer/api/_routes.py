"""The JSON API (docs/api.md)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gzip
import io
import json
import re
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any, Literal

import anyio.to_thread
from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy.exc import DBAPIError, OperationalError

from aitrace_core import is_span_id, is_trace_id, resolve_refs

from .. import __version__
from ..store import IngestResult, Store, TraceFilters, parse_ts
from ._compare import compare_traces
from ._find import find_in_trace
from ._insights import insight_handlers
from ._parse import BodyReader, IngestError, parse_batch

__all__ = ["api_router", "notify_changed"]

_BATCH_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_STATUSES = ("ok", "error", "cancelled", "interrupted", "running")


class BadRequest(HTTPException):
    status_code = 400


def _trace_id(value: str) -> str:
    if not is_trace_id(value):
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


def busy_answer(exc: DBAPIError) -> Response[Any] | None:
    """503 with ``Retry-After`` when the database is busy (SQLite's lock, PostgreSQL's serialization failure
    or deadlock: the sender retries the same batch), else None (the error is not the sender's to retry)."""
    if isinstance(exc, OperationalError) or getattr(exc.orig, "sqlstate", "") in ("40001", "40P01"):
        return Response(
            {"error": "database busy, retry", "detail": None}, status_code=503, headers={"Retry-After": "1"}
        )
    return None


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
        busy = busy_answer(exc)
        if busy is None:
            raise
        return busy
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
    tag: list[str] | None = None,
    meta: list[str] | None = None,
    sort: Literal["started", "duration", "tokens", "cost", "errors"] = "started",
    order: Literal["desc", "asc"] = "desc",
) -> dict[str, Any]:
    if status is not None and status not in _STATUSES:
        raise BadRequest(detail=f"status must be one of {', '.join(_STATUSES)}")
    pairs = [m.partition("=") for m in meta or ()]
    if any(not key or not sep for key, sep, _ in pairs):
        raise BadRequest(detail="meta must be key=value, e.g. meta=user_id=u42")
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
        tags=[t for t in tag or () if t],
        meta=[(key, value) for key, _, value in pairs],
    )
    store = _store(state)

    def read() -> tuple[list[dict[str, Any]], str | None]:
        traces, next_cursor = store.list_traces(filters, limit, cursor, order == "asc", sort)
        if filters.q:  # where each trace matched: a snippet, and the span to open
            matches = store.trace_matches(filters.q, [t["trace_id"] for t in traces])
            for t in traces:
                t["match"] = matches.get(t["trace_id"])
        return traces, next_cursor

    try:
        traces, next_cursor = await anyio.to_thread.run_sync(read)
    except ValueError:
        raise BadRequest(detail=f"cursor is not one this server made for sort={sort}") from None
    return {"traces": traces, "next_cursor": next_cursor}


@get("/facets", summary="The services and models present, for the list's filter suggestions")
async def facets(state: State) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(_store(state).facets)


@get("/traces/{trace_id:str}", summary="One trace: summary, spans and records")
async def trace_detail(state: State, trace_id: str) -> Response[bytes]:
    document = await anyio.to_thread.run_sync(_store(state).trace_json, _trace_id(trace_id))
    if document is None:
        return Response(
            b'{"error": "no such trace", "detail": null}', status_code=404, media_type="application/json"
        )
    return Response(document, media_type="application/json")


def _maybe_gzip(request: Request[Any, Any, Any], body: bytes) -> tuple[bytes, dict[str, str]]:
    """Big JSON answers go gzipped (fast level) to a client that accepts it."""
    headers = {"Vary": "Accept-Encoding"}
    if len(body) >= GZIP_FROM and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return gzip.compress(body, compresslevel=1), headers
    return body, headers


GZIP_FROM = 64 * 1024


@get("/traces/{trace_id:str}/tree", summary="A trace's span tree, without its records")
async def trace_tree(request: Request[Any, Any, Any], state: State, trace_id: str) -> Response[bytes]:
    """Every span (ids, parent, name, kind, times, status, counts, tokens, model): what the trace page of a
    big trace draws first; a span's records come from ``/spans/{span_id}/records`` when it is opened."""
    store = _store(state)
    tid = _trace_id(trace_id)

    def build() -> tuple[bytes, dict[str, str]] | None:
        document = store.trace_tree_json(tid)
        return None if document is None else _maybe_gzip(request, document)

    answer = await anyio.to_thread.run_sync(build)
    if answer is None:
        return _json('{"error": "no such trace", "detail": null}', 404)
    return Response(answer[0], media_type="application/json", headers=answer[1])


SpanReader = Callable[[str], list[dict[str, Any]]]
RefResolver = Callable[[list[dict[str, Any]], SpanReader], list[dict[str, Any]]]



def _referenced_spans(records: list[dict[str, Any]]) -> list[str]:
    """The span ids named by the message references (``{"$ref": …, "$span": …}``) in ``records``."""
    spans: dict[str, None] = {}
    stack: list[Any] = list(records)
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            span = obj.get("$span")
            if "$ref" in obj and isinstance(span, str):
                spans[span] = None
            else:
                stack.extend(v for v in obj.values() if isinstance(v, (dict, list)))
        elif isinstance(obj, list):
            stack.extend(v for v in obj if isinstance(v, (dict, list)))
    return list(spans)


def resolve_span_refs(records: list[dict[str, Any]], read_span: SpanReader) -> list[dict[str, Any]]:
    """One span's records with their message references resolved from the spans they name."""
    own = {r.get("span_id") for r in records}
    others = [rec for span in _referenced_spans(records) if span not in own for rec in read_span(span)]
    return list(resolve_refs([*others, *records])[len(others) :])


span_refs_resolver: RefResolver | None = resolve_span_refs
"""How the span-records route resolves de-duplicated records: given a span's records and a reader of any
other span's records (of the same trace), returns the records with every ``{"$ref": key, "$span": span_id}``
replaced by the value that span's records hold under ``"$id": key`` (docs/schema.md)."""


@get("/traces/{trace_id:str}/spans/{span_id:str}/records", summary="One span's records")
async def span_records(
    request: Request[Any, Any, Any],
    state: State,
    trace_id: str,
    span_id: str,
    limit: int = Parameter(default=2000, ge=1, le=10_000),
) -> Response[bytes]:
    tid = _trace_id(trace_id)
    if not is_span_id(span_id):
        raise BadRequest(detail="span_id must be 16 lowercase hex characters")
    store = _store(state)

    def read() -> tuple[bytes, dict[str, str]] | None:
        raws, more = store.span_records(tid, span_id, limit)
        if not raws:
            return None
        resolver = span_refs_resolver
        if resolver is not None and any('"$ref"' in raw for raw in raws):
            cache: dict[str, list[dict[str, Any]]] = {}

            def reader(other: str) -> list[dict[str, Any]]:
                if other not in cache:
                    cache[other] = [json.loads(r) for r in store.span_records(tid, other, 10_000)[0]]
                return cache[other]

            records = resolver([json.loads(r) for r in raws], reader)
            raws = [json.dumps(r, ensure_ascii=False) for r in records]
        body = "".join(
            (
                f'{{"trace_id":"{tid}","span_id":"{span_id}",',
                f'"more":{"true" if more else "false"},"records":[',
                ",".join(raws),
                "]}",
            )
        ).encode()
        return _maybe_gzip(request, body)

    answer = await anyio.to_thread.run_sync(read)
    if answer is None:
        return _json('{"error": "no such span in this trace", "detail": null}', 404)
    return Response(answer[0], media_type="application/json", headers=answer[1])


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
        facets,
        trace_detail,
        trace_tree,
        span_records,
        find_in_trace,
        thread_detail,
        search,
        export_trace,
        delete_trace,
        health,
        stream,
        compare_traces,
        *insight_handlers,
    ],
    tags=["api"],
)
