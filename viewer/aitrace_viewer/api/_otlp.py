"""OTLP/HTTP in: ``POST /v1/traces`` and ``POST /v1/logs`` (protobuf or JSON, gzip) → records in the store.

Bodies are decoded by ``opentelemetry-proto``; each span becomes the records aitrace's own spans write
(``aitrace_core._otel_in``), then takes the same path as ``/api/ingest``. A span or log record that cannot be
stored is left out and counted in the answer's ``partial_success``; a body that cannot be read at all is a
4xx naming the problem (docs/otlp.md).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import msgspec
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from litestar import Request, Response, Router, post
from litestar.datastructures import State
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from sqlalchemy.exc import DBAPIError, OperationalError

from aitrace_core import OtelLog, OtelSpan
from aitrace_core import otel_log_record as log_record
from aitrace_core import otel_span_records as span_records

from ._parse import BodyReader, IngestError, quick_validator, validator
from ._routes import busy_answer, notify_changed

__all__ = ["decode_logs", "decode_traces", "otlp_router", "spans_to_records"]

_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
_KINDS = ("INTERNAL", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
_STATUS = ("UNSET", "OK", "ERROR")
_MAX_DEPTH = 32


def _value(v: AnyValue, depth: int = 0) -> Any:
    """An OTLP ``AnyValue`` as plain JSON data (bytes as base64 text)."""
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(x, depth + 1) for x in v.array_value.values] if depth < _MAX_DEPTH else "[…]"
    if which == "kvlist_value":
        return _attrs(v.kvlist_value.values, depth + 1) if depth < _MAX_DEPTH else "{…}"
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode("ascii")
    return getattr(v, which)


def _attrs(kvs: Any, depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in kvs:
        out[kv.key] = _value(kv.value, depth)
    return out


def _id(raw: bytes, size: int) -> int:
    """An id's bytes as an integer; 0 when absent or not ``size`` bytes."""
    return int.from_bytes(raw, "big") if len(raw) == size else 0


# -- bodies ------------------------------------------------------------------------------------------------

_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _hex_ids(obj: dict[str, Any], where: str) -> None:
    """OTLP JSON writes ids as hex; protobuf's JSON reader wants base64: rewrite them in place."""
    for key in _ID_FIELDS:
        value = obj.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise IngestError(400, f"{where}.{key}: expected a hex string, got {type(value).__name__}")
        try:
            obj[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
        except ValueError:
            shown = value if len(value) <= 40 else value[:37] + "..."
            raise IngestError(400, f"{where}.{key}: {shown!r} is not hex (OTLP JSON ids are hex)") from None


def _list(obj: Any, *names: str) -> list[Any]:
    if not isinstance(obj, dict):
        return []
    for name in names:
        value = obj.get(name)
        if isinstance(value, list):
            return value
    return []


def _walk_json(doc: Any, outer: tuple[str, str], inner: tuple[str, str], items: tuple[str, str]) -> None:
    for i, res in enumerate(_list(doc, *outer)):
        for j, scope in enumerate(_list(res, *inner)):
            for k, item in enumerate(_list(scope, *items)):
                if not isinstance(item, dict):
                    continue
                where = f"{outer[0]}[{i}].{inner[0]}[{j}].{items[0]}[{k}]"
                _hex_ids(item, where)
                for n, link in enumerate(_list(item, "links")):
                    if isinstance(link, dict):
                        _hex_ids(link, f"{where}.links[{n}]")


def _decode(body: bytes, content_type: str, message: Message, walk: Callable[[Any], None]) -> None:
    if content_type == _PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, RuntimeWarning, ValueError) as exc:
            raise IngestError(400, f"body is not a valid OTLP protobuf message: {exc}") from None
        return
    try:
        doc = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise IngestError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise IngestError(400, "body: expected a JSON object (OTLP JSON)")
    walk(doc)
    try:
        json_format.ParseDict(doc, message, ignore_unknown_fields=True, max_recursion_depth=64)
    except (json_format.ParseError, RecursionError, ValueError, TypeError) as exc:
        raise IngestError(400, f"body is not a valid OTLP JSON message: {exc}") from None


