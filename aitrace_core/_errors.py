"""Exceptions raised by aitrace.

AITraceError
 └── ConfigError      a setting is invalid; the message names the key, its source and what is allowed

Tracing itself never raises into the traced application: only explicit set-up calls raise these.
"""

from __future__ import annotations

__all__ = ["AITraceError", "ConfigError"]


class AITraceError(Exception):
    """Base class of aitrace's own errors."""


class ConfigError(AITraceError, ValueError):
    """A setting is invalid."""
