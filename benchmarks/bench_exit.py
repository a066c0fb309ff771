"""How long a bare traced script takes to exit when the server is down, next to a file target.

    python benchmarks/bench_exit.py [--runs 7] [--core DIR]

Each run starts a fresh interpreter that imports aitrace, writes one span of 200 log lines and ends without
``flush()``; the wall time of the whole process is measured (start-up and imports included, the same for every
row). Rows alternate within each round so load on the machine affects them alike; medians are printed.
  file target           the baseline
  server up             a stdlib HTTP sink in a subprocess that answers 200
  server down           a port where nothing listens (connection refused): records go to the spill file
  file + OTLP up        the file target and ``AITRACE_OTLP_ENDPOINT`` at the same sink (it answers 200)
  file + OTLP down      the file target and an OTLP endpoint where nothing listens (spilled, told once)
``--core DIR`` runs the scripts against the ``aitrace_core`` package found in DIR (to compare versions).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_shipper import SINK

SCRIPT = """
import sys
if {core!r}:
    sys.path.insert(0, {core!r})
import aitrace_core as a
with a.span("main"):
    for i in range(200):
        a.get_logger().info("line", i=i)
"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(target: str, tmp: Path, core: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    target, _, otlp = target.partition(" otlp=")
    if otlp:
        env.update(AITRACE_OTLP_ENDPOINT=otlp)
    env.update(AITRACE_TARGET=target, AITRACE_SPILL_DIR=str(tmp / "spill"), HOME=str(tmp))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", SCRIPT.format(core=core)], env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def main(runs: int, core: str) -> None:
    sink = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None
        up = f"http://127.0.0.1:{int(sink.stdout.readline())}"
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            cases = {
                "file target (baseline)": str(tmp / "out.jsonl"),
                "server up": up,
                "server down (refused)": f"http://127.0.0.1:{closed_port()}",
                "file + OTLP up": f"{tmp / 'out.jsonl'} otlp={up}",
                "file + OTLP down": f"{tmp / 'out.jsonl'} otlp=http://127.0.0.1:{closed_port()}",
            }
            times: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(runs):
                for name, target in cases.items():
                    times[name].append(run(target, tmp, core))
    finally:
        sink.terminate()
        sink.wait(10)
    base = statistics.median(times["file target (baseline)"])
    print(f"{'case':26} {'median s':>9} {'vs file':>9} {'max s':>7}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:26} {med:9.3f} {med - base:+9.3f} {max(values):7.3f}")
    print(f"({runs} runs each; a span of 200 log lines, no flush; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--core", default="", help="a folder holding another aitrace_core to run instead")
    args = parser.parse_args()
    main(args.runs, args.core)
