"""The buffered shipper: records go into a bounded queue; one daemon thread sends them in batches.

Targets (``_targets``, ``_http``): an aitrace server's URL (gzip'd JSONL over one kept-alive connection), a
.jsonl file (appended whole lines, safe when several processes append), or stdout (``-``).

Guarantees, in order of importance:

* Never raises into the application and never blocks it: ``write`` is a lock and an append (plus a wake-up
  of the worker when the queue was empty).
* A record reaches the target within ``flush_interval`` of being written, whatever the volume: the worker
  sends at most once per ``flush_interval`` (sooner when ``batch_size`` records wait), so the first record
  after a quiet spell goes out at once and the ones that follow ride in the next batch.
* Bounded memory: at most ``max_queue`` records and ``max_queue_bytes`` bytes wait. When full, the
  *incoming* record is dropped and counted (records already accepted are kept, so open spans keep their
  start records and the oldest part of every trace stays whole); a warning says so at most once a minute.
* What the server does not take is kept in a local .jsonl that ``aitrace import`` loads, and the user is
  told where, once (see ``_http``).
* Exit flushes within ``exit_timeout`` (default 5 s); what cannot be sent by then is spilled. A server that
  refuses connections costs no wait at exit.
* Safe across ``fork``: the child starts with an empty queue and its own worker (``_lifecycle``).
* Diagnostics go to the stdlib logger ``aitrace`` (``_notices``).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ._errors import ConfigError
from ._http import RETRYABLE_STATUS, HttpTarget
from ._lifecycle import shutdown_all as _shutdown_all  # noqa: F401 - the name _sigterm used
from ._lifecycle import track
from ._notices import RateLimited
from ._targets import (
    FileTarget,
    NoTarget,
    StdoutTarget,
    Target,
    check_target,
    default_file_target,
    default_spill_dir,
    safe_name,
)

__all__ = ["RETRYABLE_STATUS", "Shipper", "ShipperStats", "default_file_target", "default_spill_dir"]

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
_monotonic = time.monotonic


class ShipperStats(dict[str, int]):
    """Counters: ``accepted``, ``sent``, ``written``, ``spilled``, ``dropped_queue_full``, ``dropped_closed``
    (written after shutdown), ``rejected`` (records the server refused, kept beside the spill file),
    ``dropped_io``, ``retries``, ``batches``."""


TargetFactory = Callable[[ShipperStats], Target]
"""Makes a target that counts in the shipper's counters (the OTLP target, ``_otlp_target``)."""


def _make_target(
    target: str | os.PathLike[str] | TargetFactory | None,
    counters: ShipperStats,
    *,
    service_name: str,
    spill_dir: str | os.PathLike[str] | None,
    token: str | None,
    request_timeout: float,
    use_gzip: bool,
    max_attempts: int,
    probe_interval: float,
) -> Target:
    if callable(target):
        return target(counters)
    if target is None:  # nobody chose: the default file, and say once where it is
        return FileTarget(default_file_target(service_name), counters, announce=True)
    text = os.fspath(target)
    try:
        kind = check_target(text)
    except ValueError as exc:
        raise ConfigError(f"aitrace target: {exc}") from None
    if kind == "stdout":
        return StdoutTarget(counters)
    if kind == "none":
        return NoTarget(counters)
    if kind == "file":
        return FileTarget(Path(text).expanduser(), counters)
    spill_base = Path(spill_dir).expanduser() if spill_dir else default_spill_dir()
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    return HttpTarget(
        text,
        counters=counters,
        spill_path=spill_base / safe_name(service_name) / f"{stamp}-{os.getpid()}.jsonl",
        token=token,
        request_timeout=request_timeout,
        use_gzip=use_gzip,
        max_attempts=max_attempts,
        probe_interval=probe_interval,
    )


