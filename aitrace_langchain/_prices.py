"""A small, user-editable price table for cost estimates (USD per million tokens).

Add or override models with a file of your own (``AITRACE_LANGCHAIN_PRICES_FILE``, docs/prices.md), or pass
``prices=`` to :class:`~aitrace_langchain.AITraceHandler`. A versioned name finds its entry
(:func:`find_price`); a model that is not in the table gets no cost at all, never a guessed one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["PRICES", "Price", "cost_fields", "estimate_cost", "find_price"]


class Price(NamedTuple):
    """USD per million tokens. ``cached_input`` applies to cache-read input tokens when given."""

    input: float
    output: float
    cached_input: float | None = None


#: Public list prices (standard tier, text, USD per million tokens), as published by each provider and
#: written down here on 2026-11-25 (docs/prices.md); check your provider's page, and add or override models
#: with a file of your own (``AITRACE_LANGCHAIN_PRICES_FILE``). Keys are lowercase model names without a
#: date or version suffix; see :func:`find_price` for how a versioned name finds its entry.
PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-5": Price(1.25, 10.00, 0.125),
    "gpt-5-mini": Price(0.25, 2.00, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
    "gpt-4.1": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "gpt-4o": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "o1": Price(15.00, 60.00, 7.50),
    "o3": Price(2.00, 8.00, 0.50),
    "o3-mini": Price(1.10, 4.40, 0.55),
    "o4-mini": Price(1.10, 4.40, 0.275),
    # Anthropic (cached_input: cache reads)
    "claude-opus-4-5": Price(5.00, 25.00, 0.50),
    "claude-opus-4-1": Price(15.00, 75.00, 1.50),
    "claude-opus-4": Price(15.00, 75.00, 1.50),
    "claude-sonnet-4-5": Price(3.00, 15.00, 0.30),
    "claude-sonnet-4": Price(3.00, 15.00, 0.30),
    "claude-haiku-4-5": Price(1.00, 5.00, 0.10),
    "claude-3-7-sonnet": Price(3.00, 15.00, 0.30),
    "claude-3-5-sonnet": Price(3.00, 15.00, 0.30),
    "claude-3-5-haiku": Price(0.80, 4.00, 0.08),
    "claude-3-haiku": Price(0.25, 1.25, 0.03),
    "claude-3-opus": Price(15.00, 75.00, 1.50),
    # Google Gemini (prompts up to 200k tokens where the price depends on it)
    "gemini-2.5-pro": Price(1.25, 10.00),
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-flash-lite": Price(0.10, 0.40),
    "gemini-2.0-flash": Price(0.10, 0.40),
    "gemini-2.0-flash-lite": Price(0.075, 0.30),
    "gemini-1.5-pro": Price(1.25, 5.00),
    "gemini-1.5-flash": Price(0.075, 0.30),
    # Mistral
    "mistral-large": Price(2.00, 6.00),
    "mistral-medium": Price(0.40, 2.00),
    "mistral-small": Price(0.10, 0.30),
    "codestral": Price(0.30, 0.90),
    "ministral-8b": Price(0.10, 0.10),
    "ministral-3b": Price(0.04, 0.04),
    "open-mistral-nemo": Price(0.15, 0.15),
    "pixtral-large": Price(2.00, 6.00),
    # Meta Llama on Groq (a name Together AI shares, e.g. llama-4-scout-17b-16e-instruct, gets Groq's price)
    "llama-3.3-70b-versatile": Price(0.59, 0.79),
    "llama-3.1-8b-instant": Price(0.05, 0.08),
    "llama-4-scout-17b-16e-instruct": Price(0.11, 0.34),
    "llama-4-maverick-17b-128e-instruct": Price(0.20, 0.60),
    # Meta Llama on Together AI (names as Together writes them, lowercased, without "meta-llama/")
    "llama-3.3-70b-instruct-turbo": Price(0.88, 0.88),
    "meta-llama-3.1-8b-instruct-turbo": Price(0.18, 0.18),
    "meta-llama-3.1-70b-instruct-turbo": Price(0.88, 0.88),
    "meta-llama-3.1-405b-instruct-turbo": Price(3.50, 3.50),
    "llama-4-maverick-17b-128e-instruct-fp8": Price(0.27, 0.85),
    # Meta Llama on Amazon Bedrock (on-demand, us-east-1; "meta." and "-v1:0" are dropped to match)
    "llama3-3-70b-instruct": Price(0.72, 0.72),
    "llama3-1-70b-instruct": Price(0.72, 0.72),
    "llama3-1-8b-instruct": Price(0.22, 0.22),
    # DeepSeek (cached_input: cache hits)
    "deepseek-chat": Price(0.28, 0.42, 0.028),
    "deepseek-reasoner": Price(0.28, 0.42, 0.028),
    # Cohere
    "command-a": Price(2.50, 10.00),
    "command-r-plus": Price(2.50, 10.00),
    "command-r": Price(0.15, 0.60),
    "command-r7b": Price(0.0375, 0.15),
    # aitrace's own offline test model
    "fake-chat-1": Price(1.00, 2.00, 0.50),
}

# A date or version at the end of a name: -2024-08-06, -20250929, -latest, -0613 / -2411, -001, -03-2025
_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest|\d{4}|\d{3}|\d{2}-\d{4})$")
# Amazon Bedrock ids: an optional region group, the provider, and a version: us.anthropic.claude-…-v2:0
_BEDROCK_HEAD = re.compile(
    r"^(?:(?:us|eu|apac|global)\.)?(?:anthropic|meta|mistral|cohere|deepseek|amazon)\."
)
_BEDROCK_TAIL = re.compile(r"-v\d+(?::\d+)?$")


def _candidates(model: str) -> list[str]:
    """The names ``model`` may be listed under, most specific first."""
    name = model.strip().lower()
    if "/" in name:  # provider- or org-prefixed: openai/gpt-4o, meta-llama/Llama-3.3-70B-Instruct-Turbo
        name = name.rsplit("/", 1)[1]
    out = [name]
    bare = _BEDROCK_TAIL.sub("", _BEDROCK_HEAD.sub("", name))
    if bare != name:
        out.append(bare)
    for n in list(out):
        base = _SUFFIX.sub("", n)
        if base != n:
            out.append(base)
    return out


def find_price(model: str | None, table: Mapping[str, Price] = PRICES) -> Price | None:
    """The price of ``model``, or None when the table does not know it: its own name first, then without a
    provider prefix (``openai/``), a Bedrock wrapping (``us.anthropic.…-v1:0``) and a date or version
    suffix (``gpt-4o-2024-08-06`` → ``gpt-4o``, ``claude-sonnet-4-5-20250929`` → ``claude-sonnet-4-5``).
    Never a guess: a name that matches none of these gets no cost."""
    if not model:
        return None
    for name in _candidates(model):
        price = table.get(name)
        if price is not None:
            return price
    return None


def estimate_cost(
    model: str | None, usage: Mapping[str, Any], table: Mapping[str, Price] = PRICES
) -> float | None:
    """Estimated USD cost of one call from ``gen_ai.usage.*`` fields, or None for an unknown model."""
    price = find_price(model, table)
    if price is None:
        return None
    inp = usage.get("gen_ai.usage.input_tokens")
    out = usage.get("gen_ai.usage.output_tokens")
    if not isinstance(inp, int) or not isinstance(out, int):
        return None
    cached = usage.get("gen_ai.usage.cache_read.input_tokens")
    cached = cached if isinstance(cached, int) and price.cached_input is not None else 0
    cost = (
        max(inp - cached, 0) * price.input + cached * (price.cached_input or 0.0) + out * price.output
    ) / 1e6
    return round(cost, 8)


def cost_fields(
    fields: Mapping[str, Any], request_model: str | None, table: Mapping[str, Price]
) -> dict[str, Any]:
    """``gen_ai.usage.cost_usd`` of an LLM run's end ``fields`` (response model, else ``request_model``)."""
    cost = estimate_cost(fields.get("gen_ai.response.model") or request_model, fields, table)
    return {"gen_ai.usage.cost_usd": cost} if cost is not None else {}
