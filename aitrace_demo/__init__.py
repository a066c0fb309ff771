"""aitrace_demo: the offline demo — LangGraph scenarios traced by aitrace_langchain, served by aitrace_viewer.

It is the one package allowed to import both: ``aitrace_langchain → aitrace_core ← aitrace_viewer``, and
``aitrace_demo`` on top of all three. ``aitrace demo`` (registered as an entry point) and the scripts in
``examples/lc_*.py`` run the scenarios from here.
"""

from __future__ import annotations

__all__ = ["SCENARIOS", "Scenario", "run_all", "run_example", "run_scenario"]

from .scenarios import SCENARIOS, Scenario, run_all, run_example, run_scenario
