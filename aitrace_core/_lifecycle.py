"""Shippers and the life of the process: deliver at exit, start afresh after fork, multiprocessing children.

Every shipper registers itself with :func:`track`. At exit (``atexit``, or a multiprocessing child's own
exit hooks, which run instead of ``atexit``) each one is shut down within its ``exit_timeout``. Around
``fork`` its lock is held so the child never inherits it locked; the child starts with an empty queue.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import weakref
from typing import Protocol

__all__ = ["shutdown_all", "track"]


class Tracked(Protocol):
    def shutdown(self, timeout: float | None = None) -> bool: ...
    def _fork_prepare(self) -> None: ...
    def _fork_parent(self) -> None: ...
    def _fork_child(self) -> None: ...


_live: weakref.WeakSet[Tracked] = weakref.WeakSet()


def track(shipper: Tracked) -> None:
    """Shut ``shipper`` down at exit and keep it sound across ``fork`` (for as long as it lives)."""
    _live.add(shipper)


def shutdown_all() -> None:
    """Flush and stop every live shipper (at exit, or on SIGTERM)."""
    for shipper in list(_live):
        with contextlib.suppress(Exception):
            shipper.shutdown()


def _before_fork() -> None:
    for shipper in list(_live):
        with contextlib.suppress(Exception):
            shipper._fork_prepare()


def _after_fork_parent() -> None:
    for shipper in list(_live):
        with contextlib.suppress(Exception):
            shipper._fork_parent()


def _after_fork_child() -> None:
    for shipper in list(_live):
        with contextlib.suppress(Exception):
            shipper._fork_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork, after_in_parent=_after_fork_parent, after_in_child=_after_fork_child
    )

atexit.register(shutdown_all)


class _Anchor:
    """A weak-referenceable object for ``multiprocessing.util.register_after_fork``."""


_mp_anchor = _Anchor()


def _mp_child_started(_anchor: object) -> None:
    # A multiprocessing child ends with os._exit(), which skips atexit; its own exit hooks run instead.
    with contextlib.suppress(Exception):
        from multiprocessing import util

        util.Finalize(None, shutdown_all, exitpriority=100)


with contextlib.suppress(Exception):
    from multiprocessing import util as _mp_util

    _mp_util.register_after_fork(_mp_anchor, _mp_child_started)
