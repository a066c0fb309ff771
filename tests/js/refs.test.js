// node --test tests/js/ : message references (docs/schema.md, "References") resolved as the pages see them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveRefs, isRef } from "../../viewer/aitrace_viewer/static/js/refs.js";
import { buildTree } from "../../viewer/aitrace_viewer/static/js/tree.js";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const A = "a".repeat(16), B = "b".repeat(16), C = "c".repeat(16);
const msg = (role, text) => ({ role, parts: [{ type: "text", content: text }] });
let seq = 0;
const rec = (event, span, extra) => ({
  timestamp: `2026-11-24T12:00:00.00${seq}000Z`, level: "info", event, logger: "t", service: "s", trace_id: T,
  span_id: span, seq: seq++, ...extra,
});

function written() {
  seq = 0;
  return [
    rec("span_start", A, { span_name: "LangGraph", span_kind: "graph",
      input: { messages: [{ ...msg("user", "q1"), $id: 1 }, { ...msg("assistant", "a1"), $id: 2 }, { ...msg("user", "q2"), $id: 3 }] } }),
    rec("span_start", B, { parent_span_id: A, span_name: "chat m", span_kind: "llm",
      "gen_ai.input.messages": [{ $ref: [1, 3], $span: A }] }),
    rec("span_end", B, { parent_span_id: A, span_name: "chat m", span_kind: "llm", duration_ms: 1, status: "ok",
      "gen_ai.output.messages": [{ ...msg("assistant", "a2"), finish_reason: "stop", $id: 4 }] }),
    rec("span_start", C, { parent_span_id: A, span_name: "chat m", span_kind: "llm",
      "gen_ai.input.messages": [{ $ref: [1, 3], $span: A }, { $ref: 2, $span: A }, { $ref: 9, $span: B }],
      "gen_ai.tool.definitions": [{ name: "f", parameters: { $ref: "#/$defs/X", $defs: { X: { $id: "x" } } } }] }),
    rec("span_end", A, { span_name: "LangGraph", span_kind: "graph", duration_ms: 3, status: "ok",
      output: { messages: [{ $ref: [1, 3], $span: A }, { $ref: 5, $span: B }] } }),
  ];
}

test("references become the messages written in full, ids removed, in place and in order", () => {
  const out = resolveRefs(written());
  assert.deepEqual(out[0].input.messages, [msg("user", "q1"), msg("assistant", "a1"), msg("user", "q2")]);
  assert.deepEqual(out[1]["gen_ai.input.messages"], [msg("user", "q1"), msg("assistant", "a1"), msg("user", "q2")]);
  assert.deepEqual(out[2]["gen_ai.output.messages"], [{ ...msg("assistant", "a2"), finish_reason: "stop" }]);
  assert.deepEqual(out[3]["gen_ai.input.messages"].slice(0, 4), [msg("user", "q1"), msg("assistant", "a1"), msg("user", "q2"), msg("assistant", "a1")]);
});

test("a reference into the wrong span, or to a message not among the records, says so visibly", () => {
  const out = resolveRefs(written());
  const lost = out[3]["gen_ai.input.messages"][4];
  assert.equal(lost.role, "unknown");
  assert.match(lost.parts[0].content, /message not found.*bbbbbbbbbbbbbbbb/);
  assert.match(out[4].output.messages[3].parts[0].content, /message not found/); // id 5 was never written by B
});

test("JSON Schema $ref / $id strings in other fields are left alone", () => {
  const out = resolveRefs(written());
  assert.deepEqual(out[3]["gen_ai.tool.definitions"], [{ name: "f", parameters: { $ref: "#/$defs/X", $defs: { X: { $id: "x" } } } }]);
  assert.equal(isRef({ $ref: "#/x", $span: A }), false);
  assert.equal(isRef({ $ref: 1, $span: A, extra: 1 }), false);
  assert.equal(isRef({ $ref: [1, 2], $span: A }), true);
});

test("records without references come back as the same objects, and the input is never modified", () => {
  const plain = [rec("span_start", A, { span_name: "x", span_kind: "chain", input: { q: 1 } })];
  assert.equal(resolveRefs(plain), plain);
  const recs = written();
  const before = JSON.stringify(recs);
  resolveRefs(recs);
  assert.equal(JSON.stringify(recs), before);
});

test("a __proto__ key next to references stays a plain key", () => {
  const recs = JSON.parse(JSON.stringify(written()));
  recs[1] = JSON.parse(`{"event":"x","span_id":"${B}","trace_id":"${T}","__proto__":{"polluted":1},"m":[{"$ref":1,"$span":"${A}"}]}`);
  const out = resolveRefs(recs);
  assert.equal({}.polluted, undefined);
  assert.deepEqual(Object.getPrototypeOf(out[1]), Object.prototype);
  assert.deepEqual(out[1].m, [msg("user", "q1")]);
});

test("the tree every page builds carries the resolved messages on each LLM span", () => {
  const tree = buildTree(written());
  const llms = tree.order.filter((s) => s.kind === "llm");
  assert.deepEqual(llms[0].attrs["gen_ai.input.messages"], [msg("user", "q1"), msg("assistant", "a1"), msg("user", "q2")]);
  assert.equal(llms[1].attrs["gen_ai.input.messages"].length, 5);
  assert.ok(!/"\$id":\d/.test(JSON.stringify(tree.records)));
});
