"""Fixtures for aitrace_core tests: a real HTTP ingest sink on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from aitrace_core._runtime import runtime
from aitrace_core.testing import CapturedRecords


@pytest.fixture(autouse=True)
def _restore_tracing() -> Iterator[None]:
    """configure(sample_ratio=...) and provider swaps made by a test do not leak into the next one."""
    saved = (runtime.provider, runtime.tracer, runtime.own_provider, runtime.sample_bound)
    try:
        yield
    finally:
        runtime.provider, runtime.tracer, runtime.own_provider, runtime.sample_bound = saved


@dataclass
class Request:
    """One POST the sink received."""

    headers: dict[str, str]
    records: list[dict[str, Any]]
    status: int
    at: float


@dataclass
class Sink:
    """A tiny ingest server. ``script`` holds answers (status, headers) used in order, then 200s."""

    url: str
    server: ThreadingHTTPServer
    requests: list[Request] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def accepted(self) -> CapturedRecords:
        """Records of every 2xx answered request, in arrival order."""
        out = CapturedRecords()
        for req in self.requests:
            if 200 <= req.status < 300:
                out.extend(req.records)
        return out

    def wait_for(self, n_requests: int, timeout: float = 20.0) -> bool:
        end = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < n_requests:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True


def _handler(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            records = [json.loads(line) for line in body.splitlines() if line.strip()]
            with sink.lock:
                status, extra = sink.script.pop(0) if sink.script else (200, {})
            # Recorded before answering, so a client that saw the answer also sees the request here.
            with sink.arrived:
                sink.requests.append(Request(dict(self.headers.items()), records, status, time.monotonic()))
                sink.arrived.notify_all()
            reply = {"accepted": len(records)} if status < 300 else {"error": "scripted"}
            answer = json.dumps(reply).encode()
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A real HTTP server on 127.0.0.1 (random port) that records what it receives."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    port = server.server_address[1]
    s = Sink(url=f"http://127.0.0.1:{port}/api/ingest", server=server)
    server.RequestHandlerClass = _handler(s)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield s
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def closed_port_url() -> str:
    """An ingest URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/ingest"


@pytest.fixture
def hanging_url() -> Iterator[str]:
    """An ingest URL that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/ingest"
    finally:
        sock.close()
