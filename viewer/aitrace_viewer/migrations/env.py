"""Alembic environment: runs on the connection handed over by :func:`aitrace_viewer.store.upgrade`."""

from __future__ import annotations

from alembic import context

from aitrace_viewer.store._tables import metadata

VERSION_TABLE = "aitrace_alembic_version"


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.config.get_main_option("sqlalchemy.url")
        context.configure(url=url, target_metadata=metadata, version_table=VERSION_TABLE, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


run()
