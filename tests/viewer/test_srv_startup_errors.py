"""``aitrace serve`` that cannot start says why in one line, with the fix, and exits non-zero (no traceback
unless ``--debug``). Each case runs the real command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_CACHE_HOME=str(tmp_path / "c"))
    return subprocess.run(
        [sys.executable, "-m", "aitrace_viewer", "serve", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_postgresql_not_running(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there once the probe socket is closed
    line = _one_line(_serve(tmp_path, "--port", "0", "--db", f"postgresql://postgres@127.0.0.1:{closed}/traces"))
    assert "PostgreSQL" in line
    assert f"127.0.0.1:{closed}" in line
    assert "refused" in line.lower()
    assert "--db" in line


def test_database_path_under_a_regular_file(tmp_path: Path) -> None:
    # Tests run as root, and permissions do not stop root: a folder that is a file does.
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder\n")
    line = _one_line(_serve(tmp_path, "--port", "0", "--db", str(blocker / "traces.db")))
    assert f"cannot open the SQLite database {blocker / 'traces.db'}" in line
    assert f"{blocker} is a file, not a folder" in line
    assert "--db" in line


def test_database_in_a_folder_nobody_can_write(tmp_path: Path) -> None:
    line = _one_line(_serve(tmp_path, "--port", "0", "--db", "/proc/aitrace-test.db"))
    assert "cannot open the SQLite database /proc/aitrace-test.db" in line
    assert "--db" in line


def test_unsupported_database(tmp_path: Path) -> None:
    line = _one_line(_serve(tmp_path, "--port", "0", "--db", "mysql://x"))
    assert "db='mysql://x' from the command line" in line
    assert "SQLite or PostgreSQL" in line


def test_port_in_use(tmp_path: Path, held_port: int) -> None:
    line = _one_line(_serve(tmp_path, "--port", str(held_port), "--db", str(tmp_path / "t.db")))
    assert f"port {held_port} on 127.0.0.1 is already in use" in line
    assert "--port" in line


def test_bad_port_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITRACE_PORT", "80OO")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    proc = subprocess.run(
        [sys.executable, "-m", "aitrace_viewer", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    line = _one_line(proc)
    assert "port='80OO' from environment variable AITRACE_PORT" in line
    assert "at least 0 and at most 65535" in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    closed = free_port()
    proc = _serve(tmp_path, "--debug", "--port", "0", "--db", f"postgresql://postgres@127.0.0.1:{closed}/x")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr
    assert "OperationalError" in proc.stderr
