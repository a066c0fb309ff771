"""Viewer fixtures: a throwaway PostgreSQL, a database per backend, the app in process, a real server."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aitrace_viewer.app import create_app
from aitrace_viewer.settings import ViewerSettings
from litestar.testing import TestClient
from pg_server import pg_bin, throwaway_postgres
from server_process import LoggedProcess

BASE_URL = "http://127.0.0.1:8000"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it returns a truthy value or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


# ------------------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a PostgreSQL server: ``AITRACE_TEST_PG_URL``, else a throwaway one started here on 127.0.0.1."""
    given = os.environ.get("AITRACE_TEST_PG_URL")
    if given:
        yield given
        return
    bindir = pg_bin()
    if bindir is None:
        reason = "PostgreSQL binaries not found (apt-get install postgresql, or set AITRACE_TEST_PG_URL)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    settings = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")
    with throwaway_postgres(bindir, *settings, fast_initdb=True) as port:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


_db_numbers = itertools.count()


def _fresh_pg_database(server_url: str) -> str:
    import psycopg
    from sqlalchemy import make_url

    url = make_url(server_url)
    name = f"aitrace_t{os.getpid()}_{next(_db_numbers)}"
    conninfo = (
        f"host={url.host} port={url.port or 5432} user={url.username} dbname={url.database or 'postgres'}"
    )
    if url.password:
        conninfo += f" password={url.password}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'logs.db'}"
    return _fresh_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def settings(db_url: str) -> ViewerSettings:
    return ViewerSettings(db=db_url)


@pytest.fixture
def client(settings: ViewerSettings) -> Iterator[TestClient[Any]]:
    """The real app, in process."""
    with TestClient(create_app(settings), base_url=BASE_URL) as test_client:
        yield test_client


# ------------------------------------------------------------------------------------------ records


def rec(
    event: str,
    span: str,
    ts: str,
    *,
    trace: str = TRACE,
    parent: str | None = None,
    seq: int = 0,
    **fields: Any,
) -> dict[str, Any]:
    """A valid record: ``ts`` is seconds.micro after 12:00 (``"00.000100"``)."""
    record: dict[str, Any] = {
        "timestamp": f"2026-11-24T12:00:{ts}Z",
        "level": "info",
        "event": event,
        "logger": "test",
        "service": "svc",
        "trace_id": trace,
        "span_id": span,
        "seq": seq,
    }
    if parent:
        record["parent_span_id"] = parent
    record.update(fields)
    return record


def ingest(client: Any, records: list[dict[str, Any]], **headers: str) -> Any:
    return client.post(
        "/api/ingest",
        content="\n".join(json.dumps(r) for r in records).encode(),
        headers={"content-type": "application/x-ndjson", **headers},
    )


# ------------------------------------------------------------------------------------------ server process


class ServerProcess(LoggedProcess):
    def __init__(self, db: str, extra: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        super().__init__(
            [
                sys.executable,
                "-m",
                "aitrace_viewer",
                "serve",
                "--port",
                str(self.port),
                "--db",
                db,
                *(extra or []),
            ],
            env={**os.environ, **(env or {})},
        )
        headers = {}
        if extra and "--token" in extra:
            headers["Authorization"] = "Bearer " + extra[extra.index("--token") + 1]

        def healthy() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited early: {self.output()}")
            try:
                return httpx.get(self.url + "/api/health", headers=headers, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, 60, "the server's /api/health")


    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def server_factory() -> Iterator[Any]:
    started: list[ServerProcess] = []

    def start(db: str, extra: list[str] | None = None, env: dict[str, str] | None = None) -> ServerProcess:
        server = ServerProcess(db, extra, env)
        started.append(server)
        return server

    yield start
    for server in started:
        with contextlib.suppress(Exception):
            server.stop()
