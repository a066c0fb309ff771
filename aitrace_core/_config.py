"""Configuration in layers: command line (or code) > ``AITRACE_*`` environment > config file > defaults.

The config file is ``$AITRACE_CONFIG`` if set, else ``~/.config/aitrace/config.toml`` (or ``config.yaml``),
honouring ``$XDG_CONFIG_HOME``. Keys are flat and shared by every part of aitrace; each part reads the keys
it knows. A bad value given in code raises :class:`ConfigError`; one from the environment or the file is
said once on stderr and replaced (see ``load_settings``).
"""

from __future__ import annotations

import contextvars
import os
import sys
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from ._errors import ConfigError
from ._paths import config_dir
from ._settings_check import ENV_PREFIX, allowed, check_environment, check_file_keys, describe_value, say_once
from ._targets import check_target

__all__ = ["CoreSettings", "LayeredSettings", "config_file", "config_stamp", "load_settings"]


def config_file() -> Path | None:
    """The config file in force, or None when there is none."""
    explicit = os.environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    for name in _NAMES:
        candidate = config_dir() / name
        if candidate.is_file():
            return candidate
    return None


_NAMES = ("config.toml", "config.yaml", "config.yml")


def config_stamp() -> tuple[object, ...]:
    """Changes when the config file in force or its content may have changed; cheap (os.stat, no pathlib),
    for callers that cache settings."""
    explicit = os.environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        candidates = [os.path.expanduser(explicit)]
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        candidates = [os.path.join(base, "aitrace", name) for name in _NAMES]
    stamp: list[object] = []
    for candidate in candidates:
        try:
            st = os.stat(candidate)
        except OSError:
            stamp.append((candidate, None))
            continue
        stamp.append((candidate, st.st_mtime_ns, st.st_size))
        break
    return tuple(stamp)


