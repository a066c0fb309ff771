"""The Litestar app factory: ``create_app(settings)``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Litestar, MediaType, Request, Response
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from . import __version__
from .api import api_router
from .api._otlp import otlp_router
from .security import Guard, is_loopback
from .settings import ViewerSettings, parse_age
from .store import Store

__all__ = ["ConfigurationRefused", "create_app"]

log = logging.getLogger("aitrace_viewer")
HERE = Path(__file__).parent


class ConfigurationRefused(RuntimeError):
    """Settings the server refuses to start with (e.g. a public address without a token)."""


def check_settings(settings: ViewerSettings) -> None:
    if not is_loopback(settings.host) and not settings.token:
        raise ConfigurationRefused(
            f"refusing to listen on {settings.host} without a token: anyone who can reach it could read and "
            "write your traces. Set --token / AITRACE_TOKEN, or bind 127.0.0.1."
        )


def _error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, ValidationException):
        return Response(
            {"error": "invalid request", "detail": exc.extra}, status_code=400, media_type=MediaType.JSON
        )
    if isinstance(exc, HTTPException):
        return Response(
            {"error": exc.detail, "detail": exc.extra or None},
            status_code=exc.status_code,
            headers=exc.headers,
            media_type=MediaType.JSON,
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response(
        {"error": "internal server error", "detail": None}, status_code=500, media_type=MediaType.JSON
    )


def _page_handlers() -> list[Any]:
    if importlib.util.find_spec("aitrace_viewer.pages") is None:
        return []
    pages = importlib.import_module("aitrace_viewer.pages")  # the UI's routes
    return list(getattr(pages, "route_handlers", []))


def _paths(handlers: list[Any]) -> set[str]:
    out: set[str] = set()
    for handler in handlers:
        for path in getattr(handler, "paths", None) or {getattr(handler, "path", "")}:
            out.add(str(path))
    return out


@functools.cache  # once per process: later calls return at once
def _freeze_startup_heap() -> None:
    """At start-up: take the objects alive by now out of the cyclic GC's reach.

    An ingest batch allocates (and soon frees) thousands of dicts that live long enough to reach the oldest
    generation, so full collections run every few batches, and each one walked the whole long-lived heap of
    the app and its libraries (~15% of ingest time). Frozen objects are never scanned by the cyclic GC; they
    live as long as the app anyway.
    """
    gc.freeze()


def create_app(settings: ViewerSettings | None = None, *, store: Store | None = None) -> Litestar:
    """The server app. ``store``: an open store to use (tests); by default it opens ``settings.db``."""
    settings = settings or ViewerSettings()
    check_settings(settings)
    handlers: list[Any] = [api_router, otlp_router]
    pages = _page_handlers()
    handlers.extend(pages)
    static_dir = HERE / "static"
    if "/static" not in _paths(pages) and static_dir.is_dir():
        handlers.append(create_static_files_router(path="/static", directories=[static_dir], name="static"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = store or await anyio.to_thread.run_sync(Store, settings.db)
        app.state.changed = asyncio.Event()
        app.state.stopping = False
        _freeze_startup_heap()
        pruner = None
        if settings.max_age:
            pruner = asyncio.create_task(
                _prune_forever(app, parse_age(settings.max_age), settings.prune_interval)
            )
        try:
            yield
        finally:
            app.state.stopping = True
            app.state.changed.set()
            if pruner is not None:
                pruner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pruner
            if owned:
                app.state.store.close()

    app = Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        state=None,
        exception_handlers={Exception: _error_response},
        openapi_config=OpenAPIConfig(
            title="aitrace",
            version=__version__,
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        request_max_body_size=1024 * 1024,
    )
    app.state.settings = settings
    app.state.lens_files = [Path(p) for p in settings.lenses]
    app.state.lens_urls = [f"/lenses/{i}/{Path(p).name}" for i, p in enumerate(settings.lenses)]
    app.asgi_handler = Guard(
        app.asgi_handler, bound_host=settings.host, token=settings.token, allowed_hosts=settings.allowed_hosts
    )
    return app


async def _prune_forever(app: Litestar, max_age_s: float, interval_s: float) -> None:
    while True:
        try:
            traces, records = await anyio.to_thread.run_sync(app.state.store.prune, max_age_s)
            if traces:
                log.info("pruned %d traces (%d records) older than %.0f s", traces, records, max_age_s)
        except Exception:
            log.exception("pruning failed")
        await asyncio.sleep(interval_s)
