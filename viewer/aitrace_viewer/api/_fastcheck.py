"""A fast accept-only check of a record, generated from the record schema (the source of truth).

``fast_check(schema)`` returns a function ``record -> bool``: ``True`` means the record certainly satisfies
the schema; ``False`` means "not sure", and the caller runs the full validator (fastjsonschema), which then
decides and words the error. So a record is accepted or refused exactly as the full validator decides; this
only skips the full validator for records that are plainly valid, which is almost all of them.

The generator understands the keywords the record schema uses and nothing more: on any other keyword it
raises :class:`UnsupportedSchema` (the caller then validates with the full validator alone, and a test
fails), so a new constraint in the schema can never be silently skipped. Checks are deliberately stricter
than JSON Schema where that is simpler (exact ``str``/``int``/``float``/``list`` types, string-only
``enum``/``const``): anything unusual just takes the full validator's path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from fastjsonschema.draft04 import DOLLAR_FINDER

__all__ = ["ANNOTATIONS", "UnsupportedSchema", "fast_check"]

ANNOTATIONS = frozenset({"description", "title", "$schema", "$id", "$comment", "examples", "default"})
"""Keywords that do not constrain anything."""

_VALUE_KEYWORDS = frozenset(
    {"type", "enum", "const", "pattern", "minLength", "maxLength", "minimum", "items"}
)
_ROOT_KEYWORDS = frozenset({"type", "required", "properties", "allOf", "additionalProperties"})


_MISSING = object()


class UnsupportedSchema(ValueError):
    """The schema uses something the generator does not check."""


class _Gen:
    def __init__(self) -> None:
        self.consts: dict[str, Any] = {}

    def const(self, value: Any, prefix: str) -> str:
        name = f"_{prefix}{len(self.consts)}"
        self.consts[name] = value
        return name

    def value(self, schema: Any, var: str, where: str) -> list[str]:
        """Conditions (all must hold) for ``var`` to satisfy ``schema``."""
        if schema is True or schema == {}:
            return []
        if not isinstance(schema, Mapping):
            raise UnsupportedSchema(f"{where}: {schema!r}")
        unknown = set(schema) - _VALUE_KEYWORDS - ANNOTATIONS
        if unknown:
            raise UnsupportedSchema(f"{where}: keywords {sorted(unknown)}")
        conds: list[str] = []
        kind = schema.get("type")
        if kind == "string":
            conds.append(f"type({var}) is str")
        elif kind == "integer":
            conds.append(f"type({var}) is int")
        elif kind == "number":
            conds.append(f"(type({var}) is float or type({var}) is int)")
        elif kind == "boolean":
            conds.append(f"({var} is True or {var} is False)")
        elif kind == "array":
            conds.append(f"type({var}) is list")
        elif kind is not None:
            raise UnsupportedSchema(f"{where}: type {kind!r}")
        if (
            "enum" in schema
            or "const" in schema
            or "pattern" in schema
            or "minLength" in schema
            or "maxLength" in schema
        ) and kind != "string":
            raise UnsupportedSchema(f"{where}: string keywords without type string")
        if ("minimum" in schema) and kind not in ("integer", "number"):
            raise UnsupportedSchema(f"{where}: minimum without a numeric type")
        if "items" in schema and kind != "array":
            raise UnsupportedSchema(f"{where}: items without type array")
        if "enum" in schema:
            options = schema["enum"]
            if not all(isinstance(o, str) for o in options):
                raise UnsupportedSchema(f"{where}: non-string enum")
            conds.append(f"{var} in {self.const(frozenset(options), 'enum')}")
        if "const" in schema:
            if not isinstance(schema["const"], str):
                raise UnsupportedSchema(f"{where}: non-string const")
            conds.append(f"{var} == {schema['const']!r}")
        if "minLength" in schema:
            conds.append(f"len({var}) >= {int(schema['minLength'])}")
        if "maxLength" in schema:
            conds.append(f"len({var}) <= {int(schema['maxLength'])}")
        if "pattern" in schema:
            # the very regex fastjsonschema uses (a final $ means end of string, not "before a final newline")
            regex = re.compile(DOLLAR_FINDER.sub(r"\\Z", schema["pattern"]))
            # ids repeat many times within a batch: remember strings that matched (a bounded set)
            seen = self.const(set(), "seen")
            conds.append(f"({var} in {seen} or {self.const(_memo(regex, self.consts[seen]), 're')}({var}))")
        if "minimum" in schema:
            minimum = schema["minimum"]
            if type(minimum) not in (int, float):
                raise UnsupportedSchema(f"{where}: minimum {minimum!r}")
            conds.append(f"{var} >= {minimum!r}")
        if "items" in schema:
            inner = self.value(schema["items"], "_x", f"{where}.items")
            if inner:
                conds.append(f"all({' and '.join(inner)} for _x in {var})")
        return conds


_MEMO_LIMIT = 50_000


def _memo(regex: re.Pattern[str], seen: set[str]) -> Callable[[str], bool]:
    """``regex`` matches the string; a match is remembered in ``seen`` (emptied past a limit)."""
    search = regex.search

    def matches(value: str) -> bool:
        if search(value) is None:
            return False
        if len(seen) >= _MEMO_LIMIT:
            seen.clear()
        seen.add(value)
        return True

    return matches


def _conditional(part: Any) -> tuple[str, str, list[str]]:
    """``{"if": {"properties": {k: {"const": c}}, "required": [k]}, "then": {"required": [...]}}``."""
    if not isinstance(part, Mapping) or set(part) != {"if", "then"}:
        raise UnsupportedSchema(f"allOf: {part!r}")
    cond, then = part["if"], part["then"]
    if not isinstance(cond, Mapping) or set(cond) != {"properties", "required"}:
        raise UnsupportedSchema(f"allOf if: {cond!r}")
    props = cond["properties"]
    if not isinstance(props, Mapping) or len(props) != 1 or list(cond["required"]) != list(props):
        raise UnsupportedSchema(f"allOf if: {cond!r}")
    ((key, sub),) = props.items()
    if not isinstance(sub, Mapping) or set(sub) != {"const"} or not isinstance(sub["const"], str):
        raise UnsupportedSchema(f"allOf if: {cond!r}")
    if not isinstance(then, Mapping) or set(then) != {"required"}:
        raise UnsupportedSchema(f"allOf then: {then!r}")
    return key, sub["const"], [str(k) for k in then["required"]]


def fast_check(schema: Mapping[str, Any]) -> Callable[[Any], bool]:
    """Generate the accept-only check for ``schema`` (see the module docstring)."""
    unknown = set(schema) - _ROOT_KEYWORDS - ANNOTATIONS
    if unknown:
        raise UnsupportedSchema(f"root: keywords {sorted(unknown)}")
    if schema.get("type") != "object" or schema.get("additionalProperties", True) is not True:
        raise UnsupportedSchema("root: must be an object allowing additional properties")
    gen = _Gen()
    required = [str(k) for k in schema.get("required", [])]
    properties: Mapping[str, Any] = schema.get("properties", {})
    lines = ["def check(d):", "    if type(d) is not dict:", "        return False", "    get = d.get"]
    gen.consts["_MISSING"] = _MISSING
    if required:
        lines += [f"    if not {gen.const(frozenset(required), 'req')} <= d.keys():", "        return False"]
    for key, sub in properties.items():
        conds = gen.value(sub, "v", f"properties.{key}")
        if not conds:
            continue
        if key in required:  # present: check inline
            lines += [f"    v = d[{key!r}]", f"    if not ({' and '.join(conds)}):", "        return False"]
        else:
            lines += [
                f"    v = get({key!r}, _MISSING)",
                f"    if v is not _MISSING and not ({' and '.join(conds)}):",
                "        return False",
            ]
    for part in schema.get("allOf", []):
        key, value, needs = _conditional(part)
        lines += [
            f"    if d.get({key!r}) == {value!r} and not {gen.const(frozenset(needs), 'then')} <= d.keys():",
            "        return False",
        ]
    lines.append("    return True")
    namespace = dict(gen.consts)
    exec("\n".join(lines), namespace)  # noqa: S102 (generated from the schema)
    check: Callable[[Any], bool] = namespace["check"]
    return check
