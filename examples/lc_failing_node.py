"""A node that fails: ``charge_card`` raises; the node, the graph and the request span end in ``error`` with
the exception's type, message and stack trace, and the warning logged before it sits under the node.

    python examples/lc_failing_node.py [out.jsonl]   # default: $AITRACE_TARGET or ~/logs/
    aitrace serve & AITRACE_TARGET=http://127.0.0.1:8000/api/ingest python examples/lc_failing_node.py

Offline by default (``aitrace_langchain.testing.FakeChatModel``); with ``OPENAI_API_KEY`` set and
``langchain-openai`` installed the same graph calls a real model.
"""

from __future__ import annotations

from aitrace_demo import run_example, run_scenario


def main() -> list[str]:
    """Run the scenario once with an ``AITraceHandler``; return the trace ids it wrote."""
    return run_scenario("failing_node")


if __name__ == "__main__":
    run_example("failing_node")
