import { test } from "node:test";
import assert from "node:assert/strict";
import {
  registerBuiltinLenses, registerLens, lensesFor, normalizeMessages, toolSpansByCallId, callersByCallId,
  tokenFigures, contentText, lensNames,
} from "../../viewer/aitrace_viewer/static/js/lenses.js";
import { buildTree } from "../../viewer/aitrace_viewer/static/js/tree.js";
import { turnMessages } from "../../viewer/aitrace_viewer/static/js/conversation.js";
import { childPath, parseJsonString } from "../../viewer/aitrace_viewer/static/js/jsontree.js";

registerBuiltinLenses();

function span(kind, attrs = {}, extra = {}) {
  const a = Object.create(null);
  Object.assign(a, attrs);
  return { kind, attrs: a, status: extra.status || "ok", startRec: { event: "span_start" }, endRec: { event: "span_end" }, logs: extra.logs || [] };
}
const names = (s) => lensesFor(s).map((l) => l.name);

test("an LLM span gets the LLM lens", () => {
  assert.ok(names(span("chat_model", { "gen_ai.input.messages": [{ role: "user", content: "hi" }] })).includes("llm"));
  assert.ok(names(span("llm", { "gen_ai.request.model": "m" })).includes("llm"));
});

test("tool and retriever spans get their lenses; the generic io lens stays away from them", () => {
  const tool = names(span("tool", { input: { a: 1 }, output: "x" }));
  assert.ok(tool.includes("tool"));
  assert.ok(!tool.includes("io"));
  assert.ok(names(span("retriever", { output: [{ content: "d" }] })).includes("retriever"));
  assert.ok(names(span("function", { input: 1 })).includes("io"));
});

test("the error lens comes first on a failed span", () => {
  assert.equal(names(span("tool", { "error.type": "ValueError", input: 1 }, { status: "error" }))[0], "error");
  assert.ok(!names(span("tool", { input: 1 })).includes("error"));
});

test("a lens without any of its fields present does not apply", () => {
  assert.ok(!names(span("node", {})).includes("langgraph"));
  assert.ok(names(span("node", { langgraph_node: "agent" })).includes("langgraph"));
});

test("a user lens matches by event pattern and sorts by priority", () => {
  const remove = registerLens({ name: "cache", event: /^cache_/, priority: 75, fields: [{ key: "cache.key", type: "text" }] });
  try {
    const s = span("function", { "cache.key": "k" }, { logs: [{ rec: { event: "cache_hit" } }] });
    assert.deepEqual(names(s).slice(0, 1), ["cache"]);
    assert.ok(!names(span("function", { "cache.key": "k" })).includes("cache"));
  } finally {
    remove();
  }
  assert.ok(!lensNames().includes("cache"));
  assert.throws(() => registerLens({ name: "bad", fields: [{ key: "x", type: "html" }] }), /unknown display type/);
});

test("messages: plain content, GenAI parts, tool calls and tool responses", () => {
  const msgs = normalizeMessages([
    { role: "system", content: "be brief" },
    { role: "user", parts: [{ type: "text", content: "weather?" }] },
    { role: "assistant", parts: [{ type: "text", content: "checking" },
      { type: "tool_call", id: "c1", name: "get_weather", arguments: { city: "Paris" } }] },
    { role: "tool", parts: [{ type: "tool_call_response", id: "c1", response: "18°C" }] },
    { type: "ai", content: "done", tool_calls: [{ id: "c2", function: { name: "f", arguments: "{\"a\":1}" } }] },
  ]);
  assert.deepEqual(msgs.map((m) => m.role), ["system", "user", "assistant", "tool", "assistant"]);
  assert.equal(msgs[1].text, "weather?");
  assert.deepEqual(msgs[2].toolCalls, [{ id: "c1", name: "get_weather", arguments: { city: "Paris" } }]);
  assert.equal(msgs[3].toolCallId, "c1");
  assert.equal(msgs[3].text, "18°C");
  assert.equal(msgs[4].toolCalls[0].name, "f");
  assert.equal(contentText([{ type: "text", text: "a" }, "b"]), "a\nb");
});

test("tool calls link to the tool span with the same call id, and back", () => {
  const T = "4bf92f3577b34da6a3ce929d0e0e4736";
  const base = { trace_id: T, level: "info", logger: "t", service: "s" };
  const tree = buildTree([
    { ...base, timestamp: "2026-11-24T12:00:00.000001Z", event: "span_start", span_id: "1".repeat(16), span_name: "model", span_kind: "llm" },
    { ...base, timestamp: "2026-11-24T12:00:00.000002Z", event: "span_end", span_id: "1".repeat(16), span_name: "model", span_kind: "llm",
      "gen_ai.output.messages": [{ role: "assistant", tool_calls: [{ id: "call_1", name: "t", arguments: {} }] }] },
    { ...base, timestamp: "2026-11-24T12:00:00.000003Z", event: "span_start", span_id: "2".repeat(16), span_name: "t", span_kind: "tool",
      "gen_ai.tool.call.id": "call_1" },
  ]);
  assert.equal(toolSpansByCallId(tree).get("call_1").name, "t");
  assert.equal(callersByCallId(tree).get("call_1").name, "model");
  const turn = turnMessages(tree);
  assert.deepEqual(turn.map((m) => m.role), ["assistant", "tool"]);
});

test("token figures: total derived when missing, cached tokens kept", () => {
  assert.deepEqual(tokenFigures({ "gen_ai.usage.input_tokens": 3, "gen_ai.usage.output_tokens": 4, "gen_ai.usage.cache_read.input_tokens": 2 }),
    { input: 3, output: 4, total: 7, cached: 2, reasoning: null });
  assert.equal(tokenFigures({}), null);
});

test("JSON tree paths and JSON strings", () => {
  assert.equal(childPath(childPath("$", "a"), 2), "$.a[2]");
  assert.equal(childPath("$", "gen_ai.usage"), '$["gen_ai.usage"]');
  assert.deepEqual(parseJsonString(' {"a": [1]}'), { a: [1] });
  assert.equal(parseJsonString("[not json"), undefined);
  assert.equal(parseJsonString("42"), undefined);
});
