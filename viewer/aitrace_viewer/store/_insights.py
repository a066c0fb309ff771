# SQL is composed only from constants, column names and placeholders in this module:
# ruff: noqa: S608
"""Insights: totals, a time series and breakdowns (model, node, tool) as SQL aggregates over the summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

from ._derive import format_ts
from ._traces import SUMMARY_SELECT, summary_from_row

__all__ = ["DAY_US", "HOUR_US", "InsightFilters", "bucket_for", "insights"]

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
TOP = 10
"""How many of the slowest and of the most expensive traces are listed."""
BREAKDOWN_ROWS = 20
"""Rows per breakdown (the most frequent keys)."""
_P = (0.5, 0.95)


@dataclass
class InsightFilters:
    since_us: int
    until_us: int
    service: str | None = None
    model: str | None = None


def bucket_for(since_us: int, until_us: int) -> int:
    """The series' bucket: an hour for a range of up to two days, else a day (at most ~60 points for 60 d)."""
    return HOUR_US if until_us - since_us <= 2 * DAY_US else DAY_US


def _where(f: InsightFilters) -> tuple[str, dict[str, Any]]:
    """The conditions (on ``traces``, or on ``spans`` by their own start and service) and their parameters."""
    terms = ["start_us >= :since", "start_us < :until"]
    params: dict[str, Any] = {"since": f.since_us, "until": f.until_us}
    if f.service is not None:
        terms.append("service = :service")
        params["service"] = f.service
    if f.model is not None:
        # traces that called this model: the spans' index by model (migration 0004) answers it
        terms.append("trace_id IN (SELECT trace_id FROM spans WHERE model = :model)")
        params["model"] = f.model
    return " AND ".join(terms), params


def _interpolate(n: int, anchors: dict[int, float], p: float) -> float | None:
    """``percentile_cont(p)``: linear interpolation between the values of rank floor/ceil of p·(n-1)."""
    if n <= 0:
        return None
    pos = p * (n - 1)
    lo = int(pos)
    low = anchors.get(lo)
    if low is None:
        return None
    high = anchors.get(lo + 1, low)
    return low + (pos - lo) * (high - low)


def _percentiles(
    conn: Connection, pg: bool, key: str, value: str, source: str, where: str, params: dict[str, Any]
) -> dict[Any, tuple[float | None, float | None]]:
    """p50 and p95 of ``value`` per ``key`` over ``source`` rows that pass ``where``.

    PostgreSQL: ``percentile_cont``. SQLite has no percentile aggregate: one pass numbers each group's values
    in order (a window function over the rows the range selects, a sort of those rows only) and keeps the
    two ranks around each wanted position, floor(p·(n-1)) and the next; interpolating between them here gives
    exactly what ``percentile_cont`` gives, so both databases answer the same numbers."""
    cond = f"{where} AND {value} IS NOT NULL"
    if pg:
        sql = (
            f"SELECT {key} AS k, "
            + ", ".join(f"percentile_cont({p}) WITHIN GROUP (ORDER BY {value})" for p in _P)
            + f" FROM {source} WHERE {cond} GROUP BY k"
        )
        with_rows = conn.execute(text(sql), params).all()
        return {r[0]: (r[1], r[2]) for r in with_rows}
    ranks = ", ".join(f"CAST({p} * (n - 1) AS INTEGER), CAST({p} * (n - 1) AS INTEGER) + 1" for p in _P)
    sql = (
        f"SELECT k, n, i, v FROM (SELECT {key} AS k, {value} AS v, "
        f"ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {value}) - 1 AS i, "
        f"COUNT(*) OVER (PARTITION BY {key}) AS n FROM {source} WHERE {cond}) AS ranked "
        f"WHERE i IN ({ranks})"
    )
    groups: dict[Any, tuple[int, dict[int, float]]] = {}
    for k, n, i, v in conn.execute(text(sql), params):
        groups.setdefault(k, (n, {}))[1][i] = v
    return {
        k: (_interpolate(n, anchors, _P[0]), _interpolate(n, anchors, _P[1]))
        for k, (n, anchors) in groups.items()
    }


_TRACE_AGG = (
    "count(*), sum(CASE WHEN error_count > 0 OR status = 'error' THEN 1 ELSE 0 END), "
    "sum(input_tokens), sum(output_tokens), sum(cost_usd)"
)
_FINISHED = "COALESCE(status, '') <> 'running'"


