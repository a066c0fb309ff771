"""The handler's settings: one loader with core (environment, config file), problems said once on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage
from lc_helpers import react_agent

from aitrace_core import ConfigError
from aitrace_core.testing import CapturedRecords
from aitrace_langchain import AITraceHandler


def _said(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("aitrace: ")]


def test_a_bad_sample_ratio_is_said_once_and_everything_is_traced(
    records: CapturedRecords, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AITRACE_LANGCHAIN_SAMPLE_RATIO", "lots")
    agent = react_agent()
    for _ in range(3):  # a handler made per call, as the README shows: said once all the same
        agent.invoke({"messages": [HumanMessage("what is 2 + 3?")]}, {"callbacks": [AITraceHandler()]})
    assert len(records.by_name("calc_agent")) == 3
    [line] = _said(capsys)
    assert line.startswith(
        "aitrace: langchain_sample_ratio='lots' from environment variable AITRACE_LANGCHAIN_SAMPLE_RATIO"
    )
    assert "at least 0.0 and at most 1.0" in line
    assert "using 1.0 (the default) instead" in line


def test_a_bad_flag_is_said_and_the_default_kept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AITRACE_LANGCHAIN_HIDE_INPUTS", "yes please")
    assert AITraceHandler().hide_inputs is False
    [line] = _said(capsys)
    assert "AITRACE_LANGCHAIN_HIDE_INPUTS" in line
    assert "true or false" in line
    assert "using False (the default) instead" in line


def test_options_come_from_the_config_file_too(
    records: CapturedRecords, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("langchain_hide_inputs = true\nlangchain_hide_outputs = true\n")
    monkeypatch.setenv("AITRACE_CONFIG", str(config))
    agent = react_agent()
    agent.invoke({"messages": [HumanMessage("the secret question")]}, {"callbacks": [AITraceHandler()]})
    assert records.by_name("calc_agent")
    assert "secret question" not in "\n".join(map(str, records))
    monkeypatch.setenv("AITRACE_LANGCHAIN_HIDE_INPUTS", "false")  # the environment wins over the file
    assert AITraceHandler().hide_inputs is False


def test_a_bad_argument_raises() -> None:
    with pytest.raises(ConfigError) as info:
        AITraceHandler(sample_ratio=2.0)
    assert "langchain_sample_ratio=2.0 from the arguments of AITraceHandler()" in str(info.value)


APP = textwrap.dedent(
    """
    from langchain_core.runnables import RunnableLambda

    chain = RunnableLambda(lambda x: x + 1, name="add_one")
    for _ in range(3):
        assert chain.invoke(1) == 2
    print("app finished")
    """
)


@pytest.mark.parametrize("value", ["treu", "TRUE"])
def test_a_misspelt_tracing_variable_is_said_in_an_app_that_never_imports_aitrace(
    tmp_path: Path, value: str
) -> None:
    target = tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    env.update(HOME=str(tmp_path), AITRACE_TARGET=str(target), AITRACE_LANGCHAIN_TRACING=value)
    proc = subprocess.run(
        [sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "app finished"
    said = [line for line in proc.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in target.read_text().splitlines()] if target.exists() else []
    if value == "TRUE":  # any spelling pydantic reads as a boolean
        assert said == []
        assert len([r for r in records if r.get("span_name") == "add_one"]) == 6
        return
    assert said == [
        "aitrace: environment variable AITRACE_LANGCHAIN_TRACING='treu' is not a boolean; "
        "allowed: true or false (also 1/0, yes/no, on/off); LangChain runs are not traced"
    ]
    assert records == []
