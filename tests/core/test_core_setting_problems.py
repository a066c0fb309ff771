"""A setting problem never stops the traced application: said once on stderr, with a "did you mean"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import aitrace_core
from aitrace_core import ConfigError, CoreSettings, load_settings
from aitrace_core._settings_check import ENV_ONLY, LANGCHAIN_KEYS, VIEWER_KEYS

APP = textwrap.dedent(
    """
    import sys
    import aitrace_core

    for attempt in range(3):  # an app that configures again (a reload, a test) is told only once
        aitrace_core.configure(service_name="shop", target=sys.argv[1])
    with aitrace_core.span("checkout"):
        aitrace_core.get_logger("app").info("paid", amount=12)
    aitrace_core.flush()
    print("app finished")
    """
)


def _run_app(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, object]]]:
    target = tmp_path / "out.jsonl"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    clean.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_CACHE_HOME=str(tmp_path))
    clean.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", APP, str(target)], env=clean, capture_output=True, text=True, timeout=60
    )
    records = [json.loads(line) for line in target.read_text().splitlines()] if target.exists() else []
    return proc, records


def _said(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_a_bad_environment_value_is_said_once_and_the_app_runs(tmp_path: Path) -> None:
    proc, records = _run_app(tmp_path, AITRACE_BATCH_SIZE="abc")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "app finished"
    assert {r["event"] for r in records} >= {"span_start", "paid", "span_end"}  # traced all the same
    [line] = _said(proc.stderr)
    assert line.startswith("aitrace: batch_size='abc' from environment variable AITRACE_BATCH_SIZE")
    assert "at least 1 and at most 100000" in line  # what is allowed
    assert "using 512 (the default) instead" in line


def test_an_unknown_config_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    # `port` is the server's key: the file is shared by every part, so it is not unknown here.
    config.write_text('targt = "-"\nport = 8001\nlevel = "warning"\n')
    proc, records = _run_app(tmp_path, AITRACE_CONFIG=str(config))
    assert proc.returncode == 0, proc.stderr
    assert records
    assert "paid" not in {r["event"] for r in records}  # the file's good keys still count
    [line] = _said(proc.stderr)
    expected = f"aitrace: unknown key 'targt' in config file {config} (did you mean 'target'?); it is ignored"
    assert line == expected


def test_an_unknown_environment_variable_gets_a_did_you_mean(tmp_path: Path) -> None:
    proc, _ = _run_app(
        tmp_path,
        AITRACE_SERVCE_NAME="typo",
        # aitrace's own variables of every part, and its test suite's, are not unknown:
        AITRACE_PORT="8001",
        AITRACE_DB="x.db",
        AITRACE_LANGCHAIN_HIDE_INPUTS="true",
        AITRACE_DEMO_MODEL="gpt-4o-mini",
        AITRACE_TEST_PG_URL="postgresql://x",
    )
    assert proc.returncode == 0, proc.stderr
    [line] = _said(proc.stderr)
    assert "unknown environment variable AITRACE_SERVCE_NAME" in line
    assert "did you mean 'AITRACE_SERVICE_NAME'?" in line


def test_a_bad_argument_in_code_raises_a_config_error(tmp_path: Path) -> None:
    """An explicit argument is the programmer's own: wrong in code, it fails the first time the code runs."""
    with pytest.raises(ConfigError) as info:
        aitrace_core.configure(target=tmp_path / "x.jsonl", batch_size="abc")
    message = str(info.value)
    assert "batch_size='abc' from the arguments of configure()" in message
    assert "at least 1" in message


def test_the_argument_wins_over_a_bad_environment_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AITRACE_BATCH_SIZE", "abc")
    assert load_settings(CoreSettings, batch_size=9).batch_size == 9
    assert capsys.readouterr().err == ""  # the bad value is not in force: nothing to say


def test_the_names_core_knows_match_every_parts_settings() -> None:
    """Core cannot import the other parts, so it lists their keys; this keeps the list true."""
    from aitrace_viewer.settings import ViewerSettings

    from aitrace_langchain._settings import TRACING_ENV_VAR, HandlerSettings

    assert set(LANGCHAIN_KEYS) == set(HandlerSettings.model_fields)
    assert set(VIEWER_KEYS) == set(ViewerSettings.model_fields)
    assert TRACING_ENV_VAR in ENV_ONLY


@pytest.mark.parametrize("raw", ["[1, 2]", "not json"])
def test_a_bad_list_is_one_problem(
    raw: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aitrace_viewer.settings import ViewerSettings

    monkeypatch.setenv("AITRACE_ALLOWED_HOSTS", raw)
    assert load_settings(ViewerSettings).allowed_hosts == []
    [line] = capsys.readouterr().err.splitlines()
    assert "from environment variable AITRACE_ALLOWED_HOSTS" in line
    assert 'allowed: a list of strings (in the environment as JSON: ["a", "b"])' in line
    assert "using [] (the default) instead" in line
