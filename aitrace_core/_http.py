"""The HTTP target: gzip'd JSONL batches POSTed to an aitrace server, retried, split or kept in a spill file.

What each answer does:

* 2xx: delivered.
* 429, 502, 503, 504 and connection errors: retried with jittered exponential backoff and ``Retry-After``
  (the same ``X-Aitrace-Batch-Id``, so the server stores a retried batch once). When the application is
  ending, a connection error is final at once: nobody is listening, so the records are spilled without
  waiting. After the last attempt the server counts as away for ``probe_interval`` seconds (batches are
  spilled), then each batch is one probe until it answers again.
* 400, 413, 422 naming a record (``{"error": ..., "index": N}``): that record is refused and kept in the
  ``.jsonl.rejected`` file beside the spill file; the rest of the batch is sent again. A 413 without an
  index (a body too big for a proxy) is split in halves, down to the one record that is too big.
* Any other answer (401, 403, 404, 405, 5xx, a 400 about the request itself) is not about the records: they
  are spilled (each later batch is tried once, so a fixed server is used again at once).

Spilled records are in a .jsonl file that ``aitrace import`` loads; each kind of problem is told once, with
the file's path and a hint.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import random
import socket
import ssl
import time
import uuid
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from ._notices import Once, RateLimited
from ._targets import Budget, append_lines, ingest_url
from ._version import SCHEMA_VERSION

__all__ = ["RETRYABLE_STATUS", "HttpTarget"]

#: HTTP statuses that are retried; every other non-2xx answer is final.
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
RECORD_STATUS = frozenset({400, 413, 422})
"""Answers that may be about one record of the batch (the aitrace server then names it with ``index``)."""

_HINTS = {
    401: "the server wants a token: set AITRACE_TOKEN (or configure(token=...)) to its --token",
    403: "the server refused this client: check AITRACE_TOKEN, and that the URL's host is one the server "
    "allows",
    404: "is this the address of an aitrace server? AITRACE_TARGET should be its base URL, such as "
    "http://127.0.0.1:8000",
    405: "is this the address of an aitrace server? AITRACE_TARGET should be its base URL, such as "
    "http://127.0.0.1:8000",
}


def _hint(status: int) -> str:
    if status in _HINTS:
        return _HINTS[status]
    if status >= 500:
        return "the server failed; its log says why"
    return "the server did not take the batch"


_LATE = "did not take them before the exit timeout"


class _Answer:
    """The outcome of one batch's attempts: a status (0: no answer) and what the server said."""

    __slots__ = ("error", "index", "reason", "status")

    def __init__(self, status: int, data: bytes = b"", reason: str = "") -> None:
        self.status = status
        self.reason = reason
        self.error = ""
        self.index: int | None = None
        if data:
            text = data.decode("utf-8", "replace")
            self.error = text[:300]
            with contextlib.suppress(Exception):
                body = json.loads(text)
                if isinstance(body, dict):
                    self.error = str(body.get("error") or self.error)[:300]
                    index = body.get("index")
                    if isinstance(index, int) and not isinstance(index, bool):
                        self.index = index


