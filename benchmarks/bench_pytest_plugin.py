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
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = (args.tests // 6, args.tests)  # two sizes: the slope is the cost per test, the rest is per run
    variants = {"no flag (baseline)": (), "--aitrace": ("--aitrace",), "--aitrace=all": ("--aitrace=all",)}
    times: dict[tuple[str, int], list[float]] = {(name, n): [] for name in variants for n in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for n in sizes:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            (folder / "test_bench.py").write_text(SUITE, "utf-8")
            (folder / "conftest.py").write_text(CONFTEST.format(tests=n), "utf-8")
            (folder / "pytest.ini").write_text("[pytest]\n", "utf-8")
            folders[n] = folder
            run(folder)  # warm the file cache
        for _ in range(args.rounds):
            for name, flags in variants.items():
                for n in sizes:
                    times[name, n].append(run(folders[n], *flags))
    small, big = sizes
    print(f"{small} and {big} tests, {args.rounds} interleaved rounds, medians of each run's wall time")
    base_slope = None
    for name in variants:
        t_small, t_big = (statistics.median(times[name, n]) for n in sizes)
        slope = (t_big - t_small) / (big - small) * 1000
        base_slope = slope if base_slope is None else base_slope
        fixed = t_small - slope * small / 1000
        print(
            f"  {name:20} {t_big:6.2f} s for {big}: {slope:6.2f} ms per test ({slope - base_slope:+6.2f} vs "
            f"baseline), {fixed:5.2f} s per run"
        )


if __name__ == "__main__":
    main()
