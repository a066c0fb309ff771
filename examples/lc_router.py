"""The router: a classifier node sends each question to one of three agents (two of them are
``create_agent`` subgraphs with tools).

    python examples/lc_router.py [out.jsonl]   # default: $AITRACE_TARGET or ~/logs/
    aitrace serve & AITRACE_TARGET=http://127.0.0.1:8000/api/ingest python examples/lc_router.py

Offline by default (``aitrace_langchain.testing.FakeChatModel``); with ``OPENAI_API_KEY`` set and
``langchain-openai`` installed the same graph calls a real model.
"""

from __future__ import annotations

from aitrace_demo import run_example, run_scenario


def main() -> list[str]:
    """Run the scenario once with an ``AITraceHandler``; return the trace ids it wrote."""
    return run_scenario("router")


if __name__ == "__main__":
    run_example("router")
