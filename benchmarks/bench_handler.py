"""Handler overhead: AITraceHandler against no callbacks, a no-op handler, OpenInference and Langfuse.

    python benchmarks/bench_handler.py [--n 200] [--rounds 5] [--history 0,10,40] [--history-n 20]

Two workloads, both offline with ``FakeChatModel``: the ReAct agent (``create_agent``: model → two parallel
tool calls → model → answer) and an LCEL chain (prompt | model | parser). Each configuration runs ``n``
invocations per round, configurations interleaved round by round; the best (least disturbed) round counts,
as with ``timeit``, and the median round is shown next to it. Time is **process CPU time**
(``time.process_time``: every thread, so the background shipping and exporting is counted, and the flush at
the end of each round is inside the measurement) and wall time. Each round starts after ``gc.collect()``, so
a full collection of the process's heap (~0.1 s) does not land on whichever configuration happens to be
running. Per-event overhead is (config − no-op handler) divided by the callback events one invocation
produces.

The history axis: LangGraph's prebuilt ``create_react_agent`` (two tool calls per turn, then the answer) with
0, 10 and 40 earlier question/answer pairs of ~540 and ~840 characters in its input, as a chatbot with a
checkpointed conversation has. Per run: the time with no callbacks, the time each tracer adds (median of
interleaved blocks: the figure a user would see, not the best), the bytes aitrace writes (the .jsonl's
growth), and per callback event at 0 pairs. ``--history ''`` skips it; ``--only-history`` skips the rest.

Configurations:
  none           no callbacks
  noop           a BaseCallbackHandler that does nothing
  aitrace        AITraceHandler, records shipped to a .jsonl file by aitrace_core's shipper
  openinference  LangChainInstrumentor, OTel SDK TracerProvider + SimpleSpanProcessor + InMemorySpanExporter
  langfuse       langfuse.langchain.CallbackHandler, its own span processor + InMemorySpanExporter, flushed
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool

import aitrace_core
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel, tool_call

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _history import ANSWER_CHARS, QUESTION_CHARS, build_react_agent, react_input


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def _respond(messages: list[BaseMessage]) -> AIMessage | str:
    if isinstance(messages[-1], ToolMessage):
        return "The sum is 3 and the product is 12."
    return AIMessage(
        content="", tool_calls=[tool_call("add", {"a": 1, "b": 2}), tool_call("multiply", {"a": 3, "b": 4})]
    )


def build_agent() -> Any:
    from langchain.agents import create_agent

    return create_agent(FakeChatModel(respond=_respond), tools=[add, multiply], name="calc_agent")


def build_chain() -> Any:
    prompt = ChatPromptTemplate.from_messages([("system", "You are terse."), ("user", "{question}")])
    return prompt | FakeChatModel(responses=["Paris."]) | StrOutputParser()


AGENT_INPUT = {"messages": [HumanMessage("What are 1+2 and 3*4?")]}
CHAIN_INPUT = {"question": "Capital of France?"}


class Noop(BaseCallbackHandler):
    """Receives every event and does nothing."""


class Counter(BaseCallbackHandler):
    """Counts callback events (every on_* call) for one invocation."""

    run_inline = True

    def __init__(self) -> None:
        self.events = 0

    def _count(self, *args: Any, **kwargs: Any) -> None:
        self.events += 1

    on_chain_start = on_chain_end = on_chain_error = _count
    on_chat_model_start = on_llm_start = on_llm_end = on_llm_error = on_llm_new_token = _count
    on_tool_start = on_tool_end = on_tool_error = _count
    on_retriever_start = on_retriever_end = on_retriever_error = _count


class Config:
    """One way of running the workload: ``callbacks`` for a call, plus set-up, flush and tear-down."""

    def __init__(
        self,
        name: str,
        callbacks: Callable[[], list[Any]],
        flush: Callable[[], object] = lambda: None,
        enter: Callable[[], object] = lambda: None,
        leave: Callable[[], object] = lambda: None,
    ) -> None:
        self.name, self.callbacks, self.flush, self.enter, self.leave = name, callbacks, flush, enter, leave


def make_configs(tmp: Path, peers: bool = True) -> tuple[list[Config], list[str]]:
    notes: list[str] = []
    aitrace_core.configure(service_name="bench", target=tmp / "bench.jsonl", flush_interval=0.5)
    aitrace_handler = AITraceHandler()
    configs = [
        Config("none", lambda: []),
        Config("noop", lambda: [Noop()]),
        Config("aitrace", lambda: [aitrace_handler], flush=lambda: aitrace_core.flush(10.0)),
    ]
    if not peers:
        return configs, ["peers: not measured (--no-peers)"]
    try:
        from openinference.instrumentation.langchain import LangChainInstrumentor
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        oi_exporter = InMemorySpanExporter()
        oi_provider = TracerProvider()
        oi_provider.add_span_processor(SimpleSpanProcessor(oi_exporter))
        instrumentor = LangChainInstrumentor()

        def oi_flush() -> None:
            oi_provider.force_flush()
            oi_exporter.clear()

        configs.append(
            Config(
                "openinference",
                lambda: [],
                flush=oi_flush,
                enter=lambda: instrumentor.instrument(tracer_provider=oi_provider),
                leave=lambda: instrumentor.uninstrument(),
            )
        )
    except Exception as exc:  # not installed, or cannot be set up offline
        notes.append(f"openinference: not measured ({type(exc).__name__}: {exc})")
    try:
        from langfuse import Langfuse
        from langfuse.langchain import CallbackHandler as LangfuseHandler
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        lf_exporter = InMemorySpanExporter()
        client = Langfuse(
            public_key="pk-lf-bench",
            secret_key="sk-lf-bench",
            host="http://127.0.0.1:9",
            span_exporter=lf_exporter,
            tracer_provider=TracerProvider(),
        )
        lf_handler = LangfuseHandler(public_key="pk-lf-bench")

        def lf_flush() -> None:
            client.flush()
            lf_exporter.clear()

        configs.append(Config("langfuse", lambda: [lf_handler], flush=lf_flush))
    except Exception as exc:
        notes.append(f"langfuse: not measured ({type(exc).__name__}: {exc})")
    return configs, notes


def count_events(runnable: Any, inp: Any) -> int:
    counter = Counter()
    runnable.invoke(inp, {"callbacks": [counter]})
    return counter.events


def run_round(config: Config, runnable: Any, inp: Any, n: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) for n invocations plus the config's flush."""
    config.enter()
    try:
        gc.collect()  # a full collection (~0.1 s here) inside one config's round would be charged to it alone
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            runnable.invoke(inp, {"callbacks": config.callbacks()})
        config.flush()
        return time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        config.leave()


