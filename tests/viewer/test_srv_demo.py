"""``aitrace demo``: serves, sends the example runs, prints the URL, and stops cleanly on SIGTERM / Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from conftest import wait_for


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_demo_serves_the_example_runs_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "aitrace_viewer", "demo", "--port", "0", "--db", str(tmp_path / "demo.db")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
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
        log.seek(0)
        assert "failed" not in log.read().decode(errors="replace")
        traces = httpx.get(url + "api/traces").json()["traces"]
        assert traces, "the demo sent runs"
        assert {t["service"] for t in traces} >= {"aitrace-demo"}
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
