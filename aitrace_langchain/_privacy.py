"""Redaction: hide values under secret-looking keys and text matching secret-looking patterns."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["DEFAULT_PATTERNS", "DEFAULT_SECRET_KEYS", "REDACTED", "Redactor"]

REDACTED = "[REDACTED]"

#: Key names whose values are always replaced (compared lower-case, ``-`` read as ``_``).
DEFAULT_SECRET_KEYS: frozenset[str] = frozenset(
    {
        "api_key",
        "apikey",
        "openai_api_key",
        "anthropic_api_key",
        "access_token",
        "refresh_token",
        "id_token",
        "auth_token",
        "secret",
        "client_secret",
        "secret_key",
        "password",
        "passwd",
        "authorization",
        "x_api_key",
        "private_key",
        "cookie",
        "set_cookie",
        "session_token",
    }
)

#: Common API-key and token shapes.
DEFAULT_PATTERNS: tuple[str, ...] = (
    r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}",  # OpenAI, Anthropic
    r"\bAKIA[0-9A-Z]{16}\b",  # AWS access key id
    r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{40,}\b",
    r"\bAIza[0-9A-Za-z_\-]{35}\b",  # Google API key
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack
    r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
    r"\b(?i:bearer)\s+[A-Za-z0-9._~+/\-]{20,}=*",
    r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",  # JWT
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
)


#: Every match of a default pattern holds one of these (or "bearer" in any case).
_DEFAULT_LITERALS = (
    "sk-",
    "AKIA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "AIza",
    "xox",
    "hf_",
    "eyJ",
    "-----BEGIN ",
)


class Redactor:
    """Replaces secrets in text and in JSON-like values. ``enabled`` is False when there is nothing to do."""

    __slots__ = ("_keys", "_rx", "enabled", "has_patterns", "long_text", "min_match")

    def __init__(
        self,
        keys: Iterable[str] = DEFAULT_SECRET_KEYS,
        patterns: Iterable[str | re.Pattern[str]] = DEFAULT_PATTERNS,
    ):
        self._keys = frozenset(k.lower().replace("-", "_") for k in keys)
        sources = [p.pattern if isinstance(p, re.Pattern) else p for p in patterns]
        self._rx = re.compile("|".join(f"(?:{s})" for s in sources)) if sources else None
        self.has_patterns = self._rx is not None
        self.enabled = bool(self._keys or self._rx)
        #: No pattern matches text shorter than this: shorter strings skip the regex (most strings are).
        self.min_match = _min_width(self._rx.pattern) if self._rx is not None else 0
        #: Redacts a string at least ``min_match`` long. With the default patterns, a string holding none of
        #: their literal parts skips the regex, which scans ~0.1 us per character.
        self.long_text: Callable[[str], str] = functools.partial(self._rx.sub, REDACTED) if self._rx else str
        if self._rx is not None and sources == list(DEFAULT_PATTERNS):
            self.long_text = self._default_long_text

    def secret_key(self, key: Any) -> bool:
        """True when a mapping key names a secret."""
        return isinstance(key, str) and key.lower().replace("-", "_") in self._keys

    def text(self, value: str) -> str:
        """``value`` with every pattern match replaced by ``[REDACTED]``."""
        rx = self._rx
        if rx is None or not value or len(value) < self.min_match:
            return value
        return self.long_text(value)

    def _default_long_text(self, value: str) -> str:
        for literal in _DEFAULT_LITERALS:
            if literal in value:
                break
        else:
            if "bearer" not in value.lower():
                return value
        return self._rx.sub(REDACTED, value)  # type: ignore[union-attr]


def _min_width(pattern: str) -> int:
    """The fewest characters any match of ``pattern`` has (0 when it cannot be worked out)."""
    try:
        import importlib

        try:
            _parser: Any = importlib.import_module("re._parser")
        except ImportError:  # Python < 3.11
            _parser = importlib.import_module("sre_parse")
        return max(0, int(_parser.parse(pattern).getwidth()[0]))
    except Exception:
        return 0
