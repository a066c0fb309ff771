"""The JSON API of the insights and threads pages (docs/api.md): ``/api/insights`` and ``/api/threads``."""

from __future__ import annotations

import time
from typing import Any

import anyio.to_thread
from litestar import get
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import Parameter

from ..store import DAY_US, HOUR_US, InsightFilters, Store, bucket_for, parse_ts

__all__ = ["RANGES", "insight_handlers"]

RANGES = {"1h": HOUR_US, "24h": DAY_US, "7d": 7 * DAY_US, "30d": 30 * DAY_US}
"""The preset ranges, ending now."""
MAX_RANGE_US = 400 * DAY_US
"""The widest custom range (a day per point: at most 400 points)."""


class BadRequest(HTTPException):
    status_code = 400


def _time(value: str, name: str) -> int:
    try:
        return parse_ts(value)
    except ValueError:
        raise BadRequest(detail=f"{name} must be an RFC 3339 time, e.g. 2026-11-24T12:00:00Z") from None


def resolve_range(range_: str | None, since: str | None, until: str | None, now_us: int) -> tuple[int, int]:
    """``(since_us, until_us)``: a preset ending now, or ``since``/``until`` (until defaults to now, since
    to a day before until)."""
    if range_ is not None:
        if since is not None or until is not None:
            raise BadRequest(detail="give either range or since/until, not both")
        if range_ not in RANGES:
            raise BadRequest(detail=f"range must be one of {', '.join(RANGES)}")
        return now_us - RANGES[range_], now_us
    end = now_us if until is None else _time(until, "until")
    start = end - RANGES["24h"] if since is None else _time(since, "since")
    if end <= start:
        raise BadRequest(detail="until must be after since")
    if end - start > MAX_RANGE_US:
        raise BadRequest(detail=f"the range is at most {MAX_RANGE_US // DAY_US} days")
    return start, end


@get("/insights", summary="Totals, a time series and breakdowns over a time range")
async def insights(
    state: State,
    range_: str | None = Parameter(query="range", default=None),
    since: str | None = None,
    until: str | None = None,
    service: str | None = Parameter(default=None, max_length=1000),
    model: str | None = Parameter(default=None, max_length=1000),
    bucket: str | None = None,
) -> dict[str, Any]:
    """Runs, errors, tokens, cost and latency percentiles of the traces that started in the range."""
    since_us, until_us = resolve_range(range_, since, until, time.time_ns() // 1000)
    if bucket not in (None, "hour", "day"):
        raise BadRequest(detail="bucket must be hour or day")
    size = bucket_for(since_us, until_us) if bucket is None else HOUR_US if bucket == "hour" else DAY_US
    if (until_us - since_us) // size > 2000:
        raise BadRequest(detail="too many points: use bucket=day for a range this long")
    filters = InsightFilters(since_us, until_us, service or None, model or None)
    store: Store = state.store
    return await anyio.to_thread.run_sync(store.insights, filters, size)


@get("/threads", summary="Threads (traces that share a thread id), most recently active first")
async def list_threads(
    state: State,
    limit: int = Parameter(default=50, ge=1, le=500),
    cursor: str | None = None,
    service: str | None = None,
) -> dict[str, Any]:
    store: Store = state.store
    try:
        threads, next_cursor = await anyio.to_thread.run_sync(
            lambda: store.list_threads(limit, cursor, service or None)
        )
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(detail="cursor is not one this server made") from None
    return {"threads": threads, "next_cursor": next_cursor}


insight_handlers = [insights, list_threads]
