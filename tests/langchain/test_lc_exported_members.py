"""The public surface of aitrace_langchain is what docs/langchain.md says it is."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "langchain.md"


def _documented() -> dict[str, set[str]]:
    """Module → the names its table in docs/langchain.md lists."""
    sections = re.split(r"^## `([\w.]+)`\s*$", DOC.read_text("utf-8"), flags=re.M)
    return {
        module: set(re.findall(r"^\| `(\w+)` \|", body, re.M))
        for module, body in zip(sections[1::2], sections[2::2], strict=True)
    }


def test_the_page_documents_both_modules() -> None:
    assert set(_documented()) == {"aitrace_langchain", "aitrace_langchain.testing"}


@pytest.mark.parametrize("module_name", ["aitrace_langchain", "aitrace_langchain.testing"])
def test_all_is_what_the_docs_list(module_name: str) -> None:
    module = importlib.import_module(module_name)
    documented = _documented()[module_name]
    assert documented, f"docs/langchain.md lists nothing for {module_name}"
    assert len(module.__all__) == len(set(module.__all__)), "a name twice in __all__"
    assert set(module.__all__) == documented, (
        f"in __all__ only: {sorted(set(module.__all__) - documented)}; "
        f"documented only: {sorted(documented - set(module.__all__))}"
    )
    namespace: dict[str, object] = {}
    exec(f"from {module_name} import *", namespace)  # what a star import gives a user
    assert documented <= set(namespace)


def test_public_callables_are_documented() -> None:
    import aitrace_langchain

    for name in aitrace_langchain.__all__:
        obj = getattr(aitrace_langchain, name)
        assert not name.startswith("_"), name
        if callable(obj):
            assert obj.__doc__, name
    assert aitrace_langchain.AITraceHandler.__module__.startswith("aitrace_langchain")
