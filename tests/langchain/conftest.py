"""Fixtures for the LangChain handler tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture
def detach_errors(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """WARNING-and-above stdlib records; the test asserts none says "Failed to detach context"."""
    caplog.set_level(logging.WARNING)
    found: list[logging.LogRecord] = []
    yield found
    found.extend(r for r in caplog.records if "Failed to detach context" in r.getMessage())
    assert not found, [r.getMessage() for r in found]
