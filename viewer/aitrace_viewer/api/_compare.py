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
        records_a = store.trace_records(a)
        if not records_a:
            return f"no trace {a} (a)"
        records_b = records_a if b == a else store.trace_records(b)
        if not records_b:
            return f"no trace {b} (b)"
        from ._routes import _maybe_gzip  # the trace routes' gzip rule

        return _maybe_gzip(request, _encode(compare(records_a, records_b)))

    answer = await anyio.to_thread.run_sync(build)
    if isinstance(answer, str):
        return _error(answer, 404)
    return Response(answer[0], media_type="application/json", headers=answer[1])
