"""A small OpenAI-compatible HTTP server on 127.0.0.1 for the real ``openai`` SDK: ``/v1/chat/completions``,
streamed (server-sent events, usage in the last chunk when asked) or not, with a tool call when tools are
offered and the conversation has no tool answer yet."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["fake_openai"]

PROMPT_TOKENS = 21
COMPLETION_TOKENS = 7


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    """The assistant message: a tool call to the first tool offered, else text naming the last user turn."""
    messages = request.get("messages", [])
    tools = request.get("tools") or []
    if tools and not any(m.get("role") == "tool" for m in messages):
        name = tools[0]["function"]["name"]
        call = {
            "id": "call_fake_1",
            "type": "function",
            "function": {"name": name, "arguments": '{"city": "Oslo"}'},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    last = next((m.get("content") for m in reversed(messages) if m.get("role") in ("user", "tool")), "")
    return {"role": "assistant", "content": f"fake answer to: {last}"}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        if self.path.rstrip("/") != "/v1/chat/completions":
            self.send_error(404)
            return
        message = _answer(body)
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        model = body.get("model", "gpt-fake")
        usage = {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": COMPLETION_TOKENS,
            "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
        }
        base = {"id": "chatcmpl-fake", "created": 1_764_072_000, "model": f"{model}-2026-11-01"}
        if not body.get("stream"):
            self._send_json(
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                    "usage": usage,
                }
            )
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        chunk = {**base, "object": "chat.completion.chunk"}
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        if message.get("tool_calls"):
            call = message["tool_calls"][0]
            deltas.append({"tool_calls": [{"index": 0, **call}]})
        else:
            text = message["content"]
            deltas += [{"content": text[: len(text) // 2]}, {"content": text[len(text) // 2 :]}]
        for i, delta in enumerate(deltas):
            last = i == len(deltas) - 1
            choice = {"index": 0, "delta": delta, "finish_reason": finish if last else None}
            self._event({**chunk, "choices": [choice]})
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event({**chunk, "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, data: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(data).encode() + b"\n\n")
        self.wfile.flush()

    def _send_json(self, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def fake_openai() -> Iterator[str]:
    """Serve on a free port of 127.0.0.1; yields the base URL for ``OpenAI(base_url=…)`` (``…/v1``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
