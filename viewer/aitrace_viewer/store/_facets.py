# SQL is composed only from the column names and constants in this module:
# ruff: noqa: S608
"""The values the list's filters suggest: the distinct services and models, one index seek per value."""

from __future__ import annotations

from sqlalchemy import Engine, text

__all__ = ["facets"]


def _distinct(column: str) -> str:
    # a "loose index scan": each step seeks the next larger value in the column's index, so the cost is the
    # number of distinct values, not of traces (SELECT DISTINCT would read the whole index)
    return (
        f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM traces UNION ALL "
        f"SELECT (SELECT min({column}) FROM traces WHERE {column} > v.x) FROM v WHERE v.x IS NOT NULL) "
        "SELECT x FROM v WHERE x IS NOT NULL LIMIT :limit"
    )


_SQL = {"services": text(_distinct("service")), "models": text(_distinct("model"))}


def facets(reader: Engine, limit: int) -> dict[str, list[str]]:
    """``{"services": [...], "models": [...]}``: up to ``limit`` of each, in order."""
    with reader.connect() as conn:
        return {name: [x for (x,) in conn.execute(sql, {"limit": limit})] for name, sql in _SQL.items()}
