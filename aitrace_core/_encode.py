"""Encode a record as one JSON line within its caps: a fast path for plain records, else the full walk."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ._serialize import DEFAULT_LIMITS, Limits, to_jsonable

__all__ = ["dumps", "dumps_checked"]

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


#: A mapping key longer than the 1,000-character key cap, in encoded JSON.
_LONG_KEY = re.compile(r'"(?:[^"\\]|\\.){1001,}":')


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_INNERMOST = re.compile(r"[\[{][^\[\]{}]*[\]}]")
# The same on UTF-8 bytes (a multi-byte character never contains a quote, backslash or bracket byte).
_LONG_KEY_B = re.compile(_LONG_KEY.pattern.encode())
_JSON_STRING_B = re.compile(_JSON_STRING.pattern.encode())
_INNERMOST_B = re.compile(_INNERMOST.pattern.encode())

_orjson: Any = None
_ORJSON_OPTIONS = 0
try:  # optional: a much faster encoder (installed with LangChain, through langsmith)
    import orjson

    _orjson = orjson
    _ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
    _ORJSON_OPTIONS |= orjson.OPT_PASSTHROUGH_DATACLASS
except ImportError:  # pragma: no cover - depends on the environment
    pass


_RUN_OVER: dict[tuple[type, int], re.Pattern[Any]] = {}


def _has_run_over(blanked: Any, limit: int) -> bool:
    """True when ``blanked`` (an encoded line, escaped quotes blanked) has a stretch without a quote longer
    than ``limit``. The pattern starts at a quote, so each stretch is scanned once: linear, no copies."""
    first = blanked.find(b'"' if type(blanked) is bytes else '"')
    if first > limit or (first < 0 and len(blanked) > limit):
        return True
    key = (type(blanked), limit)
    rx = _RUN_OVER.get(key)
    if rx is None:
        pattern = f'"[^"]{{{limit + 1}}}'
        rx = _RUN_OVER[key] = re.compile(pattern.encode() if type(blanked) is bytes else pattern)
    return rx.search(blanked) is not None


def _longest_run(pieces: list[Any]) -> int:
    """The longest of the pieces of an encoded line split at its quotes (escaped quotes blanked first).

    Every string and key of the line lies whole inside one piece, and its encoded length (UTF-8 bytes,
    escapes) is never below its length in characters, so a longest piece within a cap proves every string
    and key within it, in one C-speed pass whatever the lengths (a regex for a run of N non-quote characters
    costs up to N steps per position). Blanking ``\\"`` can only merge pieces, which only makes the test
    stricter."""
    return max(map(len, pieces))


def _nesting_exceeds(text: str, max_depth: int) -> bool:
    """True when the JSON ``text`` nests deeper than ``max_depth`` (strings removed, then innermost
    containers peeled off one level per pass, at C speed)."""
    structure = _JSON_STRING.sub("", text)
    for _ in range(max_depth):
        peeled = _INNERMOST.sub("", structure)
        if peeled == structure:
            return False
        structure = peeled
    return "{" in structure or "[" in structure


def _nesting_exceeds_b(line: bytes, max_depth: int) -> bool:
    """``_nesting_exceeds`` on UTF-8 bytes."""
    structure = _JSON_STRING_B.sub(b"", line)
    for _ in range(max_depth):
        peeled = _INNERMOST_B.sub(b"", structure)
        if peeled == structure:
            return False
        structure = peeled
    return b"{" in structure or b"[" in structure


def _direct(record: Mapping[str, Any], limits: Limits) -> bytes | None:
    """The record encoded straight away when provably no cap or conversion applies, else None.

    Most records are small plain JSON data. If the encoder takes the record as it is (no foreign types,
    no NaN, no cycle) and the encoded text has no stretch between quotes longer than ``max_chars`` (so no
    string is longer), fewer than ``max_items`` commas (so no container has more items), at most
    ``max_depth`` brackets (so no nesting is deeper) and no key longer than 1,000 characters, the walk would
    return the same data. Every check is one linear pass at C speed, so the cost follows the record's size.
    """
    if _orjson is not None:
        return _direct_orjson(record, limits)
    try:
        text = _ENCODER.encode(record)
    except (TypeError, ValueError, RecursionError):
        return None
    n = len(text)
    if text.count(",") >= limits.max_items:
        return None
    if text.count("{") + text.count("[") > limits.max_depth and _nesting_exceeds(text, limits.max_depth):
        return None
    if n > 1_000 or n > limits.max_chars:
        blanked = text.replace('\\"', "__")
        if _has_run_over(blanked, min(1_000, limits.max_chars)):
            longest = _longest_run(blanked.split('"'))
            if longest > limits.max_chars or (longest > 1_000 and _LONG_KEY.search(text)):
                return None
    if not _plain(record):
        return None
    line = text.encode("utf-8", "backslashreplace")
    return line if len(line) <= limits.max_record_bytes else None


def _direct_orjson(record: Mapping[str, Any], limits: Limits) -> bytes | None:
    """``_direct`` with orjson, ~10× faster than the stdlib encoder on typical records.

    The options make orjson refuse (raise) whatever the walk would write differently: subclasses of
    str/int/dict/list (NamedTuples, OrderedDicts, str-Enums' subclass path), datetimes, dataclasses; it
    refuses non-str keys, integers beyond 64 bits, lone surrogates and cycles/deep nesting on its own. What it
    takes natively besides plain JSON data gives the walk's output too (a tuple is an array, an Enum its
    value, a UUID its string), except non-finite floats, which it writes as ``null``: a record whose line
    holds ``null`` is checked for them (and must be plain data) before the line is used. Lengths are counted
    in UTF-8 bytes, never fewer than characters, so each cap check can only send more records to the walk.
    """
    try:
        line: bytes = _orjson.dumps(record, option=_ORJSON_OPTIONS)
    except Exception:  # orjson.JSONEncodeError (a TypeError), or anything a hostile object raises
        return None
    n = len(line)
    if n > limits.max_record_bytes:
        return None
    # A container over max_items holds max_items commas and one byte more per item: only a longer line can.
    if n > 2 * limits.max_items and line.count(b",") >= limits.max_items:
        return None
    if line.count(b"{") + line.count(b"[") > limits.max_depth and _nesting_exceeds_b(line, limits.max_depth):
        return None
    if n > 1_000 or n > limits.max_chars:
        blanked = line.replace(b'\\"', b"__")
        if _has_run_over(blanked, min(1_000, limits.max_chars)):
            longest = _longest_run(blanked.split(b'"'))
            if longest > limits.max_chars or (longest > 1_000 and _LONG_KEY_B.search(line)):
                return None
    if b"null" in line and not _plain(record, finite=True):
        return None
    return line


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _plain(record: Any, finite: bool = False) -> bool:
    """True when ``record`` holds only exact dicts with str keys, lists and JSON scalars (and, with
    ``finite``, no NaN or infinite float).

    The C encoder also takes tuples (a NamedTuple would come out as an array, not the documented object),
    str/int/float subclasses and non-str keys (``True`` → ``"true"``, where the walk writes ``"True"``):
    those records take the walk. Runs after a successful encode, so there is no cycle to loop on.
    """
    if type(record) is not dict:
        return False
    stack: list[Any] = [record]
    scalars = _SCALAR_TYPES
    while stack:
        obj = stack.pop()
        if type(obj) is dict:
            for key in obj:
                if type(key) is not str:
                    return False
            values: Any = obj.values()
        else:
            values = obj
        for value in values:
            t = type(value)
            if t in scalars:
                if finite and t is float and not math.isfinite(value):
                    return False
                continue
            if t is dict or t is list:
                stack.append(value)
            else:
                return False
    return True


def dumps(record: Mapping[str, Any], limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Encode one record as a UTF-8 JSON line (no newline), within ``limits``. Never raises.

    A record that still exceeds ``limits.max_record_bytes`` after per-value caps is re-encoded with
    tighter caps; as a last resort only its standard fields are kept, with a marker saying so.
    """
    return dumps_checked(record, limits)[0]


