"""AITRACE_LANGCHAIN_TRACING=true traces an application that never imports aitrace (a startup .pth hook)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

APP = textwrap.dedent(
    """
    import sys
    from langchain_core.runnables import RunnableLambda

    chain = RunnableLambda(lambda x: x + 1, name="add_one") | RunnableLambda(lambda x: x * 2, name="double")
    assert chain.invoke(3) == 8
    print("aitrace_langchain" in sys.modules)
    """
)


def _run(tmp_path: Path, flag: str | None) -> tuple[str, list[dict[str, object]]]:
    target = tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    env.update(HOME=str(tmp_path), AITRACE_TARGET=str(target), AITRACE_SERVICE_NAME="untouched-app")
    if flag is not None:
        env["AITRACE_LANGCHAIN_TRACING"] = flag
    proc = subprocess.run(
        [sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in target.read_text().splitlines()] if target.exists() else []
    return proc.stdout.strip(), records


def test_environment_variable_alone_traces_an_unmodified_app(tmp_path: Path) -> None:
    imported, records = _run(tmp_path, "true")
    assert imported == "True"
    names = {r.get("span_name") for r in records if r.get("event") == "span_end"}
    assert {"add_one", "double"} <= names
    assert {r["service"] for r in records} == {"untouched-app"}


def test_without_the_variable_nothing_is_loaded(tmp_path: Path) -> None:
    imported, records = _run(tmp_path, None)
    assert imported == "False"
    assert records == []
