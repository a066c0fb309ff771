"""Differences between two JSON values by path: word-level text diffs, lists aligned item by item."""

from __future__ import annotations

import json
import re
from difflib import SequenceMatcher
from typing import Any

__all__ = ["IGNORED_KEYS", "Changes", "canonical", "diff_documents", "diff_values", "normalize", "word_diff"]

#: Keys whose values name one run's objects (tool call ids, run ids): never a difference between two runs.
IGNORED_KEYS = frozenset({"id", "tool_call_id", "run_id", "parent_run_id", "$id"})

#: A text longer than this (in tokens, either side) is diffed line by line instead of word by word.
MAX_WORD_TOKENS = 20_000
#: Texts less alike than this (difflib's ratio) are shown as replaced whole.
MIN_SIMILARITY = 0.4
#: At most this many changes are kept per pair (the pair says when some were left out).
MAX_CHANGES = 200

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def normalize(value: Any) -> Any:
    """``value`` without the keys in :data:`IGNORED_KEYS`, at any depth."""
    if type(value) is dict:
        return {k: normalize(v) for k, v in value.items() if k not in IGNORED_KEYS}
    if type(value) is list:
        return [normalize(v) for v in value]
    return value


def canonical(value: Any) -> str:
    """One string per distinct JSON value (key order ignored): what list items are aligned by."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def word_diff(a: str, b: str) -> list[list[str]]:
    """``[[op, text], …]`` with op ``=`` (in both), ``-`` (only in a) or ``+`` (only in b); concatenating the
    ``=`` and ``-`` pieces gives ``a``, the ``=`` and ``+`` pieces give ``b``."""
    ta, tb = _TOKEN.findall(a), _TOKEN.findall(b)
    if len(ta) > MAX_WORD_TOKENS or len(tb) > MAX_WORD_TOKENS:
        ta, tb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    out: list[list[str]] = []

    def put(op: str, pieces: list[str]) -> None:
        text = "".join(pieces)
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1][1] += text
        else:
            out.append([op, text])

    matcher = SequenceMatcher(None, ta, tb, autojunk=False)
    opcodes = matcher.get_opcodes()
    if matcher.ratio() < MIN_SIMILARITY:  # a rewrite: the old text, then the new, not a mosaic of words
        opcodes = [("replace", 0, len(ta), 0, len(tb))]
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            put("=", ta[i1:i2])
        else:
            put("-", ta[i1:i2])
            put("+", tb[j1:j2])
    return out


class Changes(list[dict[str, Any]]):
    """The changes of one pair, at most :data:`MAX_CHANGES` (``truncated`` says when more were found)."""

    truncated = False

    def put(self, change: dict[str, Any]) -> None:
        if len(self) >= MAX_CHANGES:
            self.truncated = True
        else:
            self.append(change)

    def add(self, field: str, a: Any, b: Any, op: str = "changed") -> None:
        change: dict[str, Any] = {"field": field, "a": a, "b": b}
        if op != "changed":
            change["op"] = op
        if isinstance(a, str) and isinstance(b, str):
            change["diff"] = word_diff(a, b)
        self.put(change)


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def diff_values(a: Any, b: Any, path: str, out: Changes) -> None:
    """Append to ``out`` what differs between ``a`` and ``b`` (normalized values), path by path."""
    if a == b and type(a) is type(b):
        return
    if type(a) is dict and type(b) is dict:
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in b:
                out.add(_key_path(path, key), a[key], None, "removed")
            elif key not in a:
                out.add(_key_path(path, key), None, b[key], "added")
            else:
                diff_values(a[key], b[key], _key_path(path, key), out)
        return
    if type(a) is list and type(b) is list:
        _diff_lists(a, b, path, out)
        return
    out.add(path, a, b)


def _coarse(item: Any) -> str:
    """What makes two list items the same kind of thing (a message's role, a part's type, a tool's name)."""
    if type(item) is dict:
        return canonical({k: item[k] for k in ("role", "type", "name") if k in item})
    return type(item).__name__


def _diff_lists(a: list[Any], b: list[Any], path: str, out: Changes, fine: bool = True) -> None:
    """Items aligned: equal items matched first, then the others paired by kind (role, type, name): a
    message inserted early shows as one added message, not as every later one changed."""
    ka = [canonical(x) if fine else _coarse(x) for x in a]
    kb = [canonical(x) if fine else _coarse(x) for x in b]
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if tag == "equal" and fine:
            continue
        if tag == "equal":
            for k in range(i2 - i1):
                diff_values(a[i1 + k], b[j1 + k], f"{path}[{i1 + k}]", out)
            continue
        if tag == "replace" and fine:
            sub = Changes()
            _diff_lists(a[i1:i2], b[j1:j2], "", sub, fine=False)
            for change in sub:  # paths of the block, shifted to the list's own indexes
                field = change["field"]
                index, _, rest = field[1:].partition("]")
                shift = j1 if change.get("op") == "added" and not rest else i1  # an added item: b's index
                change["field"] = f"{path}[{int(index) + shift}]{rest}"
                out.put(change)
            out.truncated = out.truncated or sub.truncated
            continue
        for i in range(i1, i2):
            out.add(f"{path}[{i}]", a[i], None, "removed")
        for j in range(j1, j2):
            out.add(f"{path}[{j}]", None, b[j], "added")


def diff_documents(a: Any, b: Any, path: str, out: Changes) -> None:
    """Retrieved documents: which were added, which removed, and whether the kept ones changed order."""
    if type(a) is not list or type(b) is not list:
        diff_values(a, b, path, out)
        return
    ka, kb = [canonical(x) for x in a], [canonical(x) for x in b]
    if ka == kb:
        return
    in_a, in_b = set(ka), set(kb)
    for i, key in enumerate(ka):
        if key not in in_b:
            out.add(f"{path}[{i}]", a[i], None, "removed")
    for j, key in enumerate(kb):
        if key not in in_a:
            out.add(f"{path}[{j}]", None, b[j], "added")
    kept_a, kept_b = [k for k in ka if k in in_b], [k for k in kb if k in in_a]
    if kept_a != kept_b:
        order_a = [ka.index(k) for k in kept_a]
        order_b = [ka.index(k) for k in kept_b]
        out.add(path, order_a, order_b, "reordered")
