"""``aitrace mcp``: the command (light to import: the SDK, the store and the server load when it runs)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from .._startup import StartupError
from ..cli import DEBUG_OPTION, bind_socket, cli_settings, need, server_url, starting

__all__ = ["mcp_cmd"]


@contextlib.contextmanager
def _open(db: str | None, file: Path | None) -> Iterator[tuple[Any, Any]]:
    from ._server import file_store

    settings = cli_settings(db=db)
    if file is not None:
        with file_store(file, settings.max_record_bytes) as store:
            yield store, settings
        return
    from .._startup import open_store

    store = open_store(settings)
    try:
        yield store, settings
    finally:
        store.close()


def _serve_http(server: Any, token: str, port: int) -> None:
    """Streamable HTTP on 127.0.0.1 behind the same guard as ``aitrace serve`` (token, Host, Origin)."""
    import uvicorn

    from ..security import Guard

    host = "127.0.0.1"
    sock = bind_socket(host, port)
    try:
        app = Guard(server.streamable_http_app(host=host), bound_host=host, token=token)
        url = server_url(host, sock) + "mcp"
        click.echo(f"aitrace MCP server at {url}\nheader: Authorization: Bearer {token}", err=True)
        config = uvicorn.Config(app, log_level="warning", server_header=False, proxy_headers=False)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


@click.command("mcp")
@click.option(
    "--db", default=None, help="sqlite:///path.db, a path, or postgresql://… (default: as aitrace serve)."
)
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Serve the records of this .jsonl file instead of a database.",
)
@click.option("--http", "http", is_flag=True, help="Streamable HTTP on 127.0.0.1 instead of stdio.")
@click.option("--port", type=int, default=8765, show_default=True, help="Port for --http.")
@click.option(
    "--token",
    default=None,
    help="Bearer token for --http (or AITRACE_TOKEN; default: a new random one, printed on stderr).",
)
@DEBUG_OPTION
def mcp_cmd(db: str | None, file: Path | None, http: bool, port: int, token: str | None, debug: bool) -> None:
    """Serve your traces to a coding agent over MCP (read-only; stdio unless --http)."""
    need("mcp")
    if db is not None and file is not None:
        raise click.UsageError("give --db or --file, not both")
    from ._server import build_server

    with starting(debug), _open(db, file) as (store, settings):
        server = build_server(store)
        if not http:
            server.run("stdio")
            return
        given = token or settings.token or secrets.token_urlsafe(24)
        try:
            _serve_http(server, given, port)
        except OSError as exc:
            raise StartupError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
