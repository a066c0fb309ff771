"""The buffered shipper: records go into a bounded queue; one daemon thread sends them in batches.

Targets: an HTTP ingest URL (gzip'd JSONL over one kept-alive connection), a .jsonl file (appended whole
lines, safe when several processes append), or stdout (``-``).

Guarantees, in order of importance:

* Never raises into the application and never blocks it: ``write`` is a lock, an append and a notify.
* Bounded memory: at most ``max_queue`` records and ``max_queue_bytes`` bytes wait. When full, the
  *incoming* record is dropped and counted (records already accepted are kept, so open spans keep their
  start records and the oldest part of every trace stays whole); a warning says so at most once a minute.
* HTTP retries only 429, 502, 503, 504 and connection errors, with jittered exponential backoff and
  ``Retry-After``; other 4xx are not retried (counted as rejected). Each batch carries an id
  (``X-Aitrace-Batch-Id``) so a server stores a retried batch once. When the server stays away, batches are
  spilled to a local .jsonl (its path is logged once) that ``aitrace import`` loads later.
* Exit flushes within ``exit_timeout`` (default 5 s); what cannot be sent by then is spilled.
* Safe across ``fork``: the child starts with an empty queue and its own worker.
* Diagnostics go to the stdlib logger ``aitrace``, which aitrace's own stdlib bridge never captures, so
  they can never feed back into the queue.
"""

from __future__ import annotations

import atexit
import contextlib
import gzip
import http.client
import logging
import os
import random
import socket
import ssl
import sys
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ._version import SCHEMA_VERSION

__all__ = ["RETRYABLE_STATUS", "Shipper", "ShipperStats", "default_file_target", "default_spill_dir"]

_log = logging.getLogger("aitrace")

#: HTTP statuses that are retried; every other non-2xx answer is final.
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})

_MAX_BATCH_BYTES = 8 * 1024 * 1024
_YIELD_S = 0.00005
_YIELD_EVERY = 64
"""With a quarter of the queue waiting, the writing thread pauses this long every ``_YIELD_EVERY`` records.

A busy application thread that also releases the GIL briefly and often (``uuid4()`` reads ``os.urandom``;
LangChain makes one per run) re-takes it before the worker is scheduled, so the worker waited 170-420 ms for
the GIL after each of its own system calls: it wrote one batch in four seconds and 55-74 % of a 40,000-record
run was dropped (file and HTTP targets alike). Yielding hands the GIL over; it costs well under 1 µs per
record and only under such a backlog."""
_LOCAL_BATCH = 8192


def default_file_target(service_name: str) -> Path:
    """The seed's default file: ``~/logs/<service>/<YYYYMMDD_HHMMSS>.jsonl``."""
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in service_name) or "app"
    return Path.home() / "logs" / safe / f"{stamp}.jsonl"


def default_spill_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aitrace" / "spill"


class ShipperStats(dict[str, int]):
    """Counters: ``accepted``, ``sent``, ``written``, ``spilled``, ``dropped_queue_full``, ``dropped_closed``
    (written after shutdown), ``rejected``, ``dropped_io``, ``retries``, ``batches``."""


