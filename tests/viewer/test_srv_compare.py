"""Compare two runs: real LangGraph runs that differ in one thing each, via compare(), the API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aitrace_viewer._valuediff import word_diff
from aitrace_viewer.compare import compare
from click.testing import CliRunner
from compare_runs import run
from conftest import ingest

from aitrace_core.cli import main

NEW_PROMPT = "You are a terse <b>assistant</b>."


@pytest.fixture(scope="module")
def runs() -> dict[str, list[dict[str, Any]]]:
    """The base run, a repeat of it, and one run per kind of change."""
    return {
        "base": run(),
        "repeat": run(),
        "system": run(system=NEW_PROMPT),
        "model": run(model="fake-chat-2"),
        "arg": run(city="Paris"),
        "extra": run(extra_tool=True),
        "route": run(route="math"),
    }


def _by_status(result: dict[str, Any], status: str) -> list[dict[str, Any]]:
    return [p for p in result["pairs"] if p["status"] == status]


def _change(pair: dict[str, Any], field: str) -> dict[str, Any]:
    found = [c for c in pair["changes"] if c["field"] == field]
    assert found, f"no change of {field} in {pair['path']}: {[c['field'] for c in pair['changes']]}"
    return found[0]


def _agent_llms(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in result["pairs"] if p["kind"] == "llm" and "/weather_agent#1/" in p["path"]]


def test_two_runs_of_the_same_graph_match(runs: dict[str, Any]) -> None:
    result = compare(runs["base"], runs["repeat"])
    assert result["a"]["trace_id"] != result["b"]["trace_id"]
    assert {p["status"] for p in result["pairs"]} == {"same"}
    assert result["first_divergence"] is None
    assert result["totals"]["span_count"]["delta"] == 0


def test_a_changed_system_prompt(runs: dict[str, Any]) -> None:
    result = compare(runs["base"], runs["system"])
    assert not _by_status(result, "only_a")
    assert not _by_status(result, "only_b")
    llms = _agent_llms(result)
    assert len(llms) == 2  # the agent called its model twice, both saw the new prompt
    for pair in llms:
        change = _change(pair, "gen_ai.system_instructions[0].content")
        assert change["b"] == NEW_PROMPT
        added = "".join(text for op, text in change["diff"] if op == "+")
        assert "terse" in added
        assert "<b>" in added
        assert "careful" not in added
    router = next(p for p in result["pairs"] if p["kind"] == "llm" and "/router#1/" in p["path"])
    assert router["status"] == "same"
    assert all(p["status"] == "same" for p in result["pairs"] if p["kind"] == "tool")
    first = result["pairs"][result["first_divergence"]]
    assert "/weather_agent#1/" in first["path"]
    assert "/model#1/" in first["path"]
    assert any(c["b"] is not None and NEW_PROMPT in json.dumps(c["b"]) for c in first["changes"])


def test_a_different_model(runs: dict[str, Any]) -> None:
    result = compare(runs["base"], runs["model"])
    changed = _by_status(result, "changed")
    assert changed == _agent_llms(result)
    for pair in changed:
        assert _change(pair, "gen_ai.request.model")["b"] == "fake-chat-2"
        assert pair["b_info"]["model"] == "fake-chat-2"
    assert result["first_divergence"] == result["pairs"].index(changed[0])


def test_a_different_tool_argument(runs: dict[str, Any]) -> None:
    result = compare(runs["base"], runs["arg"])
    tool = next(p for p in result["pairs"] if p["kind"] == "tool")
    assert tool["path"].endswith("/tools#1/get_weather#1")
    assert (_change(tool, "input.city")["a"], _change(tool, "input.city")["b"]) == ("Oslo", "Paris")
    assert _change(tool, "output")["b"] == "18 degrees, rain"
    first_llm, second_llm = _agent_llms(result)
    assert result["pairs"][result["first_divergence"]] is first_llm  # the model asked for another city
    assert _change(first_llm, "gen_ai.output.messages[0].parts[0].arguments.city")["b"] == "Paris"
    # the second call's conversation, written as references to earlier messages, diffed as the model saw it
    assert _change(second_llm, "gen_ai.input.messages[2].parts[0].response")["b"] == "18 degrees, rain"


def test_an_extra_tool_call(runs: dict[str, Any]) -> None:
    result = compare(runs["base"], runs["extra"])
    assert not _by_status(result, "only_a")
    only_b = _by_status(result, "only_b")
    assert [p["path"].rsplit("/", 2)[-2:] for p in only_b] == [
        ["LangGraph#1", "tools#2"],
        ["tools#2", "get_time#1"],
    ]
    weather = next(p for p in result["pairs"] if p["path"].endswith("get_weather#1"))
    assert weather["status"] == "same"
    first = result["pairs"][result["first_divergence"]]
    assert first is _agent_llms(result)[0]
    added = _change(first, "gen_ai.output.messages[0].parts[1]")
    assert added["op"] == "added"
    assert added["b"]["name"] == "get_time"
    # the graph's answer: the extra tool message shows as added, the final answers side by side
    root = result["pairs"][0]
    assert _change(root, "output.messages[3]")["b"]["role"] == "tool"
    final = _change(root, "output.messages[3].parts[0].content")
    assert (final["a"], final["b"]) == ("It is 4 degrees, snow.", "It is 4 degrees, snow; 14:05.")


def test_a_different_route(runs: dict[str, Any]) -> None:
    result = compare(runs["base"], runs["route"])
    only_a, only_b = _by_status(result, "only_a"), _by_status(result, "only_b")
    assert only_a[0]["path"] == "LangGraph#1/weather_agent#1"
    assert all(p["path"].startswith("LangGraph#1/weather_agent#1") for p in only_a)
    assert [p["path"] for p in only_b] == ["LangGraph#1/math#1", "LangGraph#1/math#1/FakeChatModel#1"]
    # the route shows as spans on one side only, not as a cascade of "changed" pairs
    assert all("/weather_agent#1" not in p["path"] for p in _by_status(result, "changed"))
    first = result["pairs"][result["first_divergence"]]
    assert first["path"] == "LangGraph#1/router#1/FakeChatModel#1"
    assert _change(first, "gen_ai.output.messages[0].parts[0].content")["diff"] == [
        ["-", "weather"],
        ["+", "math"],
    ]
    assert result["totals"]["span_count"] == {"a": 12, "b": 6, "delta": -6, "relative": -0.5}


def test_word_diff_rebuilds_both_texts() -> None:
    a, b = "The cat sat on the mat.", "The black cat sat on a mat!"
    diff = word_diff(a, b)
    assert "".join(t for op, t in diff if op != "+") == a
    assert "".join(t for op, t in diff if op != "-") == b
    assert ["+", " black"] in diff
    assert ["-", "the"] in diff


# ------------------------------------------------------------------------------------------ API


def test_api_compare(client: Any, runs: dict[str, Any]) -> None:
    assert ingest(client, runs["base"] + runs["route"]).status_code == 200
    a, b = runs["base"][0]["trace_id"], runs["route"][0]["trace_id"]
    answer = client.get(f"/api/compare?a={a}&b={b}")
    assert answer.status_code == 200
    assert answer.json() == compare(runs["base"], runs["route"])

    bad = client.get(f"/api/compare?a=nope&b={b}")
    assert bad.status_code == 400
    assert "a must be a trace id" in bad.json()["error"]
    missing = "f" * 32
    gone = client.get(f"/api/compare?a={a}&b={missing}")
    assert gone.status_code == 404
    assert missing in gone.json()["error"]


# ------------------------------------------------------------------------------------------ CLI


def _write(path: Path, *record_lists: list[dict[str, Any]]) -> str:
    path.write_text(
        "".join(json.dumps(r) + "\n" for records in record_lists for r in records), encoding="utf-8"
    )
    return str(path)


def test_cli_diff_of_two_files(tmp_path: Path, runs: dict[str, Any]) -> None:
    a, b = _write(tmp_path / "a.jsonl", runs["base"]), _write(tmp_path / "b.jsonl", runs["route"])
    result = CliRunner().invoke(main, ["diff", a, b])
    assert result.exit_code == 0, result.output
    assert "first divergence: #2 LangGraph#1/router#1/FakeChatModel#1" in result.output
    assert "[-weather-]{+math+}" in result.output
    assert "only in A LangGraph#1/weather_agent#1\n" in result.output
    assert result.output.count("only in A") == 1 + 1  # the summary line, then the gap once (not its 15 spans)
    as_json = CliRunner().invoke(main, ["diff", a, b, "--json"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.output) == compare(runs["base"], runs["route"])
    same = CliRunner().invoke(main, ["diff", a, a])
    assert same.exit_code == 0
    assert "the runs match" in same.output


def test_cli_diff_picks_a_trace_of_a_file_and_one_from_the_store(
    tmp_path: Path, db_url: str, runs: dict[str, Any]
) -> None:
    both = _write(tmp_path / "both.jsonl", runs["base"], runs["model"])
    runner = CliRunner()
    refused = runner.invoke(main, ["diff", both, both])
    assert refused.exit_code == 1
    assert "holds 2 traces" in refused.output
    assert (
        runner.invoke(main, ["import", _write(tmp_path / "m.jsonl", runs["model"]), "--db", db_url]).exit_code
        == 0
    )
    a, b = runs["base"][0]["trace_id"], runs["model"][0]["trace_id"]
    result = runner.invoke(main, ["diff", f"{both}#{a}", b, "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "gen_ai.request.model: fake-chat-[-1-]{+2+}" in result.output
    missing = runner.invoke(main, ["diff", f"{both}#{a}", "e" * 32, "--db", db_url])
    assert missing.exit_code == 1
    assert f"no trace {'e' * 32}" in missing.output


def test_cli_diff_shows_control_characters_instead_of_sending_them(
    tmp_path: Path, runs: dict[str, Any]
) -> None:
    evil = run(system="Hi \x1b[2J\x1b]0;pwned\x07 there")
    a, b = _write(tmp_path / "a.jsonl", runs["base"]), _write(tmp_path / "b.jsonl", evil)
    result = CliRunner().invoke(main, ["diff", a, b])
    assert result.exit_code == 0
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    assert "\\x1b[2J" in result.output


# ------------------------------------------------------------------------------------------ in the browser

JS_COMPARE = Path(__file__).resolve().parents[2] / "viewer/aitrace_viewer/static/js/comparerun.js"
NODE_SCRIPT = """
import { compareRuns } from %s;
let text = "";
process.stdin.on("data", (d) => { text += d; });
process.stdin.on("end", () => {
  const { a, b } = JSON.parse(text);
  process.stdout.write(JSON.stringify(compareRuns(a, b)));
});
"""


def _change_shape(c: dict[str, Any]) -> tuple[Any, ...]:
    a, b = json.dumps(c["a"], sort_keys=True), json.dumps(c["b"], sort_keys=True)
    return (c["field"], c.get("op"), c.get("at"), c.get("diff"), a, b)


def _shape(result: dict[str, Any]) -> dict[str, Any]:
    """What a user sees of a comparison: every pair's place, status and changes, the first divergence."""
    return {
        "pairs": [
            (p["path"], p["kind"], p["a"], p["b"], p["status"], p["parent"], p["depth"], p["a_info"],
             p["b_info"], [_change_shape(c) for c in p["changes"]])
            for p in result["pairs"]
        ],
        "first_divergence": result["first_divergence"],
        "counts": result["counts"],
        "summaries": [{k: v for k, v in result[s].items() if k not in ("cost_usd",)} for s in ("a", "b")],
    }  # fmt: skip


