"""The public surface of aitrace_core: every public name is exported, documented and enough for the packages
built on it; nothing outside core reaches into a private module."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import aitrace_core
import aitrace_core.testing

ROOT = Path(__file__).resolve().parents[2]
#: Code that builds on core and must do so through its public names only.
USERS_OF_CORE = [ROOT / "aitrace_langchain", ROOT / "viewer" / "aitrace_viewer", ROOT / "aitrace_demo"]
PUBLIC_SUBMODULES = {"testing", "cli"}


def _public_namespace(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }


def _python_files(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        yield from (p for p in folder.rglob("*.py") if "migrations" not in p.parts)


def _core_imports(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """``(line, module, names)`` of every import of aitrace_core in ``path``."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "aitrace_core":
                    yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.split(".")[0]
            if top == "aitrace_core":
                yield node.lineno, node.module, [alias.name for alias in node.names]


def test_all_is_exactly_the_public_namespace() -> None:
    """A public name that is not in ``__all__`` (or a stale entry in it) is a surface nobody decided on."""
    assert len(aitrace_core.__all__) == len(set(aitrace_core.__all__)), "a name is listed twice"
    assert set(aitrace_core.__all__) - {"__version__"} == _public_namespace(aitrace_core)


def test_every_public_class_and_function_has_its_own_docstring() -> None:
    for module in (aitrace_core, aitrace_core.testing):
        for name in module.__all__:
            member = getattr(module, name)
            if inspect.isclass(member) or inspect.isfunction(member):
                assert (member.__doc__ or "").strip(), f"{module.__name__}.{name} has no docstring"


def test_exported_names_live_in_private_modules_or_the_public_ones() -> None:
    for name in aitrace_core.__all__:
        home = getattr(getattr(aitrace_core, name), "__module__", None) or ""
        if home.startswith("aitrace_core."):
            sub = home.split(".")[1]
            assert sub.startswith("_") or sub in PUBLIC_SUBMODULES, f"{name} comes from {home}"


def test_no_private_core_module_is_imported_outside_core() -> None:
    """The LangChain package, the viewer and the demo use only what ``aitrace_core`` exports."""
    found = []
    for path in _python_files(*USERS_OF_CORE):
        for line, module, names in _core_imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            parts = module.split(".")
            if len(parts) > 1 and parts[1] not in PUBLIC_SUBMODULES:
                found.append(f"{where}: {module}")
            elif len(parts) == 1:
                found += [f"{where}: aitrace_core.{n}" for n in names if n not in aitrace_core.__all__]
    assert not found, f"private parts of aitrace_core used outside it: {found}"


def test_the_names_the_docs_and_examples_show_are_exported() -> None:
    """Removing or renaming a name that the README, docs or examples teach breaks users' code."""
    shown: dict[str, str] = {}
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text("utf-8")
        for match in re.finditer(r"from aitrace_core import (\([^)]*\)|[^\n]+)", text):
            for name in re.split(r"[(),\s]+", match.group(1)):
                if name:
                    shown.setdefault(name, path.name)
        for match in re.finditer(r"\baitrace_core\.(\w+)", text):
            shown.setdefault(match.group(1), path.name)
    for path in _python_files(ROOT / "examples"):
        for _line, module, names in _core_imports(path):
            if module == "aitrace_core":
                for name in names:
                    shown.setdefault(name, path.name)
        for match in re.finditer(r"\baitrace_core\.(\w+)", path.read_text("utf-8")):
            shown.setdefault(match.group(1), path.name)
    assert {"configure", "get_logger", "auto_span", "span"} <= set(shown), "the scan found the quick start"
    unknown = {
        name: where
        for name, where in shown.items()
        if name not in aitrace_core.__all__ and name not in PUBLIC_SUBMODULES and not name.startswith("_")
    }
    assert not unknown, f"shown to users but not exported: {unknown}"
