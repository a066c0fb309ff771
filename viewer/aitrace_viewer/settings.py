"""Server settings, in aitrace_core's layers: command line > ``AITRACE_*`` env > config file > defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from aitrace_core import LayeredSettings, config_dir, load_settings

__all__ = ["ViewerSettings", "default_db_url", "load_viewer_settings", "parse_age"]

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_age(text: str) -> float:
    """``"7d"`` → seconds. Units: s, m, h, d, w (none means seconds)."""
    match = _AGE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an age like 30m, 12h, 7d or 2w")
    return float(match.group(1)) * _UNIT[match.group(2)]


_DB_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")


def default_db_url() -> str:
    """``sqlite:///~/.config/aitrace/logs.db`` (expanded)."""
    return "sqlite:///" + str(config_dir() / "logs.db")


class ViewerSettings(LayeredSettings):
    """Settings of ``aitrace serve`` (shared config file keys: ``host``, ``port``, ``db``, ``token``, …)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    db: str = Field(default_factory=default_db_url)
    """SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql://user@host/db``; a bare path means SQLite."""
    token: str | None = None
    """Bearer token every route requires (``AITRACE_TOKEN``). Required when ``host`` is not loopback."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Extra Host header names accepted besides the bound host and localhost names (``*``: any)."""
    max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    """Largest ingest body after decompression (413 above)."""
    max_record_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    """Largest single record (its JSON text); a batch holding a bigger one is refused whole with 413."""
    max_age: str | None = None
    """Delete traces whose newest record is older than this (``7d``); applied hourly by the server."""
    prune_interval: float = Field(default=3600.0, gt=0)
    lenses: list[str] = Field(default_factory=list)
    """Your own JavaScript modules (paths), loaded by every served page before the viewer starts: they call
    ``registerLens`` from ``/static/js/lenses.js`` (see docs/viewer.md)."""

    @field_validator("db", mode="after")
    @classmethod
    def _normalize_db(cls, value: str) -> str:
        if "://" not in value:
            return "sqlite:///" + str(Path(value).expanduser().resolve())
        scheme, rest = value.split("://", 1)
        if scheme in ("postgresql", "postgres"):
            return "postgresql+psycopg://" + rest
        if scheme not in _DB_SCHEMES:
            raise ValueError(
                f"aitrace stores traces in SQLite or PostgreSQL, not {scheme!r}; allowed: sqlite:///path.db, "
                "a file path, or postgresql://user@host:5432/dbname"
            )
        return value

    @field_validator("max_age", mode="after")
    @classmethod
    def _check_age(cls, value: str | None) -> str | None:
        if value:
            parse_age(value)
        return value or None

    @field_validator("lenses", mode="after")
    @classmethod
    def _check_lenses(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            path = Path(item).expanduser().resolve()
            if path.suffix not in (".js", ".mjs"):
                raise ValueError(f"{item}: a lens is a JavaScript module (.js or .mjs)")
            if not path.is_file():
                raise ValueError(f"{item}: no such file")
            out.append(str(path))
        return out

    @field_validator("token", mode="after")
    @classmethod
    def _empty_token(cls, value: str | None) -> str | None:
        return value or None

    @property
    def is_sqlite(self) -> bool:
        return self.db.startswith("sqlite")


def load_viewer_settings(**overrides: Any) -> ViewerSettings:
    """Settings from every layer, ``overrides`` (non-None) winning.

    Unlike an instrumented application, the server refuses a bad value from any layer with a
    :class:`~aitrace_core.ConfigError` (one line, naming the key and where it came from): it should not
    quietly listen on another port or write to another database than the one asked for."""
    return load_settings(ViewerSettings, strict=True, given_from="the command line", **overrides)
