"""Turn anything into JSON-safe data, never raising.

Values JSON cannot hold are converted (UUID, datetime, Decimal, Enum, Path, bytes, sets, dataclasses,
pydantic models, NamedTuples, exceptions, objects with ``__dict__``); cycles, depth and size are cut with a
visible marker that keeps the head, the tail and the original size, so nothing is ever dropped whole.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import decimal
import enum
import math
import pathlib
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["CUT_MARK", "DEFAULT_LIMITS", "Limits", "to_jsonable"]

#: Every cut value contains this text, so readers (and the viewer) can tell a value was shortened.
CUT_MARK = "[aitrace cut:"


@dataclasses.dataclass(frozen=True)
class Limits:
    """Caps applied while serializing one record."""

    max_chars: int = 65_536
    """Longest string kept whole; longer ones keep head and tail."""
    max_items: int = 1_000
    """Most items kept from one list or mapping."""
    max_depth: int = 32
    """Deepest nesting kept."""
    max_record_bytes: int = 1_048_576
    """Largest encoded record; larger records are re-encoded with tighter caps."""


DEFAULT_LIMITS = Limits()

_SCALARS = (str, int, float, bool, type(None))


def _cut_str(s: str, limit: int) -> str:
    n = len(s)
    if n <= limit:
        return s
    keep = max(limit, 16)
    head = keep * 3 // 4
    tail = keep - head
    return f"{s[:head]}…{CUT_MARK} {n - head - tail} of {n} chars]…{s[n - tail :] if tail else ''}"


def _type_name(obj: Any) -> str:
    t = type(obj)
    mod = getattr(t, "__module__", "") or ""
    return t.__qualname__ if mod in ("builtins", "") else f"{mod}.{t.__qualname__}"


class _Walker:
    __slots__ = ("limits", "seen")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.seen: set[int] = set()

    def walk(self, obj: Any, depth: int) -> Any:
        # Fast path for the common scalar cases.
        t = type(obj)
        if t is str:
            return _cut_str(obj, self.limits.max_chars)
        if t is int or t is bool or obj is None:
            return obj
        if t is float:
            return obj if math.isfinite(obj) else repr(obj)
        try:
            if t is dict:
                return self._container(obj, depth, lambda: self._mapping(list(obj.items()), len(obj), depth))
            if t is list:
                return self._container(obj, depth, lambda: self._sequence(obj, depth))
            return self._walk_slow(obj, depth)
        except RecursionError:  # a max_depth too deep for the stack left: cut here, visibly
            return f"{CUT_MARK} depth limit, {_type_name(obj)}]"
        except Exception as exc:  # a hostile __repr__/__iter__/model_dump must never escape
            try:
                return f"<unserializable {_type_name(obj)}: {type(exc).__name__}>"
            except Exception:
                return "<unserializable>"

    def _container(self, obj: Any, depth: int, build: Any) -> Any:
        if depth >= self.limits.max_depth:
            return f"{CUT_MARK} depth limit, {_type_name(obj)}]"
        key = id(obj)
        if key in self.seen:
            return f"[aitrace cycle: {_type_name(obj)}]"
        self.seen.add(key)
        try:
            return build()
        finally:
            self.seen.discard(key)

    def _mapping(self, items: Any, total: int, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        limit = self.limits.max_items
        max_chars = self.limits.max_chars
        walk = self.walk
        child = depth + 1
        for i, (k, v) in enumerate(items):
            if i >= limit:
                out["…"] = f"{CUT_MARK} {total - limit} of {total} keys]"
                break
            if type(k) is not str or len(k) > 1_000:
                k = _cut_str(k if type(k) is str else str(walk(k, child)), 1_000)
            # Inline the common scalars: this loop runs for every field of every record.
            t = type(v)
            if t is str:
                out[k] = v if len(v) <= max_chars else _cut_str(v, max_chars)
            elif t is int or t is bool or v is None:
                out[k] = v
            else:
                out[k] = walk(v, child)
        return out

    def _sequence(self, seq: list[Any], depth: int) -> list[Any]:
        n = len(seq)
        limit = self.limits.max_items
        if n <= limit:
            return [self.walk(v, depth + 1) for v in seq]
        head = limit - limit // 10
        tail = limit - head
        out = [self.walk(v, depth + 1) for v in seq[:head]]
        out.append(f"{CUT_MARK} {n - head - tail} of {n} items]")
        out.extend(self.walk(v, depth + 1) for v in seq[n - tail :])
        return out

    def _walk_slow(self, obj: Any, depth: int) -> Any:
        if isinstance(obj, enum.Enum):
            return self.walk(obj.value, depth)
        if isinstance(obj, str):  # str subclasses
            return _cut_str(str(obj), self.limits.max_chars)
        if isinstance(obj, bool):
            return bool(obj)
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            f = float(obj)
            return f if math.isfinite(f) else repr(f)
        if isinstance(obj, dict):
            return self._container(obj, depth, lambda: self._mapping(list(obj.items()), len(obj), depth))
        if isinstance(obj, tuple) and hasattr(obj, "_asdict"):  # NamedTuple
            return self._container(obj, depth, lambda: self._mapping(obj._asdict().items(), len(obj), depth))
        if isinstance(obj, (list, tuple)):
            return self._container(obj, depth, lambda: self._sequence(list(obj), depth))
        if isinstance(obj, (set, frozenset)):
            return self._container(obj, depth, lambda: self._sequence(_sorted(obj), depth))
        if isinstance(obj, (bytes, bytearray, memoryview)):
            raw = bytes(obj)
            try:
                return _cut_str(raw.decode("utf-8"), self.limits.max_chars)
            except UnicodeDecodeError:
                return _cut_str("base64:" + base64.b64encode(raw).decode("ascii"), self.limits.max_chars)
        if isinstance(obj, _dt.datetime):
            return obj.isoformat()
        if isinstance(obj, (_dt.date, _dt.time)):
            return obj.isoformat()
        if isinstance(obj, _dt.timedelta):
            return obj.total_seconds()
        if isinstance(obj, uuid.UUID):
            return str(obj)
        if isinstance(obj, decimal.Decimal):
            return str(obj)
        if isinstance(obj, pathlib.PurePath):
            return str(obj)
        if isinstance(obj, BaseException):
            return self._container(obj, depth, lambda: self._exception(obj, depth))
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return self._container(
                obj,
                depth,
                lambda: self._mapping(
                    [(f.name, getattr(obj, f.name, None)) for f in dataclasses.fields(obj)],
                    len(dataclasses.fields(obj)),
                    depth,
                ),
            )
        dump = getattr(obj, "model_dump", None)
        if callable(dump) and not isinstance(obj, type):  # pydantic v2 (LangChain messages, documents)
            return self._container(obj, depth, lambda: self._pydantic(obj, dump, depth))
        if isinstance(obj, Mapping):
            return self._container(obj, depth, lambda: self._mapping(list(obj.items()), len(obj), depth))
        tolist = getattr(obj, "tolist", None)
        if callable(tolist) and hasattr(obj, "dtype"):  # numpy arrays and scalars
            return self.walk(tolist(), depth)
        if isinstance(obj, type):
            return f"<class {obj.__module__}.{obj.__qualname__}>"
        attrs = getattr(obj, "__dict__", None)
        if isinstance(attrs, dict) and not callable(obj):
            def build() -> dict[str, Any]:
                out = {"__type__": _type_name(obj)}
                out.update(self._mapping(list(attrs.items()), len(attrs), depth))
                return out

            return self._container(obj, depth, build)
        return _cut_str(repr(obj), self.limits.max_chars)

    def _exception(self, exc: BaseException, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {"type": _type_name(exc), "message": _cut_str(str(exc), self.limits.max_chars)}
        if exc.args and not (len(exc.args) == 1 and isinstance(exc.args[0], str)):
            out["args"] = self.walk(list(exc.args), depth + 1)
        return out

    def _pydantic(self, obj: Any, dump: Any, depth: int) -> Any:
        try:
            data = dump(mode="python")
        except Exception:
            data = dict(getattr(obj, "__dict__", {}))
        if isinstance(data, dict):
            return self._mapping(list(data.items()), len(data), depth)
        return self.walk(data, depth + 1)


def _sorted(values: Any) -> list[Any]:
    items = list(values)
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


def to_jsonable(obj: Any, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Return a JSON-safe copy of ``obj`` within ``limits``. Never raises."""
    return _Walker(limits).walk(obj, 0)
