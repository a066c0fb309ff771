"""Checkpoints a SQLite WAL from a thread of its own, off the writers' commit path."""

from __future__ import annotations

import logging
import sqlite3
import threading

from ._engine import BUSY_TIMEOUT_MS

__all__ = ["WalCheckpointer"]

log = logging.getLogger(__name__)


class WalCheckpointer:
    """Checkpoints a SQLite WAL from its own thread and connection, so that commits do not wait for it.

    SQLite's automatic checkpoint runs inside the COMMIT of whichever write crosses the threshold (copying the
    WAL into the database file and syncing it). Here the writer has it off and wakes this thread after each
    commit instead; it runs a PASSIVE checkpoint (never blocks writers or readers) on its own connection.
    Wake-ups that arrive while a checkpoint runs coalesce into one. Durability does not depend on checkpoints
    (a commit is in the WAL; kill -9 recovery replays it); if this thread ever stopped, the WAL would grow.

    The connection is opened by the constructor, so a file that cannot be opened raises there, in the caller.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._db = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="aitrace-checkpoint", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A commit happened: the WAL may have grown past what a checkpoint should copy back."""
        self._wake.set()

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stop:
                    return
                try:
                    self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy or gone: the next wake-up tries again
                    log.debug("background checkpoint failed: %s", exc)
        finally:
            self._db.close()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=30)
