"""Where records go: how a target setting is read, and the .jsonl file and stdout targets.

A target is ``-`` (stdout), an ``http(s)://`` address of an aitrace server (see ``_http``), or a file path.
Every target does its own accounting in the shared counters and never raises from ``send``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from ._notices import Once, RateLimited
from ._paths import default_file_target, default_spill_dir, safe_name

__all__ = [
    "Budget",
    "FileTarget",
    "NoTarget",
    "StdoutTarget",
    "Target",
    "append_lines",
    "check_target",
    "default_file_target",
    "default_spill_dir",
    "ingest_url",
    "safe_name",
]

INGEST_PATH = "/api/ingest"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):\d{1,5}(/.*)?")
_BARE_HOST = re.compile(r"localhost|\d{1,3}(\.\d{1,3}){3}", re.IGNORECASE)


def ingest_url(url: str) -> str:
    """The ingest URL of an aitrace server given by its address (raises ValueError when it is not one).

    ``http://host:8000``, ``http://host:8000/`` and ``http://host:8000/api/ingest`` all post to
    ``/api/ingest``; a path is a prefix (a reverse proxy's ``http://host/aitrace/`` posts to
    ``/aitrace/api/ingest``).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        ok = scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises on a bad port
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{url!r} is not an http(s) URL with a host, such as http://127.0.0.1:8000")
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path += "/ingest"
    elif not path.endswith(INGEST_PATH):
        path += INGEST_PATH
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def check_target(value: str) -> str:
    """``"stdout"``, ``"http"``, ``"none"`` or ``"file"`` for a target setting; ValueError saying what is
    allowed. ``none`` (any case) turns the aitrace target off (records then go only to the OTLP export).

    A value that looks like a server address written without ``http://`` (``127.0.0.1:8000``,
    ``localhost:8000/api/ingest``) is refused rather than taken as the name of a file.
    """
    text = value.strip()
    if not text:
        raise ValueError("empty; allowed: an http(s) URL such as http://127.0.0.1:8000, a file path, or '-'")
    if text == "-":
        return "stdout"
    if text.lower() == "none":
        return "none"
    if _SCHEME.match(text):
        ingest_url(text)  # raises for another scheme or a URL without a host
        return "http"
    if _HOST_PORT.fullmatch(text) or _BARE_HOST.fullmatch(text):
        raise ValueError(
            f"{value!r} looks like a server address without a scheme; write http://{text} "
            "(or give a file path such as ./traces.jsonl)"
        )
    return "file"


class Budget(Protocol):
    """What a target may ask the shipper while it delivers a batch."""

    def deadline(self) -> float:
        """Monotonic time by which delivery must end (infinite until the shipper shuts down)."""

    def closing(self) -> bool:
        """True once the shipper is shutting down (the application is ending)."""

    def pause(self, delay: float) -> bool:
        """Wait ``delay`` before a retry; False: stop retrying now (the deadline, or the queue filling up).

        Returns early, True, when the shipper starts closing, so the caller can decide again."""


class Target(Protocol):
    """Where a shipper's batches go. ``send`` and ``keep`` never raise; they count what they do."""

    description: str
    """The file path, ``-``, or the ingest URL."""
    spill_path: Path | None
    """Where records that could not be delivered are kept (HTTP), else None."""

    def send(self, lines: list[bytes], budget: Budget) -> None:
        """Deliver ``lines`` (encoded records, no newline) within ``budget``."""

    def keep(self, lines: list[bytes]) -> None:
        """Records left over at shutdown (the worker ran out of time): keep them locally if possible."""

    def local(self) -> bool:
        """True when the next batch goes to a local file or stream (big batches are cheap there)."""

    def abort(self) -> None:
        """Called from another thread at shutdown: interrupt a send that is stuck."""

    def after_fork(self) -> None:
        """In a forked child: forget the parent's connection; the child's records go to its own files."""

    def close(self) -> None: ...


def append_lines(path: Path, lines: list[bytes]) -> None:
    """Append whole lines with one write under an exclusive lock: safe with several processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"\n".join(lines) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        locked = False
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            locked = True
        except (ImportError, OSError):
            pass
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            if locked:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


_warn_io = RateLimited()


class _LocalTarget:
    """What the file and stdout targets share: writes are local and quick, so there is nothing to abort or
    reconnect, and a batch they cannot keep is counted as dropped."""

    spill_path: Path | None = None
    counters: dict[str, int]

    def keep(self, lines: list[bytes]) -> None:
        self.counters["dropped_io"] += len(lines)

    def local(self) -> bool:
        return True

    def abort(self) -> None:
        """Nothing in flight to give up: each batch is written whole, at once."""

    def after_fork(self) -> None:
        """Nothing to reset: the same file or stream; a child whose parent named it already stays quiet."""

    def close(self) -> None:
        """Nothing held open between batches."""


class FileTarget(_LocalTarget):
    """Appends to a .jsonl file. ``announce``: the file was not chosen by the user, say once where it is."""

    def __init__(self, path: Path, counters: dict[str, int], *, announce: bool = False) -> None:
        self.path = path
        self.description = str(path)
        self.counters = counters
        self._announce = announce
        self._told = Once()

    def send(self, lines: list[bytes], budget: Budget) -> None:
        try:
            append_lines(self.path, lines)
        except OSError as exc:
            self.counters["dropped_io"] += len(lines)
            _warn_io.warn("aitrace: cannot write %s (%s); records dropped", self.path, exc)
            return
        self.counters["written"] += len(lines)
        if self._announce:
            self._told.warn(
                "where",
                "aitrace: no target set (AITRACE_TARGET or configure(target=...)): records are written to "
                "%s; load them with `aitrace import %s`, or set AITRACE_TARGET=http://127.0.0.1:8000 to "
                "send them to `aitrace serve` as they are written",
                self.path, self.path,
            )



class StdoutTarget(_LocalTarget):
    """Writes to standard output (the target ``-``)."""

    description: str = "-"

    def __init__(self, counters: dict[str, int]) -> None:
        self.counters = counters

    def send(self, lines: list[bytes], budget: Budget) -> None:
        data = b"\n".join(lines) + b"\n"
        try:
            out = sys.stdout
            buf = getattr(out, "buffer", None)
            if buf is not None:
                buf.write(data)
            else:
                out.write(data.decode("utf-8", "replace"))
            out.flush()
        except Exception as exc:
            self.counters["dropped_io"] += len(lines)
            _warn_io.warn("aitrace: cannot write to stdout (%s); records dropped", exc)
            return
        self.counters["written"] += len(lines)


class NoTarget(_LocalTarget):
    """The target ``none``: the user turned the aitrace target off (records go to the OTLP export only)."""

    description: str = "none"

    def __init__(self, counters: dict[str, int]) -> None:
        self.counters = counters

    def send(self, lines: list[bytes], budget: Budget) -> None:
        self.counters["dropped_io"] += len(lines)
