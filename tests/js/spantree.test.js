// node --test tests/js/ : the tree of a big trace from the server's compact span list, and its records later.
import { test } from "node:test";
import assert from "node:assert/strict";
import { treeFromSpans } from "../../viewer/aitrace_viewer/static/js/spantree.js";
import { addSpanRecords, visibleRows, ancestors } from "../../viewer/aitrace_viewer/static/js/tree.js";

const A = "a".repeat(16), B = "b".repeat(16), C = "c".repeat(16), D = "d".repeat(16), GONE = "e".repeat(16);
const COLUMNS = ["span_id", "parent", "name", "kind", "start_us", "end_us", "last_us", "duration_ms", "status",
  "record_count", "log_count", "total_tokens", "model"];
const T0 = Date.UTC(2026, 10, 24, 12) * 1000;

function doc() {
  return {
    summary: { trace_id: "f".repeat(32), status: "running" }, t0_us: T0, columns: COLUMNS,
    spans: [
      [A, null, "root", "graph", 0, null, 9000, null, "running", 2, 0, null, null],
      [B, 0, "model", "chat_model", 1000, 3000, 3000, 2, "ok", 3, 1, 17, "m"],
      [C, 1, "tool", "tool", 1500, 2500, 2500, 1, "ok", 2, 0, null, null],
      [GONE.replace(/e/g, "9"), 4, "failed", "tool", 4100, 4200, 4200, 0.1, "error", 2, 0, null, null],
      [D, GONE, "stray", "function", 4000, 5000, 5000, 1, "ok", 2, 0, null, null],
    ],
  };
}

test("spans come linked by parent index, orphans by id, with figures from the tree", () => {
  const tree = treeFromSpans(doc());
  assert.equal(tree.lazy, true);
  assert.deepEqual(tree.order.map((s) => s.id), [A, B, C, D, "9".repeat(16)]);
  assert.deepEqual(tree.roots.map((s) => s.id), [A, D]);
  assert.equal(tree.spans.get(D).orphan, true);
  assert.equal(tree.spans.get(D).parentId, GONE);
  assert.deepEqual(ancestors(tree, C), [B, A]);
  const root = tree.spans.get(A);
  assert.equal(root.running, true);
  assert.ok(Number.isNaN(root.duration));
  assert.equal(root.end, T0 / 1000 + 9);  // the last record so far
  assert.equal(tree.spans.get(B).duration, 2);
  assert.equal(tree.spans.get(B).start, T0 / 1000 + 1);
  assert.equal(tree.spans.get(D).errorBelow, true);  // the tool under it failed
  assert.equal(tree.spans.get(A).errorBelow, false);
  assert.equal(tree.spans.get(B).loaded, false);
  assert.equal(tree.spans.get(B).logCount, 1);
});

test("a span's records, once fetched, give it fields and log rows", () => {
  const tree = treeFromSpans(doc());
  const span = tree.spans.get(B);
  const at = (ms) => new Date(T0 / 1000 + ms).toISOString().replace("Z", "000Z");
  addSpanRecords(tree, span, [
    { timestamp: at(1), event: "span_start", level: "info", span_id: B, span_name: "model", "gen_ai.request.model": "m" },
    { timestamp: at(1.2), event: "went wrong", level: "error", span_id: B, seq: 5 },
    { timestamp: at(3), event: "span_end", level: "info", span_id: B, status: "ok", duration_ms: 2 },
  ]);
  assert.equal(span.loaded, true);
  assert.equal(span.attrs["gen_ai.request.model"], "m");
  assert.equal(span.logs.length, 1);
  assert.equal(span.error, true);
  assert.equal(tree.spans.get(A).errorBelow, true);
  const rows = visibleRows(tree, new Set([A, B]));
  assert.deepEqual(rows.map((r) => (r.type === "log" ? r.rec.event : r.span.name)), ["root", "model", "went wrong", "tool", "stray"]);
});
