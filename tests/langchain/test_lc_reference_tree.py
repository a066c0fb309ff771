"""aitrace's tree matches LangChain's own run tree, run for run: graphs, agent packages, every entry point.

A ``BaseTracer`` that keeps every ``Run`` rides next to ``AITraceHandler``; each span's run id and parent must
be LangChain's, and no run may be missing, extra, left open, or fail differently.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send
from lc_helpers import (
    MsgState,
    NumState,
    add,
    approval_graph,
    log,
    multiply,
    needs_async_config,
    react_agent,
    subgraph_parent,
)
from reference_tree import RunKeeper, assert_same_tree

from aitrace_core.testing import CapturedRecords
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel, tool_call

QUESTION = {"messages": [HumanMessage("What are 1+2 and 3*4?")]}


def _agent_with_middleware() -> Any:
    from langchain.agents import create_agent
    from langchain.agents.middleware import AgentMiddleware, ModelCallLimitMiddleware

    class Audit(AgentMiddleware):  # type: ignore[type-arg]
        def before_model(self, state: Any, runtime: Any) -> None:
            log.info("model turn", messages=len(state["messages"]))
            return None

        def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
            log.info("tool call", tool=request.tool_call["name"])
            return handler(request)

        async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
            log.info("tool call", tool=request.tool_call["name"])
            return await handler(request)

    model = FakeChatModel(respond=_react_respond)
    return create_agent(
        model,
        tools=[add, multiply],
        middleware=[Audit(), ModelCallLimitMiddleware(run_limit=5)],
        name="mw_agent",
    )


def _react_respond(messages: list[BaseMessage]) -> AIMessage | str:
    if isinstance(messages[-1], ToolMessage):
        return "3 and 12"
    return AIMessage(
        content="", tool_calls=[tool_call("add", {"a": 1, "b": 2}), tool_call("multiply", {"a": 3, "b": 4})]
    )


def _prebuilt_react_agent() -> Any:
    from langgraph.prebuilt import create_react_agent

    with warnings.catch_warnings():  # deprecated in favour of langchain's create_agent, still widely used
        warnings.simplefilter("ignore")
        return create_react_agent(FakeChatModel(respond=_react_respond), [add, multiply], name="prebuilt")


def _functional() -> Any:
    from langgraph.func import entrypoint, task

    model = FakeChatModel(responses=["draft one", "draft two", "final"])

    @task
    def draft(topic: str) -> str:
        log.info("drafting", topic=topic)
        return str(model.invoke(f"write about {topic}").content)

    @task
    def combine(parts: list[str]) -> str:
        return " / ".join(parts)

    @entrypoint(checkpointer=InMemorySaver())
    def writer(topics: list[str]) -> str:
        futures = [draft(t) for t in topics]
        return combine([f.result() for f in futures]).result()

    return writer


def _fan_out() -> Any:
    def fan(state: NumState) -> list[Send]:
        return [Send("work", {"x": i}) for i in range(1, 4)]

    def work(state: NumState) -> dict[str, Any]:
        log.info("working", item=state["x"])
        return {"x": state["x"]}

    g = StateGraph(NumState)
    g.add_node("work", work)
    g.add_conditional_edges(START, fan, ["work"])
    g.add_edge("work", END)
    return g.compile(name="fanout")


def _failing() -> Any:
    def boom(state: NumState) -> dict[str, Any]:
        raise ValueError("bad input")

    g = StateGraph(NumState)
    g.add_node("boom", boom)
    g.add_edge(START, "boom")
    return g.compile(name="failing")


def _graph_in_node() -> Any:
    inner = subgraph_parent()
    model = FakeChatModel(responses=["noted"])
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | model

    def caller(state: MsgState) -> dict[str, Any]:
        inner.invoke({"x": 0})
        return {"messages": [chain.invoke({"q": "summarize"})]}

    g = StateGraph(MsgState)
    g.add_node("caller", caller)
    g.add_edge(START, "caller")
    return g.compile(name="host")


def _command_parent() -> Any:
    def hop(state: NumState) -> Command[Any]:
        return Command(graph=Command.PARENT, goto="done", update={"x": 1})

    sub = StateGraph(NumState)
    sub.add_node("hop", hop)
    sub.add_edge(START, "hop")
    child = sub.compile(name="child")
    g = StateGraph(NumState)
    g.add_node("child", child, destinations=("done",))
    g.add_node("done", lambda s: {"x": 1})
    g.add_edge(START, "child")
    g.add_edge("done", END)
    return g.compile(name="parent")


def _lcel() -> Any:
    model = FakeChatModel(responses=["hello"])
    return (
        ChatPromptTemplate.from_messages([("system", "Be brief."), ("user", "{q}")])
        | model
        | RunnableLambda(lambda m: m.content, name="extract_text")
    )


#: name → (build, input, error the run raises)
SCENARIOS: dict[str, tuple[Callable[[], Any], Any, type[BaseException] | None]] = {
    "create_agent": (react_agent, QUESTION, None),
    "create_agent_middleware": (_agent_with_middleware, QUESTION, None),
    "prebuilt_react_agent": (_prebuilt_react_agent, QUESTION, None),
    "functional_api": (_functional, ["cats", "dogs"], None),
    "subgraph": (subgraph_parent, {"x": 0}, None),
    "send_fan_out": (_fan_out, {"x": 0}, None),
    "node_error": (_failing, {"x": 0}, ValueError),
    "graph_in_node": (_graph_in_node, {"messages": []}, None),
    "command_parent": (_command_parent, {"x": 0}, None),
    "lcel_chain": (_lcel, {"q": "hi"}, None),
}
SYNC = ["invoke", "stream"]
ASYNC = ["ainvoke", "astream", "astream_events"]


def _run_sync(runnable: Any, how: str, value: Any, config: dict[str, Any]) -> None:
    if how == "invoke":
        runnable.invoke(value, config)
    else:
        for _ in runnable.stream(value, config):
            log.info("caller between chunks")


async def _run_async(runnable: Any, how: str, value: Any, config: dict[str, Any]) -> None:
    if how == "ainvoke":
        await runnable.ainvoke(value, config)
    elif how == "astream":
        async for _ in runnable.astream(value, config):
            log.info("caller between chunks")
    else:
        async for _ in runnable.astream_events(value, config, version="v2"):
            pass


async def _run(runnable: Any, how: str, value: Any, config: dict[str, Any]) -> None:
    if how in SYNC:
        _run_sync(runnable, how, value, config)
    else:
        await _run_async(runnable, how, value, config)


def _report(scenario: str, how: str, count: int) -> None:
    print(f"[reference-tree] {scenario} {how}: {count} runs compared")


#: The functional API's tasks read their config from the context (``get_config``): async, that needs 3.11.
READS_CONFIG_FROM_CONTEXT = {"functional_api"}


def _cases() -> list[Any]:
    return [
        pytest.param(
            scenario,
            how,
            marks=needs_async_config if how in ASYNC and scenario in READS_CONFIG_FROM_CONTEXT else (),
            id=f"{scenario}-{how}",
        )
        for how in [*SYNC, *ASYNC]
        for scenario in SCENARIOS
    ]


@pytest.mark.parametrize(("scenario", "how"), _cases())
async def test_tree_matches_langchains_run_tree(records: CapturedRecords, scenario: str, how: str) -> None:
    build, value, error = SCENARIOS[scenario]
    handler, keeper = AITraceHandler(), RunKeeper()
    config: dict[str, Any] = {
        "callbacks": [handler, keeper],
        "configurable": {"thread_id": f"{scenario}-{how}"},
    }
    if error is None:
        await _run(build(), how, value, config)
    else:
        with pytest.raises(error):
            await _run(build(), how, value, config)
    count = assert_same_tree(records, keeper)
    assert handler.open_runs == 0
    _report(scenario, how, count)


@pytest.mark.parametrize("how", [*SYNC, *(pytest.param(h, marks=needs_async_config) for h in ASYNC)])
async def test_interrupt_and_resume_match_langchains_run_tree(records: CapturedRecords, how: str) -> None:
    graph = approval_graph()
    handler, keeper = AITraceHandler(), RunKeeper()
    config: dict[str, Any] = {"callbacks": [handler, keeper], "configurable": {"thread_id": f"approve-{how}"}}
    await _run(graph, how, {"x": 0}, config)
    await _run(graph, how, Command(resume="yes"), config)
    assert graph.get_state(config).values["x"] == 10
    count = assert_same_tree(records, keeper)
    assert len([r for r in keeper.kept.values() if r.parent_run_id is None]) == 2
    assert handler.open_runs == 0
    _report("interrupt_resume", how, count)


@pytest.mark.parametrize("how", ["batch", "abatch"])
async def test_batch_matches_langchains_run_tree(records: CapturedRecords, how: str) -> None:
    handler, keeper = AITraceHandler(), RunKeeper()
    inputs = [{"q": str(i)} for i in range(4)]
    if how == "batch":
        _lcel().batch(inputs, {"callbacks": [handler, keeper]})
    else:
        await _lcel().abatch(inputs, {"callbacks": [handler, keeper]})
    count = assert_same_tree(records, keeper)
    assert len([r for r in keeper.kept.values() if r.parent_run_id is None]) == 4
    _report("lcel_batch", how, count)
