"""``GET /api/traces/{id}/find?q=``: the spans of one trace whose name, log lines or values contain a text."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import get
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import Parameter

from aitrace_core import is_trace_id

__all__ = ["find_in_trace"]


@get("/traces/{trace_id:str}/find", summary="Spans of a trace whose name, log lines or values contain q")
async def find_in_trace(
    state: State,
    trace_id: str,
    q: str = Parameter(min_length=1, max_length=1000),
    limit: int = Parameter(default=10_000, ge=1, le=100_000),
) -> dict[str, Any]:
    if not is_trace_id(trace_id):
        raise HTTPException(status_code=400, detail="trace_id must be 32 lowercase hex characters")
    store = state.store
    ids, more = await anyio.to_thread.run_sync(lambda: store.find_spans(trace_id, q, limit))
    return {"trace_id": trace_id, "q": q, "span_ids": ids, "more": more}
