"""``@auto_span`` and ``span()``: nesting, concurrency, generators, errors, captured values, context."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry import trace

from aitrace_core import SpanHandle, auto_span, get_logger, open_span, span
from aitrace_core.testing import CapturedRecords

log = get_logger("tests.spans")


def _chain(records: CapturedRecords, name: str) -> list[str]:
    """Names from the span called ``name`` up to its root."""
    spans = records.spans()
    view = records.one(name)
    names = []
    while view is not None:
        names.append(view.name or "?")
        parent = view.parent_span_id
        view = spans.get(parent) if parent else None  # type: ignore[assignment]
    return names


def _current_span_id() -> int:
    return trace.get_current_span().get_span_context().span_id


def test_sync_nesting_five_levels(records: CapturedRecords) -> None:
    @auto_span
    def level5() -> str:
        log.info("deepest")
        return "done"

    @auto_span
    def level4() -> str:
        return level5()

    @auto_span
    def level3() -> str:
        return level4()

    @auto_span("level2")
    def two() -> str:
        return level3()

    with span("level1"):
        assert two() == "done"

    assert _chain(records, "test_sync_nesting_five_levels.<locals>.level5") == [
        "test_sync_nesting_five_levels.<locals>.level5",
        "test_sync_nesting_five_levels.<locals>.level4",
        "test_sync_nesting_five_levels.<locals>.level3",
        "level2",
        "level1",
    ]
    deepest = records.events("deepest")[0]
    assert deepest["span_id"] == records.one("test_sync_nesting_five_levels.<locals>.level5").span_id
    assert len({r["trace_id"] for r in records}) == 1
    assert "parent_span_id" not in records.one("level1").start  # type: ignore[operator]
    assert all(v.start and v.end and v.status == "ok" for v in records.spans().values() if v.name)


async def test_async_nesting_four_levels(records: CapturedRecords) -> None:
    @auto_span("d")
    async def d() -> int:
        await asyncio.sleep(0)
        log.info("in d")
        return 4

    @auto_span("c")
    async def c() -> int:
        return await d()

    @auto_span("b")
    async def b() -> int:
        async with span("b-inner"):
            return await c()

    @auto_span("a")
    async def a() -> int:
        return await b()

    assert await a() == 4
    assert _chain(records, "d") == ["d", "c", "b-inner", "b", "a"]
    assert records.events("in d")[0]["span_id"] == records.one("d").span_id


async def test_concurrent_tasks_keep_separate_traces(records: CapturedRecords) -> None:
    @auto_span("leaf")
    async def leaf(task: int, i: int) -> None:
        await asyncio.sleep(0)
        log.info("leaf log", task=task, i=i)

    @auto_span("root")
    async def root(task: int) -> None:
        for i in range(5):
            async with span("mid", task=task):
                await leaf(task, i)

    await asyncio.gather(*(root(t) for t in range(6)))
    # every line written inside the tasks arrives, once
    assert sorted((r["task"], r["i"]) for r in records.events("leaf log")) == [
        (t, i) for t in range(6) for i in range(5)
    ]
    spans = records.spans()
    roots = records.by_name("root")
    assert len(roots) == 6
    assert len({r.start["trace_id"] for r in roots}) == 6  # type: ignore[index]
    for rec in records.events("leaf log"):
        leaf_view = spans[rec["span_id"]]
        mid = spans[leaf_view.parent_span_id]  # type: ignore[index]
        assert mid.name == "mid"
        assert mid.start["task"] == rec["task"]  # type: ignore[index]
        assert spans[mid.parent_span_id].name == "root"  # type: ignore[index]
        assert rec["trace_id"] == mid.start["trace_id"]  # type: ignore[index]


def test_threads_keep_separate_traces(records: CapturedRecords) -> None:
    barrier = threading.Barrier(4)

    @auto_span("worker")
    def worker(n: int) -> None:
        barrier.wait(timeout=10)  # all four spans are open at the same time
        with span("inner", n=n):
            log.info("from thread", n=n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans = records.spans()
    assert len(records.by_name("worker")) == 4
    assert sorted(r["n"] for r in records.events("from thread")) == [0, 1, 2, 3]  # one line per thread
    for rec in records.events("from thread"):
        inner = spans[rec["span_id"]]
        assert inner.start["n"] == rec["n"]  # type: ignore[index]
        outer = spans[inner.parent_span_id]  # type: ignore[index]
        assert outer.name == "worker"
        assert outer.start["trace_id"] == rec["trace_id"]  # type: ignore[index]
        assert "parent_span_id" not in outer.start  # type: ignore[operator]
    assert len({r["trace_id"] for r in records}) == 4


def test_generator_span_lasts_until_exhausted(records: CapturedRecords) -> None:
    @auto_span("gen", capture_result=True)
    def gen(n: int) -> Iterator[int]:
        for i in range(n):
            log.info("yielding", i=i)
            yield i
        return n

    it = gen(3)
    assert next(it) == 0
    assert records.events("span_end") == []  # still open between items
    log.info("consumer between items")
    assert list(it) == [1, 2]
    view = records.one("gen")
    assert view.status == "ok"
    assert view.end["output"] == 3  # type: ignore[index]
    assert [r["span_id"] for r in records.events("yielding")] == [view.span_id] * 3
    # The consumer's own log line between items is not inside the generator's span.
    assert records.events("consumer between items")[0]["span_id"] != view.span_id


def test_generator_closed_early_is_cancelled(records: CapturedRecords) -> None:
    cleaned = []

    @auto_span("gen")
    def gen() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            cleaned.append(True)

    it = gen()
    next(it)
    it.close()
    assert cleaned == [True]
    assert records.one("gen").status == "cancelled"


def test_generator_error_is_recorded_and_reraised_unchanged(records: CapturedRecords) -> None:
    boom = KeyError("missing")

    @auto_span("gen")
    def gen() -> Iterator[int]:
        yield 1
        raise boom

    with pytest.raises(KeyError) as info:
        list(gen())
    assert info.value is boom
    end = records.one("gen").end
    assert end is not None
    assert end["status"] == "error"
    assert end["level"] == "error"
    assert end["error.type"] == "KeyError"
    assert end["error.message"] == "'missing'"
    assert "raise boom" in end["error.stacktrace"]


def test_generator_send_and_throw_reach_the_body(records: CapturedRecords) -> None:
    @auto_span("echo")
    def echo() -> Iterator[str]:
        got = yield "ready"
        try:
            yield f"got {got}"
        except ValueError as exc:
            yield f"caught {exc}"

    it = echo()
    assert next(it) == "ready"
    assert it.send("x") == "got x"
    assert it.throw(ValueError("v")) == "caught v"
    it.close()
    assert records.one("echo").status == "cancelled"


async def test_async_generator_span(records: CapturedRecords) -> None:
    @auto_span("agen")
    async def agen(n: int) -> AsyncIterator[int]:
        for i in range(n):
            await asyncio.sleep(0)
            log.info("ayield", i=i)
            yield i

    assert [i async for i in agen(3)] == [0, 1, 2]
    view = records.one("agen")
    assert view.status == "ok"
    assert [r["span_id"] for r in records.events("ayield")] == [view.span_id] * 3


async def test_async_generator_closed_early_is_cancelled(records: CapturedRecords) -> None:
    @auto_span("agen")
    async def agen() -> AsyncIterator[int]:
        yield 1
        yield 2

    it = agen()
    assert await it.__anext__() == 1
    await it.aclose()  # type: ignore[attr-defined]
    assert records.one("agen").status == "cancelled"


async def test_async_generator_error_is_reraised_unchanged(records: CapturedRecords) -> None:
    boom = RuntimeError("agen failed")

    @auto_span("agen")
    async def agen() -> AsyncIterator[int]:
        yield 1
        raise boom

    with pytest.raises(RuntimeError) as info:
        async for _ in agen():
            pass
    assert info.value is boom
    end = records.one("agen").end
    assert end is not None
    assert end["status"] == "error"
    assert (end["error.type"], end["error.message"]) == ("RuntimeError", "agen failed")


def test_sync_function_error_is_recorded_and_reraised_unchanged(records: CapturedRecords) -> None:
    class PaymentDeclined(Exception):
        pass

    boom = PaymentDeclined("card 4242 declined")

    @auto_span("charge")
    def charge() -> None:
        raise boom

    with pytest.raises(PaymentDeclined) as info:
        charge()
    assert info.value is boom
    end = records.one("charge").end
    assert end is not None
    assert end["status"] == "error"
    assert end["error.type"].endswith("PaymentDeclined")
    assert end["error.message"] == "card 4242 declined"
    assert "Traceback" in end["error.stacktrace"]


async def test_cancelled_task_ends_span_as_cancelled(records: CapturedRecords) -> None:
    started = asyncio.Event()

    @auto_span("waiter")
    async def waiter() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.ensure_future(waiter())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert records.one("waiter").status == "cancelled"


def test_span_context_manager_sync(records: CapturedRecords) -> None:
    with span("load", user=42, kind="retriever") as s:
        assert isinstance(s, SpanHandle)
        s.set(rows=10)
    view = records.one("load")
    assert view.kind == "retriever"
    assert view.start["user"] == 42  # type: ignore[index]
    assert view.end["rows"] == 10  # type: ignore[index]
    assert view.end["duration_ms"] >= 0  # type: ignore[index]


def test_span_context_manager_records_errors(records: CapturedRecords) -> None:
    boom = ValueError("bad row")
    with pytest.raises(ValueError) as info, span("load"):
        raise boom
    assert info.value is boom
    assert records.one("load").end["error.message"] == "bad row"  # type: ignore[index]


async def test_span_async_context_manager(records: CapturedRecords) -> None:
    async with span("fetch") as s:
        await asyncio.sleep(0)
        log.info("fetching")
    assert records.events("fetching")[0]["span_id"] == s.span_id
    assert records.one("fetch").status == "ok"


def test_capture_args_and_result(records: CapturedRecords) -> None:
    class Repo:
        @auto_span(capture_args=True, capture_result=True)
        def find(self, user_id: int, *, fields: tuple[str, ...] = ("name",)) -> dict[str, object]:
            return {"id": user_id, "fields": fields}

    Repo().find(7, fields=("name", "email"))
    view = records.one("test_capture_args_and_result.<locals>.Repo.find")
    assert view.start["input"] == {"user_id": 7, "fields": ["name", "email"]}  # type: ignore[index]
    assert view.end["output"] == {"id": 7, "fields": ["name", "email"]}  # type: ignore[index]


def test_nothing_captured_unless_asked(records: CapturedRecords) -> None:
    @auto_span("quiet")
    def quiet(secret: str) -> str:
        return secret

    quiet("hunter2")
    view = records.one("quiet")
    assert "input" not in view.start  # type: ignore[operator]
    assert "output" not in view.end  # type: ignore[operator]
    assert "hunter2" not in str(list(records))


def test_callers_context_is_restored(records: CapturedRecords) -> None:
    @auto_span
    def ok() -> None:
        pass

    @auto_span
    def fails() -> None:
        raise ValueError

    @auto_span
    def gen() -> Iterator[int]:
        yield 1
        yield 2

    with span("outer"):
        before = _current_span_id()
        ok()
        assert _current_span_id() == before
        with pytest.raises(ValueError):
            fails()
        assert _current_span_id() == before
        it = gen()
        next(it)
        assert _current_span_id() == before  # a suspended generator does not leak its span
        it.close()
        assert _current_span_id() == before
    assert not trace.get_current_span().get_span_context().is_valid


async def test_async_callers_context_is_restored(records: CapturedRecords) -> None:
    @auto_span
    async def fails() -> None:
        raise ValueError

    async with span("outer"):
        before = _current_span_id()
        with pytest.raises(ValueError):
            await fails()
        assert _current_span_id() == before
    assert not trace.get_current_span().get_span_context().is_valid


def test_open_span_with_explicit_parent(records: CapturedRecords) -> None:
    root = open_span("root", "graph")
    child = open_span("child", "node", parent=root, input={"q": 1})
    child.log("inside child", level="warning")
    child.end("ok", output={"a": 2})
    assert not child.end("error")  # only once
    root.end("interrupted")
    spans = records.spans()
    assert spans[child.span_id].parent_span_id == root.span_id
    assert spans[child.span_id].logs[0]["level"] == "warning"
    assert spans[root.span_id].status == "interrupted"
    assert len(records.events("span_end")) == 2


def test_reserved_attribute_names_are_kept_under_attr(records: CapturedRecords) -> None:
    with span("s", status="mine", trace_id="not-an-id"):
        log.info("line", span_id="x", level_of="y")
    start = records.one("s").start
    assert start is not None
    assert start["attr.status"] == "mine"
    assert start["attr.trace_id"] == "not-an-id"
    assert records.events("line")[0]["attr.span_id"] == "x"
