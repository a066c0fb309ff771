"""One source of truth for the schema: the migrations make the database that ``_tables.py`` describes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from aitrace_viewer.store import Store
from aitrace_viewer.store._tables import FULL_TEXT_TABLE, create_ddl, metadata
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.dialects import sqlite

VERSION_TABLE = "aitrace_alembic_version"


def _differences(url: str) -> list[Any]:
    """What Alembic's autogenerate would change to make the migrated database match ``_tables.py``."""
    store = Store(url)
    try:
        with store.writer.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={"compare_type": True, "compare_server_default": True, "version_table": VERSION_TABLE},
            )
            diffs = compare_metadata(context, metadata)
    finally:
        store.close()

    def full_text(diff: Any) -> bool:  # declared in FULL_TEXT_DDL, not as SQLAlchemy objects
        kind, thing = diff[0], diff[-1]
        if kind == "remove_table":
            return bool(thing.name.startswith(FULL_TEXT_TABLE))  # the FTS5 table and its shadow tables
        if kind == "remove_column":
            return bool(thing.name == "search")
        return bool(kind == "remove_index" and thing.name == "ix_records_search")

    return [diff for diff in diffs if not full_text(diff)]


def test_migrations_make_the_schema_the_tables_describe(db_url: str) -> None:
    assert _differences(db_url) == []


def _schema(db: sqlite3.Connection) -> dict[str, str]:
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name != ?", (VERSION_TABLE,)
    )
    return {name: " ".join(sql.split()) for name, sql in rows}


def test_the_ddl_built_from_the_tables_is_what_the_migrations_wrote(tmp_path: Path) -> None:
    """Benchmarks build their raw-sqlite3 baseline with ``create_ddl``: the same tables, indexes, FTS5."""
    Store(f"sqlite:///{tmp_path / 'migrated.db'}").close()
    with closing(sqlite3.connect(tmp_path / "built.db")) as built:
        for statement in create_ddl(sqlite.dialect()):
            built.execute(statement)
        made = _schema(built)
    with closing(sqlite3.connect(tmp_path / "migrated.db")) as migrated:
        expected = _schema(migrated)
    assert "ix_records_span" in expected
    assert made == expected
