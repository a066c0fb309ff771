"""The router: a classifier node sends each question to one of three agents (two of them are
``create_agent`` subgraphs with tools).

    python examples/lc_router.py [out.jsonl]   # default: $AITRACE_TARGET or ~/logs/
    aitrace serve & AITRACE_TARGET=http://127.0.0.1:8000/api/ingest python examples/lc_router.py

Offline by default (``aitrace_langchain.testing.FakeChatModel``); with ``OPENAI_API_KEY`` set and
``langchain-openai`` installed the same graph calls a real model.
"""

from __future__ import annotations

import sys
from typing import Any

import aitrace_core
from aitrace_langchain import AITraceHandler, demo


def main() -> list[str]:
    """Run the scenario once with an ``AITraceHandler``; return the trace ids it wrote."""
    result: Any = demo.run_router(AITraceHandler())
    return result if isinstance(result, list) else [result]


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else None
    aitrace_core.configure(service_name="lc-router", target=target)
    print("traces:", *main(), file=sys.stderr)
    aitrace_core.flush()
