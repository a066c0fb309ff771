"""The pytest plugin (entry point ``pytest11``): one trace per test, kept with an HTML viewer when it fails.

Off until asked (``pytest --aitrace`` or ``aitrace = true`` in the ini file): loading it costs an import of
this module and nothing else, so a test suite that does not ask is unaffected. See docs/pytest.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._recorder import Recorder
    from ._spans import TestSpans

__all__ = ["MODES"]

MODES = ("failed", "all", "off")
_TRUE = ("true", "1", "yes", "on", "failed")
_FALSE = ("false", "0", "no", "off", "")
_RECORDER = "aitrace-recorder"


class _ModeAction(argparse.Action):
    """``--aitrace`` alone means ``failed``; ``--aitrace=all`` keeps every test's trace. A following word
    that is no mode (``pytest --aitrace tests/``) is given back as a test path, not taken as the mode."""

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option_string: str | None = None
    ) -> None:
        if values is None or values in MODES:
            setattr(namespace, self.dest, values or "failed")
            return
        setattr(namespace, self.dest, "failed")  # (pytest_load_initial_conftests gives the word back)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aitrace", "aitrace: one trace per test")
    group.addoption(
        "--aitrace",
        action=_ModeAction,
        nargs="?",
        default=None,
        dest="aitrace",
        metavar="failed|all|off",
        help="Trace each test; keep the traces of failed tests (default) or of all tests, "
        "with an HTML viewer per failure.",
    )
    group.addoption(
        "--aitrace-dir",
        default=None,
        dest="aitrace_dir",
        help="Where traces go (default .aitrace, relative to the rootdir): <dir>/<session>/<test>.jsonl.",
    )
    parser.addini(
        "aitrace", "Trace each test: true (keep failed tests' traces), all, or false.", default="false"
    )
    parser.addini("aitrace_dir", "Folder of the per-test traces (default .aitrace).", default=".aitrace")


def _mode(config: pytest.Config) -> str:
    given = config.getoption("aitrace")
    if given is None:
        value = str(config.getini("aitrace")).strip().lower()
        if value in _FALSE:
            return "off"
        if value == "all":
            return "all"
        if value in _TRUE:
            return "failed"
        raise pytest.UsageError(f"ini option aitrace = {value!r}: use true, all or false")
    return str(given)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Give back a path that ``--aitrace PATH`` took as its value (see :class:`_ModeAction`)."""
    for i, arg in enumerate(args[:-1]):
        word = args[i + 1]
        if arg == "--aitrace" and word not in MODES and not word.startswith("-"):
            args[i : i + 1] = ["--aitrace=failed"]
            early = early_config.known_args_namespace
            paths = getattr(early, "file_or_dir", None)
            if isinstance(paths, list) and word not in paths:
                paths.insert(0, word)
            break


def pytest_configure(config: pytest.Config) -> None:
    mode = _mode(config)
    if mode == "off":
        return
    from ._recorder import Recorder  # (only now: a suite that does not ask imports nothing of aitrace)

    config.pluginmanager.register(Recorder(config, mode), _RECORDER)


def _recorder(config: pytest.Config) -> Recorder | None:
    plugin: Recorder | None = config.pluginmanager.get_plugin(_RECORDER)
    return plugin


@pytest.fixture
def aitrace_spans(request: pytest.FixtureRequest) -> Iterator[TestSpans]:
    """The spans and records the current test caused, with helpers (``of_kind``, ``tool_calls``,
    ``total_tokens``…). Works with or without ``--aitrace``."""
    from ._spans import TestSpans

    recorder = _recorder(request.config)
    current = recorder.records_of(request.node) if recorder is not None else None
    if current is not None:
        yield TestSpans(current)
        return
    from aitrace_core.testing import capture_records

    from ._recorder import instrument_langchain, uninstrument_langchain

    turned_on = instrument_langchain()
    try:
        with capture_records() as captured:
            yield TestSpans(captured)
    finally:
        if turned_on:
            uninstrument_langchain()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, on the controller: every worker writes into the controller's session folder."""
    recorder = _recorder(node.config)
    if recorder is not None:
        node.workerinput["aitrace_session"] = recorder.session


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    report = yield
    recorder = _recorder(item.config)
    if recorder is not None:
        recorder.note_report(item, report)
    return report
