"""The shipper in a process that keeps running, against a real ``aitrace serve``: records show up while it
runs, every usual way of writing the server's URL delivers, and what the server does not take is kept."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import aitrace_core
from aitrace_core import ConfigError, Shipper, get_logger, span

from .conftest import AitraceServer, Sink, poll

FLUSH_INTERVAL = 1.0

NOTEBOOK = r"""
import json, sys, threading, time
import aitrace_core as a
a.configure(service_name="live", target=sys.argv[1], flush_interval=float(sys.argv[2]))
log = a.get_logger("live")
cell = {"a": a, "log": log, "time": time, "threading": threading}
for line in sys.stdin:  # a notebook: one cell a line, run in one long-lived interpreter
    cell["out"] = None
    exec(json.loads(line), cell)
    print(json.dumps(cell["out"]), flush=True)
"""


class Notebook:
    """A long-lived Python process fed code cells on stdin; it never flushes and never exits on its own."""

    def __init__(self, target: str, flush_interval: float) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", NOTEBOOK, target, str(flush_interval)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )

    def run(self, code: str) -> Any:
        """Run one cell; its ``out``."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(code) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the notebook process died: {self.proc.stderr.read() if self.proc.stderr else ''}"
        return json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=20)


@pytest.fixture
def notebook(aitrace_server: AitraceServer) -> Iterator[Notebook]:
    nb = Notebook(aitrace_server.url, FLUSH_INTERVAL)
    try:
        yield nb
    finally:
        nb.kill()


def test_a_long_lived_process_s_records_reach_the_server_within_two_flush_intervals(
    notebook: Notebook, aitrace_server: AitraceServer
) -> None:
    for i in range(4):
        idle = 2 * FLUSH_INTERVAL if i % 2 else 0  # requests close together, then after a quiet spell
        trace_id = notebook.run(
            f"time.sleep({idle})\n"
            f"with a.span('request {i}') as s:\n    log.info('handled', n={i})\nout = s.trace_id"
        )
        written = time.monotonic()
        found = poll(lambda tid=trace_id: aitrace_server.trace(tid), written + 2 * FLUSH_INTERVAL)
        assert found, f"request {i} not on the server within 2× flush_interval (no flush, no exit)"
        assert [r["event"] for r in found["records"]] == ["span_start", "handled", "span_end"]
        assert notebook.alive()


def test_a_span_of_several_steps_shows_running_then_its_end_while_the_process_runs(
    notebook: Notebook, aitrace_server: AitraceServer
) -> None:
    trace_id = notebook.run(
        "started = threading.Event()\n"
        "ids = []\n"
        "def job():\n"
        "    with a.span('job') as s:\n"
        "        ids.append(s.trace_id)\n"
        "        started.set()\n"
        "        for i in range(6):\n"
        "            with a.span(f'step {i}'):\n"
        "                log.info('working', i=i)\n"
        "                time.sleep(0.5)\n"
        "threading.Thread(target=job).start()\n"
        "started.wait()\n"
        "out = ids[0]"
    )

    def status() -> str | None:
        found = aitrace_server.trace(trace_id)
        return found["summary"]["status"] if found else None

    seen = poll(lambda: status() == "running", time.monotonic() + 2 * FLUSH_INTERVAL)
    assert seen, "the running job never showed on the server"
    ended = poll(lambda: status() == "ok", time.monotonic() + 3 + 2 * FLUSH_INTERVAL)
    assert ended, f"the job's end never reached the server while the process ran (status {status()})"
    found = aitrace_server.trace(trace_id)
    assert found is not None
    assert sorted(s["name"] for s in found["spans"]) == ["job"] + [f"step {i}" for i in range(6)]
    assert all(s["status"] == "ok" for s in found["spans"])
    assert notebook.alive()


@pytest.mark.parametrize(
    "form",
    [
        "http://127.0.0.1:{port}",
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}",
        "http://localhost:{port}/",
        "http://localhost:{port}/api/ingest",
        "http://127.0.0.1:{port}/api/ingest/",
        "http://127.0.0.1:{port}/api/",
    ],
)
def test_every_usual_form_of_the_server_url_delivers(form: str, aitrace_server: AitraceServer) -> None:
    aitrace_core.configure(service_name="forms", target=form.format(port=aitrace_server.port))
    with span("one") as one:
        get_logger().info("via", form=form)
    assert aitrace_core.flush(timeout=20)
    found = aitrace_server.trace(one.trace_id)
    assert found is not None, f"{form}: nothing stored"
    assert [r["event"] for r in found["records"]] == ["span_start", "via", "span_end"]


