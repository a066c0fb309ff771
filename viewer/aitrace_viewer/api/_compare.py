"""``GET /api/compare``: two stored traces compared (the JSON of :func:`aitrace_viewer.compare.compare`)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State

from aitrace_core import is_trace_id

from ..compare import compare
from ..store import Store

__all__ = ["compare_traces"]

_encode = msgspec.json.Encoder().encode
_RECORDS_SQL = "SELECT raw FROM records WHERE trace_id = {p} ORDER BY ts_us, seq, id"


def _raw_records(store: Store, trace_id: str) -> list[str]:
    """A trace's stored records (JSON text) in time order."""
    p = "%s" if store.pg else "?"
    with store.reader.begin() as conn:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            cursor.execute(_RECORDS_SQL.format(p=p), (trace_id,))
            return [raw for (raw,) in cursor.fetchall()]
        finally:
            cursor.close()


def _decode(raws: list[str]) -> list[dict[str, Any]]:
    """Records parsed in one go (a JSON array of them)."""
    records: list[dict[str, Any]] = msgspec.json.decode(("[" + ",".join(raws) + "]").encode())
    return records


def _error(message: str, status: int) -> Response[Any]:
    return Response({"error": message, "detail": None}, status_code=status)


@get("/compare", summary="Compare two traces: aligned span pairs, their differences, totals with deltas")
async def compare_traces(request: Request[Any, Any, Any], state: State, a: str, b: str) -> Response[Any]:
    """Run ``a`` against run ``b``: ``pairs`` in execution order, ``first_divergence``, ``totals``."""
    for name, value in (("a", a), ("b", b)):
        if not is_trace_id(value):
            return _error(f"{name} must be a trace id (32 lowercase hex characters)", 400)
    store: Store = state.store

    def build() -> tuple[bytes, dict[str, str]] | str:
        raws_a = _raw_records(store, a)
        if not raws_a:
            return f"no trace {a} (a)"
        raws_b = raws_a if b == a else _raw_records(store, b)
        if not raws_b:
            return f"no trace {b} (b)"
        from ._routes import _maybe_gzip  # the trace routes' gzip rule

        refs = any('"$' in raw for raw in raws_a) or any('"$' in raw for raw in raws_b)
        result = compare(_decode(raws_a), _decode(raws_b), resolved=not refs)
        return _maybe_gzip(request, _encode(result))

    answer = await anyio.to_thread.run_sync(build)
    if isinstance(answer, str):
        return _error(answer, 404)
    return Response(answer[0], media_type="application/json", headers=answer[1])