def _figures(row: Any, pct: tuple[float | None, float | None]) -> dict[str, Any]:
    count, errors = int(row[0] or 0), int(row[1] or 0)
    return {
        "count": count,
        "errors": errors,
        "error_rate": errors / count if count else None,
        "input_tokens": None if row[2] is None else int(row[2]),
        "output_tokens": None if row[3] is None else int(row[3]),
        "cost_usd": None if row[4] is None else float(row[4]),
        "p50_ms": pct[0],
        "p95_ms": pct[1],
    }


def _series(
    conn: Connection, pg: bool, f: InsightFilters, bucket_us: int, where: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    params = {**params, "bucket": bucket_us}
    key = "(start_us / :bucket) * :bucket"
    rows = conn.execute(
        text(f"SELECT {key} AS k, {_TRACE_AGG} FROM traces WHERE {where} GROUP BY k"), params
    ).all()
    pct = _percentiles(conn, pg, key, "duration_ms", "traces", f"{where} AND {_FINISHED}", params)
    by_key = {int(r[0]): r[1:] for r in rows}
    out = []
    start = f.since_us // bucket_us * bucket_us
    for k in range(start, f.until_us, bucket_us):
        row = by_key.get(k, (0, 0, None, None, None))
        out.append({"start": format_ts(k), **_figures(row, pct.get(k, (None, None)))})
    return out


def _breakdown(
    conn: Connection, pg: bool, f: InsightFilters, key: str, condition: str
) -> list[dict[str, Any]]:
    """Spans that started in the range (the filters applied to the spans' own start and service), grouped
    by ``key``: the ``BREAKDOWN_ROWS`` most frequent keys."""
    where, params = _where(f)
    where = f"{where} AND {condition}"
    agg = (
        "count(*), sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), "
        "sum(input_tokens), sum(output_tokens), sum(cost_usd)"
    )
    rows = conn.execute(
        text(
            f"SELECT {key} AS k, {agg} FROM spans WHERE {where} GROUP BY k "
            f"ORDER BY count(*) DESC, k LIMIT {BREAKDOWN_ROWS}"
        ),
        params,
    ).all()
    if not rows:
        return []
    pct = _percentiles(conn, pg, key, "duration_ms", "spans", where, params)
    return [{"key": r[0], **_figures(r[1:], pct.get(r[0], (None, None)))} for r in rows]


def _top(conn: Connection, where: str, params: dict[str, Any], column: str) -> list[dict[str, Any]]:
    sql = (
        f"SELECT {SUMMARY_SELECT} FROM traces WHERE {where} AND {column} IS NOT NULL AND {_FINISHED} "
        f"ORDER BY {column} DESC, trace_id LIMIT {TOP}"
    )
    return [summary_from_row(r) for r in conn.execute(text(sql), params)]


def _services(conn: Connection, where: str, params: dict[str, Any]) -> list[str]:
    """The services seen in the range (for the page's suggestions), the first 100 by name."""
    sql = (
        f"SELECT DISTINCT service FROM traces WHERE {where} AND service IS NOT NULL "
        "ORDER BY service LIMIT 100"
    )
    return [r[0] for r in conn.execute(text(sql), params)]


def insights(reader: Engine, pg: bool, f: InsightFilters, bucket_us: int) -> dict[str, Any]:
    """Everything the insights page shows for one range and filters (docs/api.md, ``/api/insights``)."""
    where, params = _where(f)
    with reader.connect() as conn:
        total_row = conn.execute(text(f"SELECT {_TRACE_AGG} FROM traces WHERE {where}"), params).one()
        total_pct = _percentiles(conn, pg, "0", "duration_ms", "traces", f"{where} AND {_FINISHED}", params)
        totals = _figures(total_row, next(iter(total_pct.values()), (None, None)))
        return {
            "since": format_ts(f.since_us),
            "until": format_ts(f.until_us),
            "bucket": "hour" if bucket_us == HOUR_US else "day",
            "totals": totals,
            "series": _series(conn, pg, f, bucket_us, where, params),
            "by_model": _breakdown(conn, pg, f, "model", "model IS NOT NULL"),
            "by_node": _breakdown(conn, pg, f, "name", "kind = 'node'"),
            "by_tool": _breakdown(conn, pg, f, "name", "kind = 'tool'"),
            "services": _services(conn, where, params),
            "slowest": _top(conn, where, params, "duration_ms"),
            "costliest": _top(conn, where, params, "cost_usd"),
        }
