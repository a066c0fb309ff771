"""The viewer's pages: Jinja2 shells that the ES modules under ``static/js`` fill in.

``route_handlers`` is picked up by :func:`aitrace_viewer.app.create_app`. The pages carry no data: everything
shown comes from ``/api/...`` and is set as text by the scripts, under the server's strict CSP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from litestar import get
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.response import Response, Template
from litestar.static_files import create_static_files_router

from aitrace_core import is_trace_id

__all__ = ["STATIC_DIR", "route_handlers"]

STATIC_DIR = Path(__file__).parent / "static"
_CTX: dict[str, Any] = {"static_prefix": "/static"}
# A short cache so a reload picks up a new version; the files are small.
_NO_STORE = {"cache-control": "no-cache"}


def _ctx(state: State, **extra: Any) -> dict[str, Any]:
    return {**_CTX, "lens_urls": state.get("lens_urls", []), **extra}


@get("/", include_in_schema=False, name="page-list")
async def list_page(state: State) -> Template:
    """The trace list."""
    return Template(template_name="list.html", context=_ctx(state), headers=_NO_STORE)


WHOLE_TRACE_RECORDS = 25_000
"""A trace of at most this many records opens whole (every record at once, log lines in the tree from the
start); a bigger one opens from its span tree and loads a span's records when the span is opened."""


@get("/traces/{trace_id:str}", include_in_schema=False, name="page-trace")
async def trace_page(state: State, trace_id: str, load: str | None = None) -> Template:
    """One trace; ``#span=<id>`` selects a span; ``?load=tree`` or ``?load=records`` overrides the choice."""
    if not is_trace_id(trace_id):
        raise HTTPException(status_code=400, detail=f"{trace_id!r} is not a trace id (32 lowercase hex)")
    if load not in (None, "tree", "records"):
        raise HTTPException(status_code=400, detail="load must be tree or records")
    if load is None:
        size = await anyio.to_thread.run_sync(state.store.trace_size, trace_id)
        load = "tree" if size is not None and size[1] > WHOLE_TRACE_RECORDS else "records"
    data_url = f"/api/traces/{trace_id}" + ("/tree" if load == "tree" else "")
    context = _ctx(state, trace_id=trace_id, load=load, data_url=data_url)
    return Template(template_name="trace.html", context=context, headers=_NO_STORE)


@get("/threads/{thread_id:str}", include_in_schema=False, name="page-thread")
async def thread_page(state: State, thread_id: str) -> Template:
    """The traces that share a thread id, as one conversation."""
    if not thread_id or len(thread_id) > 512:
        raise HTTPException(status_code=400, detail="a thread id is 1 to 512 characters")
    return Template(template_name="thread.html", context=_ctx(state, thread_id=thread_id), headers=_NO_STORE)


@get("/compare", include_in_schema=False, name="page-compare")
async def compare_page(state: State, a: str | None = None, b: str | None = None) -> Template:
    """Two traces side by side (``?a=<trace id>&b=<trace id>``); a form for whichever is missing."""
    ids = {k: v for k, v in (("a", a), ("b", b)) if v is not None and is_trace_id(v)}
    context = _ctx(state, a=ids.get("a", ""), b=ids.get("b", ""))
    return Template(template_name="compare.html", context=context, headers=_NO_STORE)
@get("/threads", include_in_schema=False, name="page-threads")
async def threads_page(state: State) -> Template:
    """The threads index: every thread id, most recently active first."""
    return Template(template_name="threads.html", context=_ctx(state), headers=_NO_STORE)


@get("/insights", include_in_schema=False, name="page-insights")
async def insights_page(state: State) -> Template:
    """Totals, charts over time and breakdowns over a chosen range (``/api/insights``)."""
    return Template(template_name="insights.html", context=_ctx(state), headers=_NO_STORE)


@get("/view", include_in_schema=False, name="page-view")
async def view_page(state: State) -> Template:
    """The no-server viewer: open or drop a .jsonl file."""
    return Template(template_name="view.html", context=_ctx(state), headers=_NO_STORE)


@get("/lenses/{index:int}/{name:str}", include_in_schema=False, name="user-lens")
async def user_lens(state: State, index: int, name: str) -> Response[bytes]:
    """One of the ``lenses`` modules of the settings, read afresh on every request (edit, reload)."""
    files: list[Path] = state.get("lens_files", [])
    if not 0 <= index < len(files) or files[index].name != name:
        raise NotFoundException(detail="no such lens module")
    try:
        data = await anyio.to_thread.run_sync(files[index].read_bytes)
    except OSError as exc:
        raise NotFoundException(detail=f"lens module unreadable: {exc.strerror}") from None
    return Response(data, media_type="text/javascript", headers=_NO_STORE)


route_handlers: list[Any] = [
    list_page,
    trace_page,
    thread_page,
    compare_page,
    threads_page,
    insights_page,
    view_page,
    user_lens,
    create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
]