@pytest.mark.parametrize("variant", ["repeat", "system", "model", "arg", "extra", "route"])
def test_the_no_server_viewer_compares_like_the_server(
    runs: dict[str, Any], variant: str, tmp_path: Path
) -> None:
    """The no-server viewer compares two dropped files with its own copy of the algorithm (comparerun.js)."""
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (apt-get install nodejs)")
    script = tmp_path / "run.mjs"
    script.write_text(NODE_SCRIPT % json.dumps(JS_COMPARE.as_uri()), encoding="utf-8")
    proc = subprocess.run(
        [node, str(script)],
        input=json.dumps({"a": runs["base"], "b": runs[variant]}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert _shape(json.loads(proc.stdout)) == _shape(compare(runs["base"], runs[variant]))


def test_export_writes_a_comparison_as_one_html_file(tmp_path: Path, runs: dict[str, Any]) -> None:
    a, b = _write(tmp_path / "a.jsonl", runs["base"]), _write(tmp_path / "b.jsonl", runs["route"])
    out = tmp_path / "cmp.html"
    result = CliRunner().invoke(main, ["export", a, "--html", "--compare-with", b, "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    embedded = html.split('<script type="application/json" id="aitrace-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded)["compare"] == json.loads(json.dumps(compare(runs["base"], runs["route"])))
    refused = CliRunner().invoke(main, ["export", a, "--compare-with", b])
    assert refused.exit_code == 2
    assert "add --html" in refused.output