class _RateLimited:
    """Logs a warning at most once per ``interval`` seconds."""

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self._last = -1e18

    def warn(self, msg: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            with contextlib.suppress(Exception):
                _log.warning(msg, *args)


class _Target(Protocol):
    def send(self, lines: list[bytes], deadline: Callable[[], float], should_give_up: Any) -> str:
        """Deliver ``lines`` before ``deadline()`` (monotonic); answer ``"sent"``, ``"spill"``, ``"rejected"``
        or ``"dropped"``. Never raises."""

    def abort(self) -> None:
        """Called from another thread at shutdown: interrupt a send that is stuck."""

    def local(self) -> bool:
        """True when the next batch goes to a local file or stream (big batches are cheap there)."""

    def close(self) -> None: ...


def _append_lines(path: Path, lines: list[bytes]) -> None:
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


class _FileTarget:
    def __init__(self, path: Path, counters: ShipperStats) -> None:
        self.path = path
        self.counters = counters

    def send(self, lines: list[bytes], deadline: Callable[[], float], should_give_up: Any) -> str:
        try:
            _append_lines(self.path, lines)
        except OSError as exc:
            self.counters["dropped_io"] += len(lines)
            _warn_io.warn("aitrace: cannot write %s (%s); records dropped", self.path, exc)
            return "dropped"
        self.counters["written"] += len(lines)
        return "sent"

    def abort(self) -> None:
        pass

    def local(self) -> bool:
        return True

    def close(self) -> None:
        pass


class _StdoutTarget:
    def __init__(self, counters: ShipperStats) -> None:
        self.counters = counters

    def send(self, lines: list[bytes], deadline: Callable[[], float], should_give_up: Any) -> str:
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
            return "dropped"
        self.counters["written"] += len(lines)
        return "sent"

    def abort(self) -> None:
        pass

    def local(self) -> bool:
        return True

    def close(self) -> None:
        pass


_warn_io = _RateLimited()


class _HttpTarget:
    """POSTs gzip'd JSONL batches to an ingest URL over one kept-alive connection."""

    max_attempts = 6
    backoff_base = 0.25
    backoff_cap = 8.0
    max_retry_after = 30.0
    probe_interval = 5.0

    def __init__(
        self,
        url: str,
        *,
        counters: ShipperStats,
        spill_path: Path,
        token: str | None,
        request_timeout: float,
        use_gzip: bool,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.path = (parts.path or "/api/ingest") + (f"?{parts.query}" if parts.query else "")
        self.counters = counters
        self.spill_path = spill_path
        self.token = token
        self.request_timeout = request_timeout
        self.use_gzip = use_gzip
        self._conn: http.client.HTTPConnection | None = None
        self._down_until = 0.0
        self._spill_told = False
        self._reject_warn = _RateLimited()

    # -- connection ---------------------------------------------------------------------------------
    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.scheme == "https":
                self._conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        conn = self._conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def local(self) -> bool:
        return time.monotonic() < self._down_until  # spilling

    def abort(self) -> None:
        conn = self._conn
        sock = getattr(conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(Exception):
                sock.shutdown(socket.SHUT_RDWR)

    def forget_connection(self) -> None:
        """After fork: drop the inherited socket without closing the parent's connection."""
        self._conn = None

    def _post(self, body: bytes, batch_id: str, count: int, timeout: float) -> tuple[int, str | None, bytes]:
        headers = {
            "Content-Type": "application/x-ndjson",
            "X-Aitrace-Batch-Id": batch_id,
            "X-Aitrace-Records": str(count),
            "User-Agent": "aitrace-shipper",
            "X-Aitrace-Schema": str(SCHEMA_VERSION),
        }
        if self.use_gzip:
            headers["Content-Encoding"] = "gzip"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        conn = self._connection(timeout)
        try:
            conn.request("POST", self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read(4096)
            with contextlib.suppress(Exception):
                resp.read()
            if resp.will_close:
                self.close()
            return resp.status, resp.getheader("Retry-After"), data
        except BaseException:
            self.close()
            raise

    # -- delivery -----------------------------------------------------------------------------------
    def send(self, lines: list[bytes], deadline: Callable[[], float], should_give_up: Any) -> str:
        now = time.monotonic()
        if now < self._down_until or now >= deadline():
            return self._spill(lines)
        raw = b"\n".join(lines) + b"\n"
        body = gzip.compress(raw, compresslevel=1) if self.use_gzip else raw
        batch_id = uuid.uuid4().hex
        # Once the server was found away, each later batch is one probe: no backoff while it stays away.
        attempts = 1 if self._down_until else self.max_attempts
        for attempt in range(attempts):
            remaining = deadline() - time.monotonic()
            if remaining <= 0:
                return self._spill(lines)
            retry_after: float | None = None
            try:
                status, retry_after_header, data = self._post(
                    body, batch_id, len(lines), min(self.request_timeout, max(remaining, 0.05))
                )
            except (OSError, http.client.HTTPException):
                status, retry_after_header, data = 0, None, b""
            if 200 <= status < 300:
                self.counters["sent"] += len(lines)
                self._down_until = 0.0
                return "sent"
            if status and status not in RETRYABLE_STATUS:
                if status >= 500:  # a server fault, not a bad batch: keep the records locally
                    return self._spill(lines)
                self.counters["rejected"] += len(lines)
                self._reject_warn.warn(
                    "aitrace: server rejected a batch of %d records with HTTP %d: %s",
                    len(lines), status, data[:300].decode("utf-8", "replace"),
                )
                return "rejected"
            if retry_after_header:
                retry_after = _parse_retry_after(retry_after_header)
            if attempt == attempts - 1:
                break
            delay = (
                min(retry_after, self.max_retry_after)
                if retry_after is not None
                else random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))  # full jitter
            )
            if time.monotonic() + delay >= deadline():
                break
            self.counters["retries"] += 1
            if should_give_up(delay):
                break
        self._down_until = time.monotonic() + self.probe_interval
        return self._spill(lines)

    def _spill(self, lines: list[bytes]) -> str:
        try:
            _append_lines(self.spill_path, lines)
        except OSError as exc:
            self.counters["dropped_io"] += len(lines)
            _warn_io.warn(
                "aitrace: server unreachable and spill file %s unwritable (%s)", self.spill_path, exc
            )
            return "dropped"
        self.counters["spilled"] += len(lines)
        if not self._spill_told:
            self._spill_told = True
            with contextlib.suppress(Exception):
                _log.warning(
                    "aitrace: %s is not answering; records are kept in %s (load them with `aitrace import`)",
                    self.url, self.spill_path,
                )
        return "spill"


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


_live: weakref.WeakSet[Shipper] = weakref.WeakSet()


class Shipper:
    """A bounded queue of encoded records and one background thread that delivers them to ``target``.

    ``target`` is an ``http(s)://…/api/ingest`` URL, a file path, or ``-`` for stdout. For HTTP, a batch is
    tried up to ``max_attempts`` times; once the server is found away, batches are spilled for
    ``probe_interval`` seconds, then each batch is a single probe until the server answers again.
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        service_name: str = "app",
        batch_size: int = 512,
        flush_interval: float = 1.0,
        max_queue: int = 10_000,
        max_queue_bytes: int = 64 * 1024 * 1024,
        exit_timeout: float = 5.0,
        request_timeout: float = 10.0,
        token: str | None = None,
        use_gzip: bool = True,
        spill_dir: str | os.PathLike[str] | None = None,
        max_attempts: int = 6,
        probe_interval: float = 5.0,
    ) -> None:
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.max_queue_bytes = max_queue_bytes
        self.exit_timeout = exit_timeout
        self.counters = ShipperStats(
            accepted=0, sent=0, written=0, spilled=0, dropped_queue_full=0, dropped_closed=0, rejected=0,
            dropped_io=0, retries=0, batches=0,
        )
        target_str = os.fspath(target)
        self.target_description = target_str
        self._target: _Target
        if target_str == "-":
            self._target = _StdoutTarget(self.counters)
        elif target_str.startswith(("http://", "https://")):
            spill_base = Path(spill_dir).expanduser() if spill_dir else default_spill_dir()
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in service_name) or "app"
            stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
            self.spill_path = spill_base / safe / f"{stamp}-{os.getpid()}.jsonl"
            self._target = _HttpTarget(
                target_str,
                counters=self.counters,
                spill_path=self.spill_path,
                token=token,
                request_timeout=request_timeout,
                use_gzip=use_gzip,
            )
            self._target.max_attempts = max(1, max_attempts)
            self._target.probe_interval = probe_interval
        else:
            self._target = _FileTarget(Path(target_str).expanduser(), self.counters)
        self._init_runtime()
        _live.add(self)

    # -- runtime state (re-made after fork) ---------------------------------------------------------
    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._enqueued = 0  # records ever accepted
        self._done = 0  # records handled by the worker (sent, spilled, rejected or dropped)
        self._flush_wanted = False
        self._closing = False
        self._closed = False
        self._deadline = float("inf")
        self._worker: threading.Thread | None = None
        self._pid = os.getpid()
        self._drop_warn = _RateLimited()

    def _after_fork_in_child(self) -> None:
        for key in self.counters:  # the parent's counts are the parent's (targets share this dict)
            self.counters[key] = 0
        if isinstance(self._target, _HttpTarget):
            self._target.forget_connection()
            # The child's records go to the child's own spill file.
            self._target.spill_path = self._target.spill_path.with_name(
                f"{self._target.spill_path.stem.rsplit('-', 1)[0]}-{os.getpid()}.jsonl"
            )
            self.spill_path = self._target.spill_path
        self._init_runtime()

    # -- application side ---------------------------------------------------------------------------
    def write(self, line: bytes) -> bool:
        """Queue one encoded record (a JSON object without newline). Never raises, never waits for I/O.

        Under a backlog (a quarter of the queue) it pauses 50 µs every 64 records, so that the worker gets the
        GIL (see ``_YIELD_S``)."""
        try:
            if self._pid != os.getpid():  # forked without our fork hook (e.g. os.fork from C)
                self._after_fork_in_child()
            size = len(line)
            backlog = False
            with self._lock:  # the condition's own lock, without Condition.__enter__'s Python-level call
                if self._closed:
                    self.counters["dropped_closed"] += 1
                    return False
                full = len(self._queue) >= self.max_queue or self._queued_bytes + size > self.max_queue_bytes
                if full:
                    self.counters["dropped_queue_full"] += 1
                    dropped = self.counters["dropped_queue_full"]
                else:
                    self._queue.append(line)
                    self._queued_bytes += size
                    self._enqueued += 1
                    self.counters["accepted"] += 1
                    if self._worker is None:
                        self._start_worker()
                    n = len(self._queue)
                    # Wake the worker when a batch is complete (or the queue half full, to stop a retry wait),
                    # once, not on every record: the worker re-checks the queue before it sleeps.
                    if n == self.batch_size or n == self.max_queue // 2:
                        self._cond.notify()
                    backlog = n >= self.max_queue // 4 and n % _YIELD_EVERY == 0
            if backlog:  # let the worker have the GIL (see _YIELD_S)
                time.sleep(_YIELD_S)
            if full:  # outside the lock: a logging handler that writes to aitrace cannot deadlock here
                self._drop_warn.warn(
                    "aitrace: queue full (%d records); %d records dropped so far — is the target slow?",
                    self.max_queue, dropped,
                )
                return False
            return True
        except Exception:
            return False

    def _start_worker(self) -> None:
        self._worker = threading.Thread(target=self._run, name="aitrace-shipper", daemon=True)
        self._worker.start()

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Deliver everything written so far. True when all of it was handled within ``timeout``."""
        try:
            end = None if timeout is None else time.monotonic() + timeout
            with self._cond:
                goal = self._enqueued
                if self._done >= goal:
                    return True
                if self._worker is None or not self._worker.is_alive():
                    self._start_worker()
                self._flush_wanted = True
                self._cond.notify_all()
                while self._done < goal:
                    left = None if end is None else end - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._cond.wait(left)
                return True
        except Exception:
            return False

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop within ``timeout`` (default ``exit_timeout``); leftovers are spilled or counted."""
        try:
            timeout = self.exit_timeout if timeout is None else timeout
            with self._cond:
                if self._closed:
                    return True
                self._closing = True
                self._deadline = time.monotonic() + timeout
                self._cond.notify_all()
                worker = self._worker
            if worker is not None and worker.is_alive() and worker is not threading.current_thread():
                worker.join(timeout + 0.25)
                if worker.is_alive():  # stuck in a request: cut it short so the batch is spilled
                    self._target.abort()
                    worker.join(1.0)
            with self._cond:
                self._closed = True
                leftover = list(self._queue)
                self._queue.clear()
                self._queued_bytes = 0
                self._done += len(leftover)
                self._cond.notify_all()
            if leftover:  # the worker could not finish in time: keep what we can locally
                if isinstance(self._target, _HttpTarget):
                    self._target._spill(leftover)
                else:
                    self.counters["dropped_io"] += len(leftover)
            self._target.close()
            return not leftover
        except Exception:
            return False

    def stats(self) -> dict[str, int]:
        """A copy of the counters, plus ``queued`` (records waiting now)."""
        with self._cond:
            out = dict(self.counters)
            out["queued"] = len(self._queue)
        return out

    def __enter__(self) -> Shipper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- worker side --------------------------------------------------------------------------------
    def _take_batch(self) -> list[bytes]:
        batch: list[bytes] = []
        size = 0
        q = self._queue
        # Local writes (a file, stdout, the spill file while the server is away) take up to 8192 records in
        # one write: the worker keeps up with a busy application even when it rarely gets the GIL.
        limit = max(self.batch_size, _LOCAL_BATCH) if self._target.local() else self.batch_size
        if len(q) <= limit and self._queued_bytes <= _MAX_BATCH_BYTES:  # all of it: swap the deque
            self._queue = deque()
            self._queued_bytes = 0
            return list(q)
        while q and len(batch) < limit and size < _MAX_BATCH_BYTES:
            line = q.popleft()
            batch.append(line)
            size += len(line)
        self._queued_bytes -= size
        return batch

    def _get_deadline(self) -> float:
        return self._deadline

    def _should_give_up(self, delay: float) -> bool:
        """Wait ``delay`` before a retry; True means stop retrying (closing, or the queue is filling up)."""
        with self._cond:
            end = time.monotonic() + delay
            while True:
                if end > self._deadline or len(self._queue) >= self.max_queue // 2:
                    return True
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)

    def _run(self) -> None:
        while True:
            try:
                with self._cond:
                    first_wait = time.monotonic()
                    while True:
                        if self._closing or self._flush_wanted:
                            break
                        if len(self._queue) >= self.batch_size:
                            break
                        waited = time.monotonic() - first_wait
                        if self._queue and waited >= self.flush_interval:
                            break
                        self._cond.wait(self.flush_interval - waited if self._queue else None)
                        if not self._queue:
                            first_wait = time.monotonic()
                    if not self._queue:
                        self._flush_wanted = False
                        if self._closing:
                            return
                        continue
                    batch = self._take_batch()
                self.counters["batches"] += 1
                try:
                    self._target.send(batch, self._get_deadline, self._should_give_up)
                except Exception:  # a target must not kill the worker
                    self.counters["dropped_io"] += len(batch)
                with self._cond:
                    self._done += len(batch)
                    if not self._queue:
                        self._flush_wanted = False
                    self._cond.notify_all()
            except Exception:  # pragma: no cover - defensive: keep the worker alive
                time.sleep(0.01)


def _before_fork() -> None:
    for shipper in list(_live):
        with contextlib.suppress(Exception):
            shipper._cond.acquire()


def _after_fork_parent() -> None:
    for shipper in list(_live):
        with contextlib.suppress(Exception):
            shipper._cond.release()


def _after_fork_child() -> None:
    for shipper in list(_live):
        with contextlib.suppress(Exception):
            shipper._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork, after_in_parent=_after_fork_parent, after_in_child=_after_fork_child
    )


@atexit.register
def _shutdown_all() -> None:
    for shipper in list(_live):
        with contextlib.suppress(Exception):
            shipper.shutdown()


class _Anchor:
    """A weak-referenceable object for ``multiprocessing.util.register_after_fork``."""


_mp_anchor = _Anchor()


def _mp_child_started(_anchor: object) -> None:
    # A multiprocessing child ends with os._exit(), which skips atexit; its own exit hooks run instead.
    with contextlib.suppress(Exception):
        from multiprocessing import util

        util.Finalize(None, _shutdown_all, exitpriority=100)


with contextlib.suppress(Exception):
    from multiprocessing import util as _mp_util

    _mp_util.register_after_fork(_mp_anchor, _mp_child_started)
