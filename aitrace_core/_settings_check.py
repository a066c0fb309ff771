"""Setting problems said once on stderr: bad values, unknown config keys and ``AITRACE_*`` variables.

A setting problem never stops the traced application: the loader (``_config.load_settings``) leaves the bad
value out, uses the next layer's value or the default, and says so here, once per process, in one line that
names the key, where it came from, what is allowed and what is used instead. Unknown keys get a "did you
mean". Core cannot import the other parts, so the names they read are listed here; a test pins these lists
to their settings models.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import threading
import typing
from collections.abc import Iterable
from typing import Any

import annotated_types
from pydantic.fields import FieldInfo

__all__ = [
    "ENV_ONLY",
    "ENV_PREFIX",
    "IGNORED_ENV_PREFIXES",
    "LANGCHAIN_KEYS",
    "VIEWER_KEYS",
    "allowed",
    "check_environment",
    "check_file_keys",
    "say_once",
]

ENV_PREFIX = "AITRACE_"

#: Config file keys (and ``AITRACE_<KEY>``) that the LangChain handler's settings read. The config file is
#: core's, so core knows every key in it (as names, never by importing the packages that read them);
#: tests/core/test_core_setting_problems.py keeps these lists equal to the settings classes that own them.
LANGCHAIN_KEYS = (
    "langchain_hide_inputs",
    "langchain_hide_outputs",
    "langchain_log_tokens",
    "langchain_sample_ratio",
    "langchain_dedup_messages",
    "langchain_prices_file",
)
#: Config file keys (and ``AITRACE_<KEY>``) that the server's settings read.
VIEWER_KEYS = (
    "host",
    "port",
    "db",
    "token",
    "allowed_hosts",
    "max_body_bytes",
    "max_record_bytes",
    "max_age",
    "prune_interval",
    "lenses",
)
#: Environment variables that are not config file keys, and what each is for.
ENV_ONLY = {
    "AITRACE_CONFIG": "the config file to read",
    "AITRACE_LANGCHAIN_TRACING": "trace every LangChain run in the process",
    "AITRACE_DEMO_MODEL": "the OpenAI model `aitrace demo` uses when OPENAI_API_KEY is set",
}
#: Variables with these prefixes belong to aitrace's own test suite, not to a user's set-up.
IGNORED_ENV_PREFIXES = ("AITRACE_TEST_",)

_MAX_SAID = 1000
_said: set[str] = set()
_said_lock = threading.Lock()


def say_once(message: str) -> None:
    """Write ``aitrace: <message>`` on stderr, unless this process already said exactly that."""
    with _said_lock:
        if message in _said or len(_said) >= _MAX_SAID:
            return
        _said.add(message)
    with contextlib.suppress(Exception):  # a closed or missing stderr is no reason to fail
        sys.stderr.write(f"aitrace: {message}\n")
        sys.stderr.flush()


def known_keys(core_keys: Iterable[str]) -> set[str]:
    """Every config file key some part of aitrace reads."""
    return {*core_keys, *LANGCHAIN_KEYS, *VIEWER_KEYS}


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else "no setting has a similar name"


def check_file_keys(keys: Iterable[str], path: os.PathLike[str] | str, core_keys: Iterable[str]) -> None:
    """Say which keys of the config file no part of aitrace reads."""
    known = known_keys(core_keys)
    for key in keys:
        if key in known:
            continue
        env_only = ENV_PREFIX + key.upper()
        if env_only in ENV_ONLY:
            hint = f"{key} is read from the environment only ({env_only})"
        else:
            hint = _did_you_mean(key, known)
        say_once(f"unknown key {key!r} in config file {path} ({hint}); it is ignored")


def check_environment(core_keys: Iterable[str], environ: typing.Mapping[str, str] | None = None) -> None:
    """Say which ``AITRACE_*`` environment variables no part of aitrace reads."""
    environ = os.environ if environ is None else environ
    known = {ENV_PREFIX + key.upper() for key in known_keys(core_keys)} | set(ENV_ONLY)
    for name in environ:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known or upper.startswith(IGNORED_ENV_PREFIXES):
            continue
        say_once(f"unknown environment variable {name} ({_did_you_mean(upper, known)}); it is ignored")


def _bounds(field: FieldInfo) -> str:
    parts = []
    for meta in field.metadata:
        if isinstance(meta, annotated_types.Ge):
            parts.append(f"at least {meta.ge}")
        elif isinstance(meta, annotated_types.Gt):
            parts.append(f"more than {meta.gt}")
        elif isinstance(meta, annotated_types.Le):
            parts.append(f"at most {meta.le}")
        elif isinstance(meta, annotated_types.Lt):
            parts.append(f"less than {meta.lt}")
        elif isinstance(meta, annotated_types.MinLen):
            parts.append(f"at least {meta.min_length} character" + ("s" if meta.min_length != 1 else ""))
        elif isinstance(meta, annotated_types.MaxLen):
            parts.append(f"at most {meta.max_length} characters")
    return (", " + " and ".join(parts)) if parts else ""


def allowed(field: FieldInfo) -> str:
    """What a field accepts, in words (``a whole number, at least 1 and at most 100000``)."""
    annotation = field.annotation
    args = typing.get_args(annotation)
    optional = type(None) in args
    if optional:
        inner = [a for a in args if a is not type(None)]
        annotation = inner[0] if len(inner) == 1 else annotation
    if typing.get_origin(annotation) is typing.Literal:
        text = "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    elif annotation is bool:
        text = "true or false (also 1/0, yes/no, on/off)"
    elif annotation is int:
        text = "a whole number" + _bounds(field)
    elif annotation is float:
        text = "a number" + _bounds(field)
    elif typing.get_origin(annotation) is list:
        text = 'a list of strings (in the environment as JSON: ["a", "b"])'
    elif annotation is str:
        text = "text" + _bounds(field)
    else:
        text = str(annotation)
    return text + (", or unset" if optional else "")


def describe_value(value: Any) -> str:
    """A short repr for messages (long values are cut)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + "…" + text[-10:]
