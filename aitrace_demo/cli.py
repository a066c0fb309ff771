"""``aitrace demo``: serve a demo database, send the offline scenarios to it, print the URL, keep serving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from aitrace_viewer.cli import (
    DEBUG_OPTION,
    PortInUse,
    bind_socket,
    cli_settings,
    need,
    run_server,
    server_url,
    starting,
    wait_started,
)

from aitrace_core import cache_dir

__all__ = ["demo_cmd", "demo_db_path", "send_demo_runs"]


def demo_db_path() -> Path:
    """Where ``aitrace demo`` keeps its runs unless ``--db`` says otherwise: a cache, not your database."""
    return cache_dir() / "demo.db"


def send_demo_runs(target: str, *, token: str | None = None) -> int:
    """Send every scenario once to ``target`` (an ingest URL); returns how many traces were sent."""
    import aitrace_core

    from .scenarios import run_all

    aitrace_core.configure(service_name="aitrace-demo", target=target, token=token)
    try:
        return len(run_all())
    finally:
        aitrace_core.flush(timeout=10.0)


@click.command("demo")
@click.option("--port", type=int, default=None, help="Port (default 8000, or a free one when it is taken).")
@click.option(
    "--db",
    default=None,
    help="Database (default a demo database in ~/.cache/aitrace, apart from your own traces).",
)
@DEBUG_OPTION
def demo_cmd(port: int | None, db: str | None, debug: bool) -> None:
    """Start the server, send the offline example runs to it, print the URL, and keep serving."""
    need("viewer", "langchain")
    settings = cli_settings(host="127.0.0.1", port=port, db=db or str(demo_db_path()))
    with starting(debug):
        try:
            sock = bind_socket(settings.host, settings.port)
        except PortInUse:
            if port is not None:  # asked for this port: say so rather than serve elsewhere
                raise
            # The demo should just work: a server already on the usual port is no reason to fail.
            sock = bind_socket(settings.host, 0)
            taken = sock.getsockname()[1]
            click.echo(f"aitrace demo: port {settings.port} is in use; serving on {taken} instead", err=True)
        url = server_url(settings.host, sock)
        if db is None:
            note = f"aitrace demo: demo runs go to {demo_db_path()}, not your own database (--db to choose)"
            click.echo(note, err=True)

        def workload(server: Any) -> None:
            if not wait_started(server):
                return
            try:
                count = send_demo_runs(url + "api/ingest", token=settings.token)
            except Exception as exc:  # the server keeps running; say what failed
                click.echo(f"aitrace demo: a scenario failed: {exc!r}", err=True)
                count = 0
            click.echo(f"aitrace demo: {count} runs sent. Open {url}  (Ctrl-C stops)")

        run_server(settings, on_started=workload, sock=sock)
