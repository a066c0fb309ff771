"""Human in the loop: a node calls ``interrupt()`` (the graph span ends ``interrupted`` with the question),
then ``Command(resume="yes")`` on the same thread resumes it in a new trace linked to the first.

    python examples/lc_human_in_the_loop.py [out.jsonl]   # default: $AITRACE_TARGET or ~/logs/
    aitrace serve & AITRACE_TARGET=http://127.0.0.1:8000/api/ingest python examples/lc_human_in_the_loop.py

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
    result: Any = demo.run_human_in_the_loop(AITraceHandler())
    return result if isinstance(result, list) else [result]


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else None
    aitrace_core.configure(service_name="lc-human-in-the-loop", target=target)
    print("traces:", *main(), file=sys.stderr)
    aitrace_core.flush()
