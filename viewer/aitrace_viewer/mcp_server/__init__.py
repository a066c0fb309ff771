"""``aitrace mcp``: a read-only MCP server over the user's own traces (docs/mcp.md)."""

from ._server import build_server, file_store, mcp_cmd
from ._tools import BadArgument, TraceTools

__all__ = ["BadArgument", "TraceTools", "build_server", "file_store", "mcp_cmd"]
