"""An OpenInference span received over OTLP/JSON, in real Chromium: the LLM lens shows its conversation,
tokens and tool call; a span whose parent never came says so."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from ui_server import running_server

pytestmark = pytest.mark.browser

TRACE = "0af7651916cd43dd8448eb211c80319c"


def _span(span_id: str, name: str, parent: str | None, attrs: dict[str, Any]) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": TRACE,
        "spanId": span_id,
        "name": name,
        "startTimeUnixNano": "1764072000000000000",
        "endTimeUnixNano": "1764072000800000000",
        "attributes": [
            {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
            for k, v in attrs.items()
        ],
    }
    if parent:
        span["parentSpanId"] = parent
    return span


def test_otlp_llm_span_in_the_lens_and_a_missing_parent(page: Any, tmp_path: Path) -> None:
    llm = _span(
        "b7ad6b7169203331",
        "ChatCompletion",
        "00f067aa0ba902b7",
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-mini",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "Weather in <b>Oslo</b>?",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_77",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "get_weather",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"city": "Oslo"}',
            "llm.token_count.prompt": 120,
            "llm.token_count.completion": 15,
        },
    )
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "py-agent"}}]},
                "scopeSpans": [{"scope": {"name": "openinference.instrumentation.openai"}, "spans": [llm]}],
            }
        ]
    }
    with running_server(tmp_path / "otlp-ui.db") as server:
        answer = server.client.post(
            "/v1/traces", content=json.dumps(body), headers={"content-type": "application/json"}
        )
        assert answer.status_code == 200, answer.text
        page.goto(f"{server.url}/traces/{TRACE}")
        expect(page.locator("body")).to_have_attribute("data-tree-ready", re.compile(r"\d+"))
        row = page.locator("#tree-scroll .span-row", has=page.locator(".name", has_text="ChatCompletion"))
        row.first.click()
        detail = page.locator("#detail")
        expect(detail.locator("h2")).to_have_text("ChatCompletion")
        expect(detail.locator(".msg.role-user .msg-text").first).to_have_text("Weather in <b>Oslo</b>?")
        expect(detail.locator(".chip-token.tok-in")).to_have_text("input 120")
        expect(detail.locator(".chip-token.tok-out")).to_have_text("output 15")
        box = detail.locator(".tool-call", has=page.locator(".tool-name", has_text="get_weather"))
        expect(box.locator(".json-children .json-entry", has_text="city")).to_contain_text("Oslo")
        expect(detail).to_contain_text("parent missing")
        assert detail.locator("b").count() == 0  # the prompt's markup stayed text
