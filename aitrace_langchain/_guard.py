"""The handler's one guard: a failure inside tracing is counted, warned about once a minute, never raised.

Two grains. :func:`guarded` wraps a callback: when it fails, that callback's record is lost and the run goes
on. :func:`put` and :func:`value_or_missing` run one field extractor: when it fails, only its fields are left
out of the record.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from aitrace_core import MISSING

__all__ = ["MISSING", "Failed", "Guard", "guarded", "put", "reraise", "value_or_missing"]

_log = logging.getLogger("aitrace.langchain")

# MISSING (core's one sentinel) marks a value left out of a record (hidden, or its extractor failed).

#: Told the name of a field extractor that raised, inside the ``except`` block (so it may re-raise).
Failed = Callable[[str], None]


def reraise(where: str) -> None:
    """The ``Failed`` of pure use (tests, tools): the extractor's exception propagates."""
    raise  # called only inside an ``except`` block (by ``put``): re-raises what the extractor raised


class Guard:
    """Counts failures inside the handler and logs one warning (with the traceback) at most every minute."""

    __slots__ = ("_lock", "_warned_at", "failures", "interval")

    def __init__(self, interval: float = 60.0) -> None:
        self.failures = 0
        self.interval = interval
        self._warned_at: float | None = None
        self._lock = threading.Lock()

    def callback_failed(self, callback: str) -> None:
        """A callback raised (call inside its ``except`` block): its record is lost, the run goes on."""
        self._count("LangChain callback %s failed (%d failures so far); the run goes on untraced", callback)

    def field_failed(self, extractor: str) -> None:
        """A field extractor raised (call inside its ``except`` block): the record goes without its fields."""
        self._count("field extractor %s failed (%d failures so far); its fields are left out", extractor)

    def _count(self, message: str, where: str) -> None:
        try:
            with self._lock:
                self.failures += 1
                now = time.monotonic()
                warn = self._warned_at is None or now - self._warned_at >= self.interval
                if warn:
                    self._warned_at = now
                failures = self.failures
            if warn:
                _log.warning("aitrace: " + message, where, failures, exc_info=True)
        except Exception:  # noqa: S110 - the guard itself must never raise into the application
            pass


F = TypeVar("F", bound=Callable[..., None])


def guarded(callback: F) -> F:
    """A handler callback that never raises: a failure is told to ``self.guard`` under the callback's name."""
    name = callback.__name__

    @functools.wraps(callback)
    def run(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            callback(self, *args, **kwargs)
        except Exception:
            self.guard.callback_failed(name)

    return cast(F, run)


def put(
    out: dict[str, Any], failed: Failed, extractor: Callable[..., Mapping[str, Any] | None], *args: Any
) -> None:
    """Add the fields ``extractor(*args)`` returns to ``out``; when it raises, tell ``failed``, add none."""
    try:
        fields = extractor(*args)
    except Exception:
        failed(extractor.__name__)
        return
    if fields:
        out.update(fields)


def value_or_missing(failed: Failed, where: str, extractor: Callable[..., Any], *args: Any) -> Any:
    """``extractor(*args)``, or :data:`MISSING` (the value is left out) after telling ``failed`` ``where``."""
    try:
        return extractor(*args)
    except Exception:
        failed(where)
        return MISSING
