"""Real LangGraph runs that differ in one thing each, offline: the compare tests' workload.

A router (one LLM call) sends the question to a weather agent (LangChain's ``create_agent`` with a
system prompt and two tools) or to a math node (one LLM call). :func:`run` varies one thing at a time.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from aitrace_core.testing import capture_records
from aitrace_langchain import AITraceHandler
from aitrace_langchain.testing import FakeChatModel, tool_call

SYSTEM = "You are a careful weather assistant. Answer in one sentence."


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return {"oslo": "4 degrees, snow", "paris": "18 degrees, rain"}.get(city.lower(), "20 degrees, cloudy")


@tool
def get_time(city: str) -> str:
    """Local time in a city."""
    return {"oslo": "14:05", "paris": "14:05"}.get(city.lower(), "12:00")


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    route: str


def build(
    *,
    system: str = SYSTEM,
    model: str = "fake-chat-1",
    city: str = "Oslo",
    extra_tool: bool = False,
    route: str = "weather",
) -> Any:
    """The graph; each keyword changes one thing about the run (tool call ids differ from run to run, as
    with a real model)."""
    from langchain.agents import create_agent

    def agent_respond(messages: list[BaseMessage]) -> AIMessage | str:
        if isinstance(messages[-1], ToolMessage):
            return "It is " + "; ".join(str(m.content) for m in messages if isinstance(m, ToolMessage)) + "."
        calls = [tool_call("get_weather", {"city": city})]
        if extra_tool:
            calls.append(tool_call("get_time", {"city": city}))
        return AIMessage("", tool_calls=calls)

    agent = create_agent(
        FakeChatModel(respond=agent_respond, model_name=model),
        tools=[get_weather, get_time],
        system_prompt=system,
    )
    router_model = FakeChatModel(responses=[route], model_name="fake-router")
    math_model = FakeChatModel(responses=["4"], model_name=model)

    def router(state: State) -> dict[str, Any]:
        answer = router_model.invoke([SystemMessage("Classify: weather or math."), *state["messages"]])
        return {"route": str(answer.content)}

    def math(state: State) -> dict[str, Any]:
        return {"messages": [math_model.invoke(state["messages"])]}

    graph = StateGraph(State)
    graph.add_node("router", router)
    graph.add_node("weather_agent", agent)
    graph.add_node("math", math)
    graph.add_edge(START, "router")
    graph.add_conditional_edges("router", lambda s: s["route"], {"weather": "weather_agent", "math": "math"})
    graph.add_edge("weather_agent", END)
    graph.add_edge("math", END)
    return graph.compile()


def run(question: str = "What is the weather in Oslo?", **changes: Any) -> list[dict[str, Any]]:
    """One run's records, exactly as written (message references included)."""
    graph = build(**changes)
    with capture_records(resolve_refs=False) as records:
        graph.invoke({"messages": [HumanMessage(question)]}, config={"callbacks": [AITraceHandler()]})
    return list(records.raw)
