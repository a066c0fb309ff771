"""Where aitrace keeps files on this machine: config, cache (spill files, the demo database), default logs.

The XDG base-directory rules on every platform (``$XDG_CONFIG_HOME`` or ``~/.config``, ``$XDG_CACHE_HOME``
or ``~/.cache``), because these paths are documented and users' databases live there: a per-OS location
(``~/Library/…`` on macOS) would move them.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

__all__ = ["cache_dir", "config_dir", "default_file_target", "default_spill_dir", "safe_name"]


def config_dir() -> Path:
    """Folder of aitrace's config file and default database (``~/.config/aitrace``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aitrace"


def cache_dir() -> Path:
    """Folder of what aitrace may recreate or hand back later: spill files, the demo database
    (``~/.cache/aitrace``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aitrace"


def default_spill_dir() -> Path:
    """Where HTTP batches go when the server stays away (``~/.cache/aitrace/spill``)."""
    return cache_dir() / "spill"


def safe_name(service_name: str) -> str:
    """A service name as one folder name (default file, spill files): letters, digits, ``-_.`` kept, the rest
    ``_``; a name of dots only (``..``) would leave the folder, so it becomes ``app`` like an empty one."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in service_name)
    return name if name.strip(".") else "app"


def default_file_target(service_name: str) -> Path:
    """The seed's default file: ``~/logs/<service>/<YYYYMMDD_HHMMSS>.jsonl``."""
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    return Path.home() / "logs" / safe_name(service_name) / f"{stamp}.jsonl"
