"""A ReAct agent (``langchain.agents.create_agent``) with two tools; the model asks for both in one turn,
so the two tool calls run in parallel, each under its own ``tools`` node span.

    python examples/lc_react_agent.py [out.jsonl]   # default: $AITRACE_TARGET or ~/logs/
    aitrace serve & AITRACE_TARGET=http://127.0.0.1:8000/api/ingest python examples/lc_react_agent.py

Offline by default (``aitrace_langchain.testing.FakeChatModel``); with ``OPENAI_API_KEY`` set and
``langchain-openai`` installed the same graph calls a real model.
"""

from __future__ import annotations

from aitrace_demo import run_example, run_scenario


def main() -> list[str]:
    """Run the scenario once with an ``AITraceHandler``; return the trace ids it wrote."""
    return run_scenario("react_agent")


if __name__ == "__main__":
    run_example("react_agent")
