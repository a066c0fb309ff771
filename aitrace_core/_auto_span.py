"""``@auto_span``: any function (sync, async, generator, async generator) as a span of its own."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any, TypeVar, overload

from opentelemetry import context as otel_context

from ._fields import MISSING
from ._spans import SpanHandle, _detach, open_span, status_for_exception

__all__ = ["auto_span"]

F = TypeVar("F", bound=Callable[..., Any])


def _end_with(handle: SpanHandle, exc: BaseException) -> None:
    handle.end(status_for_exception(exc), error=exc)


@overload
def auto_span(func: F, /) -> F: ...
@overload
def auto_span(
    name: str | None = None,
    *,
    kind: str = "function",
    capture_args: bool = False,
    capture_result: bool = False,
) -> Callable[[F], F]: ...


def auto_span(
    name: Any = None,
    *,
    kind: str = "function",
    capture_args: bool = False,
    capture_result: bool = False,
) -> Any:
    """Make a function a span: sync, async, generator and async generator functions.

    ``@auto_span`` or ``@auto_span("name", capture_args=True, capture_result=True)``. The span is current
    while the function's body runs, so log lines and nested spans inside it land under it. A generator's
    span lasts until it is exhausted or closed.
    """
    if callable(name):
        return auto_span()(name)

    def decorate(func: F) -> F:
        span_name = name or func.__qualname__
        logger = getattr(func, "__module__", None) or "aitrace"
        sig: inspect.Signature | None = None
        if capture_args:
            try:
                sig = inspect.signature(func)
            except (TypeError, ValueError):
                sig = None

        def args_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            if not capture_args:
                return MISSING
            if sig is None:
                return {"args": args, "kwargs": kwargs}
            try:
                bound = sig.bind_partial(*args, **kwargs)
            except TypeError:
                return {"args": args, "kwargs": kwargs}
            return {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}

        def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> SpanHandle:
            return open_span(span_name, kind, logger=logger, input=args_of(args, kwargs))

        def result_of(value: Any) -> Any:
            return value if capture_result else MISSING

        if inspect.isasyncgenfunction(func):

            @functools.wraps(func)
            async def agen_wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
                gen = func(*args, **kwargs)
                handle = start(args, kwargs)
                ctx = handle.context()
                send: Any = None
                thrown: BaseException | None = None
                try:
                    while True:
                        token = otel_context.attach(ctx)
                        try:
                            if thrown is not None:
                                exc, thrown = thrown, None
                                item = await gen.athrow(exc)
                            else:
                                item = await gen.asend(send)
                        finally:
                            _detach(token)
                        try:
                            send = yield item
                        except GeneratorExit:
                            raise
                        except BaseException as exc:  # thrown in by the consumer
                            thrown = exc
                except StopAsyncIteration:
                    handle.end("ok")
                except GeneratorExit as exc:
                    token = otel_context.attach(ctx)
                    try:
                        await gen.aclose()
                    finally:
                        _detach(token)
                    _end_with(handle, exc)
                    raise
                except BaseException as exc:
                    _end_with(handle, exc)
                    raise

            return agen_wrapper  # type: ignore[return-value]

        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
                gen = func(*args, **kwargs)
                handle = start(args, kwargs)
                ctx = handle.context()
                send: Any = None
                thrown: BaseException | None = None
                try:
                    while True:
                        token = otel_context.attach(ctx)
                        try:
                            if thrown is not None:
                                exc, thrown = thrown, None
                                item = gen.throw(exc)
                            else:
                                item = gen.send(send)
                        finally:
                            _detach(token)
                        try:
                            send = yield item
                        except GeneratorExit:
                            raise
                        except BaseException as exc:
                            thrown = exc
                except StopIteration as stop:
                    handle.end("ok", output=result_of(stop.value))
                    return stop.value
                except GeneratorExit as exc:
                    token = otel_context.attach(ctx)
                    try:
                        gen.close()
                    finally:
                        _detach(token)
                    _end_with(handle, exc)
                    raise
                except BaseException as exc:
                    _end_with(handle, exc)
                    raise

            return gen_wrapper  # type: ignore[return-value]

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                handle = start(args, kwargs)
                token = otel_context.attach(handle.context())
                try:
                    result = await func(*args, **kwargs)
                except BaseException as exc:
                    _detach(token)
                    _end_with(handle, exc)
                    raise
                _detach(token)
                handle.end("ok", output=result_of(result))
                return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            handle = start(args, kwargs)
            token = otel_context.attach(handle.context())
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                _detach(token)
                _end_with(handle, exc)
                raise
            _detach(token)
            handle.end("ok", output=result_of(result))
            return result

        return wrapper  # type: ignore[return-value]

    return decorate
