"""Which optional extra of the ``aitrace`` distribution provides a module, read from its own metadata."""

from __future__ import annotations

import functools
import importlib.util
import re
from importlib import metadata

__all__ = [
    "DISTRIBUTION",
    "extra_for_module",
    "extra_modules",
    "extra_requirements",
    "missing_packages_message",
]

DISTRIBUTION = "aitrace"

#: ``name[extras] specifier; … extra == "x"`` as in a distribution's ``Requires-Dist`` lines.
_REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?[^;]*;.*extra\s*==\s*['\"]([\w.-]+)['\"]"
)


@functools.lru_cache(maxsize=1)
def _extras() -> dict[str, tuple[str, ...]]:
    """``{extra: distribution names}``, following extras that name other extras of aitrace (``all``)."""
    try:
        lines = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return {}
    direct: dict[str, list[str]] = {}
    nested: dict[str, list[str]] = {}
    for line in lines:
        match = _REQUIREMENT.match(line)
        if not match:
            continue
        name, inner, extra = match.groups()
        if name.lower().replace("_", "-") == DISTRIBUTION:
            parts = (part.strip() for part in (inner or "").split(","))
            nested.setdefault(extra, []).extend(part for part in parts if part)
        else:
            direct.setdefault(extra, []).append(name.lower().replace("_", "-").replace(".", "-"))

    def modules(extra: str, seen: frozenset[str] = frozenset()) -> list[str]:
        out = list(direct.get(extra, []))
        for inner in nested.get(extra, []):
            if inner not in seen:
                out += [m for m in modules(inner, seen | {extra}) if m not in out]
        return out

    return {extra: tuple(modules(extra)) for extra in {*direct, *nested}}


def extra_requirements(extra: str) -> tuple[str, ...]:
    """The distributions ``pip install 'aitrace[extra]'`` adds (normalised names; empty when unknown)."""
    return _extras().get(extra, ())


def extra_modules(extra: str) -> tuple[str, ...]:
    """Top-level import names of what ``pip install 'aitrace[extra]'`` adds, guessed from the distribution
    names (``langchain-core`` → ``langchain_core``). A namespace package such as ``opentelemetry-proto``
    guesses a name no import uses; :func:`missing_packages_message` then asks the installed files."""
    return tuple(name.replace("-", "_") for name in extra_requirements(extra))


@functools.lru_cache(maxsize=1)
def _import_names() -> dict[str, tuple[str, ...]]:
    """``{installed distribution: its top-level import names}`` (read only when a name guess misses)."""
    out: dict[str, list[str]] = {}
    for top, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            out.setdefault(distribution.lower().replace("_", "-").replace(".", "-"), []).append(top)
    return {name: tuple(tops) for name, tops in out.items()}


def _importable(distribution: str) -> bool:
    """Whether ``distribution``'s package can be imported: its guessed name first, else the names its
    installed files give (``opentelemetry-proto`` lives under ``opentelemetry``)."""
    if importlib.util.find_spec(distribution.replace("-", "_")) is not None:
        return True
    tops = [top for top in _import_names().get(distribution, ()) if not top.startswith("_")]
    return any(importlib.util.find_spec(top) is not None for top in tops)


def extra_for_module(module: str) -> str | None:
    """The smallest extra whose requirements provide the top-level ``module``, if any."""
    top = module.split(".")[0].lower()
    owners = [(len(mods), extra) for extra, mods in _extras().items() if top in mods]
    return min(owners)[1] if owners else None


def missing_packages_message(*extras: str) -> str | None:
    """None when every package of ``extras`` can be imported, else what to install, in one line."""
    missing = [d for extra in extras for d in extra_requirements(extra) if not _importable(d)]
    if not missing:
        return None
    extra = extras[0] if len(extras) == 1 else "all"
    return (
        f"this command needs packages that are not installed ({', '.join(missing)}): "
        f"pip install 'aitrace[{extra}]'"
    )
