"""The server commands of the ``aitrace`` CLI."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from aitrace_viewer.store import Store, TraceFilters
from click.testing import CliRunner
from conftest import TRACE, rec

from aitrace_core.cli import main


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _records(trace: str = TRACE, n: int = 5) -> list[dict[str, Any]]:
    return [rec(f"line {i}", "00f067aa0ba902b7", f"00.{i:06d}", trace=trace, seq=i) for i in range(n)]


def test_import_a_file_and_a_folder_then_export(tmp_path: Path, db_url: str) -> None:
    runner = CliRunner()
    _write(tmp_path / "a.jsonl", _records())
    (tmp_path / "more").mkdir()
    _write(tmp_path / "more" / "b.jsonl", _records("ab" * 16, 2500))
    result = runner.invoke(main, ["import", str(tmp_path / "a.jsonl"), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "imported 5 records" in result.output
    result = runner.invoke(main, ["import", str(tmp_path), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "imported 2500 records from 2 file(s) (5 already there)" in result.output
    _assert_planner_statistics(db_url)

    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["export", TRACE, "--db", db_url, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in out.read_text().splitlines()] == _records()
    result = runner.invoke(main, ["export", TRACE, "--db", db_url, "--format", "csv"])
    assert result.output.splitlines()[0].startswith("timestamp,level,event")
    result = runner.invoke(main, ["export", TRACE, "--db", db_url, "--format", "json"])
    assert json.loads(result.output) == _records()
    assert runner.invoke(main, ["export", "../etc", "--db", db_url]).exit_code == 2
    assert runner.invoke(main, ["export", "cd" * 16, "--db", db_url]).exit_code == 1


def _assert_planner_statistics(db_url: str) -> None:
    """After an import PostgreSQL's planner knows the tables' sizes (not only after the next autovacuum)."""
    from sqlalchemy import text

    store = Store(db_url, migrate=False)
    try:
        if store.pg:
            with store.reader.connect() as conn:
                sql = "SELECT reltuples FROM pg_class WHERE relname = 'records'"
                assert conn.execute(text(sql)).scalar_one() >= 2000
    finally:
        store.close()


def test_import_names_the_bad_line(tmp_path: Path, db_url: str) -> None:
    records = _records()
    records[3]["span_id"] = "nothex"
    _write(tmp_path / "bad.jsonl", records)
    result = CliRunner().invoke(main, ["import", str(tmp_path / "bad.jsonl"), "--db", db_url])
    assert result.exit_code == 1
    assert "bad.jsonl:4: span_id: 'nothex'" in result.output


def test_export_html_from_a_trace_id_or_a_jsonl_file(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'logs.db'}"
    _write(tmp_path / "a.jsonl", _records())
    CliRunner().invoke(main, ["import", str(tmp_path / "a.jsonl"), "--db", db])
    names = {r["span_name"] for r in _records() if r.get("event") == "span_start"}

    result = CliRunner().invoke(main, ["export", "--html", TRACE, "--db", db, "-o", str(tmp_path / "t.html")])
    assert result.exit_code == 0, result.output
    from_db = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert from_db.lstrip().lower().startswith("<!doctype html")

    result = CliRunner().invoke(main, ["export", "--html", str(tmp_path / "a.jsonl")])
    assert result.exit_code == 0, result.output
    from_file = (tmp_path / "a.html").read_text(encoding="utf-8")  # default name: the file's, with .html
    for page in (from_db, from_file):
        assert all(name in page for name in names), "the records are embedded in the page"

    result = CliRunner().invoke(main, ["export", "--html", "not-a-trace-or-file"])
    assert result.exit_code == 2
    assert "trace id" in result.output


def test_prune_and_db_upgrade(tmp_path: Path, db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["db", "upgrade", "--db", db_url])
    assert result.exit_code == 0
    assert "up to date" in result.output

    def stamp(seconds_ago: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - seconds_ago)) + ".000001Z"

    old = [dict(r, timestamp=stamp(10 * 86400)) for r in _records()]
    fresh = [dict(r, timestamp=stamp(0)) for r in _records("ef" * 16, 3)]
    _write(tmp_path / "a.jsonl", old + fresh)
    assert runner.invoke(main, ["import", str(tmp_path / "a.jsonl"), "--db", db_url]).exit_code == 0
    assert runner.invoke(main, ["prune", "--older-than", "soon", "--db", db_url]).exit_code == 2
    result = runner.invoke(main, ["prune", "--older-than", "7d", "--db", db_url])
    assert result.exit_code == 0
    assert "deleted 1 traces (5 records)" in result.output
    store = Store(db_url)
    try:
        assert [t["trace_id"] for t in store.list_traces(TraceFilters())[0]] == ["ef" * 16]
        assert store.search("line")
        assert all(h["trace_id"] == "ef" * 16 for h in store.search("line"))
    finally:
        store.close()


def test_settings_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aitrace_viewer.settings import load_viewer_settings

    monkeypatch.setenv("AITRACE_TOKEN", "from-env")
    monkeypatch.setenv("AITRACE_DB", str(tmp_path / "x.db"))
    settings = load_viewer_settings(port=9999)
    assert settings.token == "from-env"
    assert settings.port == 9999
    assert settings.host == "127.0.0.1"
    assert settings.db == "sqlite:///" + str(tmp_path / "x.db")
    monkeypatch.delenv("AITRACE_DB")
    assert load_viewer_settings().db == "sqlite:///" + os.path.join(
        os.environ["XDG_CONFIG_HOME"], "aitrace", "logs.db"
    )


def test_serve_refuses_a_lens_that_is_not_there(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--db", str(tmp_path / "x.db"), "--lens", str(tmp_path / "missing.js")]
    )
    assert result.exit_code != 0
    assert "missing.js: no such file" in result.output
    (tmp_path / "lens.txt").write_text("x")
    result = CliRunner().invoke(
        main, ["serve", "--db", str(tmp_path / "x.db"), "--lens", str(tmp_path / "lens.txt")]
    )
    assert "a lens is a JavaScript module" in result.output


@pytest.mark.parametrize(
    ("args", "hidden", "extra"),
    [
        (["serve", "--port", "0"], "uvicorn", "viewer"),
        (["demo", "--port", "0"], "langgraph", "all"),
        (["export", "ab" * 16], "litestar", "viewer"),
        (["serve", "--db", "postgresql://u@127.0.0.1:1/x"], "psycopg", "postgres"),
        (["mcp"], "mcp", "mcp"),
    ],
)
def test_a_command_whose_packages_are_missing_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], hidden: str, extra: str
) -> None:
    """``pip install aitrace`` has no server packages: the server commands say so instead of a traceback."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == hidden else real(name, *a)
    )
    monkeypatch.setenv("HOME", str(tmp_path))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert f"pip install 'aitrace[{extra}]'" in result.output
    assert hidden in result.output
    assert "Traceback" not in result.output


