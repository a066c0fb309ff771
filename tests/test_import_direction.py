"""Dependencies point one way: aitrace_langchain → aitrace_core ← aitrace_viewer, and aitrace_demo on top.

An instrumented application installs core (and the LangChain package) without a web framework or a database:
core must never reach for the others, not even through ``importlib`` with a module name in a string.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "aitrace_core": ROOT / "aitrace_core",
    "aitrace_langchain": ROOT / "aitrace_langchain",
    "aitrace_viewer": ROOT / "viewer" / "aitrace_viewer",
    "aitrace_demo": ROOT / "aitrace_demo",
    "aitrace_pytest": ROOT / "aitrace_pytest",
}
MAY_IMPORT = {
    "aitrace_core": set(),
    "aitrace_langchain": {"aitrace_core"},
    "aitrace_viewer": {"aitrace_core"},
    "aitrace_demo": {"aitrace_core", "aitrace_langchain", "aitrace_viewer"},
    "aitrace_pytest": {"aitrace_core", "aitrace_langchain", "aitrace_viewer"},
}
_MODULE_NAME = re.compile(r"^(aitrace_\w+)(?:[.:]\w+)*$")


def _named_packages(path: Path) -> set[tuple[int, str]]:
    """Our packages that ``path`` imports, or names in a string that looks like a module path."""
    named = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            named |= {(node.lineno, alias.name.split(".")[0]) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            named.add((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _MODULE_NAME.match(node.value.strip())
            if match:
                named.add((node.lineno, match.group(1)))
    return {(line, name) for line, name in named if name in PACKAGES}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_a_package_imports_only_what_is_below_it(package: str) -> None:
    folder = PACKAGES[package]
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted(folder.rglob("*.py"))
        for line, name in sorted(_named_packages(path))
        if name != package and name not in MAY_IMPORT[package]
    ]
    allowed = sorted(MAY_IMPORT[package]) or "the standard library"
    assert not wrong, f"{package} may import only {allowed}: {wrong}"


def test_the_scan_sees_an_import_through_importlib(tmp_path: Path) -> None:
    """The scan is not blind to ``importlib.import_module("…")``, the way core used to load the viewer."""
    sample = tmp_path / "sample.py"
    sample.write_text('import importlib\nimportlib.import_module("aitrace_viewer.cli")\n', "utf-8")
    assert _named_packages(sample) == {(2, "aitrace_viewer")}
