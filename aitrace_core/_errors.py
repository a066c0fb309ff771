"""Exceptions raised by aitrace.

AITraceError
 └── ConfigError      an argument given in code (or a server setting) is invalid; the message names the
                      key, where it came from and what is allowed

Tracing itself never raises into the traced application: only explicit set-up calls with a bad argument raise
these. A bad value from the environment or the config file is said once on stderr and replaced.
"""

from __future__ import annotations

__all__ = ["AITraceError", "ConfigError"]


class AITraceError(Exception):
    """Base class of aitrace's own errors."""


class ConfigError(AITraceError, ValueError):
    """A setting is invalid."""
