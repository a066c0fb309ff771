"""aitrace_viewer: the aitrace server, store and browser viewer."""

from aitrace_core import __version__

__all__ = ["__version__"]
