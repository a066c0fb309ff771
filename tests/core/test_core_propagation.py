"""W3C traceparent: a trace continues in another service; bad headers start a new trace."""

from __future__ import annotations

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
