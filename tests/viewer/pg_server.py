"""A throwaway PostgreSQL server on 127.0.0.1 from the Debian binaries, for the tests and the benchmarks.

PostgreSQL refuses to run as root: as root its programs run as the ``postgres`` user (``subprocess``'s
``user=`` switches in the child itself, so the PID held here is the server's own).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["pg_bin", "throwaway_postgres"]


def pg_bin() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres() -> dict[str, Any]:
    if os.geteuid() == 0:
        return {"user": "postgres", "group": "postgres", "extra_groups": []}
    return {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_postgres(bindir: Path, *settings: str, fast_initdb: bool = False) -> Iterator[int]:
    """Start a server in a temporary folder (``settings``: ``name=value`` for ``-c``); yields its port once it
    accepts connections, and stops it (fast shutdown) and removes the folder afterwards."""
    import psycopg

    root = Path(tempfile.mkdtemp(prefix="aitrace-pg-"))
    data = root / "data"
    if _as_postgres():
        shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    subprocess.run(
        [*initdb, "--no-sync"] if fast_initdb else initdb,
        check=True,
        capture_output=True,
        cwd=root,
        **_as_postgres(),
    )
    port = _free_port()
    options = [arg for setting in settings for arg in ("-c", setting)]
    proc = subprocess.Popen(
        [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-k",
            str(root),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
        **_as_postgres(),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {proc.returncode}")
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=2
                ):
                    break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not accept connections within 60 s") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.send_signal(signal.SIGINT)  # fast shutdown
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
