"""The aitrace store (SQLAlchemy 2 Core; SQLite or PostgreSQL)."""

from ._derive import format_ts, parse_ts
from ._engine import make_engines, upgrade
from ._store import IngestResult, Store, TraceFilters

__all__ = ["IngestResult", "Store", "TraceFilters", "format_ts", "make_engines", "parse_ts", "upgrade"]
