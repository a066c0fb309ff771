"""The pure mappers, with plain data: messages, kinds and names, usage, prices, redaction, the proxy span."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from opentelemetry.trace import INVALID_SPAN, NonRecordingSpan, SpanContext, TraceFlags

from aitrace_langchain import PRICES, Redactor, estimate_cost
from aitrace_langchain._graph import chain_kind_and_name
from aitrace_langchain._llm import llm_end_fields, llm_start_fields, usage_fields
from aitrace_langchain._messages import message_to_genai
from aitrace_langchain._prices import find_price
from aitrace_langchain._proxy import RunScopedSpan
from aitrace_langchain._shaper import Shaper
from aitrace_langchain._tools import tool_output_fields


def test_messages_map_to_genai_roles_and_parts() -> None:
    human = HumanMessage(
        content=[
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
        ]
    )
    assert message_to_genai(human) == {
        "role": "user",
        "parts": [
            {"type": "text", "content": "what is this?"},
            {"type": "uri", "modality": "image", "uri": "https://x/cat.png"},
        ],
    }
    ai = AIMessage(
        content="", tool_calls=[{"name": "look", "args": {"q": 1}, "id": "c1", "type": "tool_call"}]
    )
    assert message_to_genai(ai) == {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "c1", "name": "look", "arguments": {"q": 1}}],
    }
    tool = ToolMessage(content="a cat", tool_call_id="c1", status="error")
    assert message_to_genai(tool) == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "c1", "response": "a cat", "status": "error"}],
    }


def test_system_messages_become_system_instructions() -> None:
    fields = llm_start_fields(
        {"id": ["x", "ChatX"]},
        [[SystemMessage("be kind"), HumanMessage("hi")]],
        None,
        {"model": "gpt-4o", "temperature": 0.2, "max_tokens": 100, "stop": ["\n"], "_type": "x"},
        {"ls_provider": "openai"},
        Shaper(),
    )
    assert fields["gen_ai.system_instructions"] == [{"type": "text", "content": "be kind"}]
    assert fields["gen_ai.input.messages"] == [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    assert fields["gen_ai.request.model"] == "gpt-4o"
    assert fields["gen_ai.provider.name"] == "openai"
    assert (fields["gen_ai.request.temperature"], fields["gen_ai.request.max_tokens"]) == (0.2, 100)
    assert fields["gen_ai.request.stop_sequences"] == ["\n"]


@pytest.mark.parametrize(
    ("name", "tags", "metadata", "parent", "expected"),
    [
        ("LangGraph", [], {"ls_integration": "langgraph"}, None, ("graph", "LangGraph")),
        ("agent", ["graph:step:1"], {"langgraph_node": "agent"}, "graph", ("node", "agent")),
        (None, ["seq:step:3"], {"langgraph_node": "agent"}, "node", ("edge", "edge from agent")),
        ("should_continue", ["seq:step:2"], {"langgraph_node": "agent"}, "node", ("edge", "should_continue")),
        (
            "RunnableSequence",
            ["seq:step:1"],
            {"langgraph_node": "agent"},
            "node",
            ("chain", "RunnableSequence"),
        ),
        (
            "sub",
            ["seq:step:1"],
            {
                "langgraph_node": "sub",
                "checkpoint_ns": "sub:1",
                "langgraph_checkpoint_ns": "sub:1",
                "ls_integration": "langgraph",
            },
            "node",
            ("graph", "sub"),
        ),
        (None, [], {}, None, ("chain", "chain")),
    ],
)
def test_chain_kind_and_name(
    name: str | None,
    tags: list[str],
    metadata: dict[str, object],
    parent: str | None,
    expected: tuple[str, str],
) -> None:
    assert (
        chain_kind_and_name(None, name, tags, metadata, parent, "agent" if parent == "node" else None)
        == expected
    )


def test_usage_from_usage_metadata_or_llm_output() -> None:
    assert usage_fields(
        {
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
            "input_token_details": {"cache_read": 4},
            "output_token_details": {"reasoning": 2},
        }
    ) == {
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.usage.total_tokens": 15,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.usage.reasoning.output_tokens": 2,
    }
    assert usage_fields(
        None,
        {
            "token_usage": {
                "prompt_tokens": 7,
                "completion_tokens": 3,
                "total_tokens": 10,
                "prompt_tokens_details": {"cached_tokens": 2},
            }
        },
    ) == {
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 3,
        "gen_ai.usage.total_tokens": 10,
        "gen_ai.usage.cache_read.input_tokens": 2,
    }


def test_prices_exact_or_dated_never_guessed() -> None:
    assert find_price("gpt-4o-2024-08-06") == PRICES["gpt-4o"]
    assert find_price("openai/gpt-4o-mini") == PRICES["gpt-4o-mini"]
    assert find_price("gpt-4o-audio-preview") is None
    assert find_price(None) is None
    usage = {
        "gen_ai.usage.input_tokens": 1_000_000,
        "gen_ai.usage.output_tokens": 1_000_000,
        "gen_ai.usage.cache_read.input_tokens": 500_000,
    }
    assert estimate_cost("gpt-4o", usage) == pytest.approx(0.5 * 2.50 + 0.5 * 1.25 + 10.00)
    assert estimate_cost("unknown-model", usage) is None


def test_redactor_patterns_and_keys() -> None:
    shaper = Shaper(Redactor())
    value = shaper.value(
        {
            "api_key": "abc",
            "Authorization": "Bearer x",
            "note": "token ghp_" + "a" * 36,
            "input_tokens": 5,
            "nested": [{"password": 1}],
        }
    )
    assert value == {
        "api_key": "[REDACTED]",
        "Authorization": "[REDACTED]",
        "note": "token [REDACTED]",
        "input_tokens": 5,
        "nested": [{"password": "[REDACTED]"}],
    }
    assert Redactor([], []).enabled is False


def test_tool_message_status_error_is_an_error() -> None:
    status, output, fields = tool_output_fields(
        ToolMessage(content="boom", tool_call_id="c9", status="error"), Shaper()
    )
    assert (status, output, fields["tool.status"], fields["gen_ai.tool.call.id"]) == (
        "error",
        "boom",
        "error",
        "c9",
    )


def test_proxy_span_falls_back_to_the_live_span_once_closed() -> None:
    def span(n: int) -> NonRecordingSpan:
        return NonRecordingSpan(SpanContext(1, n, is_remote=False, trace_flags=TraceFlags(1)))

    caller, node, llm = span(1), span(2), span(3)
    outer = RunScopedSpan(node, caller)
    inner = RunScopedSpan(llm, outer)
    assert inner.get_span_context().span_id == 3
    inner.close()
    assert inner.get_span_context().span_id == 2
    outer.close()
    assert inner.get_span_context().span_id == 1
    assert RunScopedSpan(INVALID_SPAN, INVALID_SPAN).parent is None


def test_shaper_handles_odd_objects() -> None:
    shaper = Shaper()
    cyc: list[object] = []
    cyc.append(cyc)
    out = shaper.value({"obj": SimpleNamespace(a=1), "cycle": cyc, 3: {1, 2}})
    assert out["3"] == [1, 2]
    assert "cut" in str(out["cycle"]) or "cycle" in str(out["cycle"])


def test_one_pass_message_shaping_equals_the_general_walk() -> None:
    """``Shaper`` shapes messages in one pass; the output is what the general walk of the converted message
    gives, with default and custom redaction, and near the depth limit."""
    from langchain_core.messages import ChatMessage, FunctionMessage, SystemMessage

    secret = "sk-" + "a" * 30
    messages = [
        HumanMessage(content="hi " + secret),
        HumanMessage(content=""),
        HumanMessage.model_construct(
            type="human",
            content=[
                {"type": "text", "text": "look " + secret},
                "plain",
                {"type": "image_url", "image_url": {"url": "http://x/" + secret}},
                {"type": "other", "api_key": "k", "n": 1},
                7,
            ],
        ),
        HumanMessage(content="x", name="bob", extra_field={"a": 1}),
        AIMessage(
            content="", tool_calls=[{"name": "add", "args": {"a": 1, "password": "p"}, "id": "c1"}], name="a"
        ),
        AIMessage(content=[{"type": "text", "text": "t"}]),
        ToolMessage(content="boom " + secret, tool_call_id="c1", status="error", name="add"),
        ToolMessage(content=[{"type": "text", "text": "ok"}], tool_call_id="c2"),
        SystemMessage(content="be terse"),
        ChatMessage(content="c", role="critic"),
        FunctionMessage(content="f", name="fn"),
    ]
    shapers = [
        Shaper(Redactor()),
        Shaper(),
        Shaper(Redactor(keys=["name"], patterns=[r"\btext\b"])),  # touches the message shape: general walk
        Shaper(Redactor(keys=["n"], patterns=[r"\d{3}"])),
        Shaper(Redactor(), max_depth=5),
    ]
    for shaper in shapers:
        for msg in messages:
            for depth in (0, 3):
                expected = shaper.value(message_to_genai(msg), None, depth + 1)
                assert shaper.value(msg, None, depth) == expected, (msg, depth)


def test_default_redaction_precheck_never_skips_a_match() -> None:
    """With the default patterns, strings without their literal parts skip the regex; every match is kept."""
    import re

    from aitrace_langchain import DEFAULT_PATTERNS

    rx = re.compile("|".join(f"(?:{p})" for p in DEFAULT_PATTERNS))
    samples = [
        "key sk-" + "A" * 24,
        "sk-ant-" + "b" * 30,
        "AKIA" + "ABCDEFGHIJKLMNOP",
        "tok ghp_" + "c" * 36,
        "gho_" + "d" * 40,
        "github_pat_" + "e" * 45,
        "AIza" + "f" * 35,
        "xoxb-" + "1234567890ab",
        "hf_" + "g" * 32,
        "Authorization: BeArEr " + "h" * 30,
        "eyJ" + "a" * 10 + "." + "b" * 10 + "." + "c" * 10,
        "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
        "nothing secret in this fairly long sentence at all",
        "the sk- prefix alone is not a key, neither is bearer",
    ]
    redactor = Redactor()
    for text in samples:
        assert redactor.text(text) == rx.sub("[REDACTED]", text), text
        assert Shaper(redactor).value(text) == rx.sub("[REDACTED]", text), text


def test_llm_end_output_messages_are_shaped_like_the_general_walk() -> None:
    from langchain_core.outputs import ChatGeneration, Generation, LLMResult

    secret = "sk-" + "z" * 30
    response = LLMResult(
        generations=[
            [
                ChatGeneration(
                    message=AIMessage(
                        content="done " + secret,
                        tool_calls=[{"name": "f", "args": {"api_key": "x", "q": secret}, "id": "c1"}],
                        response_metadata={"finish_reason": "tool_calls"},
                    )
                ),
                Generation(text="plain " + secret, generation_info={"finish_reason": "stop"}),
            ]
        ]
    )
    for shaper in (Shaper(Redactor()), Shaper(), Shaper(Redactor(keys=["finish_reason"]))):
        fast = llm_end_fields(response, shaper)["gen_ai.output.messages"]
        slow_shaper = Shaper(shaper.redactor)
        slow_shaper.fast_messages = False
        assert fast == llm_end_fields(response, slow_shaper)["gen_ai.output.messages"]
    assert "gen_ai.output.messages" not in llm_end_fields(response, Shaper(Redactor()), hide_outputs=True)