def test_export_html_refuses_what_import_refuses_with_the_same_message(tmp_path: Path, db_url: str) -> None:
    records = _records()
    records[2]["trace_id"] = "not a trace id"
    _write(tmp_path / "bad.jsonl", records)
    imported = CliRunner().invoke(main, ["import", str(tmp_path / "bad.jsonl"), "--db", db_url])
    exported = CliRunner().invoke(main, ["export", "--html", str(tmp_path / "bad.jsonl")])
    assert (imported.exit_code, exported.exit_code) == (1, 1)
    problem = exported.output.strip().removeprefix("Error: ")
    assert problem.startswith(f"{tmp_path / 'bad.jsonl'}:3: trace_id")
    assert problem in imported.output
    assert not (tmp_path / "bad.html").exists()


def test_export_html_of_several_traces_is_titled_as_such(tmp_path: Path) -> None:
    _write(tmp_path / "three.jsonl", _records() + _records("ab" * 16, 2) + _records("cd" * 16, 2))
    result = CliRunner().invoke(main, ["export", "--html", str(tmp_path / "three.jsonl")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "three.html").read_text(encoding="utf-8")
    assert "<title>3 traces · aitrace</title>" in page
    _write(tmp_path / "one.jsonl", _records())
    assert CliRunner().invoke(main, ["export", "--html", str(tmp_path / "one.jsonl")]).exit_code == 0
    assert "<title>3 traces" not in (tmp_path / "one.html").read_text(encoding="utf-8")
