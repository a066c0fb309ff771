"""The pytest plugin, run by ``pytester`` on a user's test module of real LangGraph agents (offline model)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from aitrace_core.testing import CapturedRecords

pytest_plugins = ["pytester"]

AGENT_TESTS = '''
import warnings

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from aitrace_core import get_logger
from aitrace_langchain.testing import FakeChatModel, tool_call

log = get_logger("shop")


@tool
def lookup_order(order_id: str) -> str:
    """Look up an order by its id."""
    log.info("looking up", order_id=order_id)
    return f"Order {order_id}: shipped on Monday."


def respond(messages):
    if isinstance(messages[-1], ToolMessage):
        return "Your order shipped on Monday."
    return AIMessage("", tool_calls=[tool_call("lookup_order", {"order_id": "A-1"}, id="call_1")])


def agent():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent
    return create_react_agent(FakeChatModel(respond=respond), tools=[lookup_order])


def ask(question):
    return agent().invoke({"messages": [HumanMessage(question)]})["messages"][-1].content


def test_answers_where_the_order_is(aitrace_spans):
    assert ask("where is order A-1?") == "Your order shipped on Monday."
    calls = [(c["name"], c["args"]) for c in aitrace_spans.tool_calls()]
    assert calls == [("lookup_order", {"order_id": "A-1"})]
    assert aitrace_spans.total_tokens() > 0
    assert len(aitrace_spans.of_kind("llm")) == 2


def test_answers_in_french():
    assert ask("où est ma commande A-1 ?") == "Votre commande est partie lundi."
'''


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}, **extra}


def _run(pytester: pytest.Pytester, *args: str, env: dict[str, str] | None = None) -> pytest.RunResult:
    """A separate interpreter, as a user's ``pytest`` would be (and none of this process's state)."""
    for key, value in (env or _env()).items():
        pytester._monkeypatch.setenv(key, value)
    for key in [k for k in os.environ if k.startswith("AITRACE_") and k not in (env or {})]:
        pytester._monkeypatch.delenv(key)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=240)


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture
def agent_tests(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_agent=AGENT_TESTS)
    return pytester


def test_a_failing_test_leaves_its_trace_and_html_and_the_report_names_it(
    agent_tests: pytest.Pytester,
) -> None:
    result = _run(agent_tests, "--aitrace")
    result.assert_outcomes(passed=1, failed=1)
    kept = sorted((agent_tests.path / ".aitrace").rglob("*.*"))
    assert [p.suffix for p in kept] == [".html", ".jsonl"]  # the failing test's two files, nothing else
    html, jsonl = kept
    assert "test_answers_in_french" in html.name
    output = result.stdout.str()
    assert str(html) in output  # in the failure's report and in the summary
    assert re.search(r"aitrace trace", output)

    CapturedRecords.from_jsonl(jsonl, resolve_refs=False).validate()  # records of the documented schema
    records = _records(jsonl)
    starts = {r["span_id"]: r for r in records if r["event"] == "span_start"}
    roots = [r for r in starts.values() if not r.get("parent_span_id")]
    assert [r["span_name"] for r in roots] == ["test_agent.py::test_answers_in_french"]
    assert len({r["trace_id"] for r in records}) == 1
    phases = {r["span_name"]: r for r in starts.values() if r.get("parent_span_id") == roots[0]["span_id"]}
    assert set(phases) == {"setup", "call", "teardown"}
    graph = next(
        r for r in starts.values() if r.get("span_kind") == "graph" and r["span_name"] == "LangGraph"
    )
    assert graph["parent_span_id"] == phases["call"]["span_id"]  # the agent's run nests under the test's call
    log = next(r for r in records if r["event"] == "looking up")
    assert starts[log["span_id"]]["span_kind"] == "tool"  # the tool's own log line sits in its span
    ends = {r["span_id"]: r for r in records if r["event"] == "span_end"}
    assert ends[roots[0]["span_id"]]["status"] == "error"
    assert ends[phases["call"]["span_id"]]["error.type"] == "AssertionError"

    page = html.read_text("utf-8")
    assert "test_answers_in_french" in page
    assert "Votre commande" in page


def test_all_keeps_every_trace_but_html_only_for_failures(agent_tests: pytest.Pytester) -> None:
    result = _run(agent_tests, "--aitrace=all", "--aitrace-dir", "traces")
    result.assert_outcomes(passed=1, failed=1)
    files = sorted(p.name for p in (agent_tests.path / "traces").rglob("*.*"))
    assert len(files) == 3
    assert sum(name.endswith(".jsonl") for name in files) == 2
    assert next(n for n in files if n.endswith(".html")).startswith("test_agent.py__test_answers_in_french")


def test_the_ini_option_turns_it_on_and_the_default_is_off(agent_tests: pytest.Pytester) -> None:
    off = _run(agent_tests)
    off.assert_outcomes(passed=1, failed=1)  # the fixture works without the plugin's recording
    assert not (agent_tests.path / ".aitrace").exists()
    assert "aitrace trace" not in off.stdout.str()
    agent_tests.makeini("[pytest]\naitrace = true\n")
    on = _run(agent_tests)
    on.assert_outcomes(passed=1, failed=1)
    assert len(list((agent_tests.path / ".aitrace").rglob("*.html"))) == 1


def test_a_path_after_the_flag_is_still_a_path(agent_tests: pytest.Pytester) -> None:
    agent_tests.makepyfile(test_other="def test_other():\n    assert False\n")
    result = _run(agent_tests, "--aitrace", "test_other.py")
    result.assert_outcomes(failed=1)  # only that file ran
    assert [p.name for p in (agent_tests.path / ".aitrace").rglob("*.html")] == [
        "test_other.py__test_other.html"
    ]


def test_the_users_aitrace_settings_do_not_take_the_tests_records(agent_tests: pytest.Pytester) -> None:
    """A target set in the environment (the developer's own server or file) gets nothing from the tests:
    the records go to the test's trace."""
    target = agent_tests.path / "elsewhere.jsonl"
    env = _env(AITRACE_TARGET=str(target), AITRACE_LANGCHAIN_TRACING="true", AITRACE_LEVEL="error")
    result = _run(agent_tests, "--aitrace", env=env)
    result.assert_outcomes(passed=1, failed=1)
    kept = list((agent_tests.path / ".aitrace").rglob("*.jsonl"))
    assert len(kept) == 1
    assert any(r["event"] == "looking up" for r in _records(kept[0]))  # info lines despite AITRACE_LEVEL
    assert not target.exists() or not target.read_text("utf-8").strip()


def test_xdist_workers_write_into_one_session_folder(agent_tests: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    agent_tests.makepyfile(
        test_more="def test_a():\n    assert 1 == 2\n\ndef test_b():\n    assert 'x' == 'y'\n"
    )
    result = _run(agent_tests, "--aitrace", "-n", "2")
    result.assert_outcomes(passed=1, failed=3)
    sessions = list((agent_tests.path / ".aitrace").iterdir())
    assert len(sessions) == 1
    assert len(list(sessions[0].glob("*.html"))) == 3
    assert len(list(sessions[0].glob("*.jsonl"))) == 3
    assert result.stdout.str().count("failed test's trace:") == 3


def test_docs_name_every_option(pytester: pytest.Pytester) -> None:
    """docs/pytest.md lists each command-line and ini option the plugin adds."""
    result = pytester.runpytest_subprocess("--help")
    options = set(re.findall(r"--aitrace[\w-]*", result.stdout.str()))
    ini = {m for m in re.findall(r"^\s+(aitrace\w*) \(", result.stdout.str(), re.M)}
    assert options == {"--aitrace", "--aitrace-dir"}
    assert ini == {"aitrace", "aitrace_dir"}, result.stdout.str()
    doc = (Path(__file__).resolve().parents[2] / "docs" / "pytest.md").read_text("utf-8")
    assert all(f"`{name}" in doc for name in options | ini)
