"""Global enable: one ``AITraceHandler`` added to every LangChain run through LangChain's configure hook.

``instrument()`` / ``uninstrument()`` in code, or ``AITRACE_LANGCHAIN_TRACING=true`` in the environment (read
on every run; a value that is not a boolean is said once on stderr and means off). With the variable set, a
startup hook installed with the package (``aitrace_langchain_autoload.pth``) imports ``aitrace_langchain``
when Python starts, so an application that never imports aitrace is traced too. A run whose callbacks
already hold an ``AITraceHandler`` does not get a second one.
"""

from __future__ import annotations

import threading
from typing import Any

from langchain_core.tracers.context import register_configure_hook

from ._handler import AITraceHandler
from ._settings import TRACING_ENV_VAR, tracing_enabled

__all__ = ["ENV_VAR", "instrument", "is_instrumented", "uninstrument"]

ENV_VAR = TRACING_ENV_VAR


class _GlobalHandler:
    """Looks like the ContextVar LangChain's configure hook reads, but is the same in every thread and
    task."""

    def __init__(self) -> None:
        self.explicit: AITraceHandler | None = None
        self.from_env: AITraceHandler | None = None
        self.lock = threading.Lock()

    def get(self, default: Any = None) -> AITraceHandler | None:
        if self.explicit is not None:
            return self.explicit
        if tracing_enabled():
            if self.from_env is None:
                with self.lock:
                    if self.from_env is None:
                        self.from_env = AITraceHandler()
            return self.from_env
        return None


_global = _GlobalHandler()
tracing_enabled()  # a misspelt value is said when the package loads, not only at the first run
register_configure_hook(_global, inheritable=True, handle_class=AITraceHandler)  # type: ignore[arg-type]


def instrument(handler: AITraceHandler | None = None, **options: Any) -> AITraceHandler:
    """Trace every LangChain and LangGraph run in this process; returns the handler in use.

    ``options`` are :class:`AITraceHandler` options, used when no ``handler`` is given.
    """
    with _global.lock:
        _global.explicit = handler or AITraceHandler(**options)
        return _global.explicit


def uninstrument() -> None:
    """Stop tracing runs that do not pass an ``AITraceHandler`` themselves."""
    with _global.lock:
        _global.explicit = None


def is_instrumented() -> bool:
    """True when :func:`instrument` or the environment variable enables global tracing."""
    return _global.get() is not None
