"""The README and docs stay true: the quick start is what CI runs, and every snippet runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aitrace_core import record_schema

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the quick start has no bash block"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_is_two_commands_demo_then_tests() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("aitrace demo")
    assert "-m pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    pattern = re.search(r"grep -m1 -E '([^']+)' README.md", ci)
    assert pattern, ".ci/run no longer takes its test command from the README"
    matching = [c for c in _quick_start_commands() if re.search(pattern.group(1), c)]
    assert matching == [_quick_start_commands()[1]]


def _python_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, re.S)


@pytest.mark.parametrize("index", range(len(_python_snippets())))
def test_readme_snippet_runs(index: int, tmp_path: Path) -> None:
    code = _python_snippets()[index]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITRACE_")}
    env.update(
        HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_CACHE_HOME=str(tmp_path / "cache")
    )
    env["AITRACE_TARGET"] = str(tmp_path / "out.jsonl")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    out_file = tmp_path / "out.jsonl"
    if out_file.exists():
        lines += out_file.read_text("utf-8").splitlines()
    assert lines, "the snippet wrote no record"
    import jsonschema

    validator = jsonschema.Draft202012Validator(record_schema())
    for line in lines:
        validator.validate(json.loads(line))


def test_schema_doc_names_every_schema_field() -> None:
    doc = (ROOT / "docs" / "schema.md").read_text("utf-8")
    missing = [name for name in record_schema()["properties"] if f"`{name}`" not in doc]
    assert not missing, f"docs/schema.md does not mention {missing}"


OPTIONAL_IMPORTS = {"langchain_openai"}  # the demo uses a real model only when OPENAI_API_KEY is set


def _requirement_names(extra: str, pyproject: dict[str, object]) -> set[str]:
    """Distribution names an install of ``.[extra]`` asks for directly (extras of aitrace itself followed)."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    extras: dict[str, list[str]] = project["optional-dependencies"]
    names: set[str] = set()
    todo, seen = [extra], set()
    requirements = list(project["dependencies"])
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for req in extras[name]:
            inner = re.fullmatch(r"aitrace\[([^\]]+)\]", req.strip())
            if inner:
                todo.extend(part.strip() for part in inner.group(1).split(","))
            else:
                requirements.append(req)
    for req in requirements:
        names.add(re.split(r"[\s\[<>=!~;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-"))
    return names


def _packages_distributions() -> dict[str, list[str]]:
    """Top-level module → the distributions that install it. ``packages_distributions`` before Python 3.11
    reads only ``top_level.txt``, which most wheels (LangChain's, LangGraph's) no longer ship: there the
    modules are also read from each distribution's file list, as 3.11 does."""
    from importlib.metadata import distributions, packages_distributions

    found: dict[str, list[str]] = {k: list(v) for k, v in packages_distributions().items()}
    if sys.version_info < (3, 11):
        for dist in distributions():
            for path in dist.files or ():
                top = path.parts[0] if len(path.parts) > 1 else path.name.removesuffix(".py")
                if top.isidentifier() and dist.metadata["Name"] not in found.setdefault(top, []):
                    found[top].append(dist.metadata["Name"])
    return found


def test_the_demo_needs_nothing_beyond_the_quick_starts_extra() -> None:
    """The quick start installs ``.[all]`` (CI installs ``.[dev]``, which hides a missing requirement): every
    third-party module the demo imports must come from a distribution that ``all`` names."""
    import ast

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    extra = re.search(r"-e '\.\[(\w+)\]'", _quick_start_commands()[0])
    assert extra, "the demo command installs no extra"
    wanted = _requirement_names(extra.group(1), tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8")))
    dists = _packages_distributions()
    ours = {"aitrace_core", "aitrace_langchain", "aitrace_viewer", "aitrace_demo"}
    missing = {}
    for source in sorted((ROOT / "aitrace_demo").glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in ours or top in OPTIONAL_IMPORTS:
                    continue
                provided = {d.lower().replace("_", "-") for d in dists.get(top, [])}
                if not provided & wanted:
                    missing[f"{source.name}: {module}"] = sorted(provided)
    assert not missing, f"not in .[{extra.group(1)}]: {missing}"


def test_the_architecture_doc_names_only_files_that_exist() -> None:
    """docs/architecture.md tells contributors where things are: a file that moved must be moved there too."""
    doc = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    viewer = ROOT / "viewer" / "aitrace_viewer"
    homes = [ROOT, ROOT / "viewer", viewer, viewer / "static" / "js"]
    packages = ("aitrace_core", "aitrace_langchain", "viewer", "aitrace_demo", "tests")
    folders = [ROOT / name for name in packages]
    named = set(re.findall(r"[\w./*<>-]+\.(?:py|js|md|json|toml)\b", doc))
    assert {"aitrace_core/_runtime.py", "tree.js", "docs/schema.md"} <= named, "the scan found the paths"
    missing = []
    for name in sorted(named):
        pattern = re.sub(r"<[^>]+>", "*", name)
        if "/" in pattern:
            found = any(list(home.glob(pattern)) for home in homes)
        else:
            found = (ROOT / pattern).exists() or any(next(folder.rglob(pattern), None) for folder in folders)
        if not found:
            missing.append(name)
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"
