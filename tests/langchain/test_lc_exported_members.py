"""The public surface of aitrace_langchain, pinned."""

from __future__ import annotations

import aitrace_langchain
import aitrace_langchain.testing


def test_public_api() -> None:
    assert sorted(aitrace_langchain.__all__) == sorted(
        [
            "DEFAULT_PATTERNS",
            "DEFAULT_SECRET_KEYS",
            "PRICES",
            "AITraceHandler",
            "Price",
            "Redactor",
            "estimate_cost",
            "instrument",
            "is_instrumented",
            "uninstrument",
        ]
    )
    assert sorted(aitrace_langchain.testing.__all__) == ["FakeChatModel", "count_tokens", "tool_call"]
    for name in aitrace_langchain.__all__:
        assert getattr(aitrace_langchain, name) is not None


def test_public_callables_are_documented() -> None:
    for name in aitrace_langchain.__all__:
        obj = getattr(aitrace_langchain, name)
        if callable(obj):
            assert obj.__doc__, name
    assert aitrace_langchain.AITraceHandler.__module__.startswith("aitrace_langchain")
