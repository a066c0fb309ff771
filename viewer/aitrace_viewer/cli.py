"""Server commands of the ``aitrace`` CLI (serve, import, export, prune, db upgrade), registered as entry
points of the group ``aitrace.commands``, and the serving helpers ``aitrace demo`` reuses."""

from __future__ import annotations

import hashlib
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from aitrace_core import ConfigError, is_trace_id, missing_packages_message

from ._startup import PortInUse, bind_socket
from .settings import ViewerSettings, load_viewer_settings, parse_age

__all__ = [
    "DEBUG_OPTION",
    "PortInUse",
    "bind_socket",
    "cli_settings",
    "db_group",
    "export_cmd",
    "import_cmd",
    "need",
    "prune_cmd",
    "run_server",
    "serve_cmd",
    "server_url",
    "starting",
    "wait_started",
]

IMPORT_BATCH = 1000


def need(*extras: str) -> None:
    """A clear error instead of a traceback when a command's packages are not installed
    (``pip install aitrace`` installs only what an instrumented application needs)."""
    problem = missing_packages_message(*extras)
    if problem:
        raise click.ClickException(problem)


def cli_settings(**overrides: Any) -> ViewerSettings:
    try:
        settings = load_viewer_settings(**overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if settings.db.startswith("postgresql"):
        need("postgres")
    return settings


def _open_store(settings: ViewerSettings) -> Any:
    """The store, or a one-line error naming the problem and the fix (import, export, prune)."""
    from ._startup import StartupError, open_store

    try:
        return open_store(settings)
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None


def run_server(settings: ViewerSettings, *, on_started: Any = None, sock: Any = None) -> None:
    """Serve until Ctrl-C / SIGTERM (uvicorn's handlers), then stop within a few seconds.

    The listening socket (``sock``, else bound here) and the database are opened before uvicorn starts, so
    that a busy port or an unusable database is a :class:`StartupError` of one line, not a traceback."""
    import threading

    import uvicorn

    from ._startup import open_store
    from .app import ConfigurationRefused, check_settings, create_app

    if sock is None:
        sock = bind_socket(settings.host, settings.port)
    try:
        try:
            check_settings(settings)
        except ConfigurationRefused as exc:
            raise click.ClickException(str(exc)) from None
        store = open_store(settings)
        try:
            app = create_app(settings, store=store)
            config = uvicorn.Config(
                app,
                log_level="warning",
                timeout_graceful_shutdown=3,
                server_header=False,
                proxy_headers=False,
                limit_concurrency=500,
            )
            server = uvicorn.Server(config)
            if on_started is not None:
                threading.Thread(target=on_started, args=(server,), name="aitrace-demo", daemon=True).start()
            # uvicorn stops gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler it found:
            # make that a no-op while serving, so Ctrl-C and SIGTERM end with status 0 instead of a traceback.
            previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                server.run(sockets=[sock])
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        finally:
            store.close()
    finally:
        sock.close()
    if not server.started:
        raise click.ClickException(f"could not start the server on {settings.host}:{settings.port}")


def _ignore(signum: int, frame: Any) -> None:
    """Signal handler that does nothing (see run_server)."""


def server_url(host: str, sock: Any) -> str:
    port = sock.getsockname()[1]
    host = host if host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/"


def starting(debug: bool) -> Any:
    """A :class:`StartupError` becomes a one-line error (exit status 1); ``--debug`` keeps the traceback."""
    import contextlib

    from ._startup import StartupError

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except StartupError as exc:
            if debug:
                raise
            raise click.ClickException(str(exc)) from None

    return guard()


DEBUG_OPTION = click.option(
    "--debug", is_flag=True, help="Show the full traceback when the server cannot start."
)


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option(
    "--db",
    default=None,
    help="sqlite:///path.db, a path, or postgresql://… (default ~/.config/aitrace/logs.db).",
)
@click.option("--token", default=None, help="Bearer token every route requires (or AITRACE_TOKEN).")
@click.option(
    "--lens",
    "lenses",
    multiple=True,
    help="A JavaScript module of your own lenses, loaded by every page (repeatable; see docs/viewer.md).",
)
@DEBUG_OPTION
def serve_cmd(
    host: str | None,
    port: int | None,
    db: str | None,
    token: str | None,
    lenses: tuple[str, ...],
    debug: bool,
) -> None:
    """Run the aitrace server."""
    need("viewer")
    settings = cli_settings(host=host, port=port, db=db, token=token, lenses=list(lenses) or None)

    with starting(debug):
        sock = bind_socket(settings.host, settings.port)
        url = server_url(settings.host, sock)

        def announce(server: Any) -> None:
            if wait_started(server):
                click.echo(f"aitrace serving {_redact(settings.db)} at {url}", err=True)

        run_server(settings, on_started=announce, sock=sock)


def _redact(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def wait_started(server: Any, timeout: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not server.started:
        if server.should_exit or time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _jsonl_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.jsonl") if p.is_file())
    return [path]


def _batches(path: Path) -> Iterator[tuple[int, bytes, list[int]]]:
    """``(bytes read so far, batch body, line number of each record)`` of at most IMPORT_BATCH records."""
    lines: list[bytes] = []
    numbers: list[int] = []
    done = 0
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            done += len(line)
            if not line.strip():
                continue
            lines.append(line if line.endswith(b"\n") else line + b"\n")
            numbers.append(number)
            if len(lines) >= IMPORT_BATCH:
                yield done, b"".join(lines), numbers
                lines, numbers = [], []
    if lines:
        yield done, b"".join(lines), numbers


def checked_batches(file: Path, max_record_bytes: int) -> Iterator[tuple[int, bytes, list[Any], list[str]]]:
    """``(bytes read so far, batch body, records, their JSON texts)`` of a .jsonl file, validated like ingest.

    The first bad record raises a ``click.ClickException`` naming the file and line: ``import`` and
    ``export --html`` refuse the same files with the same message.
    """
    from .api import IngestError, parse_batch

    for done, body, numbers in _batches(file):
        try:
            records, raws = parse_batch(body, max_record_bytes)
        except IngestError as exc:
            line = numbers[exc.index] if exc.index is not None else numbers[0]
            message = exc.message.split(": ", 1)[-1] if exc.index is not None else exc.message
            raise click.ClickException(f"{file}:{line}: {message}") from None
        yield done, body, records, raws


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--db", default=None, help="Database URL or path (default the configured one).")
def import_cmd(path: Path, db: str | None) -> None:
    """Store the records of a .jsonl file, or of every .jsonl under a folder (validated like ingest)."""
    need("viewer")
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    settings = cli_settings(db=db)
    store = _open_store(settings)
    files = _jsonl_files(path)
    total_records = duplicates = 0
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            transient=False,
        ) as progress:
            task = progress.add_task("importing", total=sum(f.stat().st_size for f in files))
            base = 0
            for file in files:
                progress.update(task, description=f"importing {file.name}")
                for done, body, records, raws in checked_batches(file, settings.max_record_bytes):
                    batch_id = "import-" + hashlib.sha256(body).hexdigest()[:40]
                    result = store.ingest(records, raws, batch_id)
                    if result.duplicate:
                        duplicates += len(records)
                    else:
                        total_records += result.ingested
                    progress.update(task, completed=base + done)
                base += file.stat().st_size
        if total_records:
            store.analyze()
    except click.ClickException as exc:
        raise click.ClickException(f"{exc.message} ({total_records} records imported before it)") from None
    finally:
        store.close()
    note = f" ({duplicates} already there)" if duplicates else ""
    click.echo(f"imported {total_records} records from {len(files)} file(s){note}")


@click.command("export")
@click.argument("source")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--html",
    "html",
    is_flag=True,
    help="Write one self-contained HTML viewer file (opens offline, from file://) instead.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default stdout; with --html, SOURCE's name with .html).",
)
@click.option(
    "--otlp",
    "otlp",
    default=None,
    metavar="URL",
    help="Send the records as OTLP/HTTP spans and logs to this receiver (a Collector's http://host:4318) "
    "instead; headers from OTEL_EXPORTER_OTLP_HEADERS. Needs aitrace[otlp].",
)
@click.option(
    "--compare-with",
    "compare_with",
    default=None,
    help="With --html: a comparison of SOURCE (run A) with this run B (a trace id, .jsonl or FILE#TRACE_ID).",
)
@click.option("--db", default=None, help="Database URL or path (default the configured one).")
def export_cmd(
    source: str,
    fmt: str,
    html: bool,
    output: Path | None,
    db: str | None,
    otlp: str | None,
    compare_with: str | None,
) -> None:
    """Write a trace's records as JSON, JSONL or CSV, a standalone HTML page with --html (a comparison of two
    runs with --compare-with), or send them to an OpenTelemetry backend with --otlp.

    SOURCE is a trace id (32 hex) from the database, or a .jsonl file (for --html, --otlp, or to convert it).
    """
    need("viewer")
    if compare_with is not None:
        from .cli_diff import export_comparison

        export_comparison(source, compare_with, html, output, db)
        return

    from .api import csv_text

    path = Path(source).expanduser()
    if path.is_file():
        limit = cli_settings(db=db).max_record_bytes
        records = [r for _, _, batch, _ in checked_batches(path, limit) for r in batch]
        if not records:
            raise click.ClickException(f"{path} holds no records")
        default_html = path.with_suffix(".html")
    elif is_trace_id(source):
        store = _open_store(cli_settings(db=db))
        try:
            records = store.trace_records(source)
        finally:
            store.close()
        if not records:
            raise click.ClickException(f"no trace {source}")
        default_html = Path(f"{source}.html")
    else:
        raise click.BadParameter(
            "must be a trace id (32 lowercase hex characters) or an existing .jsonl file", param_hint="SOURCE"
        )
    if otlp is not None:
        _push_otlp(records, otlp)
        return
    if html:
        from . import export_html  # the UI's module

        target = output or default_html
        export_html.write_html(records, target)
        click.echo(f"wrote {target} ({len(records)} records)", err=True)
        return
    from aitrace_core import resolve_refs

    records = resolve_refs(records)  # each message in place, as if written in full (docs/schema.md)
    if fmt == "json":
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    elif fmt == "csv":
        text = csv_text(records)
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _push_otlp(records: list[Any], url: str) -> None:
    from aitrace_core import ConfigError, send_otlp

    try:
        spans, logs = send_otlp(records, url)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--otlp") from None
    except ConnectionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"sent {spans} spans and {logs} log records to {url}", err=True)


@click.command("prune")
@click.option("--older-than", "older_than", required=True, help="Age like 30m, 12h, 7d, 2w.")
@click.option("--db", default=None, help="Database URL or path (default the configured one).")
def prune_cmd(older_than: str, db: str | None) -> None:
    """Delete traces whose newest record is older than --older-than."""
    need("viewer")
    try:
        seconds = parse_age(older_than)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    store = _open_store(cli_settings(db=db))
    try:
        traces, records = store.prune(seconds)
    finally:
        store.close()
    click.echo(f"deleted {traces} traces ({records} records)")


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@click.option("--db", default=None, help="Database URL or path (default the configured one).")
def db_upgrade_cmd(db: str | None) -> None:
    """Apply the schema migrations (the server also does this when it starts)."""
    need("viewer")
    from .store import make_engines, upgrade

    settings = cli_settings(db=db)
    writer, reader = make_engines(settings.db)
    try:
        upgrade(writer)
    finally:
        writer.dispose()
        reader.dispose()
    click.echo(f"{_redact(settings.db)} is up to date")