class Shipper:
    """A bounded queue of encoded records and one background thread that delivers them to ``target``.

    ``target`` is an aitrace server's URL (``http://127.0.0.1:8000``; batches go to its ``/api/ingest``), a
    file path, ``-`` for stdout, or None for ``~/logs/<service>/<YYYYMMDD_HHMMSS>.jsonl`` (then the first
    write says where that file is). A target that is none of these (``127.0.0.1:8000``, with no scheme)
    raises :class:`~aitrace_core.ConfigError`. For HTTP, a batch is tried up to ``max_attempts`` times; once
    the server is found away, batches are spilled for ``probe_interval`` seconds, then each batch is a
    single probe until the server answers again.
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | TargetFactory | None,
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
        self._target = _make_target(
            target,
            self.counters,
            service_name=service_name,
            spill_dir=spill_dir,
            token=token,
            request_timeout=request_timeout,
            use_gzip=use_gzip,
            max_attempts=max_attempts,
            probe_interval=probe_interval,
        )
        self._budget = _Budget(self)
        self._init_runtime()
        track(self)

    @property
    def target_description(self) -> str:
        """The file path, ``-``, or the URL batches are POSTed to."""
        return self._target.description

    @property
    def spill_path(self) -> Path | None:
        """Where records the server did not take are kept (HTTP targets), else None."""
        return self._target.spill_path

    # -- runtime state (re-made after fork) ---------------------------------------------------------
    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        """The worker waits on this: records arrived, a flush is wanted, or the shipper is closing."""
        self._progress = threading.Condition(self._lock)
        """``flush`` waits on this: the worker handled a batch."""
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._last_take = _monotonic()
        """When the worker last took the whole queue: the next batch is due ``flush_interval`` later."""
        self._idle = False
        """The worker waits with no timeout (the queue was empty when the last batch came due)."""
        self._enqueued = 0  # records ever accepted
        self._done = 0  # records handled by the worker (sent, spilled, rejected or dropped)
        self._flush_wanted = False
        self._closing = False
        self._closed = False
        self._deadline = float("inf")
        self._worker: threading.Thread | None = None
        self._pid = os.getpid()
        self._drop_warn = RateLimited()

    def _fork_prepare(self) -> None:
        self._lock.acquire()

    def _fork_parent(self) -> None:
        self._lock.release()

    def _fork_child(self) -> None:
        for key in self.counters:  # the parent's counts are the parent's (targets share this dict)
            self.counters[key] = 0
        self._target.after_fork()
        self._init_runtime()

    # -- application side ---------------------------------------------------------------------------
    def write(self, line: bytes) -> bool:
        """Queue one encoded record (a JSON object without newline). Never raises, never waits for I/O.

        Under a backlog (a quarter of the queue) it pauses 50 µs every 64 records, so that the worker gets the
        GIL (see ``_YIELD_S``)."""
        try:
            if self._pid != os.getpid():  # forked without our fork hook (e.g. os.fork from C)
                self._fork_child()
            size = len(line)
            backlog = False
            with self._lock:
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
                    n = len(self._queue)
                    if n == 1:
                        # An idle worker (empty queue, nothing due) sleeps with no timeout: the first record
                        # wakes it. Otherwise it wakes by itself when the next batch is due.
                        if self._worker is None:
                            self._start_worker()
                        elif self._idle:
                            self._wake.notify()
                    elif n == self.batch_size or n == self.max_queue // 2:
                        # A batch is complete (or the queue half full, to stop a retry wait).
                        self._wake.notify()
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
            end = None if timeout is None else _monotonic() + timeout
            with self._lock:
                goal = self._enqueued
                if self._done >= goal:
                    return True
                if self._worker is None or not self._worker.is_alive():
                    self._start_worker()
                self._flush_wanted = True
                self._wake.notify()
                while self._done < goal:
                    left = None if end is None else end - _monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._progress.wait(left)
                return True
        except Exception:
            return False

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop within ``timeout`` (default ``exit_timeout``); leftovers are spilled or counted."""
        try:
            timeout = self.exit_timeout if timeout is None else timeout
            with self._lock:
                if self._closed:
                    return True
                self._closing = True
                self._deadline = _monotonic() + timeout
                self._wake.notify_all()
                worker = self._worker
            if worker is not None and worker.is_alive() and worker is not threading.current_thread():
                worker.join(timeout + 0.25)
                if worker.is_alive():  # stuck in a request: cut it short so the batch is spilled
                    self._target.abort()
                    worker.join(1.0)
            with self._lock:
                self._closed = True
                leftover = list(self._queue)
                self._queue.clear()
                self._queued_bytes = 0
                self._done += len(leftover)
                self._progress.notify_all()
            if leftover:  # the worker could not finish in time: keep what we can locally
                self._target.keep(leftover)
            self._target.close()
            return not leftover
        except Exception:
            return False

    def stats(self) -> dict[str, int]:
        """A copy of the counters, plus ``queued`` (records waiting now)."""
        with self._lock:
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
            self._last_take = _monotonic()
            return list(q)
        # Part of it: the rest keeps the due time of the last whole take. Each of those records was written
        # after that take, so it still goes out within flush_interval (or at once if batch_size wait).
        while q and len(batch) < limit and size < _MAX_BATCH_BYTES:
            line = q.popleft()
            batch.append(line)
            size += len(line)
        self._queued_bytes -= size
        return batch

    def _wait_for_batch(self) -> list[bytes] | None:
        """Under the lock: wait until a batch is due and take it; None when closing with nothing left."""
        while True:
            if self._closing or self._flush_wanted:
                break
            n = len(self._queue)
            if n >= self.batch_size:
                break
            left = self._last_take + self.flush_interval - _monotonic()
            if left > 0:  # not due yet: records that come meanwhile wait for it (or for batch_size)
                self._wake.wait(left)
            elif n:
                break
            else:  # due and nothing there: sleep until the first record comes
                self._idle = True
                try:
                    self._wake.wait()
                finally:
                    self._idle = False
        if not self._queue:
            self._flush_wanted = False
            self._progress.notify_all()
            return None
        return self._take_batch()

    def _run(self) -> None:
        while True:
            try:
                with self._lock:
                    batch = self._wait_for_batch()
                    if batch is None:
                        if self._closing:
                            return
                        continue
                self.counters["batches"] += 1
                try:
                    self._target.send(batch, self._budget)
                except Exception:  # a target must not kill the worker
                    self.counters["dropped_io"] += len(batch)
                with self._lock:
                    self._done += len(batch)
                    if not self._queue:
                        self._flush_wanted = False
                    self._progress.notify_all()
            except Exception:  # pragma: no cover - defensive: keep the worker alive
                time.sleep(0.01)


class _Budget:
    """The shipper's side of a delivery (``_targets.Budget``): its deadline, whether it is closing, and the
    waits between retries, which a filling queue or the start of shutdown cut short."""

    __slots__ = ("_shipper",)

    def __init__(self, shipper: Shipper) -> None:
        self._shipper = shipper

    def deadline(self) -> float:
        return self._shipper._deadline

    def closing(self) -> bool:
        return self._shipper._closing

    def pause(self, delay: float) -> bool:
        s = self._shipper
        with s._lock:
            end = _monotonic() + delay
            was_closing = s._closing
            while True:
                if end > s._deadline or len(s._queue) >= s.max_queue // 2:
                    return False
                if s._closing and not was_closing:
                    return True
                left = end - _monotonic()
                if left <= 0:
                    return True
                s._wake.wait(left)
