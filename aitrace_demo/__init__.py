"""aitrace_demo: the offline demo — LangGraph scenarios traced by aitrace_langchain, served by aitrace_viewer.

It is the one package allowed to import both: ``aitrace_langchain → aitrace_core ← aitrace_viewer``, and
``aitrace_demo`` on top of all three. ``aitrace demo`` (registered as an entry point) and the scripts in
``examples/lc_*.py`` run the scenarios from here. The scenarios are imported on first use, so that listing
the ``aitrace`` commands does not import LangChain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["SCENARIOS", "Scenario", "run_all", "run_example", "run_scenario"]

if TYPE_CHECKING:
    from .scenarios import SCENARIOS, Scenario, run_all, run_example, run_scenario


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import scenarios

        return getattr(scenarios, name)
    raise AttributeError(f"module 'aitrace_demo' has no attribute {name!r}")
