"""Costs: versioned model names find their entry, a prices file of the user's adds and overrides models, a bad
one is said once, and docs/prices.md lists the whole table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from aitrace_core.testing import CapturedRecords
from aitrace_langchain import PRICES, AITraceHandler
from aitrace_langchain._prices import find_price
from aitrace_langchain.testing import FakeChatModel

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("reported", "entry"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),  # OpenAI snapshot
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # not the gpt-4o entry
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),  # Anthropic dated id
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"),  # Bedrock, cross-region
        ("meta.llama3-3-70b-instruct-v1:0", "llama3-3-70b-instruct"),  # Bedrock Llama
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "llama-3.3-70b-instruct-turbo"),  # Together
        ("llama-3.3-70b-versatile", "llama-3.3-70b-versatile"),  # Groq
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),  # Google's own prefix
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),  # Vertex version
        ("mistral-large-2411", "mistral-large"),
        ("mistral-small-latest", "mistral-small"),
        ("command-a-03-2025", "command-a"),  # Cohere month-year
        ("deepseek-chat", "deepseek-chat"),
    ],
)
def test_a_versioned_name_finds_its_entry(reported: str, entry: str) -> None:
    assert find_price(reported) is PRICES[entry]


@pytest.mark.parametrize(
    "other", ["gpt-4o-audio-preview", "gemini-2.5-flash-preview-05-20", "claude-next", ""]
)
def test_another_product_gets_no_price(other: str) -> None:
    assert find_price(other) is None


def test_the_major_providers_are_in_the_table() -> None:
    for model in (
        "gpt-5",
        "claude-sonnet-4-5",
        "gemini-2.5-pro",
        "mistral-large",
        "deepseek-chat",
        "command-r",
    ):
        assert model in PRICES


def test_the_prices_doc_lists_every_model_of_the_table() -> None:
    doc = (ROOT / "docs" / "prices.md").read_text("utf-8")
    rows = {line.split("|")[2].strip().strip("`") for line in doc.splitlines() if line.startswith("| ")}
    assert set(PRICES) <= rows, sorted(set(PRICES) - rows)
    assert "2026-11-25" in doc  # the date the prices were written down
    assert "check your\nprovider's pricing page" in doc


def _one_call(model_name: str, handler: AITraceHandler, records: CapturedRecords) -> dict[str, Any]:
    answer = AIMessage(
        content="ok", usage_metadata={"input_tokens": 1000, "output_tokens": 500, "total_tokens": 1500}
    )
    model = FakeChatModel(model_name=model_name, responses=[answer])
    model.invoke([HumanMessage("hi")], config={"callbacks": [handler]})
    [end] = [r for r in records if r["event"] == "span_end" and r.get("span_kind") == "llm"]
    return end


def test_a_prices_file_adds_and_overrides_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, records: CapturedRecords
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '"my-finetune" = { input = 3.0, output = 12.0 }\n"gpt-4o" = { input = 2.0, output = 8.0 }\n', "utf-8"
    )
    monkeypatch.setenv("AITRACE_LANGCHAIN_PRICES_FILE", str(prices))
    handler = AITraceHandler()
    # 1000 × $3 + 500 × $12 per million
    assert _one_call("my-finetune-2025-01-01", handler, records)["gen_ai.usage.cost_usd"] == pytest.approx(
        0.009
    )
    assert find_price("gpt-4o", handler.prices) == (2.0, 8.0, None)  # the user's rate wins
    assert handler.prices["claude-sonnet-4-5"] == PRICES["claude-sonnet-4-5"]  # the rest stays


def test_a_json_prices_file_from_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, records: CapturedRecords
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps({"House-Model": {"input": 1.0, "output": 4.0, "cached_input": 0.5}}), "utf-8"
    )
    config = tmp_path / "config.toml"
    config.write_text(f"langchain_prices_file = {json.dumps(str(prices))}\n", "utf-8")
    monkeypatch.setenv("AITRACE_CONFIG", str(config))
    end = _one_call("house-model", AITraceHandler(), records)
    assert end["gen_ai.usage.cost_usd"] == pytest.approx((1000 * 1.0 + 500 * 4.0) / 1e6)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('"m" = { input = 1.0 }\n', "model 'm': output: Field required"),
        (
            '"m" = { input = -1.0, output = 1.0 }\n',
            "model 'm': input: Input should be greater than or equal to 0",
        ),
        (
            '"m" = { input = 1.0, output = 1.0, outptu = 2 }\n',
            "model 'm': outptu: Extra inputs are not permitted",
        ),
        ("this is = not toml\n", "is not valid TOML"),
    ],
)
def test_a_bad_prices_file_is_said_once_and_the_built_in_table_stays(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    records: CapturedRecords,
    content: str,
    problem: str,
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(content, "utf-8")
    monkeypatch.setenv("AITRACE_LANGCHAIN_PRICES_FILE", str(prices))
    handler = AITraceHandler()
    AITraceHandler()  # a second handler: nothing more on stderr
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"aitrace: prices file {prices} {problem}")
    assert err[0].endswith("; using the built-in prices")
    assert _one_call("fake-chat-1", handler, records)["gen_ai.usage.cost_usd"] == pytest.approx(0.002)


def test_a_missing_prices_file_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AITRACE_LANGCHAIN_PRICES_FILE", str(tmp_path / "nope.toml"))
    assert AITraceHandler().prices is PRICES
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"aitrace: prices file {tmp_path / 'nope.toml'} cannot be read")
