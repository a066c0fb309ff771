"""Run the real aitrace app (``create_app``) under uvicorn on 127.0.0.1, in a child process.

    python tests/browser/ui_server.py PORT SQLITE_PATH

Used by the browser tests, ``benchmarks/bench_ui.py`` and ``scripts/screenshots.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UiServer:
    """A server process; ``ingest(records)`` posts records through the real API."""

    def __init__(self, db: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE), str(self.port), str(db)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.client = httpx.Client(base_url=self.url, timeout=60)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if self.client.get("/api/health").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /api/health within 60 s:\n{self.output()}")
            time.sleep(0.05)

    def ingest(self, records: list[dict[str, Any]]) -> None:
        body = "\n".join(json.dumps(r) for r in records)
        # Stay under the server's body limit: send big traces in slices.
        chunk: list[str] = []
        size = 0
        for line in body.split("\n"):
            if size + len(line) > 8_000_000 and chunk:
                self._post("\n".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line) + 1
        if chunk:
            self._post("\n".join(chunk))

    def _post(self, body: str) -> None:
        res = self.client.post(
            "/api/ingest", content=body.encode(), headers={"Content-Type": "application/x-ndjson"}
        )
        if res.status_code != 200:
            raise RuntimeError(f"ingest failed: {res.status_code} {res.text[:500]}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@contextlib.contextmanager
def running_server(db: Path, env: dict[str, str] | None = None) -> Iterator[UiServer]:
    server = UiServer(db, env)
    try:
        yield server
    finally:
        server.stop()


def _main() -> None:
    import uvicorn
    from aitrace_viewer.app import create_app
    from aitrace_viewer.settings import ViewerSettings

    port, db = int(sys.argv[1]), sys.argv[2]
    settings = ViewerSettings(host="127.0.0.1", port=port, db=db, max_body_bytes=64 * 1024 * 1024)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", ws="none")


if __name__ == "__main__":
    _main()
