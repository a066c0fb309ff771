"""aitrace's own diagnostics: warnings on the stdlib logger ``aitrace``, said once or at most once a minute.

The logger ``aitrace`` is never captured by aitrace's stdlib bridge, so a diagnostic cannot feed back into
the queue. With no logging set up, Python's last-resort handler prints warnings on stderr; an application
that configured logging gets them through its own handlers.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

__all__ = ["Once", "RateLimited", "log"]

log = logging.getLogger("aitrace")


class RateLimited:
    """Logs a warning at most once per ``interval`` seconds."""

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self._last = -1e18

    def warn(self, msg: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            with contextlib.suppress(Exception):
                log.warning(msg, *args)


class Once:
    """Logs a warning once per key (a status code, a kind of problem); later ones are not repeated."""

    def __init__(self) -> None:
        self._told: set[object] = set()
        self._lock = threading.Lock()

    def warn(self, key: object, msg: str, *args: Any) -> bool:
        """True when this call logged (the first one for ``key``)."""
        with self._lock:
            if key in self._told:
                return False
            self._told.add(key)
        with contextlib.suppress(Exception):
            log.warning(msg, *args)
        return True

    def reset(self) -> None:
        """Forget what was told (a forked child tells its own story)."""
        with self._lock:
            self._told.clear()