def decode_traces(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """A ``/v1/traces`` body (protobuf or OTLP JSON) as the request message; :class:`IngestError` if not."""
    request = ExportTraceServiceRequest()
    _decode(
        body,
        content_type,
        request,
        lambda doc: _walk_json(
            doc, ("resourceSpans", "resource_spans"), ("scopeSpans", "scope_spans"), ("spans", "spans")
        ),
    )
    return request


def decode_logs(body: bytes, content_type: str) -> ExportLogsServiceRequest:
    """A ``/v1/logs`` body (protobuf or OTLP JSON) as the request message; :class:`IngestError` if not."""
    request = ExportLogsServiceRequest()
    _decode(
        body,
        content_type,
        request,
        lambda doc: _walk_json(
            doc, ("resourceLogs", "resource_logs"), ("scopeLogs", "scope_logs"), ("logRecords", "log_records")
        ),
    )
    return request


# -- messages → records ------------------------------------------------------------------------------------


class _Batch:
    """Records of the spans (or logs) accepted so far, and why the others were not."""

    def __init__(self, max_record_bytes: int) -> None:
        self.max_record_bytes = max_record_bytes
        self.records: list[dict[str, Any]] = []
        self.raws: list[str] = []
        self.rejected = 0
        self.first_error = ""
        self._encode = msgspec.json.Encoder().encode

    def reject(self, message: str) -> None:
        self.rejected += 1
        if not self.first_error:
            self.first_error = message

    def add(self, what: str, records: list[dict[str, Any]]) -> None:
        """All of one item's records, or none of them."""
        raws = []
        quick = quick_validator()
        for record in records:
            raw = self._encode(record).decode("utf-8")
            if len(raw) > self.max_record_bytes:
                self.reject(
                    f"{what}: a {record['event']} record of {len(raw):,} bytes is over the per-record limit "
                    f"of {self.max_record_bytes:,}"
                )
                return
            if not quick(record):
                try:
                    validator()(record)
                except Exception as exc:
                    self.reject(f"{what}: {exc}")
                    return
            raws.append(raw)
        self.records.extend(records)
        self.raws.extend(raws)


def _spans(request: ExportTraceServiceRequest, batch: _Batch) -> Iterator[tuple[str, OtelSpan]]:
    for i, rs in enumerate(request.resource_spans):
        resource = _attrs(rs.resource.attributes)
        for j, ss in enumerate(rs.scope_spans):
            scope = ss.scope.name
            for k, sp in enumerate(ss.spans):
                what = f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}] ({sp.name[:80]!r})"
                trace_id, span_id = _id(sp.trace_id, 16), _id(sp.span_id, 8)
                if not trace_id or not span_id:
                    batch.reject(f"{what}: traceId must be 16 bytes and spanId 8 bytes, not all zero")
                    continue
                if sp.parent_span_id and not _id(sp.parent_span_id, 8):
                    batch.reject(f"{what}: parentSpanId must be 8 bytes, not all zero")
                    continue
                yield (
                    what,
                    OtelSpan(
                        trace_id=trace_id,
                        span_id=span_id,
                        parent_span_id=_id(sp.parent_span_id, 8) or None,
                        name=sp.name,
                        start_ns=sp.start_time_unix_nano,
                        end_ns=sp.end_time_unix_nano,
                        kind=_KINDS[sp.kind] if 0 <= sp.kind < len(_KINDS) else "INTERNAL",
                        attributes=_attrs(sp.attributes),
                        status_code=_STATUS[sp.status.code]
                        if 0 <= sp.status.code < len(_STATUS)
                        else "UNSET",
                        status_message=sp.status.message,
                        events=[(e.name, e.time_unix_nano, _attrs(e.attributes)) for e in sp.events],
                        links=[
                            (_id(lk.trace_id, 16), _id(lk.span_id, 8), _attrs(lk.attributes))
                            for lk in sp.links
                            if _id(lk.trace_id, 16) and _id(lk.span_id, 8)
                        ],
                        resource=resource,
                        scope=scope,
                    ),
                )


def spans_to_records(request: ExportTraceServiceRequest, max_record_bytes: int) -> _Batch:
    """Every span of ``request`` as records; the ones that cannot be stored counted in the batch."""
    batch = _Batch(max_record_bytes)
    for what, span in _spans(request, batch):
        try:
            records = span_records(span)
        except Exception as exc:  # a value nobody foresaw: this span only
            batch.reject(f"{what}: not convertible: {type(exc).__name__}: {exc}")
            continue
        batch.add(what, records)
    return batch


