"""The handler's open runs, and whether LangChain is executing inside one of them in the current context.

LangChain says which run it is executing through its own context variable: while a runnable's body runs, the
child config it set (``var_child_runnable_config``) holds a callback manager whose ``parent_run_id`` is that
run. Between the chunks of a stream, or after ``batch`` has started its items, the caller's context holds the
caller's config instead. :meth:`Run.entered` reads that variable, so a run's span is current only inside the
run. LLM and retriever runs (and chains LangChain runs without a config of their own, such as
``trace_as_chain_group``) set no such variable: they count as entered from their start until their first
streamed token or their end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

from langchain_core.runnables.config import var_child_runnable_config

if TYPE_CHECKING:
    from aitrace_core import SpanHandle

    from ._proxy import RunScopedSpan

__all__ = ["Run", "RunMap", "current_run_id"]


def current_run_id() -> UUID | None:
    """The id of the run LangChain is executing in this context (None outside any runnable body)."""
    config = var_child_runnable_config.get()
    if not config:
        return None
    return getattr(config.get("callbacks"), "parent_run_id", None)


class Run:
    """Everything the handler keeps about one open run (end callbacks only get the run id)."""

    __slots__ = (
        "ambiguous",
        "cache",
        "first_token_ns",
        "handle",
        "interrupt",
        "kind",
        "metadata",
        "model",
        "name",
        "parent",
        "parent_id",
        "proxy",
        "rid",
        "root",
        "runs",
        "start_ns",
        "static",
        "thread_id",
        "token",
        "tokens",
        "tree",
    )

    def __init__(self, handle: SpanHandle | None, kind: str, name: str) -> None:
        self.handle = handle
        self.kind = kind
        self.name = name
        self.proxy: RunScopedSpan | None = None
        self.rid = ""  # str(run_id), written by the run and by its children as parent_run_id
        self.token: Any = None
        self.root: Run = self
        self.parent: Run | None = None
        self.parent_id: UUID | None = None
        self.runs: RunMap | None = None
        self.tree: set[UUID] | None = None  # open descendants, on roots only
        self.cache: dict[int, Any] | None = None  # on roots: converted messages shared by the trace
        self.metadata: dict[str, Any] | None = None  # the user's metadata, for children to compare with
        self.model: str | None = None
        self.thread_id: str | None = None
        self.start_ns = 0
        self.first_token_ns = 0
        self.tokens = 0
        self.interrupt: Any = None  # on roots: the interrupt() value that paused this graph run
        # LLM / retriever: no body config; entered from start to first token (``tokens``) or end
        self.static = False
        self.ambiguous = False  # one of several sibling LLM runs started together (generate with N prompts)

    def entered(self) -> bool:
        """True while LangChain executes inside this run in the current context."""
        if self.static:
            return not self.tokens and not self.ambiguous
        current = current_run_id()
        if current is None or self.runs is None:
            return False
        node = self.runs.get(current)
        while node is not None:
            if node is self:
                return True
            node = node.parent
        return False


class RunMap:
    """Open runs by run id. Callbacks arrive from several threads: writes hold the lock, reads need not."""

    __slots__ = ("_lock", "_runs")

    def __init__(self) -> None:
        self._runs: dict[UUID, Run] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[UUID]:
        return iter(list(self._runs))

    def get(self, run_id: UUID | None) -> Run | None:
        return self._runs.get(run_id) if run_id is not None else None

    def add(self, run_id: UUID, run: Run, parent: Run | None) -> None:
        """Register an open run under its parent (None: a root, which then tracks its open descendants)."""
        run.runs = self
        run.parent = parent
        with self._lock:
            self._runs[run_id] = run
            if parent is None:
                if run.tree is None:
                    run.tree = set()
            else:
                run.root = parent.root
                if run.root.tree is not None:
                    run.root.tree.add(run_id)

    def pop(self, run_id: UUID) -> Run | None:
        with self._lock:
            run = self._runs.pop(run_id, None)
            if run is not None and run.root is not run and run.root.tree is not None:
                run.root.tree.discard(run_id)
        return run

    def pop_tree(self, root: Run) -> list[Run]:
        """Remove and return the root's descendants that are still open (their end never came)."""
        with self._lock:
            ids = list(root.tree or ())
            leftovers = [r for r in (self._runs.pop(i, None) for i in ids) if r is not None]
            if root.tree is not None:
                root.tree.clear()
        return leftovers
