"""aitrace_langchain: LangChain and LangGraph runs as aitrace spans and records.

    from aitrace_langchain import AITraceHandler
    graph.invoke(inputs, config={"callbacks": [AITraceHandler()]})

or, without touching the application, ``aitrace_langchain.instrument()`` (or
``AITRACE_LANGCHAIN_TRACING=true`` in the environment, once ``aitrace_langchain`` is imported). See
:mod:`aitrace_langchain._handler` for the fields written.
"""

from __future__ import annotations

from ._global import instrument, is_instrumented, uninstrument
from ._handler import AITraceHandler
from ._prices import PRICES, Price, estimate_cost
from ._privacy import DEFAULT_PATTERNS, DEFAULT_SECRET_KEYS, Redactor

__all__ = [
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
