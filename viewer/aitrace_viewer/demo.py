"""What ``aitrace demo`` sends: the LangGraph scenarios of ``aitrace_langchain.demo`` (offline, fake models),
and, when those are not installed, a small core-only run plus ``examples/checkout.py`` when it is at hand."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import aitrace_core
from aitrace_core import auto_span, get_logger, span

__all__ = ["run_demo_scenarios"]

log = get_logger("aitrace.demo")


@auto_span("lookup_weather", kind="tool", capture_args=True, capture_result=True)
def _lookup_weather(city: str) -> dict[str, Any]:
    log.info("calling the weather service", city=city)
    return {"city": city, "forecast": "sunny", "high_c": 21}


@auto_span("plan_trip", kind="chain", capture_args=True, capture_result=True)
def _plan_trip(city: str, days: int) -> str:
    with span("gather"):
        weather = _lookup_weather(city)
        log.info("weather known", forecast=weather["forecast"])
    with span("draft"):
        time.sleep(0.002)  # some visible width in the waterfall
        plan = f"{days} days in {city}: {weather['forecast']} every day"
    if days > 10:
        raise ValueError("trips over 10 days are not supported")
    return plan


def _core_runs() -> int:
    count = 0
    for city, days in (("Lisbon", 3), ("Oslo", 12)):
        try:
            _plan_trip(city, days)
        except ValueError:
            log.warning("plan failed", city=city)
        count += 1
    return count


def _checkout_example(target: str, token: str | None) -> int:
    path = Path(__file__).resolve().parents[2] / "examples" / "checkout.py"
    if not path.is_file():
        return 0
    spec = importlib.util.spec_from_file_location("aitrace_example_checkout", path)
    if spec is None or spec.loader is None:
        return 0
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    if token:
        aitrace_core.configure(service_name="checkout", target=target, token=token)
    outcome = module.main(target, orders=4)
    return int(sum(outcome.values()))


def run_demo_scenarios(target: str, *, token: str | None = None) -> int:
    """Send the demo runs to ``target`` (an ingest URL); returns how many runs were sent."""
    count = 0
    demo = None
    if importlib.util.find_spec("aitrace_langchain.demo") is not None:
        demo = importlib.import_module("aitrace_langchain.demo")
    else:
        count += _checkout_example(target, token)
    aitrace_core.configure(service_name="aitrace-demo", target=target, token=token)
    try:
        if demo is not None:
            result = demo.run_all()
            count += len(result) if hasattr(result, "__len__") else 1
        else:
            count += _core_runs()
    finally:
        aitrace_core.flush(timeout=10.0)
    return count
