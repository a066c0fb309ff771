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


def _where(f: InsightFilters, pg: bool) -> tuple[str, dict[str, Any]]:
    """The conditions (on ``traces``, or on ``spans`` by their own start and service) and their parameters."""
    terms = ["start_us >= :since", "start_us < :until"]
    params: dict[str, Any] = {"since": f.since_us, "until": f.until_us}
    if f.service is not None:
        terms.append("service = :service")
        params["service"] = f.service
    if f.model is not None:
        # traces that called this model. On SQLite "+trace_id" keeps the planner from driving the query by
        # this list (every span of every such trace, looked up by trace id: seconds at a million records):
        # the range and kind indexes lead, and each candidate is checked against the list.
        if pg:
            terms.append("trace_id IN (SELECT trace_id FROM spans WHERE model = :model)")
            params["model"] = f.model
        else:
            # the set is made once per request (see _model_traces), not again by every statement
            terms.append(f"+trace_id IN temp.{_MODEL_TRACES}")
    return " AND ".join(terms), params


_MODEL_TRACES = "insight_model_traces"


def _model_traces(conn: Connection, model: str) -> None:
    """SQLite: the ids of the traces that called ``model``, in a temporary table of this connection's open
    transaction (rolled back, so gone, when the request hands the connection back). An ``IN (subquery)``
    would be built again by each of the request's statements: a tenth of its time at a million records."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_MODEL_TRACES}")  # (should a connection keep it)
    conn.exec_driver_sql(f"CREATE TEMP TABLE {_MODEL_TRACES} (trace_id TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute(
        text(f"INSERT INTO temp.{_MODEL_TRACES} SELECT DISTINCT trace_id FROM spans WHERE model = :model"),
        {"model": model},
    )


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


Figures = tuple[int, int, Any, Any, Any, "float | None", "float | None"]
"""count, errors, input tokens, output tokens, cost, p50, p95 of one group."""


def _grouped(
    conn: Connection,
    pg: bool,
    key: str,
    source: str,
    where: str,
    params: dict[str, Any],
    error: str,
    value: str,
) -> dict[Any, Figures]:
    """Per ``key``: rows, errors (rows where ``error`` holds), token and cost sums, and p50/p95 of ``value``
    (NULL values left out), over the ``source`` rows that pass ``where``; one query, one pass.

    PostgreSQL: aggregates and ``percentile_cont``. SQLite has no percentile aggregate: one window, ordered
    by value within each group, gives every row its rank and its group's sums (the rows the range selects
    are sorted once, nothing else is read), and only the rows at the ranks around each wanted position,
    floor(p·(n-1)) and the next, come back; interpolating between them here gives exactly what
    ``percentile_cont`` gives, so both databases answer the same numbers."""
    sums = f"sum(CASE WHEN {error} THEN 1 ELSE 0 END), sum(input_tokens), sum(output_tokens), sum(cost_usd)"
    if pg:
        sql = (
            f"SELECT {key} AS k, count(*), {sums}, "
            + ", ".join(f"percentile_cont({p}) WITHIN GROUP (ORDER BY {value})" for p in _P)
            + f" FROM {source} WHERE {where} GROUP BY k"
        )
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(sql), params)}
    # ranks among the non-NULL values: SQLite sorts NULLs first, so skip the group's (n - nv) NULLs
    at = "i - (n - nv)"
    anchors = " OR ".join(
        f"{at} = CAST({p} * (nv - 1) AS INTEGER) OR {at} = CAST({p} * (nv - 1) AS INTEGER) + 1" for p in _P
    )
    e, tin, tout, cost = sums.split(", ")
    sql = (
        f"SELECT k, i, v, nv, n, e, tin, tout, cost FROM (SELECT {key} AS k, {value} AS v, "
        f"ROW_NUMBER() OVER w - 1 AS i, count({value}) OVER w AS nv, count(*) OVER w AS n, "
        f"{e} OVER w AS e, {tin} OVER w AS tin, {tout} OVER w AS tout, {cost} OVER w AS cost "
        f"FROM {source} WHERE {where} WINDOW w AS (PARTITION BY {key} ORDER BY {value} "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) AS ranked "
        f"WHERE i = 0 OR (v IS NOT NULL AND ({anchors}))"
    )
    groups: dict[Any, tuple[list[Any], dict[int, float]]] = {}
    for k, i, v, nv, n, *agg in conn.execute(text(sql), params):
        group = groups.setdefault(k, ([n, *agg, nv], {}))
        if v is not None:
            group[1][i - (n - nv)] = v
    return {
        k: (head[0], head[1], head[2], head[3], head[4], *(_interpolate(head[5], marks, p) for p in _P))
        for k, (head, marks) in groups.items()
    }


_TRACE_ERROR = "error_count > 0 OR status = 'error'"
_TRACE_VALUE = "CASE WHEN status = 'running' THEN NULL ELSE duration_ms END"  # running: no duration yet


def _figures(row: Any) -> dict[str, Any]:
    count, errors = int(row[0] or 0), int(row[1] or 0)
    return {
        "count": count,
        "errors": errors,
        "error_rate": errors / count if count else None,
        "input_tokens": None if row[2] is None else int(row[2]),
        "output_tokens": None if row[3] is None else int(row[3]),
        "cost_usd": None if row[4] is None else float(row[4]),
        "p50_ms": None if row[5] is None else float(row[5]),
        "p95_ms": None if row[6] is None else float(row[6]),
    }


_EMPTY = (0, 0, None, None, None, None, None)


def _series(
    conn: Connection, pg: bool, f: InsightFilters, bucket_us: int, where: str, params: dict[str, Any]
) -> tuple[Figures, list[dict[str, Any]]]:
    """The totals of the range, and its series: one point per bucket, empty buckets included."""
    params = {**params, "bucket": bucket_us}
    key = "(start_us / :bucket) * :bucket"
    if pg:
        total = _grouped(conn, pg, "0", "traces", where, params, _TRACE_ERROR, _TRACE_VALUE)
        by_key = _grouped(conn, pg, key, "traces", where, params, _TRACE_ERROR, _TRACE_VALUE)
        totals = next(iter(total.values()), _EMPTY)
    else:
        totals, by_key = _walked_traces(conn, key, where, params)
    points = {int(k): v for k, v in by_key.items()}
    start = f.since_us // bucket_us * bucket_us
    return totals, [
        {"start": format_ts(k), **_figures(points.get(k, _EMPTY))}
        for k in range(start, f.until_us, bucket_us)
    ]


def _walked_traces(
    conn: Connection, key: str, where: str, params: dict[str, Any]
) -> tuple[Figures, dict[Any, Figures]]:
    """SQLite, traces: the sums per bucket by GROUP BY (the totals are their sums), then every percentile of
    the range and of each bucket in one walk of ``ix_traces_value`` in duration order (no sort; only the
    bucket of each finished trace comes back), counting ranks per bucket and keeping the values at the
    ranks around each wanted position."""
    rows = conn.execute(
        text(
            f"SELECT {key} AS k, count(*), sum(CASE WHEN {_TRACE_ERROR} THEN 1 ELSE 0 END), "
            f"sum(input_tokens), sum(output_tokens), sum(cost_usd), count({_TRACE_VALUE}) "
            f"FROM traces WHERE {where} GROUP BY k"
        ),
        params,
    ).all()
    if not rows:
        return _EMPTY, {}
    nv = {r[0]: int(r[6]) for r in rows}
    n_all = sum(nv.values())
    wanted = {k: {i for p in _P for i in (int(p * (n - 1)), int(p * (n - 1)) + 1)} for k, n in nv.items()}
    wanted_all = {i for p in _P for i in (int(p * (n_all - 1)), int(p * (n_all - 1)) + 1)}
    marks: dict[Any, dict[int, float]] = {k: {} for k in nv}
    marks_all: dict[int, float] = {}
    rank = dict.fromkeys(nv, 0)
    walk = (
        f"SELECT {key}, duration_ms FROM traces INDEXED BY ix_traces_value WHERE {where} "
        "AND duration_ms IS NOT NULL AND COALESCE(status, '') <> 'running' ORDER BY duration_ms"
    )
    # every finished trace of the range passes here: sqlite3's own cursor (named parameters as written),
    # a third of the time of a SQLAlchemy result at 33,000 rows
    driver: Any = conn.connection.driver_connection
    for i, (k, v) in enumerate(driver.execute(walk, params)):
        if i in wanted_all:
            marks_all[i] = v
        r = rank[k]
        if r in wanted[k]:
            marks[k][r] = v
        rank[k] = r + 1

    def figures(row: Any, n: int, m: dict[int, float]) -> Figures:
        return (row[0], row[1], row[2], row[3], row[4], *(_interpolate(n, m, p) for p in _P))

    def total(i: int) -> Any:
        values = [r[i] for r in rows if r[i] is not None]
        return sum(values) if values else None

    totals = figures([total(i) for i in range(1, 6)], n_all, marks_all)
    return totals, {r[0]: figures(r[1:], nv[r[0]], marks[r[0]]) for r in rows}


def _breakdown(
    conn: Connection, pg: bool, f: InsightFilters, key: str, condition: str, *, money: bool
) -> list[dict[str, Any]]:
    """Spans that started in the range (the filters applied to the spans' own start and service), grouped
    by ``key``: the ``BREAKDOWN_ROWS`` most frequent keys. Without ``money`` (nodes, tools: their own spans
    carry no tokens, their model calls do) tokens and cost are left out."""
    where, params = _where(f, pg)
    where = f"{where} AND {condition}"
    if pg:
        groups = _grouped(conn, pg, key, "spans", where, params, "status = 'error'", "duration_ms")
        top = sorted(groups.items(), key=lambda kv: (-kv[1][0], str(kv[0])))[:BREAKDOWN_ROWS]
    else:
        top = _walked(conn, key, where, params, money, one_walk=f.model is not None)
    return [{"key": k, **_figures(v if money else (*v[:2], None, None, None, *v[5:]))} for k, v in top]


def _walked(
    conn: Connection, key: str, where: str, params: dict[str, Any], money: bool, *, one_walk: bool
) -> list[tuple[Any, Figures]]:
    """SQLite, spans: the aggregates by GROUP BY, then each percentile of each of the top groups by an
    ordered walk: ``ORDER BY duration_ms LIMIT 2 OFFSET floor(p·(n-1))`` on an index that holds the group's
    spans in duration order with their start (``ix_spans_kind_value``, ``ix_spans_model_value``), so the
    walk reads index entries only, sorts nothing, and stops at the wanted rank; interpolating between the
    two values gives what ``percentile_cont`` gives. (A window over every span of the range, as for traces,
    costs a sort of all of them: ten times the GROUP BY at a million records.) The same indexes hold what
    the GROUP BY reads (status, service, and for models tokens and cost): no table rows are read either."""
    if one_walk:
        # a filter by model is a subquery every statement checks each span against: one walk of the range in
        # index order (key, duration) gives the sums and the ranks together, instead of a GROUP BY and a walk
        return _one_walk(conn, key, where, params, money)
    sums = "sum(input_tokens), sum(output_tokens), sum(cost_usd)" if money else "NULL, NULL, NULL"
    rows = conn.execute(
        text(
            f"SELECT {key} AS k, count(*), sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), "
            f"{sums}, count(duration_ms) "
            f"FROM spans WHERE {where} GROUP BY k ORDER BY count(*) DESC, k LIMIT {BREAKDOWN_ROWS}"
        ),
        params,
    ).all()
    walk = text(
        f"SELECT duration_ms FROM spans WHERE {where} AND {key} = :k AND duration_ms IS NOT NULL "
        "ORDER BY duration_ms LIMIT 2 OFFSET :o"
    )
    out: list[tuple[Any, Figures]] = []
    for k, count, errors, tin, tout, cost, nv in rows:
        pct: list[float | None] = []
        for p in _P:
            lo = int(p * (nv - 1)) if nv else 0
            values = conn.execute(walk, {**params, "k": k, "o": lo}).scalars().all() if nv else []
            pct.append(_interpolate(nv, {lo + i: v for i, v in enumerate(values)}, p))
        out.append((k, (count, errors, tin, tout, cost, pct[0], pct[1])))
    return out


def _one_walk(
    conn: Connection, key: str, where: str, params: dict[str, Any], money: bool
) -> list[tuple[Any, Figures]]:
    """SQLite, spans, in one pass: every span of the range in (key, duration) order from the covering index
    (NULL durations first, as SQLite orders them), summed per key in Python — count, errors, tokens and cost
    (NULL when no span has any, as SQL's sum) — with each key's durations, already in order, for its
    percentiles; the ``BREAKDOWN_ROWS`` most frequent keys, ties by key, as the GROUP BY would give them.
    Read through sqlite3's own cursor (named parameters as written): a third of a SQLAlchemy result."""
    index = "ix_spans_model_value" if key == "model" else "ix_spans_kind_value"
    money_columns = "input_tokens, output_tokens, cost_usd" if money else "NULL, NULL, NULL"
    sql = (
        f"SELECT {key}, duration_ms, status = 'error', {money_columns} FROM spans INDEXED BY {index} "
        f"WHERE {where} ORDER BY {key}, duration_ms"
    )
    groups: dict[Any, list[Any]] = {}  # key → [count, errors, tin, tout, cost, durations]
    driver: Any = conn.connection.driver_connection
    for k, duration, is_error, *money_values in driver.execute(sql, params):
        group = groups.get(k)
        if group is None:
            group = groups[k] = [0, 0, None, None, None, []]
        group[0] += 1
        group[1] += 1 if is_error else 0
        for i, value in enumerate(money_values, start=2):
            if value is not None:
                group[i] = value if group[i] is None else group[i] + value
        if duration is not None:
            group[5].append(duration)
    top = sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0]))[:BREAKDOWN_ROWS]
    out: list[tuple[Any, Figures]] = []
    for k, (count, errors, tin, tout, cost, durations) in top:
        n = len(durations)
        ranks = {i for p in _P for i in (int(p * (n - 1)), int(p * (n - 1)) + 1) if 0 <= i < n}
        anchors = {i: durations[i] for i in ranks}
        out.append((k, (count, errors, tin, tout, cost, *(_interpolate(n, anchors, p) for p in _P))))
    return out


def _top(conn: Connection, where: str, params: dict[str, Any], column: str) -> list[dict[str, Any]]:
    sql = (
        f"SELECT {SUMMARY_SELECT} FROM traces WHERE {where} AND {column} IS NOT NULL "
        "AND COALESCE(status, '') <> 'running' "
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
    where, params = _where(f, pg)
    with reader.connect() as conn:
        if f.model is not None and not pg:
            _model_traces(conn, f.model)
        totals, series = _series(conn, pg, f, bucket_us, where, params)
        return {
            "since": format_ts(f.since_us),
            "until": format_ts(f.until_us),
            "bucket": "hour" if bucket_us == HOUR_US else "day",
            "totals": _figures(totals),
            "series": series,
            "by_model": _breakdown(conn, pg, f, "model", "model IS NOT NULL", money=True),
            "by_node": _breakdown(conn, pg, f, "name", "kind = 'node'", money=False),
            "by_tool": _breakdown(conn, pg, f, "name", "kind = 'tool'", money=False),
            "services": _services(conn, where, params),
            "slowest": _top(conn, where, params, "duration_ms"),
            "costliest": _top(conn, where, params, "cost_usd"),
        }