def logs_to_records(request: ExportLogsServiceRequest, max_record_bytes: int) -> _Batch:
    """Every log record of ``request`` as an aitrace record, under its span when it names one."""
    batch = _Batch(max_record_bytes)
    for i, rl in enumerate(request.resource_logs):
        resource = _attrs(rl.resource.attributes)
        for j, sl in enumerate(rl.scope_logs):
            for k, lr in enumerate(sl.log_records):
                what = f"resourceLogs[{i}].scopeLogs[{j}].logRecords[{k}]"
                try:
                    log = OtelLog(
                        time_ns=lr.time_unix_nano or lr.observed_time_unix_nano,
                        severity_number=int(lr.severity_number),
                        severity_text=lr.severity_text,
                        body=_value(lr.body) if lr.HasField("body") else None,
                        attributes=_attrs(lr.attributes),
                        trace_id=_id(lr.trace_id, 16),
                        span_id=_id(lr.span_id, 8),
                        event_name=getattr(lr, "event_name", ""),
                        resource=resource,
                        scope=sl.scope.name,
                    )
                    record = log_record(log)
                except Exception as exc:
                    batch.reject(f"{what}: not convertible: {type(exc).__name__}: {exc}")
                    continue
                batch.add(what, [record])
    return batch


# -- routes ------------------------------------------------------------------------------------------------


def _content_type(request: Request[Any, Any, Any]) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in (_PROTOBUF, _JSON):
        shown = content_type or "none"
        raise IngestError(415, f"Content-Type {shown!r} is not OTLP (send {_PROTOBUF} or {_JSON})")
    return content_type


def _answer(message: Message, content_type: str) -> Response[bytes]:
    if content_type == _PROTOBUF:
        return Response(message.SerializeToString(), media_type=_PROTOBUF)
    body = json_format.MessageToJson(message, indent=None).encode()
    return Response(body, media_type=_JSON)


def _refusal(exc: IngestError) -> Response[Any]:
    # google.rpc.Status's JSON form (code 3: INVALID_ARGUMENT) beside aitrace's own error fields
    return Response(
        {"error": exc.message, "detail": None, "code": 3, "message": exc.message}, status_code=exc.status
    )


async def _receive(
    request: Request[Any, Any, Any],
    state: State,
    convert: Callable[[bytes, str, int], _Batch],
    respond: Callable[[_Batch], Message],
) -> Response[Any]:
    settings = state.settings
    limit = settings.max_body_bytes
    encoding = request.headers.get("content-encoding")
    try:
        content_type = _content_type(request)
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and not encoding and int(length) > limit:
            raise IngestError(413, f"body over the limit of {limit:,} bytes")
        body = await BodyReader(limit, encoding).read(request.stream())
        store = state.store

        def convert_and_store() -> _Batch:
            batch = convert(body, content_type, settings.max_record_bytes)
            store.ingest(batch.records, batch.raws, None)
            return batch

        batch = await anyio.to_thread.run_sync(convert_and_store)
    except IngestError as exc:
        return _refusal(exc)
    except (OperationalError, DBAPIError) as exc:
        busy = busy_answer(exc)
        if busy is None:
            raise
        return busy
    if batch.records:
        notify_changed(state)
    return _answer(respond(batch), content_type)


def _traces(body: bytes, content_type: str, max_record_bytes: int) -> _Batch:
    return spans_to_records(decode_traces(body, content_type), max_record_bytes)


def _logs(body: bytes, content_type: str, max_record_bytes: int) -> _Batch:
    return logs_to_records(decode_logs(body, content_type), max_record_bytes)


def _trace_response(batch: _Batch) -> Message:
    if not batch.rejected:
        return ExportTraceServiceResponse()
    partial = ExportTracePartialSuccess(rejected_spans=batch.rejected, error_message=batch.first_error)
    return ExportTraceServiceResponse(partial_success=partial)


def _logs_response(batch: _Batch) -> Message:
    if not batch.rejected:
        return ExportLogsServiceResponse()
    partial = ExportLogsPartialSuccess(rejected_log_records=batch.rejected, error_message=batch.first_error)
    return ExportLogsServiceResponse(partial_success=partial)


@post("/traces", status_code=200, request_max_body_size=None, summary="OTLP/HTTP spans (protobuf or JSON)")
async def otlp_traces(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """An ``ExportTraceServiceRequest``; answers an ``ExportTraceServiceResponse`` in the same encoding."""
    return await _receive(request, state, _traces, _trace_response)


@post("/logs", status_code=200, request_max_body_size=None, summary="OTLP/HTTP logs (protobuf or JSON)")
async def otlp_logs(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """An ``ExportLogsServiceRequest``; answers an ``ExportLogsServiceResponse`` in the same encoding."""
    return await _receive(request, state, _logs, _logs_response)


otlp_router = Router(path="/v1", route_handlers=[otlp_traces, otlp_logs], tags=["otlp"])
"""OTLP/HTTP receiver routes, on the same port and behind the same guard as the API."""
