"""Deliver buffered records when the process is told to stop with SIGTERM, then stop exactly as it would have.

Python leaves SIGTERM at its default action, which ends the process at once: no ``atexit``, so the records
still queued (up to ``flush_interval`` worth) were lost on ``docker stop``, ``kill`` or a Kubernetes rollout.
:func:`install` puts a handler in place only where nobody else has one (SIGTERM still at its default, and only
from the main thread, the only place Python allows it). The handler flushes from a separate thread, because
the main thread may have been interrupted while holding a shipper's lock, waits at most ``exit_timeout`` (plus
the shipper's own margin), then restores the default action and sends the signal again: the process ends
killed by SIGTERM, as before, just with its records delivered or spilled. An application that sets its own
SIGTERM handler replaces this one; one that already had a handler is left alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType

__all__ = ["install", "installed", "uninstall"]

_state = {"installed": False, "timeout": 5.0}
_MARGIN = 2.0
"""Beyond ``exit_timeout``: a stuck request is aborted and its batch spilled (see ``Shipper.shutdown``)."""


def installed() -> bool:
    """Whether the handler is the one in place for SIGTERM."""
    try:
        return bool(_state["installed"]) and signal.getsignal(signal.SIGTERM) is _on_sigterm
    except (AttributeError, ValueError):  # pragma: no cover - platforms without SIGTERM
        return False


def install(timeout: float) -> bool:
    """Handle SIGTERM if it still has its default action; ``timeout``: how long to spend flushing."""
    _state["timeout"] = float(timeout)
    if installed():
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return False  # the application (or its framework) handles SIGTERM itself
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (AttributeError, OSError, ValueError):  # pragma: no cover - no SIGTERM, or not allowed here
        return False
    _state["installed"] = True
    return True


def uninstall() -> None:
    """Give SIGTERM its default action back, if the handler in place is this one."""
    if installed() and threading.current_thread() is threading.main_thread():
        with contextlib.suppress(AttributeError, OSError, ValueError):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _state["installed"] = False


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    from ._lifecycle import shutdown_all

    done = threading.Event()

    def flush() -> None:
        try:
            shutdown_all()
        finally:
            done.set()

    with contextlib.suppress(Exception):  # a thread that cannot start: die at once, as before
        threading.Thread(target=flush, name="aitrace-sigterm", daemon=True).start()
        done.wait(float(_state["timeout"]) + _MARGIN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _state["installed"] = False
    os.kill(os.getpid(), signum)