def test_a_reverse_proxy_prefix_is_kept(sink: Sink, tmp_path: Path) -> None:
    shipper = Shipper(sink.base_url + "/aitrace/", flush_interval=0.05, spill_dir=tmp_path)
    shipper.write(b'{"event": "x"}')
    assert shipper.flush(timeout=20)
    shipper.shutdown()
    assert [r.path for r in sink.requests] == ["/aitrace/api/ingest"]


@pytest.mark.parametrize(
    "bad",
    ["127.0.0.1:8000", "localhost:8000/api/ingest", "localhost", "ftp://127.0.0.1/x", "htp://127.0.0.1:8000"],
)
def test_a_target_that_is_neither_a_url_nor_a_path_is_refused_in_code(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="target") as caught:
        aitrace_core.configure(target=bad)
    assert "http://" in str(caught.value)  # what to write instead
    with pytest.raises(ConfigError, match="target"):
        Shipper(bad)
    assert list(tmp_path.iterdir()) == []  # no file named like a server


def test_a_target_that_is_not_a_url_in_the_environment_is_named_and_never_stops_the_app(
    tmp_path: Path,
) -> None:
    code = (
        "import aitrace_core as a\n"
        "with a.span('work'):\n"
        "    a.get_logger().info('still running')\n"
        "print('app done')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    env.update(AITRACE_TARGET="127.0.0.1:8000", HOME=str(tmp_path / "home"))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "app done\n"
    assert "AITRACE_TARGET" in out.stderr
    assert "127.0.0.1:8000" in out.stderr
    assert not (tmp_path / "127.0.0.1:8000").exists()
    # the records go to the default file, and the user is told which, in words (not "using None")
    written = list((tmp_path / "home" / "logs").rglob("*.jsonl"))
    assert len(written) == 1
    assert "still running" in written[0].read_text("utf-8")
    assert str(written[0]) in out.stderr
    assert "None" not in out.stderr


def _aitrace_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "aitrace" and r.levelno >= logging.WARNING]


def _spilled(shipper: Shipper) -> list[int]:
    assert shipper.spill_path is not None
    return [json.loads(line)["seq"] for line in shipper.spill_path.read_text().splitlines()]


def _write_batches(shipper: Shipper, batches: int, per_batch: int) -> None:
    for b in range(batches):
        for i in range(per_batch):
            shipper.write(_record(b * per_batch + i))
        assert shipper.flush(timeout=20)


def _record(seq: int, trace_id: str = "c" * 32, **extra: Any) -> bytes:
    return json.dumps(
        {
            "timestamp": "2026-11-24T12:00:00.000001Z", "level": "info", "event": f"record {seq}",
            "logger": "test", "service": "test", "trace_id": trace_id, "span_id": "d" * 16, "seq": seq,
            **extra,
        }
    ).encode()


