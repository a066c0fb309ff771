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
        text = log.read().decode(errors="replace")
        assert "failed" not in text
        if port_taken:  # it says which port it took instead
            port = int(url.rstrip("/").rsplit(":", 1)[1])
            assert f"aitrace demo: port {taken} is in use; serving on {port} instead" in text.splitlines()
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


def test_demo_runs_stay_out_of_your_own_database(tmp_path: Path) -> None:
    """Without --db the demo writes to a demo database in the cache folder, and says where."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONUNBUFFERED="1",
    )
    own = home / ".config" / "aitrace" / "logs.db"
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "aitrace_viewer", "demo", "--port", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:

        def announced() -> str | None:
            log.seek(0)
            text = log.read().decode(errors="replace")
            if proc.poll() is not None:
                raise AssertionError(f"demo exited early: {text}")
            return text if "Open http" in text else None

        text = wait_for(announced, 120, "the demo's URL")
        demo_db = home / ".cache" / "aitrace" / "demo.db"
        assert f"demo runs go to {demo_db}" in text
        url = re.search(r"Open (http://127\.0\.0\.1:\d+/)", text)
        assert url
        assert httpx.get(url.group(1) + "api/traces").json()["traces"]
        assert demo_db.is_file()
        assert not own.exists(), "the demo wrote into the personal database"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
