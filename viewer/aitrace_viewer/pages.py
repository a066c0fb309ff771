"""The viewer's pages: Jinja2 shells that the ES modules under ``static/js`` fill in.

``route_handlers`` is picked up by :func:`aitrace_viewer.app.create_app`. The pages carry no data: everything
shown comes from ``/api/...`` and is set as text by the scripts, under the server's strict CSP.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar import get
from litestar.exceptions import HTTPException
from litestar.response import Template
from litestar.static_files import create_static_files_router

__all__ = ["STATIC_DIR", "route_handlers"]

STATIC_DIR = Path(__file__).parent / "static"
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_CTX: dict[str, Any] = {"static_prefix": "/static"}
# A short cache so a reload picks up a new version; the files are small.
_NO_STORE = {"cache-control": "no-cache"}


@get("/", include_in_schema=False, name="page-list")
async def list_page() -> Template:
    """The trace list."""
    return Template(template_name="list.html", context=_CTX, headers=_NO_STORE)


@get("/traces/{trace_id:str}", include_in_schema=False, name="page-trace")
async def trace_page(trace_id: str) -> Template:
    """One trace; ``#span=<id>`` selects a span."""
    if not _TRACE_ID.match(trace_id):
        raise HTTPException(status_code=400, detail=f"{trace_id!r} is not a trace id (32 lowercase hex)")
    return Template(template_name="trace.html", context={**_CTX, "trace_id": trace_id}, headers=_NO_STORE)


@get("/threads/{thread_id:str}", include_in_schema=False, name="page-thread")
async def thread_page(thread_id: str) -> Template:
    """The traces that share a thread id, as one conversation."""
    if not thread_id or len(thread_id) > 512:
        raise HTTPException(status_code=400, detail="a thread id is 1 to 512 characters")
    return Template(template_name="thread.html", context={**_CTX, "thread_id": thread_id}, headers=_NO_STORE)


@get("/view", include_in_schema=False, name="page-view")
async def view_page() -> Template:
    """The no-server viewer: open or drop a .jsonl file."""
    return Template(template_name="view.html", context=_CTX, headers=_NO_STORE)


route_handlers: list[Any] = [
    list_page,
    trace_page,
    thread_page,
    view_page,
    create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
]
