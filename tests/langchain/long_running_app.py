"""A Litestar app serving a LangGraph agent, run under uvicorn by the long-running tests.

    AITRACE_LANGCHAIN_TRACING=true AITRACE_TARGET=out.jsonl python tests/langchain/long_running_app.py PORT

Nothing in the app turns tracing on: the environment variable does, as it would for a user.
Each request passes its ``rid`` as LangChain metadata, so the test can tell whose trace a span is.
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

tracemalloc.start()

import uvicorn  # noqa: E402
from langchain_core.callbacks import CallbackManager  # noqa: E402
from langchain_core.messages import HumanMessage  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from lc_helpers import react_agent, subgraph_parent  # noqa: E402
from litestar import Litestar, get  # noqa: E402
from litestar.response import Stream  # noqa: E402

from aitrace_core import get_logger  # noqa: E402
from aitrace_langchain.testing import FakeChatModel  # noqa: E402

log = get_logger("app")
agent = react_agent()
graph = subgraph_parent()
audit = subgraph_parent()
chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | FakeChatModel(responses=["ok"])
QUESTION = {"messages": [HumanMessage("What are 1+2 and 3*4?")]}


def _config(rid: str) -> Any:
    return {"metadata": {"request_id": rid}, "configurable": {"thread_id": rid}}


@get("/agent")
async def ask(rid: str) -> dict[str, Any]:
    out = await agent.ainvoke(QUESTION, _config(rid))
    log.info("request done", request_id=rid)
    return {"answer": out["messages"][-1].content}


@get("/agent-sync", sync_to_thread=True)
def ask_sync(rid: str) -> dict[str, Any]:
    out = agent.invoke(QUESTION, _config(rid))
    log.info("request done", request_id=rid)
    return {"answer": out["messages"][-1].content}


@get("/stream")
async def stream(rid: str) -> Stream:
    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in graph.astream({"x": 0}, _config(rid)):
            log.info("between async chunks", request_id=rid)
            yield (str(list(chunk)) + "\n").encode()

    return Stream(chunks())


@get("/stream-sync", sync_to_thread=True)
def stream_sync(rid: str) -> dict[str, Any]:
    n = 0
    for _chunk in graph.stream({"x": 0}, _config(rid)):
        log.info("between chunks", request_id=rid)
        if n == 0:  # a second graph, started while the first one is between chunks
            audit.invoke({"x": 0}, _config(rid))
        n += 1
    return {"chunks": n}


@get("/batch", sync_to_thread=True)
def batch(rid: str) -> dict[str, Any]:
    out = chain.batch([{"q": "a"}, {"q": "b"}, {"q": "c"}], _config(rid))
    log.info("request done", request_id=rid)
    return {"answers": len(out)}


@get("/stats", sync_to_thread=True)
def stats() -> dict[str, Any]:
    """Open runs of the handler LangChain's configure hook adds, and after a collection: the memory still held
    by what the handler (and aitrace's spans) allocated, all traced memory, and RSS."""
    handlers = CallbackManager.configure().handlers
    open_runs = [h.open_runs for h in handlers if type(h).__name__ == "AITraceHandler"]
    gc.collect()
    with open("/proc/self/statm") as fh:
        rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    held = tracemalloc.take_snapshot().filter_traces(
        [
            tracemalloc.Filter(True, "*/aitrace_langchain/*"),
            tracemalloc.Filter(True, "*/aitrace_core/_spans.py"),
        ]
    )
    return {
        "open_runs": open_runs,
        "traced_bytes": tracemalloc.get_traced_memory()[0],
        "handler_bytes": sum(stat.size for stat in held.statistics("filename")),
        "rss_bytes": rss,
    }


app = Litestar([ask, ask_sync, stream, stream_sync, batch, stats])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
