"""The LangChain handler's settings, in aitrace_core's layers (arguments > ``AITRACE_*`` env > config file).

A bad value from the environment or the config file is said once on stderr and replaced by the default; a
bad argument to ``AITraceHandler(...)`` raises :class:`~aitrace_core.ConfigError`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from pydantic import Field, TypeAdapter, ValidationError

from aitrace_core import (
    LayeredSettings,
    allowed_values,
    config_stamp,
    describe_value,
    load_settings,
    say_once,
)

__all__ = ["TRACING_ENV_VAR", "HandlerSettings", "handler_settings", "tracing_enabled"]

TRACING_ENV_VAR = "AITRACE_LANGCHAIN_TRACING"


class HandlerSettings(LayeredSettings):
    """Options of :class:`~aitrace_langchain.AITraceHandler` that may come from the environment or a file."""

    langchain_hide_inputs: bool = False
    """Leave out inputs: prompts, messages, tool arguments, queries (``AITRACE_LANGCHAIN_HIDE_INPUTS``)."""
    langchain_hide_outputs: bool = False
    """Leave out outputs: responses, results, streamed tokens (``AITRACE_LANGCHAIN_HIDE_OUTPUTS``)."""
    langchain_log_tokens: bool = False
    """One ``llm_token`` record per streamed token (``AITRACE_LANGCHAIN_LOG_TOKENS``)."""
    langchain_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    """Fraction of traces kept, decided once per root run (``AITRACE_LANGCHAIN_SAMPLE_RATIO``)."""
    langchain_dedup_messages: bool = True
    """Write each chat message once per trace, then refer to it (``AITRACE_LANGCHAIN_DEDUP_MESSAGES``)."""
    langchain_prices_file: Path | None = None
    """A TOML or JSON file of model prices that adds to or overrides the built-in table, docs/prices.md
    (``AITRACE_LANGCHAIN_PRICES_FILE``)."""


_ENV_NAMES = ("AITRACE_CONFIG", *(f"AITRACE_{key.upper()}" for key in HandlerSettings.model_fields))
_cache: dict[tuple[Any, ...], HandlerSettings] = {}
_cache_lock = threading.Lock()


def _layers_stamp() -> tuple[Any, ...]:
    """What the environment and the config file hold right now, cheaply (a handler is often made per call)."""
    return tuple(os.environ.get(name) for name in _ENV_NAMES), config_stamp()


def handler_settings(
    *,
    hide_inputs: bool | None = None,
    hide_outputs: bool | None = None,
    log_tokens: bool | None = None,
    sample_ratio: float | None = None,
    dedup_messages: bool | None = None,
) -> HandlerSettings:
    """The handler's settings; arguments (non-None) win over the environment and the config file."""
    given = (hide_inputs, hide_outputs, log_tokens, sample_ratio, dedup_messages)
    key = (_layers_stamp(), given)
    settings = _cache.get(key)
    if settings is None:
        settings = load_settings(
            HandlerSettings,
            given_from="the arguments of AITraceHandler()",
            langchain_hide_inputs=hide_inputs,
            langchain_hide_outputs=hide_outputs,
            langchain_log_tokens=log_tokens,
            langchain_sample_ratio=sample_ratio,
            langchain_dedup_messages=dedup_messages,
        )
        with _cache_lock:
            if len(_cache) > 64:
                _cache.clear()
            _cache[key] = settings
    return settings


_BOOL = TypeAdapter(bool)
_tracing: tuple[str | None, bool] = (None, False)


def tracing_enabled() -> bool:
    """``AITRACE_LANGCHAIN_TRACING`` read now (cheap: parsed again only when it changes). A value that is
    not a boolean is said once on stderr and means off."""
    global _tracing
    raw = os.environ.get(TRACING_ENV_VAR)
    last = _tracing
    if raw == last[0]:
        return last[1]
    text = (raw or "").strip()
    try:
        value = _BOOL.validate_python(text) if text else False
    except ValidationError:
        field = HandlerSettings.model_fields["langchain_log_tokens"]  # any boolean field: same words
        say_once(
            f"environment variable {TRACING_ENV_VAR}={describe_value(raw)} is not a boolean; "
            f"allowed: {allowed_values(field)}; LangChain runs are not traced"
        )
        value = False
    _tracing = (raw, value)
    return value
