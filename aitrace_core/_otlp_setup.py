"""``configure``'s OTLP export: a second shipper whose target is an OTLP receiver, fed beside the first.

The OTLP exporter package is imported only when the export is asked for (``otlp_endpoint`` or ``otlp``), so
an application without ``aitrace[otlp]`` pays nothing; asked for without it, the export is off and that is
said once on stderr (the application keeps running).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ._config import CoreSettings
from ._errors import ConfigError
from ._settings_check import say_once
from ._shipper import Shipper, ShipperStats
from ._targets import Target, check_target, default_spill_dir, safe_name

__all__ = ["Tee", "make_otlp_shipper", "send_otlp", "target_is_off"]


def target_is_off(settings: CoreSettings) -> bool:
    """True when the aitrace target is ``none`` (records go only to the OTLP export)."""
    return settings.target is not None and check_target(settings.target) == "none"


def make_otlp_shipper(settings: CoreSettings) -> Shipper | None:
    """The shipper of the OTLP export, or None when it is not asked for (or cannot be made)."""
    if not (settings.otlp_endpoint or settings.otlp):
        return None
    try:
        from ._otlp_target import OtlpTarget, parse_headers
    except ImportError as exc:
        say_once(
            f"aitrace: OTLP export is asked for but its packages are not installed ({exc.name}): "
            "pip install 'aitrace[otlp]'; records are not exported"
        )
        return None
    spill_base = Path(settings.spill_dir).expanduser() if settings.spill_dir else default_spill_dir()
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    spill_path = spill_base / safe_name(settings.service_name) / f"{stamp}-{os.getpid()}-otlp.jsonl"

    def target(counters: ShipperStats) -> Target:
        return OtlpTarget(
            settings.otlp_endpoint,
            counters=counters,
            spill_path=spill_path,
            headers=parse_headers(settings.otlp_headers),
            request_timeout=settings.request_timeout,
            use_gzip=settings.gzip,
        )

    return Shipper(target, **settings.queue_options())


class Tee:
    """A sink that hands each record to two shippers (the aitrace target and the OTLP export)."""

    __slots__ = ("first", "second")

    def __init__(self, first: Shipper, second: Shipper) -> None:
        self.first, self.second = first, second

    def write(self, line: bytes) -> bool:
        first = self.first.write(line)
        return self.second.write(line) or first


def send_otlp(
    records: Sequence[Mapping[str, Any]],
    endpoint: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, int]:
    """Send records (a stored trace, a .jsonl file's) to an OTLP/HTTP receiver now, as spans with GenAI
    attributes and log records (docs/otlp.md); returns ``(spans, log records)`` sent.

    ``endpoint`` is the receiver's base URL (``http://collector:4318``). Raises :class:`ConfigError` when
    ``endpoint`` is not an http(s) URL or ``aitrace[otlp]`` is not installed, ``ConnectionError`` (naming
    the receiver and what was not taken) when the receiver does not take them.
    """
    try:
        kind = check_target(endpoint)
    except ValueError:
        kind = ""
    if kind != "http":
        raise ConfigError(f"{endpoint!r} is not an http(s) URL such as http://127.0.0.1:4318")
    try:
        from ._otlp_target import push_records
    except ImportError as exc:
        raise ConfigError(
            f"OTLP export needs packages that are not installed ({exc.name}): pip install 'aitrace[otlp]'"
        ) from None
    return push_records(records, endpoint, headers=headers, timeout=timeout)
