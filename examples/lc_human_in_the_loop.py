"""Human in the loop: a node calls ``interrupt()`` (the graph span ends ``interrupted`` with the question),
then ``Command(resume="yes")`` on the same thread resumes it in a new trace linked to the first.

    python examples/lc_human_in_the_loop.py [out.jsonl]   # default: $AITRACE_TARGET or ~/logs/
    aitrace serve & AITRACE_TARGET=http://127.0.0.1:8000/api/ingest python examples/lc_human_in_the_loop.py

Offline by default (``aitrace_langchain.testing.FakeChatModel``); with ``OPENAI_API_KEY`` set and
``langchain-openai`` installed the same graph calls a real model.
"""

from __future__ import annotations

from aitrace_demo import run_example, run_scenario


def main() -> list[str]:
    """Run the scenario once with an ``AITraceHandler``; return the trace ids it wrote."""
    return run_scenario("human_in_the_loop")


if __name__ == "__main__":
    run_example("human_in_the_loop")