class LayeredSettings(BaseSettings):
    """Base class of settings read in aitrace's layers: arguments > ``AITRACE_*`` environment > config file >
    defaults (the server's and the LangChain handler's settings build on it)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if _only_given.get():  # load_settings has merged the layers itself
            return (init_settings,)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None and path.is_file():
            if path.suffix == ".toml":
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            else:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)


def _default_service_name() -> str:
    argv0 = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else ""
    return argv0 if argv0 and argv0 not in ("-c", "-m", "__main__", "") else "app"


class CoreSettings(LayeredSettings):
    """Settings of the instrumented application (``aitrace_core.configure``)."""

    service_name: str = Field(default_factory=_default_service_name, min_length=1, max_length=200)
    target: str | None = None
    """An aitrace server's URL (``http://127.0.0.1:8000``, batches go to its ``/api/ingest``), a file path,
    ``-`` (stdout), or ``none`` (no aitrace target: records go only to the OTLP export). None:
    ``~/logs/<service>/<time>.jsonl``, named on stderr when first written."""
    otlp_endpoint: str | None = None
    """Also send spans and logs as OTLP/HTTP to this receiver (an OpenTelemetry Collector's
    ``http://host:4318``; ``/v1/traces`` and ``/v1/logs`` are added). Needs ``aitrace[otlp]``."""
    otlp: bool = False
    """Send OTLP to where the standard ``OTEL_EXPORTER_OTLP_*`` variables say, with no ``otlp_endpoint``."""
    otlp_headers: str | None = None
    """Headers of OTLP requests, ``key=value,key2=value2``; None: ``OTEL_EXPORTER_OTLP_HEADERS``."""
    level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    token: str | None = None
    """Bearer token sent with HTTP batches (the server's ``--token``)."""
    capture_stdlib: bool = False
    """Route stdlib ``logging`` records through aitrace as well."""
    batch_size: int = Field(default=512, ge=1, le=100_000)
    flush_interval: float = Field(default=1.0, gt=0, le=3600)
    queue_size: int = Field(default=10_000, ge=100, le=10_000_000)
    queue_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    exit_timeout: float = Field(default=5.0, ge=0, le=600)
    handle_sigterm: bool = True
    """On SIGTERM, deliver what is buffered (within ``exit_timeout``) before the process ends; only when the
    application has no SIGTERM handler of its own and ``configure`` runs in the main thread."""
    request_timeout: float = Field(default=10.0, gt=0, le=600)
    spill_dir: str | None = None
    """Where HTTP batches go when the server stays away. None: ``~/.cache/aitrace/spill``."""
    gzip: bool = True
    max_value_chars: int = Field(default=65_536, ge=256)
    max_items: int = Field(default=1_000, ge=10)
    max_depth: int = Field(default=32, ge=2, le=100)
    max_record_bytes: int = Field(default=1_048_576, ge=4096)
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    capture_otel_spans: bool = True
    """Write the spans other code makes through the OpenTelemetry API in this process (OpenAI SDK,
    httpx, FastAPI instrumentations, your own tracer) as records in the same tree (docs/otlp.md)."""

    @field_validator("target")
    @classmethod
    def _check_target(cls, value: str | None) -> str | None:
        if value is not None:
            check_target(value)  # ValueError: neither a URL nor a plausible path (``127.0.0.1:8000``)
        return value

    @field_validator("otlp_endpoint")
    @classmethod
    def _check_otlp_endpoint(cls, value: str | None) -> str | None:
        if value is not None and check_target(value) != "http":
            raise ValueError(f"{value!r} is not an http(s) URL such as http://127.0.0.1:4318")
        return value

    @field_validator("level", mode="before")
    @classmethod
    def _lower_level(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def queue_options(self) -> dict[str, Any]:
        """What every shipper made from these settings shares (the aitrace target's, the OTLP export's)."""
        return {
            "service_name": self.service_name,
            "batch_size": self.batch_size,
            "flush_interval": self.flush_interval,
            "max_queue": self.queue_size,
            "max_queue_bytes": self.queue_max_bytes,
            "exit_timeout": self.exit_timeout,
        }


S = TypeVar("S", bound=BaseSettings)

ARGUMENTS = "the command line / code"

_only_given: contextvars.ContextVar[bool] = contextvars.ContextVar("aitrace_only_given", default=False)
_file_cache: dict[tuple[str, int, int], dict[str, Any]] = {}


def _read_file(cls: type[BaseSettings], path: Path) -> dict[str, Any]:
    """Every key of the config file (cached while the file is unchanged)."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    data = _file_cache.get(key)
    if data is None:
        source: InitSettingsSource
        if path.suffix == ".toml":
            source = TomlConfigSettingsSource(cls, toml_file=path)
        else:
            source = YamlConfigSettingsSource(cls, yaml_file=path)
        data = dict(source())
        _file_cache.clear()
        _file_cache[key] = data
    return data


def _file_layer(cls: type[BaseSettings]) -> tuple[str, dict[str, Any]]:
    """``(where, values)`` of the config file; a missing or unreadable file is said once and skipped."""
    path = config_file()
    if path is None:
        return "", {}
    where = f"config file {path}"
    if not path.is_file():
        say_once(f"config file {path} (from {ENV_PREFIX}CONFIG) does not exist; it is ignored")
        return where, {}
    try:
        data = _read_file(cls, path)
    except Exception as exc:  # malformed TOML / YAML, unreadable file, a list at the top level
        reason = " ".join(str(exc).split())
        say_once(f"cannot read config file {path} ({reason}); its settings are ignored")
        return where, {}
    check_file_keys(data, path, CoreSettings.model_fields)
    return where, {k: v for k, v in data.items() if k in cls.model_fields}


def _env_layer(cls: type[BaseSettings]) -> tuple[dict[str, Any], dict[str, str]]:
    """``AITRACE_*`` values of ``cls``'s fields (list fields decoded from JSON), and the ones that could not
    be decoded (key → reason)."""
    source = EnvSettingsSource(cls)
    values: dict[str, Any] = {}
    undecodable: dict[str, str] = {}
    for name, field in cls.model_fields.items():
        value, _key, is_complex = source.get_field_value(field, name)
        if value is None:
            continue
        try:
            value = source.prepare_field_value(name, field, value, is_complex)
        except ValueError as exc:
            undecodable[name] = f"not JSON ({exc})"
            values[name] = value
            continue
        if value is not None:
            values[name] = value
    return values, undecodable


class _Problem:
    __slots__ = ("key", "kind", "message", "value", "where")

    def __init__(self, key: str, where: str, value: Any, message: str, kind: str = "") -> None:
        self.key, self.where, self.value, self.message, self.kind = key, where, value, message, kind

    def text(self, cls: type[BaseSettings]) -> str:
        field = cls.model_fields.get(self.key)
        says_allowed = self.kind in ("literal_error", "value_error")  # the message already lists them
        allowed_text = f"; allowed: {allowed(field)}" if field is not None and not says_allowed else ""
        message = self.message[0].lower() + self.message[1:] if self.message else "invalid"
        return f"{self.key}={describe_value(self.value)} from {self.where}: {message}{allowed_text}"


def _env_name(key: str) -> str:
    return f"environment variable {ENV_PREFIX}{key.upper()}"


def load_settings(cls: type[S], *, strict: bool = False, given_from: str = ARGUMENTS, **overrides: Any) -> S:
    """Build ``cls`` from all layers, ``overrides`` (command line or code) winning; None is ignored.

    A bad value in ``overrides`` raises :class:`ConfigError` (a programming error). A bad value from the
    environment or the config file raises too when ``strict``; otherwise it is said once on stderr (key,
    source, what is allowed, what is used instead) and the next layer's value or the default is used.
    Unknown config file keys and ``AITRACE_*`` variables are said once, with a "did you mean".
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    check_environment(CoreSettings.model_fields)
    file_where, file_values = _file_layer(cls)
    env_values, undecodable = _env_layer(cls)
    # Highest priority first; a key found bad in a layer is taken out of that layer and validation repeats.
    layers: list[tuple[str, dict[str, Any]]] = [
        (given_from, dict(given)),
        ("", env_values),
        (file_where, dict(file_values)),
    ]
    problems: list[_Problem] = []
    for key, reason in undecodable.items():
        problems.append(_Problem(key, _env_name(key), env_values.pop(key), reason))

    def where_of(key: str) -> tuple[int, str] | None:
        for index, (label, values) in enumerate(layers):
            if key in values:
                return index, label or _env_name(key)
        return None

    for _ in range(len(cls.model_fields) + 2):
        merged: dict[str, Any] = {}
        for _label, values in reversed(layers):
            merged.update(values)
        token = _only_given.set(True)
        try:
            settings = cls(**merged)
        except ValidationError as exc:
            found: list[_Problem] = []
            for err in exc.errors():
                key = str(err.get("loc", ("?",))[0]) if err.get("loc") else "?"
                if any(p.key == key for p in found):  # several errors in one value (a list): one problem
                    continue
                origin = where_of(key)
                if origin is None:  # a default that fails validation: a bug of ours, not a setting problem
                    raise
                index, where = origin
                value = layers[index][1].pop(key)
                message, kind = str(err.get("msg", "invalid")), str(err.get("type", ""))
                found.append(_Problem(key, where, value, message, kind))
            bad_arguments = [p for p in found if p.where == given_from]
            if bad_arguments or (strict and (found or problems)):
                shown = bad_arguments if bad_arguments and not strict else [*problems, *found]
                raise ConfigError(
                    "invalid aitrace setting: " + "; ".join(p.text(cls) for p in shown)
                ) from None
            problems.extend(found)
            continue
        finally:
            _only_given.reset(token)
        if strict and problems:
            raise ConfigError("invalid aitrace setting: " + "; ".join(p.text(cls) for p in problems))
        for problem in problems:
            origin = where_of(problem.key)
            fallback = f"from {origin[1]}" if origin is not None else "the default"
            value = getattr(settings, problem.key)
            if value is None and origin is None:  # "using None" says nothing: a None default is a rule
                say_once(f"{problem.text(cls)}; using the default instead")
            else:
                say_once(f"{problem.text(cls)}; using {describe_value(value)} ({fallback}) instead")
        return settings
    raise ConfigError("invalid aitrace settings: " + "; ".join(p.text(cls) for p in problems))
