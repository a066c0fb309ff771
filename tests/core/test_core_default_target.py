"""With no target set, records go to ``~/logs/<service>/...jsonl``; the first write says so once on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(code: str, home: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    env.update(env_extra)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env, cwd=home
    )
    assert out.returncode == 0, out.stderr
    return out


def _files(home: Path) -> list[Path]:
    return sorted((home / "logs").rglob("*.jsonl"))


def test_the_default_file_is_named_once_on_stderr_when_first_written(tmp_path: Path) -> None:
    code = (
        "import aitrace_core as a\n"
        "log = a.get_logger('shop')\n"
        "for i in range(50):\n"
        "    with a.span('order'):\n"
        "        log.info('paid', i=i)\n"
        "a.flush()\n"
        "for i in range(50):\n"
        "    log.info('later', i=i)\n"
    )
    out = _run(code, tmp_path)
    files = _files(tmp_path)
    assert len(files) == 1
    assert len(files[0].read_text().splitlines()) == 200
    assert out.stderr.count(str(files[0])) >= 1
    notices = [line for line in out.stderr.splitlines() if str(files[0]) in line]
    assert len(notices) == 1, out.stderr  # once, not per record or per batch
    assert "AITRACE_TARGET" in notices[0]  # how to send them elsewhere


def test_nothing_is_said_at_import_or_configure_before_anything_is_written(tmp_path: Path) -> None:
    out = _run("import aitrace_core as a\na.configure()\n", tmp_path)
    assert out.stderr == ""
    assert _files(tmp_path) == []


def test_nothing_is_said_when_the_user_chose_the_file(tmp_path: Path) -> None:
    target = tmp_path / "mine.jsonl"
    code = "import aitrace_core as a\nwith a.span('x'):\n    a.get_logger().info('hi')\n"
    out = _run(code, tmp_path, AITRACE_TARGET=str(target))
    assert out.stderr == ""
    assert len(target.read_text().splitlines()) == 3


@pytest.mark.slow
def test_langchain_tracing_from_the_environment_says_where_records_go(tmp_path: Path) -> None:
    """The issue's case: ``AITRACE_LANGCHAIN_TRACING=true``, no target, an app that never imports aitrace."""
    code = (
        "from langchain_core.runnables import RunnableLambda\n"
        "chain = RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x * 2)\n"
        "for i in range(3):\n"
        "    assert chain.invoke(i) == (i + 1) * 2\n"
    )
    out = _run(code, tmp_path, AITRACE_LANGCHAIN_TRACING="true")
    files = _files(tmp_path)
    assert len(files) == 1
    assert files[0].read_text().count('"span_start"') == 9  # 3 runs of a sequence of two steps
    notices = [line for line in out.stderr.splitlines() if str(files[0]) in line]
    assert len(notices) == 1, out.stderr


@pytest.mark.parametrize("service", ["..", "../../etc", "a/b"])
def test_a_service_name_never_leaves_the_logs_folder(tmp_path: Path, service: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    code = f"import aitrace_core as a\na.configure(service_name={service!r})\na.get_logger().info('hi')\n"
    _run(code, home)
    assert [p.parent.parent for p in _files(home)] == [home / "logs"]
    assert not list(tmp_path.glob("*.jsonl"))
    assert not list(home.glob("*.jsonl"))
