"""Values written once per trace: the first occurrence in full, later ones as references (docs/schema.md).

Writing side (:class:`TraceRefs`, one per trace, dropped with the trace's state): a JSON-ready value (a
chat message) offered to :meth:`TraceRefs.share` comes back in full with ``"$id": n`` the first time, and as
``{"$ref": n, "$span": "<span_id>"}`` afterwards, ``$span`` naming the span whose record holds it in full.
Reading side (:func:`resolve_refs`): records with references in, the same records as if every value had been
written in full out.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ._encode import _plain
from ._runtime import last_emit, runtime

__all__ = ["MISSING_MESSAGE", "RefResolver", "TraceRefs", "is_ref", "resolve_refs"]

try:  # the exact bytes of a value identify it; orjson makes them in microseconds (the stdlib is the fallback)
    import orjson

    def _key(value: Any) -> bytes:
        data: bytes = orjson.dumps(value)
        if b"null" in data and not _plain(value, finite=True):  # orjson writes NaN as null, like None
            raise ValueError("not plain JSON data")
        return data

except ImportError:  # pragma: no cover - depends on the environment
    import json

    def _key(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


#: Text of the message shown in place of a reference whose full value is not among the records.
MISSING_MESSAGE = "[aitrace: message not found: written in full by span {span}, whose records are missing]"


class TraceRefs:
    """Which values a trace has written in full, and in which span. Thread-safe; state grows with the
    trace's distinct values only and is dropped with the object.

    One record at a time per thread: :meth:`begin` before shaping a record's values, :meth:`share` for each
    shareable value, :meth:`commit` with the span id once the record was emitted. A value is only ever
    referred to after the record holding it in full was handed to the sink whole, so a reference never
    points at a record that was not written or was cut (sampled out, dropped, re-encoded under the record
    size cap, or still being built in another thread: those values are written in full again). A value
    that a per-value cap could cut (over ``max_chars`` bytes, ``max_items`` commas) is never shared.
    """

    __slots__ = ("_entries", "_ids", "_keys", "_local")

    def __init__(self) -> None:
        self._entries: dict[bytes, list[Any]] = {}  # value's bytes -> [id, span_id | None, bytes]
        # id(value) -> (value, bytes): the same shaped message object offered again is not encoded again
        self._keys: dict[int, tuple[Any, bytes]] = {}
        self._ids = itertools.count(1)
        self._local = threading.local()

    def __len__(self) -> int:
        return len(self._entries)

    def begin(self, owner: Any = None) -> None:
        """Start shaping one record's values in this thread, for ``owner`` (e.g. the run writing it); forgets
        anything begun and never committed."""
        local = self._local
        stale = getattr(local, "pending", None)
        if stale:
            self._drop(stale)
        local.pending = []
        local.owner = owner
        local.mark = last_emit()[0]

    def share(self, value: dict[str, Any]) -> dict[str, Any]:
        """``value`` (plain JSON data) as it goes into the record being shaped: a reference when the trace
        already wrote it, else the value itself, with ``"$id"`` when later records may refer to it.
        ``value`` must not change afterwards (the same object is recognised without encoding it again)."""
        local = self._local
        pending: list[Any] | None = getattr(local, "pending", None)
        if pending is None:
            return value
        known = self._keys.get(id(value))
        if known is not None and known[0] is value:
            key = known[1]
        else:
            try:
                key = _key(value)
            except Exception:  # not plain JSON data: written as it is, never shared
                return value
            self._keys[id(value)] = (value, key)  # keeps value alive, so its id stays unique
        entry = self._entries.get(key)
        if entry is not None:
            span = entry[1]
            if span is not None:
                return {"$ref": entry[0], "$span": span}
            return value  # its record is not out yet (or never was): in full, without an id
        limits = runtime.limits
        size = len(key)
        if size > limits.max_chars or key.count(b",") >= limits.max_items:
            return value
        entry = [next(self._ids), None, key]
        if self._entries.setdefault(key, entry) is not entry:
            return value  # another thread registered it first
        pending.append(entry)
        out = dict(value)
        out["$id"] = entry[0]
        return out

    def commit(self, span_id: str | None, owner: Any = None) -> None:
        """``owner``'s record shaped since :meth:`begin` was just emitted under ``span_id``, in this thread.

        Its values are referred to from now on only if that record went out whole (``span_id`` given, a
        record emitted in this thread since :meth:`begin`, and the last one taken by the sink within the
        caps: not dropped, not re-encoded with tighter caps); otherwise they will be written in full again.
        Values begun by another owner in this thread (whose callback failed before its record) are
        forgotten, never committed to this span."""
        local = self._local
        pending: list[Any] | None = getattr(local, "pending", None)
        local.pending = None
        if not pending:
            return
        emitted, whole = last_emit()
        if span_id and getattr(local, "owner", None) == owner and whole and emitted > local.mark:
            for entry in pending:
                entry[1] = span_id
        else:
            self._drop(pending)

    def _drop(self, pending: list[Any] | None) -> None:
        for entry in pending or ():
            if entry[1] is None:
                self._entries.pop(entry[2], None)

    @staticmethod
    def compact(items: list[Any]) -> list[Any]:
        """``items`` with each run of consecutive references into one span (ids n, n+1, …, m) written as one
        ``{"$ref": [n, m], "$span": s}``: a conversation passed on whole costs a few bytes."""
        out: list[Any] = []
        run: dict[str, Any] | None = None
        for item in items:
            if type(item) is dict and len(item) == 2 and type(item.get("$ref")) is int and "$span" in item:
                if run is not None and run["$span"] == item["$span"]:
                    last = run["$ref"]
                    end = last if type(last) is int else last[1]
                    if item["$ref"] == end + 1:
                        run["$ref"] = [last if type(last) is int else last[0], end + 1]
                        continue
                run = dict(item)
                out.append(run)
            else:
                run = None
                out.append(item)
        return out


def is_ref(value: Any) -> bool:
    """True for a reference object ``{"$ref": n | [n, m], "$span": "<16 hex>"}``."""
    if type(value) is not dict or len(value) != 2:
        return False
    ref, span = value.get("$ref"), value.get("$span")
    if type(span) is not str:
        return False
    if type(ref) is int:
        return True
    return type(ref) is list and len(ref) == 2 and type(ref[0]) is int and type(ref[1]) is int


def _collect(value: Any, span: Any, index: dict[tuple[Any, int], Any]) -> bool:
    """Index the full values under ``value`` by (span, id); True when ``value`` holds ids or references."""
    found = False
    stack = [value]
    while stack:
        obj = stack.pop()
        t = type(obj)
        if t is dict:
            n = obj.get("$id")
            if type(n) is int:
                found = True
                index[(span, n)] = {k: v for k, v in obj.items() if k != "$id"}
                continue
            if "$ref" in obj and is_ref(obj):
                found = True
                continue
            stack.extend(v for v in obj.values() if type(v) is dict or type(v) is list)
        elif t is list:
            stack.extend(v for v in obj if type(v) is dict or type(v) is list)
    return found


def _missing(span: str) -> dict[str, Any]:
    return {"role": "unknown", "parts": [{"type": "text", "content": MISSING_MESSAGE.format(span=span)}]}


def _resolve(value: Any, index: dict[tuple[Any, int], Any]) -> Any:
    t = type(value)
    if t is dict:
        n = value.get("$id")
        if type(n) is int:
            return {k: v for k, v in value.items() if k != "$id"}
        if "$ref" in value and is_ref(value):
            span, ref = value["$span"], value["$ref"]
            first = ref if type(ref) is int else ref[0]
            found = index.get((span, first))
            return found if found is not None else _missing(span)
        return {k: _resolve(v, index) if type(v) is dict or type(v) is list else v for k, v in value.items()}
    if t is list:
        out: list[Any] = []
        for item in value:
            if type(item) is dict and "$ref" in item and is_ref(item) and type(item["$ref"]) is list:
                span = item["$span"]
                first, last = item["$ref"]
                for n in range(first, max(first, min(last, first + 100_000)) + 1):
                    found = index.get((span, n))
                    out.append(found if found is not None else _missing(span))
            elif type(item) is dict or type(item) is list:
                out.append(_resolve(item, index))
            else:
                out.append(item)
        return out
    return value


class RefResolver:
    """Resolves references record by record, for readers that get records in the order they were
    written (a reference always comes after the record holding its value): :meth:`add` each record, then
    :meth:`resolve` it (or any later one)."""

    __slots__ = ("index",)

    def __init__(self) -> None:
        self.index: dict[tuple[Any, int], Any] = {}

    def add(self, record: Mapping[str, Any]) -> bool:
        """Index the full values ``record`` holds; True when it holds ids or references."""
        return _collect(dict(record), record.get("span_id"), self.index)

    def resolve(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A new record with the references resolved and the ids removed."""
        index = self.index
        return {k: _resolve(v, index) if type(v) is dict or type(v) is list else v for k, v in record.items()}


def resolve_refs(records: Iterable[Mapping[str, Any]]) -> list[Any]:
    """The records with every reference replaced by the value it refers to and the ``$id`` markers
    removed: what they would have been had every value been written in full. Records without any are
    returned as they are (the same objects); the others are new dicts (the input is never modified).

    References are resolved among the records given (a reference names the span whose records hold the
    value: give at least those), in any order. One whose value is missing becomes a visible message
    saying so.
    """
    records = list(records)
    resolver = RefResolver()
    marked = [isinstance(rec, Mapping) and resolver.add(rec) for rec in records]
    if not any(marked):
        return records
    return [resolver.resolve(rec) if mark else rec for rec, mark in zip(records, marked, strict=True)]
