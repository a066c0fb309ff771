"""A ReAct agent (``langchain.agents.create_agent``) with two tools; the model asks for both in one turn,
so the two tool calls run in parallel, each under its own ``tools`` node span.

    python examples/lc_react_agent.py [out.jsonl]   # default: $AITRACE_TARGET or ~/logs/
    aitrace serve & AITRACE_TARGET=http://127.0.0.1:8000/api/ingest python examples/lc_react_agent.py

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
    result: Any = demo.run_react_agent(AITraceHandler())
    return result if isinstance(result, list) else [result]


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else None
    aitrace_core.configure(service_name="lc-react-agent", target=target)
    print("traces:", *main(), file=sys.stderr)
    aitrace_core.flush()
