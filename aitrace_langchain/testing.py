"""Offline test helpers: a scripted chat model that behaves like a real provider's.

    from langchain_core.messages import AIMessage
    from aitrace_langchain.testing import FakeChatModel, tool_call

    model = FakeChatModel(responses=[
        AIMessage("", tool_calls=[tool_call("add", {"a": 1, "b": 2})]),
        "The answer is 3.",
    ])
    agent = create_agent(model, tools=[add])

``FakeChatModel`` needs no network and no API key. It supports ``bind_tools``, returns ``AIMessage``\\ s with
``tool_calls`` (with ids), ``usage_metadata`` (including cached and reasoning token details) and
``response_metadata`` (``model_name``, ``finish_reason``), and streams chunk by chunk with the usage on the
last chunk, as OpenAI and Anthropic models do. Answers come from a script (``responses``, used in turn and
then repeated from the start) or from a function of the conversation (``respond``), which is the safe
choice when many runs share one model concurrently.
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import ToolCall, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

__all__ = ["FakeChatModel", "count_tokens", "tool_call"]

_WORD = re.compile(r"\S+\s*|\s+")


def tool_call(name: str, args: dict[str, Any] | None = None, id: str | None = None) -> ToolCall:
    """A tool call for a scripted ``AIMessage``; the id defaults to a fresh ``call_…`` string."""
    return ToolCall(
        name=name, args=dict(args or {}), id=id or f"call_{uuid.uuid4().hex[:12]}", type="tool_call"
    )


def count_tokens(text: str) -> int:
    """The fake tokenizer: one token per whitespace-separated word (at least one for non-empty text)."""
    n = len(text.split())
    return n or (1 if text else 0)


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append(part["text"])
    return " ".join(parts)


class FakeChatModel(BaseChatModel):
    """A scripted, offline chat model with tool calls, token usage and streaming.

    ``responses``: messages (or plain strings) returned in turn, starting over after the last one.
    ``respond``: alternatively, a function ``messages -> AIMessage | str`` deciding each answer from the
    conversation; it wins over ``responses``. ``usage_metadata`` is filled in when a scripted message has
    none: input tokens counted over the prompt, output tokens over the answer, plus ``cached_tokens`` and
    ``reasoning_tokens`` as token details when set. ``chunk_words`` words go in each streamed chunk.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_name: str = "fake-chat-1"
    """Reported as ``response_metadata['model_name']`` and as the request model."""
    provider: str = "fake"
    """Reported as ``ls_provider``."""
    responses: list[Any] = Field(default_factory=lambda: ["Hello from the fake model."])
    """``AIMessage``\\ s or strings."""
    respond: Callable[[list[BaseMessage]], AIMessage | str] | None = None
    temperature: float | None = 0.0
    max_tokens: int | None = None
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    chunk_words: int = 1
    finish_reason: str = "stop"
    error: BaseException | None = None
    """When set, every call raises this exception (for testing error paths)."""

    _cursor: Iterator[int] = PrivateAttr(default_factory=itertools.count)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "fake-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "temperature": self.temperature, "max_tokens": self.max_tokens}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = self.provider
        params["ls_model_name"] = kwargs.get("model") or self.model_name
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        return params

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer tools (LangChain tools, functions, pydantic models or OpenAI tool dicts) to the model."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    # -- answers --------------------------------------------------------------------------------------

    def _next_message(self, messages: list[BaseMessage], model: str | None) -> AIMessage:
        if self.error is not None:
            raise self.error
        if self.respond is not None:
            answer = self.respond(list(messages))
        else:
            with self._lock:
                index = next(self._cursor) % max(len(self.responses), 1)
            answer = self.responses[index] if self.responses else ""
        msg = AIMessage(content=answer) if isinstance(answer, str) else answer.model_copy(deep=True)
        if msg.id is None:
            msg.id = f"lc_run-fake-{uuid.uuid4().hex[:12]}"
        model_name = model or self.model_name
        finish = "tool_calls" if msg.tool_calls else self.finish_reason
        msg.response_metadata = {"model_name": model_name, "finish_reason": finish, **msg.response_metadata}
        if msg.usage_metadata is None:
            prompt = sum(count_tokens(_text_of(m)) for m in messages)
            out = count_tokens(_text_of(msg)) + sum(1 + len(tc["args"]) for tc in msg.tool_calls)
            usage: dict[str, Any] = {
                "input_tokens": prompt,
                "output_tokens": out + self.reasoning_tokens,
                "total_tokens": prompt + out + self.reasoning_tokens,
            }
            if self.cached_tokens:
                usage["input_token_details"] = {"cache_read": min(self.cached_tokens, prompt)}
            if self.reasoning_tokens:
                usage["output_token_details"] = {"reasoning": self.reasoning_tokens}
            msg.usage_metadata = usage  # type: ignore[assignment]
        return msg

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        msg = self._next_message(messages, kwargs.get("model"))
        finish = msg.response_metadata.get("finish_reason")
        return ChatResult(
            generations=[ChatGeneration(message=msg, generation_info={"finish_reason": finish})],
            llm_output={
                "model_name": msg.response_metadata.get("model_name"),
                "token_usage": msg.usage_metadata,
            },
        )

    def _chunks(self, messages: list[BaseMessage], model: str | None) -> Iterator[ChatGenerationChunk]:
        msg = self._next_message(messages, model)
        text = msg.content if isinstance(msg.content, str) else _text_of(msg)
        words = _WORD.findall(text)
        step = max(self.chunk_words, 1)
        pieces = ["".join(words[i : i + step]) for i in range(0, len(words), step)] or [""]
        for piece in pieces[:-1]:
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece, id=msg.id))
        last = AIMessageChunk(
            content=pieces[-1],
            id=msg.id,
            tool_call_chunks=[
                tool_call_chunk(name=tc["name"], args=_json(tc["args"]), id=tc["id"], index=i)
                for i, tc in enumerate(msg.tool_calls)
            ],
            usage_metadata=msg.usage_metadata,
            response_metadata=dict(msg.response_metadata),
            chunk_position="last",
        )
        yield ChatGenerationChunk(
            message=last, generation_info={"finish_reason": msg.response_metadata.get("finish_reason")}
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages, kwargs.get("model")):
            if run_manager is not None:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages, kwargs.get("model")):
            if run_manager is not None:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


def _json(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
