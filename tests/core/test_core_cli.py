"""The ``aitrace`` command finds the commands other packages register, and says what to install for one whose
packages are missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN_CLI = "import sys; sys.path.insert(0, sys.argv.pop(1)); {block}from aitrace_core.cli import main; main()"


def _aitrace(folder: Path, *args: str, block: str = "") -> subprocess.CompletedProcess[str]:
    code = RUN_CLI.format(block=f"sys.modules[{block!r}] = None; " if block else "")
    return subprocess.run(
        [sys.executable, "-c", code, str(folder), *args], capture_output=True, text=True, timeout=120
    )


def _plugin(folder: Path, module_body: str) -> Path:
    """A distribution on ``folder`` that registers the command ``hello`` in the group ``aitrace.commands``."""
    (folder / "hello_cmd.py").write_text(module_body, "utf-8")
    info = folder / "hello_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n", "utf-8")
    (info / "entry_points.txt").write_text("[aitrace.commands]\nhello = hello_cmd:hello\n", "utf-8")
    return folder


HELLO = """import click
{imports}

@click.command()
def hello() -> None:
    '''Say hello.'''
    click.echo("hello from a plugin")
"""


def test_a_registered_command_runs_and_is_listed(tmp_path: Path) -> None:
    folder = _plugin(tmp_path, HELLO.format(imports=""))
    assert _aitrace(folder, "hello").stdout == "hello from a plugin\n"
    listing = _aitrace(folder, "--help").stdout
    # the server commands come the same way, from the viewer's and the demo's entry points
    for name in ("hello", "serve", "demo", "import", "export", "prune", "db", "schema", "version"):
        assert f"  {name} " in listing, name


def test_a_command_whose_extra_is_missing_names_the_extra(tmp_path: Path) -> None:
    """``pip install aitrace`` without the viewer extra: the command is there and says what to install."""
    folder = _plugin(tmp_path, HELLO.format(imports="import litestar"))
    result = _aitrace(folder, "hello", "--any", "arg", block="litestar")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "(litestar): pip install 'aitrace[viewer]'" in result.stderr
    listing = _aitrace(folder, "--help", block="litestar").stdout
    assert "not installed: pip install 'aitrace[viewer]'" in listing
    assert _aitrace(folder, "version", block="litestar").returncode == 0, "the other commands still work"


def test_a_command_that_cannot_be_imported_says_why(tmp_path: Path) -> None:
    folder = _plugin(tmp_path, HELLO.format(imports="from click import no_such_name"))
    result = _aitrace(folder, "hello")
    assert result.returncode == 1
    assert "this command cannot be loaded: cannot import name 'no_such_name'" in result.stderr


def test_listing_the_commands_imports_no_framework() -> None:
    """``aitrace --help`` stays quick: registered commands load their heavy packages only when they run."""
    code = (
        "import sys\nfrom aitrace_core.cli import main\n"
        "main(['--help'], standalone_mode=False)\n"
        "heavy = {'langchain_core', 'langgraph', 'litestar', 'sqlalchemy', 'uvicorn', 'alembic'}\n"
        "print('loaded:', sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "  demo " in out.stdout
    assert "loaded: []" in out.stdout, out.stdout[-300:]
