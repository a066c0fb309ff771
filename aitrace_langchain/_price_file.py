"""The user's own prices: a TOML or JSON file (``langchain_prices_file``) that adds models to the table or
overrides them (docs/prices.md).

A file that cannot be read or holds a wrong entry is said once on stderr and the built-in table is used
whole: a typo never takes costs away silently, nor raises into the application.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aitrace_core import say_once

from ._prices import PRICES, Price

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["load_price_file", "price_table"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)


def load_price_file(path: Path) -> dict[str, Price]:
    """The models of a prices file, keyed by lowercase name; raises ValueError saying what is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror or exc})") from None
    is_json = path.suffix.lower() == ".json"
    try:
        data: Any = json.loads(raw) if is_json else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ValueError(f"is not valid {'JSON' if is_json else 'TOML'}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("models"), dict) and len(data) == 1:
        data = data["models"]  # [models."name"] tables in TOML
    if not isinstance(data, dict):
        raise ValueError("must map model names to {input, output, cached_input} prices")
    table: dict[str, Price] = {}
    for name, entry in data.items():
        try:
            e = _Entry.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"model {name!r}: {where + ': ' if where else ''}{first['msg']}") from None
        table[str(name).strip().lower()] = Price(e.input, e.output, e.cached_input)
    return table


_cache: dict[tuple[str, int, int], Mapping[str, Price]] = {}
_lock = threading.Lock()


def price_table(path: Path | None) -> Mapping[str, Price]:
    """The built-in table with the file's models added or overriding (re-read when the file changes)."""
    if path is None:
        return PRICES
    path = path.expanduser()
    try:
        stat = os.stat(path)
        key = (str(path), stat.st_mtime_ns, stat.st_size)
    except OSError as exc:
        say_once(f"prices file {path} cannot be read ({exc.strerror or exc}); using the built-in prices")
        return PRICES
    table = _cache.get(key)
    if table is None:
        try:
            table = {**PRICES, **load_price_file(path)}
        except ValueError as exc:
            say_once(f"prices file {path} {exc}; using the built-in prices")
            return PRICES
        with _lock:
            if len(_cache) > 16:
                _cache.clear()
            _cache[key] = table
    return table
