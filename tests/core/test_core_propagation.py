"""W3C traceparent: a trace continues in another service; bad headers start a new trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aitrace_core import continue_trace, extract_context, get_logger, inject_headers, open_span, span
from aitrace_core.testing import CapturedRecords


def test_round_trip(records: CapturedRecords) -> None:
    with span("client call") as client:
        headers = inject_headers({"accept": "application/json"})
    assert headers["accept"] == "application/json"
    version, trace_id, parent_id, flags = headers["traceparent"].split("-")
    assert (version, trace_id, parent_id) == ("00", client.trace_id, client.span_id)
    assert int(flags, 16) & 1  # sampled

    server = open_span("handle request", parent=extract_context(headers))
    server.end()
    assert server.trace_id == client.trace_id
    assert server.parent_span_id == client.span_id


def test_second_service_continues_the_trace(records: CapturedRecords) -> None:
    log = get_logger("orders")
    with span("checkout") as checkout:
        outgoing = inject_headers()

    # "another service": it only sees the headers (any case).
    incoming = {"TraceParent": outgoing["traceparent"], "Content-Type": "text/plain"}
    with continue_trace(incoming), span("reserve stock") as reserve:
        log.info("reserved", sku="A-1")
    assert reserve.trace_id == checkout.trace_id
    assert reserve.parent_span_id == checkout.span_id
    assert records.events("reserved")[0]["parent_span_id"] == checkout.span_id
    with span("later") as later:  # context restored after the block
        pass
    assert later.trace_id != checkout.trace_id


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero span id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # truncated
        "",
    ],
)
def test_malformed_header_starts_a_new_trace(value: str, records: CapturedRecords) -> None:
    with continue_trace({"traceparent": value}), span("handler") as handler:
        pass
    assert handler.parent_span_id is None
    assert handler.trace_id not in ("0" * 32, "4bf92f3577b34da6a3ce929d0e0e4736")


def test_no_header_and_no_span() -> None:
    assert "traceparent" not in inject_headers()
    with span("root") as root:
        pass
    assert root.parent_span_id is None


def test_inject_adds_nothing_but_traceparent(records: CapturedRecords) -> None:
    with span("x"):
        headers = inject_headers()
    assert set(headers) == {"traceparent"}


def test_trace_continues_in_another_process(tmp_path: Path, records: CapturedRecords) -> None:
    child_out = tmp_path / "service-b.jsonl"
    code = (
        "import sys, aitrace_core as a\n"
        "a.configure(service_name='service-b', target=sys.argv[2])\n"
        "with a.continue_trace({'traceparent': sys.argv[1]}), a.span('handle', kind='function'):\n"
        "    a.get_logger('b').info('handled in b')\n"
        "a.shutdown()\n"
    )
    with span("call service b") as caller:
        header = inject_headers()["traceparent"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
        proc = subprocess.run(
            [sys.executable, "-c", code, header, str(child_out)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    assert proc.returncode == 0, proc.stderr
    theirs = CapturedRecords.from_jsonl(child_out)
    theirs.validate()
    handle = theirs.one("handle")
    assert handle.start is not None
    assert handle.start["trace_id"] == caller.trace_id
    assert handle.parent_span_id == caller.span_id
    assert handle.start["service"] == "service-b"
    assert theirs.events("handled in b")[0]["parent_span_id"] == caller.span_id
