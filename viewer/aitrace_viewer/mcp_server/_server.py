"""The MCP server (official ``mcp`` SDK): its tools over a store, and a store made from a .jsonl file."""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from ..cli import checked_batches
from ..store import Store
from ._tools import BadArgument, TraceTools

__all__ = ["build_server", "file_store"]

_F = TypeVar("_F", bound=Callable[..., str])

INSTRUCTIONS = (
    "Read-only access to aitrace traces of LangChain / LangGraph runs: list_traces to find a run, get_trace "
    "for its span tree (compact, within max_chars), get_span for one span in full (messages, tool calls, "
    "error and stack trace, log records), search for words in any record, get_thread for a conversation, "
    "compare_traces for why two runs differ."
)


def _as_tool_error(fn: _F) -> _F:
    """A :class:`BadArgument` becomes the SDK's ToolError: an error result with the message, no traceback."""
    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        try:
            return fn(*args, **kwargs)
        except BadArgument as exc:
            raise ToolError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def build_server(store: Store) -> Any:
    """An ``MCPServer`` whose tools read ``store``."""
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    from .. import __version__

    tools = TraceTools(store)
    server = MCPServer("aitrace", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only, structured_output=False)
    @_as_tool_error
    def list_traces(
        limit: int = 20,
        service: str | None = None,
        status: str | None = None,
        errors: bool = False,
        since: str | None = None,
        until: str | None = None,
        model: str | None = None,
        thread_id: str | None = None,
        query: str | None = None,
    ) -> str:
        """Recent traces, newest first, one line each: trace_id, start, duration, status, root name, span and
        error counts, tokens, cost, model, thread, and a short preview of the input. Filters: service,
        status (ok, error, cancelled, interrupted, running), errors=true (only traces with an error),
        since/until (RFC 3339 times), model, thread_id, query (words that must appear in a record)."""
        return tools.list_traces(
            limit=limit,
            service=service,
            status=status,
            errors=errors,
            since=since,
            until=until,
            model=model,
            thread_id=thread_id,
            query=query,
        )

    @server.tool(annotations=read_only, structured_output=False)
    @_as_tool_error
    def get_trace(trace_id: str, span_id: str | None = None, max_chars: int = 8000) -> str:
        """A trace's span tree as an indented outline: kind, name, [span_id], duration, status and a one-line
        summary of inputs, outputs and errors per span. Fits in max_chars: the top levels and the path to
        every error come first; parts left out say how to get them (span_id=… outlines one subtree)."""
        return tools.get_trace(trace_id, span_id=span_id, max_chars=max_chars)

    @server.tool(annotations=read_only, structured_output=False)
    @_as_tool_error
    def get_span(trace_id: str, span_id: str, max_chars: int = 12_000) -> str:
        """One span in full: its chat messages, tool calls, inputs, outputs, error with stack trace, other
        fields and log records, cut at max_chars with a note of what was left out."""
        return tools.get_span(trace_id, span_id, max_chars=max_chars)

    @server.tool(annotations=read_only, structured_output=False)
    @_as_tool_error
    def search(query: str, limit: int = 20) -> str:
        """Full-text search over every record (messages, tool arguments and results, errors, log lines):
        newest hits first, each with its trace_id and span_id and a snippet."""
        return tools.search(query, limit=limit)

    @server.tool(annotations=read_only, structured_output=False)
    @_as_tool_error
    def get_thread(thread_id: str, max_chars: int = 8000) -> str:
        """A conversation's turns (the traces sharing a LangGraph thread_id), oldest first: each turn's
        trace_id, status, the user's message and the final answer."""
        return tools.get_thread(thread_id, max_chars=max_chars)

    @server.tool(annotations=read_only, structured_output=False)
    @_as_tool_error
    def compare_traces(trace_a: str, trace_b: str, max_chars: int = 8000) -> str:
        """Why did run B differ from run A? Both runs' totals with deltas, the first divergence, then each
        pair of spans (matched by node, tool-call and LLM-call order) that changed or ran on one side only,
        with short word diffs of prompts, messages, tool arguments and outputs."""
        return tools.compare_traces(trace_a, trace_b, max_chars=max_chars)

    return server


@contextlib.contextmanager
def file_store(path: Path, max_record_bytes: int) -> Iterator[Store]:
    """A throwaway SQLite store holding the records of a .jsonl file (validated like ``aitrace import``)."""
    with tempfile.TemporaryDirectory(prefix="aitrace-mcp-") as folder:
        store = Store(f"sqlite:///{Path(folder) / 'file.db'}")
        try:
            count = 0
            for _done, _body, records, raws in checked_batches(path, max_record_bytes):
                count += store.ingest(records, raws).ingested
            if not count:
                raise click.ClickException(f"{path} holds no records")
            yield store
        finally:
            store.close()
