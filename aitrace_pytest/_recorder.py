"""One trace per test: a root span named by the node id with setup/call/teardown children, the records kept
in memory while the test runs, written to ``<dir>/<session>/<test>.jsonl`` (and an HTML viewer beside it when
the test failed)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import context as otel_context

from aitrace_core import SpanHandle, open_span
from aitrace_core.testing import CapturedRecords, capture_records

__all__ = ["Recorder", "file_stem", "instrument_langchain", "uninstrument_langchain"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(nodeid: str) -> str:
    """A file name for a test: its node id with path separators and brackets made safe; a short hash of the
    node id is added when other characters had to be replaced (two tests never share a file)."""
    readable = nodeid.replace("::", "__").replace("/", "_")
    stem = _UNSAFE.sub("_", readable).strip("_.") or "test"
    if stem != readable or len(stem) > 120:
        stem = f"{stem[:100]}-{hashlib.sha1(nodeid.encode(), usedforsecurity=False).hexdigest()[:8]}"
    return stem


def _outcome(exc: BaseException | None) -> tuple[str, str]:
    """``(span status, test outcome)`` of a phase that ended with ``exc``."""
    if exc is None:
        return "ok", "passed"
    if isinstance(exc, pytest.skip.Exception):
        return "ok", "skipped"
    if isinstance(exc, pytest.xfail.Exception):
        return "ok", "xfailed"
    return ("cancelled", "interrupted") if isinstance(exc, KeyboardInterrupt) else ("error", "failed")


def instrument_langchain() -> bool:
    """Trace every LangChain run (unless something already does), so that they nest under the test's span;
    True when this call turned it on."""
    try:
        import aitrace_langchain
    except ImportError:
        return False
    if aitrace_langchain.is_instrumented():
        return False
    aitrace_langchain.instrument()
    return True


def uninstrument_langchain() -> None:
    import aitrace_langchain

    aitrace_langchain.uninstrument()


class _TestRun:
    """The records and spans of one running test."""

    def __init__(self, item: pytest.Item) -> None:
        self.nodeid = item.nodeid
        self.failed = False
        self.outcome = "passed"
        self._stack = contextlib.ExitStack()
        self.records: CapturedRecords = self._stack.enter_context(capture_records())
        location = item.location
        try:
            self.root: SpanHandle = open_span(
                item.nodeid,
                "test",
                parent=otel_context.Context(),  # a trace of its own, whatever was current
                logger="aitrace.pytest",
                attributes={"test.nodeid": item.nodeid, "test.file": location[0], "test.line": location[1]},
            )
        except BaseException:
            self._stack.close()
            raise
        self._token = otel_context.attach(self.root.context())

    @contextlib.contextmanager
    def phase(self, name: str) -> Generator[None, None, None]:
        handle = open_span(name, "test_phase", parent=self.root, logger="aitrace.pytest")
        token = otel_context.attach(handle.context())
        try:
            yield
        except BaseException as exc:
            status, outcome = _outcome(exc)
            if outcome != "passed":
                self.outcome = outcome if self.outcome == "passed" else self.outcome
            handle.end(status, error=exc if status == "error" else None, attributes={"test.outcome": outcome})
            raise
        else:
            handle.end("ok")
        finally:
            with contextlib.suppress(Exception):
                otel_context.detach(token)

    def finish(self) -> None:
        with contextlib.suppress(Exception):
            otel_context.detach(self._token)
        outcome = "failed" if self.failed else self.outcome
        self.root.end("error" if self.failed else "ok", attributes={"test.outcome": outcome})
        self._stack.close()


class Recorder:
    """The plugin's state while ``--aitrace`` is on (registered by ``plugin.pytest_configure``)."""

    def __init__(self, config: pytest.Config, mode: str) -> None:
        self.config = config
        self.mode = mode
        worker: dict[str, Any] | None = getattr(config, "workerinput", None)
        session = worker.get("aitrace_session") if worker else None
        self.session = str(session or f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        base = config.getoption("aitrace_dir") or config.getini("aitrace_dir") or ".aitrace"
        self.folder = (config.rootpath / Path(str(base)).expanduser()) / self.session
        self._runs: dict[str, _TestRun] = {}
        self._kept = 0
        self._html: list[str] = []
        self._problems: list[str] = []
        self._instrumented = self._instrument()

    @staticmethod
    def _instrument() -> bool:
        return instrument_langchain()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._instrumented:
            uninstrument_langchain()

    def records_of(self, item: pytest.Item) -> CapturedRecords | None:
        run = self._runs.get(item.nodeid)
        return None if run is None else run.records

    def paths(self, item: pytest.Item) -> tuple[Path, Path]:
        stem = self.folder / file_stem(item.nodeid)
        return stem.with_name(stem.name + ".jsonl"), stem.with_name(stem.name + ".html")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, Any, Any]:
        try:
            run = _TestRun(item)
        except Exception as exc:  # tracing never fails a test: this one runs untraced
            self._problems.append(f"{item.nodeid}: not traced ({type(exc).__name__}: {exc})")
            return (yield)
        self._runs[item.nodeid] = run
        try:
            return (yield)
        finally:
            self._runs.pop(item.nodeid, None)
            try:
                run.finish()
                if run.failed or self.mode == "all":
                    self._keep(item, run)
            except Exception as exc:
                self._problems.append(f"{item.nodeid}: trace not kept ({type(exc).__name__}: {exc})")

    def _phase(self, item: pytest.Item, name: str) -> Generator[None, Any, Any]:
        run = self._runs.get(item.nodeid)
        if run is None:
            return (yield)
        with run.phase(name):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, Any, Any]:
        return (yield from self._phase(item, "setup"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        return (yield from self._phase(item, "call"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, Any, Any]:
        return (yield from self._phase(item, "teardown"))

    def note_report(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """A failed phase: the trace will be kept; the report names its HTML file (and JUnit XML carries it
        as a property)."""
        run = self._runs.get(item.nodeid)
        if run is None or not report.failed:
            return
        first = not run.failed
        run.failed = True
        if first:
            jsonl, html = self.paths(item)
            report.sections.append(("aitrace trace", f"open {html}\n(records: {jsonl})"))
            report.user_properties.append(("aitrace_html", str(html)))

    def _keep(self, item: pytest.Item, run: _TestRun) -> None:
        jsonl, html = self.paths(item)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            from aitrace_core import dumps

            with jsonl.open("wb") as fh:
                for record in run.records.raw:
                    fh.write(dumps(record) + b"\n")
            self._kept += 1
        except OSError as exc:
            self._problems.append(f"could not write {jsonl}: {exc}")
            return
        if not run.failed:
            return
        try:
            from aitrace_viewer.export_html import write_html
        except ImportError:
            note = "no HTML viewers written: pip install 'aitrace[viewer]' (the .jsonl files are there)"
            if note not in self._problems:
                self._problems.append(note)
            return
        try:
            write_html(list(run.records.raw), html, title=item.nodeid)
        except (OSError, ValueError) as exc:
            self._problems.append(f"could not write {html}: {exc}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == "aitrace_html" and value not in self._html:
                self._html.append(str(value))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not (self._html or self._kept or self._problems):
            return
        terminalreporter.write_sep("-", "aitrace")
        for path in self._html:
            terminalreporter.write_line(f"failed test's trace: {path}")
        if self._kept and not self._html:
            terminalreporter.write_line(f"traces kept in {self.folder}")
        for problem in self._problems:
            terminalreporter.write_line(f"aitrace: {problem}")
