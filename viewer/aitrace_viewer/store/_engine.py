"""Engines: on SQLite one writer connection (``BEGIN IMMEDIATE``) and a reader pool; on PostgreSQL a pool."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text

__all__ = ["BUSY_TIMEOUT_MS", "MIGRATION_LOCK_ID", "make_engines", "sqlite_file", "upgrade"]

BUSY_TIMEOUT_MS = 30_000

MIGRATION_LOCK_ID = 74211
"""PostgreSQL advisory lock key held while migrating, so that workers starting at once migrate one at a time.

An advisory lock is named by any 64-bit number the applications sharing a database agree on; this one is
arbitrary. It must never change: servers of two versions starting on one database must wait for each other.
"""


def sqlite_file(url: str) -> str | None:
    """The database file of a plain SQLite file URL (None for PostgreSQL, ``:memory:`` and ``file:`` URIs)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return str(Path(database).expanduser())


def _sqlite_engine(url: str, *, writer: bool, autocheckpoint: bool = True) -> Engine:
    engine = create_engine(
        url,
        pool_size=1 if writer else 8,
        max_overflow=0 if writer else 8,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=OFF")
        if not autocheckpoint:  # a background thread checkpoints instead (Store), off the commit path
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


def make_engines(url: str, *, background_checkpoint: bool = False) -> tuple[Engine, Engine]:
    """``(writer, reader)``. On PostgreSQL both are the same pool.

    ``background_checkpoint``: the SQLite writer does not checkpoint the WAL at commit (someone else does).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return (
            _sqlite_engine(url, writer=True, autocheckpoint=not background_checkpoint),
            _sqlite_engine(url, writer=False),
        )
    engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
    return engine, engine


def _alembic_config() -> Config:
    config = Config()
    location = resources.files("aitrace_viewer").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    return config


def upgrade(writer: Engine) -> None:
    """Apply the migrations (idempotent; several workers starting at once on PostgreSQL take turns)."""
    config = _alembic_config()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with writer.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_ID})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_ID})
                connection.commit()
