// node --test tests/js/ : "find span", the default expansion, tool names and graph-state conversations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildTree, visibleRows, defaultExpanded, displayName } from "../../viewer/aitrace_viewer/static/js/tree.js";
import { spanFinder } from "../../viewer/aitrace_viewer/static/js/spanfind.js";
import { stateMessages } from "../../viewer/aitrace_viewer/static/js/conversation.js";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
let seq = 0;
function rec(event, span, ms, extra = {}) {
  const ts = new Date(Date.UTC(2026, 10, 24, 12, 0, 0) + ms).toISOString().replace("Z", "000Z");
  return { timestamp: ts, level: "info", event, logger: "t", service: "svc", trace_id: T, span_id: span, seq: seq++, ...extra };
}
const id = (i) => (i + 1).toString(16).padStart(16, "0");

/** A graph → agent node → tool, with a log line in the node: the places a text can hide. */
function agent() {
  const [G, N, X] = [id(0), id(1), id(2)];
  return [
    rec("span_start", G, 0, { span_name: "travel_agent", span_kind: "graph", input: { messages: [{ role: "user", parts: [{ type: "text", content: "Weather in Paris?" }] }] } }),
    rec("span_start", N, 1, { parent_span_id: G, span_name: "agent", span_kind: "node" }),
    rec("looking up the forecast service", N, 2, { parent_span_id: G }),
    rec("span_start", X, 3, { parent_span_id: N, span_name: "execute_tool get_weather", span_kind: "tool", input: { city: "Lyon" } }),
    rec("span_end", X, 4, { parent_span_id: N, span_name: "execute_tool get_weather", span_kind: "tool", duration_ms: 1, status: "ok", output: "18°C, Light Rain" }),
    rec("span_end", N, 5, { parent_span_id: G, span_name: "agent", span_kind: "node", duration_ms: 4, status: "ok" }),
    rec("span_end", G, 6, { span_name: "travel_agent", span_kind: "graph", duration_ms: 6, status: "ok" }),
  ];
}

test("find span matches names, attribute values at any depth and log lines, in tree order", () => {
  const tree = buildTree(agent());
  const find = spanFinder(tree);
  const names = (q) => find.find(q).map((s) => s.name);
  assert.deepEqual(names("light rain"), ["execute_tool get_weather"]); // a tool's output, any case
  assert.deepEqual(names("paris"), ["travel_agent"]); // inside input.messages[0].parts[0].content
  assert.deepEqual(names("forecast service"), ["agent"]); // a log line's text
  assert.deepEqual(names("get_weather"), ["execute_tool get_weather"]);
  assert.deepEqual(names("a"), ["travel_agent", "agent", "execute_tool get_weather"]);
  assert.deepEqual(names("city"), [], "keys are not values");
  assert.deepEqual(names("   "), []);
});

test("a tool span shows its tool's name; other spans their own", () => {
  const tree = buildTree(agent());
  assert.deepEqual(tree.order.map(displayName), ["travel_agent", "agent", "get_weather"]);
  assert.equal(displayName({ name: "execute_tool ", kind: "tool" }), "execute_tool ");
  assert.equal(displayName({ name: "execute_tool x", kind: "chain" }), "execute_tool x");
});

function chain(n) {
  const recs = [rec("span_start", id(0), 0, { span_name: "root", span_kind: "graph" })];
  for (let i = 1; i < n; i++) recs.push(rec("span_start", id(i), i, { parent_span_id: id(Math.floor((i - 1) / 2)), span_name: `s${i}`, span_kind: "node" }));
  return buildTree(recs);
}

test("a trace under 200 spans opens every level; a bigger one opens its root only", () => {
  const small = chain(199);
  assert.equal(visibleRows(small, defaultExpanded(small)).length, 199);
  const big = chain(200);
  assert.deepEqual(visibleRows(big, defaultExpanded(big)).map((r) => r.span.name), ["root", "s1", "s2"]);
});

test("a graph state with messages is a conversation; other values are not", () => {
  const st = stateMessages({ messages: [{ role: "user", content: "hi" }, { type: "ai", content: "yo" }], step: 2 });
  assert.equal(st.messages.length, 2);
  assert.deepEqual({ ...st.rest }, { step: 2 });
  assert.equal(stateMessages({ messages: [{ role: "user", content: "hi" }] }).rest, null);
  assert.equal(stateMessages({ messages: ["hi"] }), null);
  assert.equal(stateMessages({ messages: [] }), null);
  assert.equal(stateMessages([{ role: "user" }]), null);
  assert.equal(stateMessages("messages"), null);
});
