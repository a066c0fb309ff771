"""Shared fixtures: reset aitrace's global state around every test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import aitrace_core
from aitrace_core import _sigterm
from aitrace_core._runtime import runtime
from aitrace_core.testing import CapturedRecords, capture_records


@pytest.fixture(autouse=True)
def _reset_aitrace(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test writes to the real ~/logs, ~/.cache or ~/.config, nor leaks configuration into the next."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for key in list(__import__("os").environ):
        if key.startswith("AITRACE_") and not key.startswith("AITRACE_TEST_"):
            monkeypatch.delenv(key)
    saved = (runtime.sink, runtime.configured, runtime.service, runtime.limits, runtime.level_no)
    saved_processors = list(runtime.processors)
    try:
        yield
    finally:
        aitrace_core.shutdown(timeout=2.0)
        _sigterm.uninstall()  # configure() in this process installed a SIGTERM handler
        runtime.sink, runtime.configured, runtime.service, runtime.limits, runtime.level_no = saved
        runtime.processors = saved_processors
        for handler in list(logging.getLogger().handlers):
            if isinstance(handler, aitrace_core.StdlibBridge):
                logging.getLogger().removeHandler(handler)


@pytest.fixture
def records() -> Iterator[CapturedRecords]:
    """Every record written during the test, validated against the record schema at the end."""
    with capture_records() as captured:
        yield captured
    captured.validate()


@pytest.fixture(autouse=True)
def _fresh_setting_reports() -> Iterator[None]:
    """Setting problems are said once per process; each test starts as a fresh process would."""
    from aitrace_core import _settings_check

    _settings_check._said.clear()
    yield
    _settings_check._said.clear()
