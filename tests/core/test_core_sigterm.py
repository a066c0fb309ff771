"""``kill`` / ``docker stop`` (SIGTERM): what the application logged is delivered before the process ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="no SIGTERM here")

APP = """
import signal, sys, time
import aitrace_core
{own_handler}
# a long flush interval and a big batch: nothing leaves the queue on its own while the test runs
aitrace_core.configure("sigterm-app", {target!r}, flush_interval=600, batch_size=10_000, {extra})
log = aitrace_core.get_logger("app")
with aitrace_core.span("work"):
    for i in range(250):
        log.info("step", i=i)
print("ready", flush=True)
while True:
    time.sleep(60)
"""


def _run(tmp_path: Path, own_handler: str = "", extra: str = "") -> tuple[int, list[dict[str, object]], str]:
    target = tmp_path / "out.jsonl"
    script = APP.format(own_handler=textwrap.dedent(own_handler), target=str(target), extra=extra)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        out = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    records = [json.loads(line) for line in target.read_text().splitlines()] if target.exists() else []
    return code, records, out


def test_sigterm_delivers_the_queued_records_then_ends_the_process_as_sigterm_does(tmp_path: Path) -> None:
    code, records, _ = _run(tmp_path)
    assert code == -signal.SIGTERM  # killed by the signal, exactly as without aitrace
    assert [r["i"] for r in records if r["event"] == "step"] == list(range(250))
    assert {r["event"] for r in records} >= {"span_start", "step"}


def test_an_application_handler_is_left_in_charge(tmp_path: Path) -> None:
    own = """
    def mine(signum, frame):
        print("mine", flush=True)
        sys.exit(3)
    signal.signal(signal.SIGTERM, mine)
    """
    code, records, out = _run(tmp_path, own_handler=own)
    assert (code, out.strip()) == (3, "mine")
    # its sys.exit ran atexit, which flushed as always
    assert len([r for r in records if r["event"] == "step"]) == 250


def test_handle_sigterm_false_leaves_sigterm_alone(tmp_path: Path) -> None:
    code, records, _ = _run(tmp_path, extra="handle_sigterm=False")
    assert code == -signal.SIGTERM
    assert records == []  # the default action: the process ended with its queue unwritten
