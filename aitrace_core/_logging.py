"""structlog configuration, ``get_logger``, and the optional bridge from stdlib ``logging``."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from ._fields import merge_user_fields, user_key
from ._runtime import LEVELS, Sink, emit, fill_ids, runtime
from ._spans import error_fields

__all__ = ["StdlibBridge", "add_trace_ids", "configure_structlog", "get_logger"]

_LEVEL_ALIASES = {"warn": "warning", "exception": "error", "fatal": "critical", "critical": "critical"}


def add_trace_ids(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: add ``trace_id``, ``span_id`` and ``parent_span_id`` of the current span.

    Usable in your own structlog configuration as well.
    """
    if "span_id" not in event_dict:
        fill_ids(event_dict)
    return event_dict


_LOG_CALL_KEYS = frozenset({"event", "logger"})


def _to_record(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Last processor: turn structlog's event dict into an aitrace record and emit it."""
    # The level is the method called; a ``level=`` the caller passes is theirs (kept as ``attr.level``).
    level = _LEVEL_ALIASES.get(method_name, method_name)
    if level not in LEVELS:
        level = "info"
    record: dict[str, Any] = {}
    exc_info = event_dict.pop("exc_info", None)
    merge_user_fields(record, event_dict, keep=_LOG_CALL_KEYS)  # ids come from the current span, always
    event = record.get("event")
    record["event"] = event if isinstance(event, str) else str(event)
    record["level"] = level
    record.setdefault("logger", getattr(logger, "name", "app"))
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        exc = (
            exc_info
            if isinstance(exc_info, BaseException)
            else exc_info[1]
            if isinstance(exc_info, tuple)
            else None
        )
        if exc is not None:
            record.update(error_fields(exc))
    if not fill_ids(record):
        raise structlog.DropEvent
    service = getattr(logger, "service", None)
    if service is not None:
        record["service"] = service
    emit(record, getattr(logger, "sink", None))
    raise structlog.DropEvent


class _NullLogger:
    """structlog needs a logger to call; records have already been emitted by then. A logger of its own
    (``BufferedLogger``) names the sink, service and level its records get instead of the configured ones."""

    __slots__ = ("level_no", "name", "service", "sink")

    def __init__(
        self,
        name: str = "app",
        sink: Sink | None = None,
        service: str | None = None,
        level_no: int | None = None,
    ) -> None:
        self.name = name
        self.sink = sink
        self.service = service
        self.level_no = level_no

    def msg(self, *args: Any, **kwargs: Any) -> None:
        return None

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _logger_factory(*args: Any) -> _NullLogger:
    return _NullLogger(args[0] if args and isinstance(args[0], str) else "app")


_METHOD_LEVELS = {
    "debug": 10, "info": 20, "msg": 20, "warning": 30, "warn": 30, "error": 40, "exception": 40,
    "critical": 50, "fatal": 50,
}


def _filter_level(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
    """First processor: drop records below the level in force (``configure(level=...)``, or the logger's)."""
    level_no = getattr(logger, "level_no", None)
    if _METHOD_LEVELS.get(method_name, 20) < (runtime.level_no if level_no is None else level_no):
        raise structlog.DropEvent
    return event_dict


# One chain and one wrapper class for the life of the process: loggers handed out by ``get_logger`` (often
# at import time) stay valid across ``configure``/``capture_records``, and are bound once, not per call.
_PROCESSORS: list[Any] = [
    _filter_level,
    structlog.contextvars.merge_contextvars,
    structlog.processors.StackInfoRenderer(),
    _to_record,
]
_BoundLogger = structlog.make_filtering_bound_logger(logging.DEBUG)


def configure_structlog(level: str = "info") -> None:
    """Point structlog at aitrace (so ``structlog.get_logger()`` works too); ``level`` is kept by ``runtime``.

    Chain: level filter, context vars, stack info, then trace ids and aitrace's sink.
    """
    structlog.configure(
        processors=_PROCESSORS,
        wrapper_class=_BoundLogger,
        logger_factory=_logger_factory,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None, **initial_values: Any) -> Any:
    """A structlog logger whose records carry the current span's ``trace_id``, ``span_id`` and parent.

    ``name`` becomes the record's ``logger`` field (default: the calling module).
    """
    if name is None:
        try:
            name = sys._getframe(1).f_globals.get("__name__", "app")
        except Exception:
            name = "app"
    # Not structlog's lazy proxy, which re-binds on every call: a logger bound once to aitrace's chain. The
    # first record written configures aitrace from the environment if ``configure`` was not called.
    return _BoundLogger(_NullLogger(name), _PROCESSORS, dict(initial_values))  # type: ignore[call-arg]


def own_logger(name: str, sink: Sink, service: str, level_no: int = 10) -> Any:
    """A logger on the same chain as :func:`get_logger` (level, context vars, configured processors) whose
    records go to ``sink`` under ``service``: ``BufferedLogger`` writes through it."""
    return _BoundLogger(_NullLogger(name, sink, service, level_no), _PROCESSORS, {})  # type: ignore[call-arg]


_LOGRECORD_ATTRS = frozenset(
    vars(logging.LogRecord("x", 0, "x", 0, "x", None, None)).keys() | {"message", "asctime", "taskName"}
)


class StdlibBridge(logging.Handler):
    """A ``logging.Handler`` that writes stdlib records as aitrace records under the current span.

    Records of the ``aitrace`` logger tree (aitrace's own diagnostics) are never taken, so they cannot feed
    back into the queue.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.name == "aitrace" or record.name.startswith("aitrace."):
                return
            level = record.levelname.lower()
            level = _LEVEL_ALIASES.get(level, level)
            out: dict[str, Any] = {
                "event": record.getMessage(),
                "level": level if level in LEVELS else "info",
                "logger": record.name,
            }
            for key, value in record.__dict__.items():
                if key not in _LOGRECORD_ATTRS and not key.startswith("_"):
                    out[user_key(key)] = value
            if record.exc_info and record.exc_info[1] is not None:
                out.update(error_fields(record.exc_info[1]))
            out["code.function"] = record.funcName
            out["code.lineno"] = record.lineno
            if fill_ids(out):
                emit(out)
        except Exception:  # noqa: S110 - a log call must never fail because of tracing
            pass


_bridge: StdlibBridge | None = None


def route_stdlib(enabled: bool, level: str = "info") -> None:
    """Install (or remove) the stdlib bridge on the root logger."""
    global _bridge
    root = logging.getLogger()
    if _bridge is not None:
        root.removeHandler(_bridge)
        _bridge = None
    if enabled:
        _bridge = StdlibBridge(level=LEVELS.get(level, 20))
        root.addHandler(_bridge)
        if root.level == logging.NOTSET or root.level > _bridge.level:
            root.setLevel(_bridge.level)
