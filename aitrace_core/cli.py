"""The ``aitrace`` command: core's own commands plus those other packages register as entry points.

A package adds commands through the entry-point group ``aitrace.commands`` (``name = "module:click_command"``
in its ``pyproject.toml``); core never names them. A command whose module cannot be imported (its extra is
not installed) still appears, and says which extra to install.
"""

from __future__ import annotations

import sys
from importlib import metadata

import click

from ._extras import extra_for_module
from ._version import SCHEMA_VERSION, __version__

__all__ = ["COMMAND_GROUP", "main"]

COMMAND_GROUP = "aitrace.commands"


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


def _unavailable(name: str, exc: ImportError) -> click.Command:
    """A stand-in for a command whose module cannot be imported: it names the extra to install when a
    package of one is missing, else the import error itself."""
    extra = extra_for_module(exc.name) if exc.name else None
    if extra:
        fix = f"pip install 'aitrace[{extra}]'"
        short = f"not installed: {fix}"
        message = f"this command needs packages that are not installed ({exc.name}): {fix}"
    else:
        short = "cannot be loaded"
        message = f"this command cannot be loaded: {exc}"

    @click.command(name, help=f"({short})", context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def unavailable(args: tuple[str, ...]) -> None:
        raise click.ClickException(message)

    return unavailable


def _add_registered_commands(group: click.Group) -> None:
    for entry in metadata.entry_points(group=COMMAND_GROUP):
        if entry.name in group.commands:
            continue  # the first registration wins; core's own commands are never replaced
        try:
            command = entry.load()
        except ImportError as exc:
            command = _unavailable(entry.name, exc)
        if isinstance(command, click.Command):
            group.add_command(command, entry.name)


_add_registered_commands(main)
