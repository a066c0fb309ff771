"""What ``pytest --aitrace`` costs a test suite: the same suite run without the flag, with it (failures kept)
and with ``--aitrace=all``, interleaved, medians of wall time per test.

    python benchmarks/bench_pytest_plugin.py [--tests 300] [--rounds 5]

Each suite is a fresh interpreter (as a user's ``pytest`` is); the tests each run one small traced function
with two log lines, so the figure is the plugin's own cost per test (spans, capture, files), not LangChain's.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUITE = """
from aitrace_core import auto_span, get_logger

log = get_logger("bench")


@auto_span()
def work(i):
    log.info("working", i=i)
    log.debug("detail", i=i)
    return i * 2


def test_work(n):
    assert work(n) == n * 2
"""

CONFTEST = """
import pytest


def pytest_generate_tests(metafunc):
    if "n" in metafunc.fixturenames:
        metafunc.parametrize("n", range({tests}))
"""


def run(folder: Path, *flags: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *flags],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    variants = {"no flag (baseline)": (), "--aitrace": ("--aitrace",), "--aitrace=all": ("--aitrace=all",)}
    times: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_bench.py").write_text(SUITE, "utf-8")
        (folder / "conftest.py").write_text(CONFTEST.format(tests=args.tests), "utf-8")
        (folder / "pytest.ini").write_text("[pytest]\n", "utf-8")
        run(folder)  # warm the file cache
        for _ in range(args.rounds):
            for name, flags in variants.items():
                times[name].append(run(folder, *flags))
    base = statistics.median(times["no flag (baseline)"])
    print(f"{args.tests} tests, {args.rounds} interleaved rounds, median wall time of the whole pytest run")
    for name, values in times.items():
        median = statistics.median(values)
        per_test = (median - base) / args.tests * 1000
        print(f"  {name:20} {median:7.2f} s   {per_test:+7.2f} ms per test vs baseline")


if __name__ == "__main__":
    main()
