"""The three targets: a .jsonl file, stdout (``-``), and an aitrace server over HTTP.

    python examples/target_modes.py                     # file + stdout
    AITRACE_TARGET=http://127.0.0.1:8000/api/ingest python examples/target_modes.py   # + HTTP

The HTTP part runs only when ``AITRACE_TARGET`` names an http(s) URL (``aitrace serve`` prints one); with
the server down the records are spilled to a local .jsonl that ``aitrace import`` loads later.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import aitrace_core
from aitrace_core import auto_span, get_logger

log = get_logger("modes")


@auto_span("demo.work", capture_args=True, capture_result=True)
def work(mode: str) -> str:
    log.info("writing to a target", mode=mode)
    return f"{mode} done"


def run_once(target: str, mode: str) -> dict[str, int]:
    """Configure ``target``, write one small trace, shut down; return the shipper's counters."""
    aitrace_core.configure(service_name="target-modes", target=target, exit_timeout=3)
    try:
        work(mode)
        shipper = aitrace_core.current_shipper()
        aitrace_core.flush(timeout=5)
        return shipper.stats() if shipper is not None else {}
    finally:
        aitrace_core.shutdown()


def main(target: str | None = None) -> dict[str, dict[str, int]]:
    """Write the same trace to each target; ``target`` replaces the file path (e.g. a test's temp file)."""
    results: dict[str, dict[str, int]] = {}
    file_target = target or str(Path(tempfile.gettempdir()) / "aitrace-target-modes.jsonl")
    results["file"] = run_once(file_target, "file")  # 1. a .jsonl file, one record a line
    results["stdout"] = run_once("-", "stdout")  # 2. stdout, for containers and pipes
    url = os.environ.get("AITRACE_TARGET", "")
    if url.startswith(("http://", "https://")):
        results["http"] = run_once(url, "http")  # 3. the aitrace server
    return results


if __name__ == "__main__":
    for mode, stats in main(sys.argv[1] if len(sys.argv) > 1 else None).items():
        print(f"{mode}: {stats}", file=sys.stderr)
