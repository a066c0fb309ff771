// node --test tests/js/ : the pure modules the pages build on (no DOM).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  parseTime, parseJsonl, groupByTrace, buildTree, visibleRows, defaultExpanded, ancestors, summarize,
} from "../../viewer/aitrace_viewer/static/js/tree.js";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
let seq = 0;
function rec(event, span, ms, extra = {}) {
  const ts = new Date(Date.UTC(2026, 10, 24, 12, 0, 0) + ms).toISOString().replace("Z", "000Z");
  return { timestamp: ts, level: "info", event, logger: "t", service: "svc", trace_id: T, span_id: span, seq: seq++, ...extra };
}
const A = "a".repeat(16), B = "b".repeat(16), C = "c".repeat(16), D = "d".repeat(16);

function sample() {
  return [
    rec("span_start", A, 0, { span_name: "root", span_kind: "graph" }),
    rec("span_start", C, 20, { parent_span_id: A, span_name: "second", span_kind: "tool" }),
    rec("span_start", B, 10, { parent_span_id: A, span_name: "first", span_kind: "llm" }),
    rec("working", A, 15),
    rec("span_end", B, 18, { parent_span_id: A, span_name: "first", span_kind: "llm", duration_ms: 8, status: "ok",
      "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5, "gen_ai.usage.cost_usd": 0.5 }),
    rec("boom", C, 25, { parent_span_id: A, level: "error" }),
    rec("span_end", C, 30, { parent_span_id: A, span_name: "second", span_kind: "tool", duration_ms: 10, status: "error" }),
    rec("span_end", A, 40, { span_name: "root", span_kind: "graph", duration_ms: 40, status: "ok" }),
  ];
}

test("parseTime keeps microseconds", () => {
  const a = parseTime("2026-11-24T12:00:00.000100Z");
  const b = parseTime("2026-11-24T12:00:00.000900Z");
  assert.ok(Math.abs(b - a - 0.8) < 1e-3);
  assert.ok(Number.isNaN(parseTime(42)));
});

test("children are ordered by start time, whatever the record order", () => {
  const tree = buildTree(sample());
  assert.equal(tree.roots.length, 1);
  const root = tree.roots[0];
  assert.deepEqual(root.children.map((s) => s.name), ["first", "second"]);
  assert.deepEqual(tree.order.map((s) => s.depth), [0, 1, 1]);
  assert.equal(tree.spans.get(B).duration, 8);
});

test("log records interleave with child spans by time under their span", () => {
  const root = buildTree(sample()).roots[0];
  assert.deepEqual(root.items.map((i) => (i.type === "span" ? i.span.name : i.rec.event)), ["first", "working", "second"]);
});

test("an error marks the span and flags every ancestor", () => {
  const tree = buildTree(sample());
  assert.equal(tree.spans.get(C).status, "error");
  assert.equal(tree.spans.get(C).error, true);
  assert.equal(tree.spans.get(A).errorBelow, true);
  assert.equal(tree.spans.get(B).errorBelow, false);
});

test("a missing parent makes an orphan root, not a crash", () => {
  const tree = buildTree([rec("span_start", D, 0, { parent_span_id: "e".repeat(16), span_name: "lost" })]);
  assert.equal(tree.roots.length, 1);
  assert.equal(tree.roots[0].orphan, true);
  assert.equal(tree.roots[0].status, "running");
  assert.equal(tree.roots[0].incomplete, true);
});

test("a parent cycle is broken", () => {
  const tree = buildTree([
    rec("span_start", A, 0, { parent_span_id: B, span_name: "x" }),
    rec("span_start", B, 1, { parent_span_id: A, span_name: "y" }),
  ]);
  assert.equal(tree.order.length, 2);
  assert.ok(tree.roots.length >= 1);
  assert.ok(ancestors(tree, A).length < 3);
});

test("a span known only from its end record still has a name and a start", () => {
  const tree = buildTree([rec("span_end", A, 50, { span_name: "late", span_kind: "tool", duration_ms: 20, status: "ok" })]);
  const s = tree.spans.get(A);
  assert.equal(s.name, "late");
  assert.ok(Math.abs(s.end - s.start - 20) < 1e-6);
});

test("__proto__ and constructor keys are data, and pollute nothing", () => {
  const line = `{"timestamp":"2026-11-24T12:00:00.000001Z","event":"span_start","trace_id":"${T}","span_id":"${A}",` +
    `"span_name":"p","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}`;
  const { records } = parseJsonl(line);
  const tree = buildTree(records);
  const attrs = tree.spans.get(A).attrs;
  assert.deepEqual(Object.keys(attrs).sort(), ["__proto__", "constructor", "span_name"]);
  assert.equal(Object.getPrototypeOf(attrs), null);
  assert.equal({}.polluted, undefined);
  assert.equal(Object.prototype.polluted, undefined);
});

test("parseJsonl skips unreadable lines and says which", () => {
  const { records, errors } = parseJsonl('{"a":1}\nnot json\n\n[1]\n{"b":2}\n');
  assert.equal(records.length, 2);
  assert.deepEqual(errors.map((e) => e.line), [2, 4]);
});

test("groupByTrace splits a file of several traces", () => {
  const other = { ...sample()[0], trace_id: "f".repeat(32) };
  assert.deepEqual([...groupByTrace([...sample(), other]).values()].map((l) => l.length), [8, 1]);
});

test("visibleRows follows the expanded set", () => {
  const tree = buildTree(sample());
  assert.equal(visibleRows(tree, new Set()).length, 1);
  const open = visibleRows(tree, new Set([A, C]));
  assert.deepEqual(open.map((r) => r.type), ["span", "span", "log", "span", "log"]);
  assert.deepEqual(open.map((r) => r.depth), [0, 1, 1, 1, 2]);
});

test("big traces start with deep levels collapsed, error paths open", () => {
  const id = (i) => (i + 1).toString(16).padStart(16, "0");
  const recs = [rec("span_start", id(0), 0, { span_name: "root" })];
  for (let i = 1; i < 3000; i++) {
    recs.push(rec("span_start", id(i), i, { parent_span_id: id(Math.floor((i - 1) / 3)), span_name: `s${i}` }));
  }
  recs.push(rec("span_end", id(2999), 4000, { parent_span_id: id(Math.floor(2998 / 3)), span_name: "s2999", status: "error" }));
  const tree = buildTree(recs);
  assert.ok(tree.spans.get(id(2999)).depth >= 6);
  const rows = visibleRows(tree, defaultExpanded(tree));
  assert.ok(rows.length < 100, `${rows.length} rows of ${tree.order.length}`);
  assert.ok(rows.some((r) => r.span.id === id(2999)), "the failed span is reachable without clicking");
});

test("summarize adds up tokens and cost like the API's summary", () => {
  const s = summarize(buildTree(sample()));
  assert.equal(s.trace_id, T);
  assert.equal(s.root_name, "root");
  assert.equal(s.span_count, 3);
  assert.equal(s.error_count, 1);
  assert.equal(s.input_tokens, 10);
  assert.equal(s.total_tokens, 15);
  assert.equal(s.cost_usd, 0.5);
  assert.equal(s.duration_ms, 40);
});

test("an SDK's LLM span under a LangChain LLM span is one model call: its tokens count once", () => {
  const usage = { "gen_ai.usage.input_tokens": 21, "gen_ai.usage.output_tokens": 7, "gen_ai.usage.cost_usd": 0.25 };
  const records = [
    ...sample(),
    rec("span_start", D, 11, { parent_span_id: B, span_name: "ChatCompletion", span_kind: "llm" }),
    rec("span_end", D, 17, { parent_span_id: B, span_name: "ChatCompletion", span_kind: "llm", duration_ms: 6,
      status: "ok", ...usage }),
  ];
  const s = summarize(buildTree(records));
  assert.equal(s.input_tokens, 10);  // the outer (LangChain) span's figures, as in sample()
  assert.equal(s.total_tokens, 15);
  assert.equal(s.cost_usd, 0.5);
});

test("odd records (missing or wrong-typed fields) still give a tree", () => {
  const odd = [
    { event: "span_start", span_id: A, span_name: 42, span_kind: null, timestamp: "yesterday" },
    { event: "span_end", span_id: A, status: { not: "a string" }, duration_ms: "slow" },
    { event: "hello", span_id: B, parent_span_id: A },
    { event: null },
    { span_id: C, parent_span_id: C, event: "self-parented" },
  ];
  const tree = buildTree(odd);
  assert.equal(tree.order.length, 4);
  const rows = visibleRows(tree, new Set(tree.order.map((s) => s.id)));
  assert.ok(rows.length >= 4);
  const s = summarize(tree);
  assert.equal(typeof s.span_count, "number");
  for (const span of tree.order) {
    assert.equal(typeof span.name, "string");
    assert.equal(typeof span.kind, "string");
    assert.equal(typeof span.status, "string");
  }
});
