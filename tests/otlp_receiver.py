"""A loopback OTLP/HTTP receiver for tests: a real HTTP server on 127.0.0.1 that decodes what it gets with
``opentelemetry-proto`` (protobuf, gzip) and keeps the spans and log records, flattened for assertions."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def _attrs(items: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in items}


class Receiver:
    """``spans`` and ``logs`` received so far (dicts), ``requests`` (path, headers) and ``url``."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.status = 200
        self.logs_status = 200
        """Answer to /v1/logs: 405 plays a receiver that takes traces only (Phoenix, Jaeger, Tempo)."""
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                with receiver.lock:
                    receiver.requests.append((self.path, dict(self.headers.items())))
                status = receiver.logs_status if self.path == "/v1/logs" else receiver.status
                if status != 200:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/v1/traces":
                    receiver._take_spans(ExportTraceServiceRequest.FromString(body))
                    answer = ExportTraceServiceResponse().SerializeToString()
                elif self.path == "/v1/logs":
                    receiver._take_logs(ExportLogsServiceRequest.FromString(body))
                    answer = ExportLogsServiceResponse().SerializeToString()
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _take_spans(self, request: ExportTraceServiceRequest) -> None:
        out = []
        for rs in request.resource_spans:
            resource = _attrs(rs.resource.attributes)
            for ss in rs.scope_spans:
                for span in ss.spans:
                    out.append(
                        {
                            "name": span.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                            "kind": span.kind,
                            "start": span.start_time_unix_nano,
                            "end": span.end_time_unix_nano,
                            "status": span.status.code,
                            "status_message": span.status.message,
                            "attributes": _attrs(span.attributes),
                            "events": [(e.name, _attrs(e.attributes)) for e in span.events],
                            "resource": resource,
                            "scope": ss.scope.name,
                        }
                    )
        with self.lock:
            self.spans.extend(out)

    def _take_logs(self, request: ExportLogsServiceRequest) -> None:
        out = []
        for rl in request.resource_logs:
            resource = _attrs(rl.resource.attributes)
            for sl in rl.scope_logs:
                for log in sl.log_records:
                    out.append(
                        {
                            "body": _value(log.body),
                            "trace_id": log.trace_id.hex(),
                            "span_id": log.span_id.hex(),
                            "severity": log.severity_text,
                            "severity_number": log.severity_number,
                            "attributes": _attrs(log.attributes),
                            "resource": resource,
                            "time": log.time_unix_nano,
                        }
                    )
        with self.lock:
            self.logs.extend(out)

    def wait_for(self, condition: Callable[[Receiver], bool], timeout: float = 20.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if condition(self):
                    return True
            time.sleep(0.02)
        return False

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
