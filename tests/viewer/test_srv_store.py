"""Store details: timestamps, the server's pruning, the one-writer SQLite set-up, a file that won't open."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aitrace_viewer.app import create_app
from aitrace_viewer.settings import ViewerSettings, parse_age
from aitrace_viewer.store import Store, format_ts, parse_ts
from conftest import BASE_URL, rec, wait_for
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-24T12:00:00.000100Z", "2026-11-24T12:00:00.000100Z"),
        ("2026-11-24T12:00:00Z", "2026-11-24T12:00:00.000000Z"),
        ("2026-11-24T12:00:00.123456789Z", "2026-11-24T12:00:00.123456Z"),
        ("2026-11-24T14:00:00.5+02:00", "2026-11-24T12:00:00.500000Z"),
    ],
)
def test_timestamps_normalise_to_utc_microseconds(given: str, expected: str) -> None:
    assert format_ts(parse_ts(given)) == expected


def test_ages() -> None:
    assert parse_age("7d") == 7 * 86400
    assert parse_age("90") == 90
    assert parse_age("1.5h") == 5400
    with pytest.raises(ValueError, match="age"):
        parse_age("a week")


def test_the_server_prunes_by_max_age(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    old = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 3 * 86400)) + ".000001Z"
    new = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000001Z"
    records = [
        {**rec("old", "00f067aa0ba902b7", "00.000001", trace="ab" * 16), "timestamp": old},
        {**rec("new", "00f067aa0ba902b7", "00.000001", trace="cd" * 16), "timestamp": new},
    ]
    store = Store(url)
    store.ingest(records, [json.dumps(r) for r in records])
    store.close()
    settings = ViewerSettings(db=url, max_age="2d", prune_interval=0.05)
    with TestClient(create_app(settings), base_url=BASE_URL) as client:

        def pruned() -> bool:
            listed = client.get("/api/traces").json()["traces"]
            return [t["trace_id"] for t in listed] == ["cd" * 16]

        wait_for(pruned, 30, "the old trace to be pruned")


def test_sqlite_is_wal_with_a_busy_timeout(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'logs.db'}")
    try:
        with store.reader.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert store.writer.pool.size() == 1  # type: ignore[attr-defined]
    finally:
        store.close()


def test_the_trace_of_a_lone_log_line(client: Any) -> None:
    from conftest import ingest

    ingest(client, [rec("just a line", "00f067aa0ba902b7", "00.000001")])
    summary = client.get("/api/traces").json()["traces"][0]
    assert summary["root_name"] is None
    assert summary["root_kind"] == "log"
    assert summary["status"] == "ok"
    assert summary["record_count"] == 1
    assert summary["incomplete"] is False


def test_a_database_that_cannot_open_raises_and_leaves_no_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open fails in the caller, with nothing started: no checkpoint thread, no traceback from one."""
    thread_errors: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    folder = tmp_path / "a-folder.db"  # SQLite cannot open a folder as its database file
    folder.mkdir()
    before = set(threading.enumerate())
    with pytest.raises(OperationalError, match="unable to open database file"):
        Store(f"sqlite:///{folder}")
    assert [t.name for t in set(threading.enumerate()) - before] == []
    assert thread_errors == []  # (a thread that ended already had to report through the hook)
