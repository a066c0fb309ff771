"""``configure``, ``flush``, ``shutdown`` and ``BufferedLogger``."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from . import _sigterm
from ._config import CoreSettings, load_settings
from ._logging import configure_structlog, own_logger, route_stdlib
from ._otlp_setup import Tee, make_otlp_shipper, target_is_off
from ._runtime import LEVELS, RecordProcessor, Sink, last_emit, last_written, runtime, setup_tracing
from ._serialize import Limits
from ._shipper import Shipper

__all__ = ["BufferedLogger", "configure", "flush", "shutdown"]

_shipper: Shipper | None = None
_otlp_shipper: Shipper | None = None
"""The OTLP export's shipper (``otlp_endpoint`` / ``otlp``), beside ``_shipper``."""


def _make_shipper(settings: CoreSettings) -> Shipper:
    return Shipper(
        settings.target,  # None: the default file, which the first write names on stderr
        **settings.queue_options(),
        request_timeout=settings.request_timeout,
        token=settings.token,
        use_gzip=settings.gzip,
        spill_dir=settings.spill_dir,
    )


def configure(
    service_name: str | None = None,
    target: str | os.PathLike[str] | None = None,
    level: str | None = None,
    *,
    capture_stdlib: bool | None = None,
    processors: list[RecordProcessor] | None = None,
    **settings: Any,
) -> CoreSettings:
    """Set up tracing, structlog and the shipper in one call; returns the settings in force.

    Arguments win over ``AITRACE_*`` environment variables, which win over the config file
    (``~/.config/aitrace/config.toml``), which wins over defaults. ``target`` is an aitrace server's URL
    (``http://127.0.0.1:8000``), a file path, or ``-`` for stdout; with none, records go to
    ``~/logs/<service>/<YYYYMMDD_HHMMSS>.jsonl`` and the first record written there says so once on stderr.
    Other keyword arguments are the fields of :class:`~aitrace_core.CoreSettings` (``batch_size``,
    ``exit_timeout``, ``sample_ratio``, …). ``otlp_endpoint="http://collector:4318"`` also sends spans
    and logs as OTLP (``aitrace[otlp]``, docs/otlp.md); ``target="none"`` turns the aitrace target off.
    ``processors`` are functions ``record -> record | None`` applied to every record before it is encoded
    (return None to drop it). Calling ``configure`` again replaces the previous set-up, flushing it first.

    A bad *argument* raises :class:`~aitrace_core.ConfigError` (a programming error, found the first time the
    code runs). A bad value from the environment or the config file never stops the application: it is said
    once on stderr (key, where it came from, what is allowed, what is used instead) and replaced.
    """
    global _shipper, _otlp_shipper
    conf = load_settings(
        CoreSettings,
        given_from="the arguments of configure()",
        service_name=service_name,
        target=os.fspath(target) if target is not None else None,
        level=level,
        capture_stdlib=capture_stdlib,
        **settings,
    )
    new_shipper = _make_shipper(conf)
    new_otlp = make_otlp_shipper(conf)
    sink: Sink = new_shipper
    if new_otlp is not None:
        sink = new_otlp if target_is_off(conf) else Tee(new_shipper, new_otlp)
    with runtime.lock:
        old, old_otlp = _shipper, _otlp_shipper
        _shipper, _otlp_shipper = new_shipper, new_otlp
        runtime.service = conf.service_name
        runtime.sink = sink
        runtime.level_no = LEVELS[conf.level]
        runtime.limits = Limits(
            max_chars=conf.max_value_chars,
            max_items=conf.max_items,
            max_depth=conf.max_depth,
            max_record_bytes=conf.max_record_bytes,
        )
        runtime.processors = list(processors or [])
        runtime.configured = True
        runtime.capture_otel = conf.capture_otel_spans
        setup_tracing(conf.service_name, conf.sample_ratio)
        configure_structlog(conf.level)
        route_stdlib(conf.capture_stdlib, conf.level)
    if old is not None:
        old.shutdown()
    if old_otlp is not None:
        old_otlp.shutdown()
    if conf.handle_sigterm:
        _sigterm.install(conf.exit_timeout)
    else:
        _sigterm.uninstall()
    return conf


def _auto_configure() -> None:
    configure()


runtime.auto_configure = _auto_configure


def current_shipper() -> Shipper | None:
    """The shipper ``configure`` set up, if any (of the aitrace target)."""
    return _shipper


def otlp_shipper() -> Shipper | None:
    """The OTLP export's shipper ``configure`` set up, if any."""
    return _otlp_shipper


def flush(timeout: float = 5.0) -> bool:
    """Deliver every record written so far; True when done within ``timeout`` seconds."""
    end = time.monotonic() + timeout
    done = True
    for shipper in (_shipper, _otlp_shipper):
        if shipper is not None:
            done = shipper.flush(max(0.0, end - time.monotonic())) and done
    return done


def shutdown(timeout: float = 5.0) -> bool:
    """Flush and stop the shippers within ``timeout`` seconds. Records written afterwards are dropped."""
    global _shipper, _otlp_shipper
    with runtime.lock:
        shippers = [s for s in (_shipper, _otlp_shipper) if s is not None]
        _shipper = _otlp_shipper = None
        sink = runtime.sink
        if sink is not None and (sink in shippers or (isinstance(sink, Tee) and sink.first in shippers)):
            runtime.sink = None
    route_stdlib(False)
    end = time.monotonic() + timeout
    done = True
    for shipper in shippers:
        done = shipper.shutdown(max(0.0, end - time.monotonic())) and done
    return done


class BufferedLogger(Shipper):
    """A shipper you can log to directly; ``with`` flushes and closes it on exit.

        with BufferedLogger(target="-", service_name="jobs") as log:
            log.info("job started", job_id=7)

    Records carry the current span's ids like any other aitrace record. ``target`` defaults to
    ``$AITRACE_TARGET``, then ``~/logs/<service>/<YYYYMMDD_HHMMSS>.jsonl``.
    """

    def __init__(
        self, target: str | os.PathLike[str] | None = None, *, service_name: str | None = None, **options: Any
    ) -> None:
        conf = load_settings(
            CoreSettings,
            given_from="the arguments of BufferedLogger()",
            target=os.fspath(target) if target is not None else None,
            service_name=service_name,
        )
        self.service_name = conf.service_name
        options.setdefault("token", conf.token)
        super().__init__(conf.target, service_name=conf.service_name, **options)
        self._logger = own_logger("app", self, conf.service_name)

    def log(self, level: str, event: str, /, **fields: Any) -> bool:
        """Write one record at ``level`` (debug, info, warning, error, critical); False if it was not written.

        The record takes the same path as one written through :func:`get_logger`: structlog's context
        variables and the processors given to :func:`configure` (a redactor, say) apply to it too."""
        with contextlib.suppress(Exception):
            before = last_emit()[0]
            getattr(self._logger, level if level in LEVELS else "info")(event, **fields)
            return last_emit()[0] > before and last_written()
        return False

    def debug(self, event: str, /, **fields: Any) -> bool:
        return self.log("debug", event, **fields)

    def info(self, event: str, /, **fields: Any) -> bool:
        return self.log("info", event, **fields)

    def warning(self, event: str, /, **fields: Any) -> bool:
        return self.log("warning", event, **fields)

    def error(self, event: str, /, **fields: Any) -> bool:
        return self.log("error", event, **fields)

    def critical(self, event: str, /, **fields: Any) -> bool:
        return self.log("critical", event, **fields)

    def __enter__(self) -> BufferedLogger:
        return self
