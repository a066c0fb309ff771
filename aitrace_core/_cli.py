"""The ``aitrace`` command. Server commands live in ``aitrace_viewer`` and are added when it is installed."""

from __future__ import annotations

import importlib
import sys

import click

from ._version import SCHEMA_VERSION, __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aitrace")
def main() -> None:
    """aitrace: see what your LangChain and LangGraph application did."""


@main.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of an aitrace record."""
    import json

    from ._schema import record_schema

    click.echo(json.dumps(record_schema(), indent=2))


@main.command("version")
def version_cmd() -> None:
    """Print the package and record-schema versions."""
    click.echo(f"aitrace {__version__} (record schema v{SCHEMA_VERSION}, Python {sys.version.split()[0]})")


def _add_viewer_commands() -> None:
    try:
        module = importlib.import_module("aitrace_viewer.cli")
    except ImportError as exc:
        missing = getattr(exc, "name", "") or ""
        server_deps = {"litestar", "sqlalchemy", "alembic", "uvicorn"}
        if missing.startswith("aitrace_viewer.cli") or missing in server_deps:
            return  # viewer extra not installed: `pip install 'aitrace[viewer]'`
        raise
    register = getattr(module, "register", None)
    if register is not None:
        register(main)


_add_viewer_commands()
