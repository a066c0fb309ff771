"""The record schema (docs/schema.md) as shipped data."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from ._version import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "record_schema"]


@lru_cache(maxsize=1)
def record_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every record validates against."""
    path = resources.files("aitrace_core").joinpath(f"schema/record.v{SCHEMA_VERSION}.json")
    text = path.read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
