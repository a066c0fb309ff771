"""The user's own LangChain ``metadata`` of a run: LangChain's and LangGraph's bookkeeping keys left out.

LangChain hands every run the metadata of its ancestors merged with its own, so a child records only the keys
it adds or changes; a root records all of the user's keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._shaper import Shaper

__all__ = ["metadata_added", "metadata_field", "user_metadata"]

#: Keys LangChain and LangGraph put in metadata for their own use; the ones that matter are written as
#: fields of their own (``langgraph_node``, ``checkpoint_ns``, ``thread_id``, ``gen_ai.provider.name`` …).
INTERNAL_PREFIXES = ("langgraph_", "ls_", "lc_", "__")
INTERNAL_KEYS = frozenset({"checkpoint_ns", "checkpoint_id", "thread_id"})


def user_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The user's keys of a run's metadata, as given (None when there are none)."""
    if not metadata:
        return None
    own = {
        k: v
        for k, v in metadata.items()
        if not (isinstance(k, str) and (k.startswith(INTERNAL_PREFIXES) or k in INTERNAL_KEYS))
    }
    return own or None


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # an object whose == raises or returns something odd (an array): say it changed
        return False


def metadata_added(own: Mapping[str, Any], parent: Mapping[str, Any] | None) -> dict[str, Any]:
    """The keys of ``own`` that ``parent`` lacks or holds with another value."""
    if not parent:
        return dict(own)
    missing = object()
    return {k: v for k, v in own.items() if not _same(parent.get(k, missing), v)}


def metadata_field(
    own: Mapping[str, Any], parent: Mapping[str, Any] | None, shaper: Shaper
) -> dict[str, Any]:
    """``metadata``: the user's keys a run adds or changes, serialized and redacted like inputs."""
    added = metadata_added(own, parent)
    return {"metadata": shaper.value(added)} if added else {}
