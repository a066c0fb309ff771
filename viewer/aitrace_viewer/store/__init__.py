"""The aitrace store (SQLAlchemy 2 Core; SQLite or PostgreSQL)."""

from ._derive import format_ts, parse_ts
from ._engine import make_engines, upgrade
from ._insights import DAY_US, HOUR_US, bucket_for
from ._store import IngestResult, InsightFilters, Store, TraceFilters

__all__ = [
    "DAY_US",
    "HOUR_US",
    "IngestResult",
    "InsightFilters",
    "Store",
    "TraceFilters",
    "bucket_for",
    "format_ts",
    "make_engines",
    "parse_ts",
    "upgrade",
]
