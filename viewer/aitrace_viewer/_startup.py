"""What ``aitrace serve`` needs before it serves — the database and the listening socket — with each failure
said in one line that names the problem and the fix (:class:`StartupError`)."""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

from .settings import ViewerSettings

__all__ = ["PortInUse", "StartupError", "bind_socket", "open_store"]


class StartupError(Exception):
    """The server cannot start; ``str()`` is one line for the user, ``__cause__`` the original error."""


class PortInUse(StartupError):
    """Another program listens on the port."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _redacted(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def _sqlite_problem(path: Path, exc: BaseException) -> str:
    """Why the SQLite file at ``path`` cannot be opened, as precisely as the file system tells."""
    for folder in [path.parent, *path.parent.parents]:
        if folder.exists():
            if not folder.is_dir():
                return f"{folder} is a file, not a folder"
            if not os.access(folder, os.W_OK | os.X_OK):
                return f"the folder {folder} is not writable"
            break
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    orig = getattr(exc, "orig", None)
    return _one_line(str(orig if orig is not None else exc))


def open_store(settings: ViewerSettings) -> Any:
    """The store of ``settings.db``, migrated; :class:`StartupError` when it cannot be opened."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from .store import Store

    url = make_url(settings.db)
    try:
        return Store(settings.db)
    except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
        if url.get_backend_name() == "sqlite":
            path = Path(url.database or "").expanduser()
            raise StartupError(
                f"cannot open the SQLite database {path}: {_sqlite_problem(path, exc)}; "
                "choose a writable path with --db (or AITRACE_DB)"
            ) from exc
        orig = getattr(exc, "orig", None)
        reason = _one_line(str(orig if orig is not None else exc))
        where = f"{url.host or 'localhost'}:{url.port or 5432}"
        raise StartupError(
            f"cannot use the PostgreSQL database {_redacted(settings.db)} at {where} ({reason}); "
            "start PostgreSQL there or correct the URL given by --db (or AITRACE_DB)"
        ) from exc


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: any free port); :class:`StartupError` when it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(
            f"cannot listen on {host!r}: {exc.strerror or exc}; give an address of this machine with --host "
            "(127.0.0.1 is the default)"
        ) from exc
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restart at once
        sock.bind(address)
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} on {host} is already in use (another aitrace serve?); choose another with "
                "--port (0 picks a free one) or stop the program that holds it"
            ) from exc
        if exc.errno == errno.EACCES:
            raise StartupError(
                f"not allowed to listen on port {port} (ports below 1024 need privileges); choose another "
                "with --port"
            ) from exc
        raise StartupError(
            f"cannot listen on {host}:{port} ({(exc.strerror or str(exc)).lower()}); check --host and --port"
        ) from exc
    return sock
