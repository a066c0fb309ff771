"""``aitrace mcp``: a read-only MCP server over the user's own traces (docs/mcp.md)."""

from __future__ import annotations

from typing import Any

from ._command import mcp_cmd

__all__ = ["BadArgument", "TraceTools", "build_server", "file_store", "mcp_cmd"]

_LAZY = {"BadArgument": "_tools", "TraceTools": "_tools", "build_server": "_server", "file_store": "_server"}


def __getattr__(name: str) -> Any:
    """The server's parts load on first use: ``aitrace --help`` must not import the web stack."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