def test_a_server_that_wants_a_token_keeps_the_records_in_the_spill_file_and_says_so_once(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = AitraceServer(tmp_path_factory.mktemp("token-server"), "--token", "s3cret")
    try:
        shipper = Shipper(server.url, flush_interval=0.05, spill_dir=tmp_path)
        with caplog.at_level(logging.WARNING, logger="aitrace"):
            _write_batches(shipper, batches=3, per_batch=4)
            shipper.shutdown()
    finally:
        server.stop()
    assert _spilled(shipper) == list(range(12))
    warnings = _aitrace_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "401" in warnings[0]
    assert str(shipper.spill_path) in warnings[0]
    assert "AITRACE_TOKEN" in warnings[0]


def test_a_url_that_is_not_the_server_s_keeps_the_records_in_the_spill_file_and_says_so_once(
    aitrace_server: AitraceServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shipper = Shipper(aitrace_server.url + "/not-aitrace/", flush_interval=0.05, spill_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="aitrace"):
        _write_batches(shipper, batches=3, per_batch=4)
        shipper.shutdown()
    assert _spilled(shipper) == list(range(12))
    warnings = _aitrace_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "404" in warnings[0]
    assert str(shipper.spill_path) in warnings[0]


@pytest.mark.parametrize("status", [405, 403, 500])
def test_answers_that_are_not_about_the_records_keep_them_in_the_spill_file(
    status: int, sink: Sink, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink.decide = lambda records: (status, {"error": "not here"})
    shipper = Shipper(sink.url, flush_interval=0.05, spill_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="aitrace"):
        _write_batches(shipper, batches=3, per_batch=4)
        shipper.shutdown()
    assert _spilled(shipper) == list(range(12))
    assert shipper.stats()["spilled"] == 12
    warnings = _aitrace_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert str(status) in warnings[0]
    assert str(shipper.spill_path) in warnings[0]


def test_one_bad_record_in_a_batch_of_50_keeps_the_other_49(
    aitrace_server: AitraceServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trace_id = "e" * 31 + "1"
    shipper = Shipper(aitrace_server.url, batch_size=50, flush_interval=3600, spill_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="aitrace"):
        for seq in range(50):
            bad = {"span_id": "not hex"} if seq == 17 else {}
            shipper.write(_record(seq, trace_id, **bad))
        assert shipper.flush(timeout=20)
        shipper.write(_record(50, trace_id, span_id="also not hex"))  # a later bad record: not told again
        assert shipper.flush(timeout=20)
        shipper.shutdown()

    found = aitrace_server.trace(trace_id)
    assert found is not None
    assert sorted(r["seq"] for r in found["records"]) == [s for s in range(50) if s != 17]
    assert shipper.spill_path is not None
    kept = sorted(shipper.spill_path.parent.iterdir())
    assert len(kept) == 1, kept
    assert [json.loads(line)["seq"] for line in kept[0].read_text().splitlines()] == [17, 50]
    warnings = _aitrace_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert str(kept[0]) in warnings[0]
    assert "span_id" in warnings[0]  # the server's reason


def test_a_body_too_big_for_a_proxy_is_split(sink: Sink, tmp_path: Path) -> None:
    """A 413 with no record named (a proxy's limit): halves are sent until each fits; a record too big alone
    is refused."""

    def proxy(records: list[dict[str, Any]]) -> tuple[int, dict[str, Any]] | None:
        size = sum(len(r.get("pad", "")) + 100 for r in records)
        return (413, {"error": "request entity too large"}) if size > 900 else None

    sink.decide = proxy
    shipper = Shipper(sink.url, batch_size=50, flush_interval=3600, spill_dir=tmp_path)
    for seq in range(50):
        shipper.write(_record(seq, pad="x" * 1000) if seq == 30 else _record(seq))
    assert shipper.flush(timeout=20)
    shipper.shutdown()
    assert sorted(r["seq"] for r in sink.accepted()) == [s for s in range(50) if s != 30]
    assert max(len(r.records) for r in sink.requests if r.status == 200) <= 9
    assert shipper.stats()["rejected"] == 1
    kept = [json.loads(line) for f in tmp_path.rglob("*.rejected") for line in f.read_text().splitlines()]
    assert [r["seq"] for r in kept] == [30]


def test_exit_with_the_server_refusing_connections_spills_at_once_without_retrying(
    closed_port_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shipper = Shipper(closed_port_url, flush_interval=3600, exit_timeout=60, spill_dir=tmp_path)
    for seq in range(100):
        shipper.write(_record(seq))
    with caplog.at_level(logging.WARNING, logger="aitrace"):
        assert shipper.shutdown()
    assert _spilled(shipper) == list(range(100))
    assert shipper.stats()["retries"] == 0  # nobody listens: waiting out a backoff would only delay the exit
    warnings = _aitrace_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "connection refused" in warnings[0]


def test_exit_during_a_retry_wait_stops_retrying_a_refused_connection(
    closed_port_url: str, tmp_path: Path
) -> None:
    shipper = Shipper(closed_port_url, flush_interval=0.01, exit_timeout=60, spill_dir=tmp_path)
    shipper.write(_record(0))
    assert poll(lambda: shipper.stats()["retries"] >= 1, time.monotonic() + 20)  # in a backoff wait now
    before = shipper.stats()["retries"]
    assert shipper.shutdown()
    assert shipper.stats()["retries"] <= before + 1
    assert _spilled(shipper) == [0]


def test_a_bare_script_exits_with_the_server_down_and_its_records_in_the_spill_file(
    closed_port_url: str, tmp_path: Path
) -> None:
    code = (
        "import atexit, json\n"
        "def report():  # registered before aitrace's own exit hook, so it runs after it\n"
        "    print(json.dumps(a.current_shipper().stats()))\n"
        "atexit.register(report)\n"
        "import aitrace_core as a\n"
        "with a.span('main'):\n"
        "    for i in range(200):\n"
        "        a.get_logger().info('line', i=i)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    env.update(
        AITRACE_TARGET=closed_port_url, AITRACE_EXIT_TIMEOUT="60", AITRACE_SPILL_DIR=str(tmp_path),
        HOME=str(tmp_path / "home"),
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    spilled = [json.loads(line) for f in tmp_path.rglob("*.jsonl") for line in f.read_text().splitlines()]
    assert len(spilled) == 202
    assert out.stderr.count("connection refused") == 1, out.stderr
    stats = json.loads(out.stdout)
    assert (stats["spilled"], stats["retries"]) == (202, 0)  # no backoff waited out at exit
