"""Configuration in layers: command line (or code) > ``AITRACE_*`` environment > config file > defaults.

The config file is ``$AITRACE_CONFIG`` if set, else ``~/.config/aitrace/config.toml`` (or ``config.yaml``),
honouring ``$XDG_CONFIG_HOME``. Keys are flat and shared by every part of aitrace; each part reads the keys
it knows. A bad value raises :class:`ConfigError` naming the key, where the value came from, and what is
allowed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from ._errors import ConfigError
from ._targets import check_target

__all__ = ["CoreSettings", "config_dir", "config_file", "load_settings"]

ENV_PREFIX = "AITRACE_"


def config_dir() -> Path:
    """Folder of aitrace's config file and default database (``~/.config/aitrace``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aitrace"


def config_file() -> Path | None:
    """The config file in force, or None when there is none."""
    explicit = os.environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    for name in ("config.toml", "config.yaml", "config.yml"):
        candidate = config_dir() / name
        if candidate.is_file():
            return candidate
    return None


class _FileSettings(BaseSettings):
    """Base class: adds the config file layer below the environment."""

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


class CoreSettings(_FileSettings):
    """Settings of the instrumented application (``aitrace_core.configure``)."""

    service_name: str = Field(default_factory=_default_service_name, min_length=1, max_length=200)
    target: str | None = None
    """An aitrace server's URL (``http://127.0.0.1:8000``, batches go to its ``/api/ingest``), a file path,
    or ``-`` (stdout). None: ``~/logs/<service>/<time>.jsonl``, named on stderr when first written."""
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

    @field_validator("target")
    @classmethod
    def _check_target(cls, value: str | None) -> str | None:
        if value is not None:
            check_target(value)  # ValueError: neither a URL nor a plausible path (``127.0.0.1:8000``)
        return value

    @field_validator("level", mode="before")
    @classmethod
    def _lower_level(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


S = TypeVar("S", bound=BaseSettings)


def _source_of(cls: type[BaseSettings], key: str, overrides: dict[str, Any]) -> str:
    if key in overrides:
        return "the command line / code"
    env = ENV_PREFIX + key.upper()
    if env in os.environ:
        return f"environment variable {env}"
    path = config_file()
    if path is not None:
        return f"config file {path}"
    return "defaults"


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build ``cls`` from all layers, ``overrides`` (command line or code) winning; None is ignored."""
    given = {k: v for k, v in overrides.items() if v is not None}
    path = config_file()
    if path is not None and not path.is_file():
        raise ConfigError(f"config file {path} (from {ENV_PREFIX}CONFIG) does not exist")
    try:
        return cls(**given)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err.get("loc", ())) or "?"
            source = _source_of(cls, key, given)
            problems.append(f"{key} (from {source}): {err.get('msg')}; got {err.get('input')!r}")
        raise ConfigError("invalid aitrace setting: " + "; ".join(problems)) from None
    except Exception as exc:  # unreadable or malformed config file
        raise ConfigError(f"cannot read aitrace config ({path}): {exc}") from None
