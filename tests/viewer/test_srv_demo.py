"""``aitrace demo``: serves, sends the example runs, prints the URL, and stops cleanly on SIGTERM / Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from conftest import wait_for


@pytest.mark.parametrize(
    ("sig", "port_taken"), [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)]
)
def test_demo_serves_the_example_runs_and_stops_cleanly(
    tmp_path: Path, sig: signal.Signals, port_taken: bool
) -> None:
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finally
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    # Either an explicit free port, or the configured default port already in use: the demo still serves.
    args = [] if port_taken else ["--port", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "aitrace_viewer", "demo", *args, "--db", str(tmp_path / "demo.db")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "AITRACE_PORT": str(taken)},
    )
    try:

        def announced() -> str | None:
            log.seek(0)
            text = log.read().decode(errors="replace")
            if proc.poll() is not None:
                raise AssertionError(f"demo exited early: {text}")
            match = re.search(r"Open (http://127\.0\.0\.1:\d+/)", text)
            return match.group(1) if match else None

        url = wait_for(announced, 120, "the demo's URL")
        assert f":{taken}/" not in url
        log.seek(0)
        assert "failed" not in log.read().decode(errors="replace")
        traces = httpx.get(url + "api/traces").json()["traces"]
        assert traces, "the demo sent runs"
        assert {t["service"] for t in traces} >= {"aitrace-demo"}
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        blocker.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