class HttpTarget:
    """POSTs gzip'd JSONL batches to an aitrace server's ingest URL over one kept-alive connection."""

    backoff_base = 0.25
    backoff_cap = 8.0
    max_retry_after = 30.0

    def __init__(
        self,
        url: str,
        *,
        counters: dict[str, int],
        spill_path: Path,
        token: str | None = None,
        request_timeout: float = 10.0,
        use_gzip: bool = True,
        max_attempts: int = 6,
        probe_interval: float = 5.0,
    ) -> None:
        self.url = ingest_url(url)
        self.description = self.url
        parts = urlsplit(self.url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.counters = counters
        self.spill_path: Path | None = spill_path
        self.token = token
        self.request_timeout = request_timeout
        self.use_gzip = use_gzip
        self.max_attempts = max(1, max_attempts)
        self.probe_interval = probe_interval
        self._conn: http.client.HTTPConnection | None = None
        self._away_until = 0.0
        self._told = Once()
        self._warn_io = RateLimited()

    @property
    def rejected_path(self) -> Path:
        """Where records the server refused are kept (beside the spill file; not ``*.jsonl``, so importing
        the spill folder does not stop at them)."""
        path = self._spill_file()
        return path.with_name(path.name + ".rejected")

    def _spill_file(self) -> Path:
        assert self.spill_path is not None
        return self.spill_path

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
        return time.monotonic() < self._away_until  # spilling

    def abort(self) -> None:
        conn = self._conn
        sock = getattr(conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(Exception):
                sock.shutdown(socket.SHUT_RDWR)

    def after_fork(self) -> None:
        self._conn = None  # the parent's socket: not closed here, the parent still uses it
        path = self._spill_file()
        self.spill_path = path.with_name(f"{path.stem.rsplit('-', 1)[0]}-{os.getpid()}.jsonl")
        self._told.reset()

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
            data = resp.read(65536)
            with contextlib.suppress(Exception):
                resp.read()
            if resp.will_close:
                self.close()
            return resp.status, resp.getheader("Retry-After"), data
        except BaseException:
            self.close()
            raise

    # -- delivery -----------------------------------------------------------------------------------
    def send(self, lines: list[bytes], budget: Budget) -> None:
        todo = [lines]  # a stack of sub-batches, in order from the end
        while todo:
            batch = todo.pop()
            now = time.monotonic()
            if now < self._away_until:
                self._spill(batch, None)
                continue
            if now >= budget.deadline():
                self._spill(batch, _Answer(0, reason=_LATE))
                continue
            answer = self._attempts(batch, budget)
            status = answer.status
            if 200 <= status < 300:
                self.counters["sent"] += len(batch)
                self._away_until = 0.0
            elif status in RECORD_STATUS and answer.index is not None and 0 <= answer.index < len(batch):
                self._reject(batch[answer.index], answer)
                rest = batch[: answer.index] + batch[answer.index + 1 :]
                if rest:
                    todo.append(rest)
            elif status == 413 and answer.index is None:  # too big for a proxy: halve it, down to one record
                if len(batch) == 1:
                    self._reject(batch[0], answer)
                else:
                    half = len(batch) // 2
                    todo += [batch[half:], batch[:half]]
            else:  # no answer, or one that is not about these records: keep them all
                if not status or status in RETRYABLE_STATUS:  # away: spill without trying for a while
                    self._away_until = time.monotonic() + self.probe_interval
                for chunk in [batch, *reversed(todo)]:
                    self._spill(chunk, answer)
                return

    def _attempts(self, lines: list[bytes], budget: Budget) -> _Answer:
        raw = b"\n".join(lines) + b"\n"
        body = gzip.compress(raw, compresslevel=1) if self.use_gzip else raw
        batch_id = uuid.uuid4().hex
        # Once the server was found away, each later batch is one probe: no backoff while it stays away.
        attempts = 1 if self._away_until else self.max_attempts
        answer = _Answer(0, reason=_LATE)
        for attempt in range(attempts):
            remaining = budget.deadline() - time.monotonic()
            if remaining <= 0:
                break
            retry_after: str | None = None
            try:
                status, retry_after, data = self._post(
                    body, batch_id, len(lines), min(self.request_timeout, max(remaining, 0.05))
                )
                answer = _Answer(status, data)
            except (OSError, http.client.HTTPException) as exc:
                answer = _Answer(0, reason=f"is not answering ({_describe(exc)})")
            if answer.status and answer.status not in RETRYABLE_STATUS:
                return answer
            if attempt == attempts - 1:
                break
            if not answer.status and budget.closing():
                break  # nobody is listening and the application is ending: spill now, do not wait
            delay = _parse_retry_after(retry_after) if retry_after else None
            delay = (
                min(delay, self.max_retry_after)
                if delay is not None
                else random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))  # full jitter
            )
            if time.monotonic() + delay >= budget.deadline():
                break
            self.counters["retries"] += 1
            if not budget.pause(delay):
                break
            if not answer.status and budget.closing():
                break
        return answer

    def _spill(self, lines: list[bytes], answer: _Answer | None) -> None:
        path = self._spill_file()
        try:
            append_lines(path, lines)
        except OSError as exc:
            self.counters["dropped_io"] += len(lines)
            self._warn_io.warn(
                "aitrace: %s did not take %d records and the spill file %s is unwritable (%s); dropped",
                self.url, len(lines), path, exc,
            )
            return
        self.counters["spilled"] += len(lines)
        if answer is None:
            return  # the server is already known to be away: told when that was found
        if answer.status:
            detail = f": {answer.error}" if answer.error else ""
            self._told.warn(
                answer.status,
                "aitrace: %s answered HTTP %d%s; records are kept in %s (load them with `aitrace import`). "
                "Hint: %s",
                self.url, answer.status, detail, path, _hint(answer.status),
            )
        else:
            self._told.warn(
                "late" if answer.reason == _LATE else "away",
                "aitrace: %s %s; records are kept in %s (load them with `aitrace import`)",
                self.url, answer.reason, path,
            )

    def _reject(self, line: bytes, answer: _Answer) -> None:
        path = self.rejected_path
        try:
            append_lines(path, [line])
        except OSError as exc:
            self.counters["dropped_io"] += 1
            self._warn_io.warn("aitrace: cannot keep a refused record in %s (%s); dropped", path, exc)
            return
        self.counters["rejected"] += 1
        self._told.warn(
            "rejected",
            "aitrace: %s refused a record (HTTP %d: %s); the rest of its batch was delivered, the refused "
            "record is kept in %s (and any later one)",
            self.url, answer.status, answer.error or "no reason given", path,
        )

    def keep(self, lines: list[bytes]) -> None:
        self._spill(lines, _Answer(0, reason=_LATE))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return text[:200]


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