def dumps_checked(record: Mapping[str, Any], limits: Limits = DEFAULT_LIMITS) -> tuple[bytes, bool]:
    """``(dumps(record, limits), within)``: ``within`` is False when the record as a whole was over
    ``max_record_bytes`` and had to be re-encoded with tighter caps than ``limits``."""
    line = _direct(record, limits)
    if line is not None:
        return line, True
    current = limits
    for attempt in range(4):
        data = to_jsonable(record, current)
        try:
            line = _orjson.dumps(data) if _orjson is not None else b""
        except Exception:  # an int beyond 64 bits, a lone surrogate: the stdlib encoder takes those
            line = b""
        if not line:
            try:
                line = _ENCODER.encode(data).encode("utf-8", "backslashreplace")
            except Exception:
                line = json.dumps(data, ensure_ascii=True, separators=(",", ":"), default=str).encode()
        if len(line) <= current.max_record_bytes:
            return line, attempt == 0
        current = dataclasses.replace(
            current,
            max_chars=max(256, current.max_chars // 8),
            max_items=max(20, current.max_items // 4),
        )
    keep = {k: record[k] for k in _STANDARD if k in record}
    keep["aitrace.cut"] = f"record over {limits.max_record_bytes} bytes; only standard fields kept"
    return json.dumps(to_jsonable(keep, Limits(max_chars=1024)), separators=(",", ":")).encode(), False


_STANDARD = (
    "timestamp", "level", "event", "logger", "service", "trace_id", "span_id", "parent_span_id", "seq",
    "span_name", "span_kind", "duration_ms", "status", "error.type", "run_id", "parent_run_id",
)