def history_round(config: Config, agent: Any, inputs: list[Any], jsonl: Path) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, bytes aitrace wrote) for one block of runs, flush included."""
    size0 = jsonl.stat().st_size if jsonl.exists() else 0
    cpu, wall = run_inputs(config, agent, inputs)
    return cpu, wall, (jsonl.stat().st_size if jsonl.exists() else 0) - size0


def run_inputs(config: Config, runnable: Any, inputs: list[Any]) -> tuple[float, float]:
    config.enter()
    try:
        gc.collect()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for inp in inputs:
            runnable.invoke(inp, {"callbacks": config.callbacks()})
        config.flush()
        return time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        config.leave()


def history_axis(
    configs: list[Config], jsonl: Path, levels: list[int], n: int, rounds: int
) -> dict[int, dict[str, float]]:
    """The prebuilt ReAct agent with ``levels`` pairs of history: ms per run added by each tracer."""
    agent = build_react_agent()
    out: dict[int, dict[str, float]] = {}
    print(
        f"\nhistory: prebuilt ReAct agent (create_react_agent, 2 tool calls per turn) with N earlier pairs of"
        f" ~{QUESTION_CHARS}/~{ANSWER_CHARS} characters; {n} runs per block x {rounds} blocks, configs"
        " interleaved; median block; CPU = process CPU time, all threads"
    )
    names = [c.name for c in configs]
    header = f"{'pairs':>5} {'events':>6} {'none ms':>8}"
    for name in names[1:]:
        header += f" {name + ' +ms':>{max(10, len(name) + 4)}}"
    print(header + f" {'aitrace KB/run':>14} {'history KB':>10} {'aitrace/langfuse':>16}")
    for pairs in levels:
        events = count_events(agent, react_input(pairs))
        text = sum(len(str(m.content)) for m in react_input(pairs)["messages"])
        for config in configs:  # warm-up
            history_round(config, agent, [react_input(pairs) for _ in range(max(n // 5, 2))], jsonl)
        cpu: dict[str, list[float]] = {name: [] for name in names}
        wall: dict[str, list[float]] = {name: [] for name in names}
        written: list[int] = []
        for _ in range(rounds):
            for config in configs:
                inputs = [react_input(pairs) for _ in range(n)]  # fresh messages each run, built untimed
                c, w, b = history_round(config, agent, inputs, jsonl)
                cpu[config.name].append(c / n * 1e3)
                wall[config.name].append(w / n * 1e3)
                if config.name == "aitrace":
                    written.append(b // n)
        med = {name: statistics.median(v) for name, v in cpu.items()}
        none = med["none"]
        row = {"events": float(events), "none_ms": none, "history_kb": text / 1e3}
        line = f"{pairs:>5} {events:>6} {none:>8.2f}"
        for name in names[1:]:
            row[f"{name}_added_ms"] = med[name] - none
            line += f" {med[name] - none:>{max(10, len(name) + 4)}.2f}"
        row["aitrace_kb"] = statistics.median(written) / 1e3 if written else float("nan")
        row["x_none"] = med["aitrace"] / none
        ratio = ""
        if "langfuse" in med:
            row["vs_langfuse"] = (med["aitrace"] - none) / max(med["langfuse"] - none, 1e-9)
            ratio = f"{row['vs_langfuse']:.2f}"
        print(line + f" {row['aitrace_kb']:>14.1f} {text / 1e3:>10.1f} {ratio:>16}")
        out[pairs] = row
    first, last = out[levels[0]], out[levels[-1]]
    print(f"aitrace at {levels[0]} pairs: {first['x_none']:.2f}x the run with no callbacks (target <= 1.3x)")
    if "noop_added_ms" in first and "langfuse_added_ms" in first:
        mine = (first["aitrace_added_ms"] - first["noop_added_ms"]) / first["events"] * 1e3
        theirs = (first["langfuse_added_ms"] - first["noop_added_ms"]) / first["events"] * 1e3
        print(
            f"aitrace per event at {levels[0]} pairs: {mine:.1f} us vs Langfuse's {theirs:.1f} us over a"
            f" no-op handler = {mine / theirs:.2f} (target <= 0.25)"
        )
    if "vs_langfuse" in last:
        share = last["vs_langfuse"]
        print(f"aitrace added at {levels[-1]} pairs = {share:.2f} of Langfuse's (target <= 0.25)")
    if len(levels) > 1 and first["aitrace_added_ms"] > 0:
        grow_t = last["aitrace_added_ms"] / first["aitrace_added_ms"]
        grow_b = last["aitrace_kb"] / first["aitrace_kb"]
        print(
            f"from {levels[0]} to {levels[-1]} pairs aitrace's added time grows {grow_t:.2f}x, its bytes"
            f" {grow_b:.2f}x (target: time grows no faster than bytes)"
        )
    return out


def main(argv: list[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="invocations per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-peers", action="store_true", help="measure only none, noop and aitrace")
    parser.add_argument("--history", default="0,10,40", help="pairs of history for the prebuilt agent")
    parser.add_argument("--history-n", type=int, default=20, help="runs per block on the history axis")
    parser.add_argument("--only-history", action="store_true", help="only the history axis")
    args = parser.parse_args(argv)
    # OpenInference sets more span attributes than the SDK's default limit: one warning per span otherwise
    logging.getLogger("opentelemetry.attributes").setLevel(logging.ERROR)
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        configs, notes = make_configs(Path(tmpdir), peers=not args.no_peers)
        levels = [int(x) for x in args.history.split(",") if x.strip()]
        if levels:
            axis = history_axis(configs, Path(tmpdir) / "bench.jsonl", levels, args.history_n, args.rounds)
            results["history"] = {str(k): v for k, v in axis.items()}
        workloads = {"agent": (build_agent(), AGENT_INPUT), "lcel": (build_chain(), CHAIN_INPUT)}
        if args.only_history:
            workloads = {}
        for wname, (runnable, inp) in workloads.items():
            events = count_events(runnable, inp)
            for config in configs:  # warm-up
                run_round(config, runnable, inp, max(args.n // 10, 5))
            cpu: dict[str, list[float]] = {c.name: [] for c in configs}
            wall: dict[str, list[float]] = {c.name: [] for c in configs}
            for _ in range(args.rounds):
                for config in configs:
                    c, w = run_round(config, runnable, inp, args.n)
                    cpu[config.name].append(c)
                    wall[config.name].append(w)
            per_inv = {k: min(v) / args.n * 1e6 for k, v in cpu.items()}
            per_inv_med = {k: statistics.median(v) / args.n * 1e6 for k, v in cpu.items()}
            per_inv_wall = {k: min(v) / args.n * 1e6 for k, v in wall.items()}
            base, noop = per_inv["none"], per_inv["noop"]
            results[wname] = {}
            print(
                f"\n{wname}: {events} callback events per invocation, {args.n} invocations x {args.rounds}"
                " rounds (best round; CPU = process CPU time, all threads)"
            )
            print(
                f"{'config':<14} {'CPU us/inv':>11} {'(median)':>9} {'wall us/inv':>12} {'x none':>7}"
                f" {'x noop':>7} {'us/event over noop':>19}"
            )
            for name in per_inv:
                over = (per_inv[name] - noop) / events
                results[wname][name] = {
                    "cpu_us": per_inv[name],
                    "wall_us": per_inv_wall[name],
                    "x_none": per_inv[name] / base,
                    "x_noop": per_inv[name] / noop,
                    "us_per_event": over,
                }
                print(
                    f"{name:<14} {per_inv[name]:>11.0f} {per_inv_med[name]:>9.0f} {per_inv_wall[name]:>12.0f}"
                    f" {per_inv[name] / base:>7.2f}"
                    f" {per_inv[name] / noop:>7.2f} {over:>19.1f}"
                )
            peers = [
                results[wname][p]["us_per_event"]
                for p in ("openinference", "langfuse")
                if p in results[wname]
            ]
            if peers and "aitrace" in results[wname]:
                best = min(peers)
                mine = results[wname]["aitrace"]["us_per_event"]
                print(
                    f"aitrace per-event overhead = {mine / best:.2f} of the best peer's ({mine:.1f} vs"
                    f" {best:.1f} us); target <= 0.25. aitrace vs none:"
                    f" {results[wname]['aitrace']['x_none']:.2f}x (target <= 1.3x on the agent)"
                )
        for note in notes:
            print(note)
        aitrace_core.shutdown()
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
