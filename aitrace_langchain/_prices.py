"""A small, user-editable price table for cost estimates (USD per million tokens).

Edit :data:`PRICES` (or pass ``prices=`` to :class:`~aitrace_langchain.AITraceHandler`). A model matches its
own entry exactly, or with a date/``-latest`` suffix (``gpt-4o-2024-08-06`` → ``gpt-4o``); a model that is not
in the table gets no cost at all, never a guessed one.
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


#: List prices as of late 2026; check your provider's page and edit as needed.
PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "gpt-4.1": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "o3": Price(2.00, 8.00, 0.50),
    "o4-mini": Price(1.10, 4.40, 0.275),
    "claude-3-5-haiku": Price(0.80, 4.00, 0.08),
    "claude-3-7-sonnet": Price(3.00, 15.00, 0.30),
    "claude-sonnet-4": Price(3.00, 15.00, 0.30),
    "claude-opus-4": Price(15.00, 75.00, 1.50),
    "fake-chat-1": Price(1.00, 2.00, 0.50),
}

_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest|\d{4})$")


def find_price(model: str | None, table: Mapping[str, Price] = PRICES) -> Price | None:
    """The price of ``model``, or None when the table does not know it."""
    if not model:
        return None
    name = model.lower()
    if "/" in name:  # provider-prefixed names such as "openai/gpt-4o"
        name = name.rsplit("/", 1)[1]
    price = table.get(name)
    if price is None:
        base = _SUFFIX.sub("", name)
        if base != name:
            price = table.get(base)
    return price


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
