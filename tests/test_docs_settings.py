"""docs/configuration.md names every setting of every part, and shows the messages aitrace really writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from aitrace_viewer.settings import ViewerSettings
from pydantic_settings import BaseSettings

from aitrace_core import CoreSettings, load_settings
from aitrace_core._settings_check import ENV_ONLY
from aitrace_langchain._settings import HandlerSettings

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "configuration.md").read_text("utf-8")


@pytest.mark.parametrize("model", [CoreSettings, HandlerSettings, ViewerSettings], ids=lambda m: m.__name__)
def test_every_setting_is_documented_with_its_environment_variable(model: type[BaseSettings]) -> None:
    rows = [line for line in DOC.splitlines() if line.startswith("| `")]
    missing = [
        key
        for key in model.model_fields
        if not any(row.startswith(f"| `{key}` | `AITRACE_{key.upper()}` |") for row in rows)
    ]
    assert not missing, f"docs/configuration.md has no row for {missing}"


def test_every_environment_only_variable_is_documented() -> None:
    missing = [name for name in ENV_ONLY if f"| `{name}` |" not in DOC]
    assert not missing


def test_the_documented_messages_are_the_real_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AITRACE_BATCH_SIZE", "abc")
    load_settings(CoreSettings)
    [line] = capsys.readouterr().err.splitlines()
    assert line in DOC.splitlines()



def test_the_readme_points_to_the_settings_reference() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "(docs/configuration.md)" in readme
