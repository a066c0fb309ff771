"""Fixtures for aitrace_core tests: a tiny ingest sink and a real ``aitrace serve``, both on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from server_process import LoggedProcess

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
    path: str = ""


Answer = tuple[int, dict[str, Any]]
"""A status and the JSON body sent with it."""


@dataclass
class Sink:
    """A tiny ingest server. ``script`` holds answers (status, headers) used in order, then ``decide``'s
    answer for the records received (when set), else 200."""

    url: str
    server: ThreadingHTTPServer
    requests: list[Request] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    decide: Callable[[list[dict[str, Any]]], Answer | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.url.removesuffix("/api/ingest")

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
            reply: dict[str, Any] = {"error": "scripted"}
            with sink.lock:
                status, extra = sink.script.pop(0) if sink.script else (200, {})
            if status == 200 and sink.decide is not None:
                decided = sink.decide(records)
                if decided is not None:
                    status, reply = decided
            # Recorded before answering, so a client that saw the answer also sees the request here.
            with sink.arrived:
                sink.requests.append(
                    Request(dict(self.headers.items()), records, status, time.monotonic(), self.path)
                )
                sink.arrived.notify_all()
            if status < 300:
                reply = {"accepted": len(records)}
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


class AitraceServer(LoggedProcess):
    """A real ``aitrace serve`` on 127.0.0.1 (SQLite in a temporary folder), in a child process."""

    def __init__(self, folder: Path, *extra: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = extra[extra.index("--token") + 1] if "--token" in extra else None
        env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
        env.update(HOME=str(folder), XDG_CONFIG_HOME=str(folder / ".config"), PYTHONWARNINGS="ignore")
        super().__init__(
            [sys.executable, "-m", "aitrace_viewer", "serve", "--port", str(self.port),
             "--db", f"sqlite:///{folder / 'logs.db'}", *extra],
            env=env,
        )
        deadline = time.monotonic() + 60
        while self.get("/api/health") is None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"aitrace serve exited early:\n{self.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"aitrace serve did not answer within 60 s:\n{self.output()}")
            time.sleep(0.05)

    def get(self, path: str) -> Any:
        """The JSON answer to ``GET path``, or None when the server answers 404 or not at all."""
        request = urllib.request.Request(self.url + path)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        except OSError:
            return None

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        """The trace as the API gives it (``summary``, ``spans``, ``records``), or None while unknown."""
        found: dict[str, Any] | None = self.get(f"/api/traces/{trace_id}")
        return found



@pytest.fixture(scope="module")
def aitrace_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AitraceServer]:
    """One real ``aitrace serve`` shared by a test module."""
    server = AitraceServer(tmp_path_factory.mktemp("server"))
    try:
        yield server
    finally:
        server.stop()


def poll(predicate: Callable[[], Any], deadline: float) -> Any:
    """Call ``predicate`` until it answers something truthy or ``time.monotonic()`` passes ``deadline``;
    the last answer."""
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)
