"""BufferedLogger patterns: a logger you own, flushed when the ``with`` block ends.

    python examples/buffered_logger.py            # writes ~/logs/jobs/<time>.jsonl (or $AITRACE_TARGET)
    python examples/buffered_logger.py out.jsonl

1. ``with BufferedLogger(target=...) as log:`` — a batch job; everything is delivered on exit.
2. Records written inside a span carry that span's ids, like any aitrace record.
3. Non-JSON values (Decimal, datetime, sets, dataclasses) are serialized, never rejected.
4. An explicit ``flush()`` mid-job (e.g. before a slow step), and ``stats()`` to see what happened.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from decimal import Decimal

from aitrace_core import BufferedLogger, span


@dataclass
class Invoice:
    number: str
    total: Decimal


def main(target: str | None = None) -> dict[str, int]:
    """Run a small nightly job; return the logger's counters."""
    with BufferedLogger(target=target, service_name="jobs", flush_interval=60) as log:
        # 1. plain records
        log.info("job started", job="nightly-invoices", started=dt.datetime(2026, 11, 24, 2, 0))

        # 2. records inside spans
        with span("invoices.load", kind="function"):
            invoices = [Invoice(f"INV-{i:03d}", Decimal(f"{10 * i}.50")) for i in range(1, 4)]
            log.info("loaded", count=len(invoices), numbers={inv.number for inv in invoices})
        with span("invoices.send"):
            for inv in invoices:
                log.debug("sending", invoice=inv)  # 3. a dataclass, serialized as an object
            log.warning("one recipient bounced", invoice=invoices[1].number)

        # 4. flush before a slow step, then look at the counters
        log.flush(timeout=5)
        log.info("job finished", sent=len(invoices))
    return log.stats()


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else None), file=sys.stderr)
