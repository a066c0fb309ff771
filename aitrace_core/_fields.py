"""The record's own keys, the ids' shape, and the one rule that keeps user attributes clear of both."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MISSING", "RESERVED", "is_span_id", "is_trace_id", "merge_user_fields", "user_key"]


class _Missing:
    """The type of :data:`MISSING`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: A field left out (not given, or hidden): not the same as None, which is written as ``null``.
MISSING: Any = _Missing()

#: Keys a user attribute may not overwrite; such attributes are kept under ``attr.<key>``.
RESERVED = frozenset(
    {
        "timestamp", "level", "event", "logger", "service", "trace_id", "span_id", "parent_span_id", "seq",
        "span_name", "span_kind", "duration_ms", "status", "input", "output", "incomplete",
        "error.type", "error.message", "error.stacktrace",
    }
)

_TRACE_ID = re.compile(r"(?!0{32})[0-9a-f]{32}")
_SPAN_ID = re.compile(r"(?!0{16})[0-9a-f]{16}")


def user_key(key: str) -> str:
    """Where a user attribute called ``key`` goes in a record: ``attr.<key>`` when the record owns ``key``."""
    return f"attr.{key}" if key in RESERVED else key


def merge_user_fields(record: dict[str, Any], fields: Any, keep: frozenset[str] = frozenset()) -> None:
    """Add the user's ``fields`` (a mapping) to ``record`` under :func:`user_key`; keys in ``keep`` go in as
    they are (``event`` and ``logger`` of a log call)."""
    if not fields:
        return
    for key, value in fields.items():
        record[key if key in keep else user_key(key)] = value


def is_trace_id(value: object) -> bool:
    """32 lowercase hex digits, not all zeros (W3C Trace Context, as records carry them)."""
    return isinstance(value, str) and _TRACE_ID.fullmatch(value) is not None


def is_span_id(value: object) -> bool:
    """16 lowercase hex digits, not all zeros."""
    return isinstance(value, str) and _SPAN_ID.fullmatch(value) is not None
