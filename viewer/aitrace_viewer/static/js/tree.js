// Pure: build a span tree from a flat list of aitrace records (docs/schema.md). No DOM here, so Node tests it.
// Keyed data lives in Maps and null-prototype objects: a record may carry keys such as "__proto__".
import { resolveRefs } from "./refs.js";

export const SPAN_START = "span_start";
export const SPAN_END = "span_end";
const STANDARD_KEYS = new Set([
  "timestamp", "level", "event", "logger", "service", "trace_id", "span_id", "parent_span_id", "seq",
]);

const TS_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** RFC 3339 → epoch milliseconds with sub-millisecond precision; NaN when unreadable. */
export function parseTime(ts) {
  if (typeof ts !== "string") return NaN;
  const m = TS_RE.exec(ts);
  if (!m) return Date.parse(ts);
  const base = Date.parse(m[1] + (m[3] || "Z"));
  return m[2] ? base + Number("0" + m[2]) * 1000 : base;
}

function own(obj, key) {
  return obj !== null && typeof obj === "object" && Object.prototype.hasOwnProperty.call(obj, key)
    ? obj[key] : undefined;
}

/** Parse JSONL text into records; returns {records, errors: [{line, message}]}. */
export function parseJsonl(text) {
  const records = [];
  const errors = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      const value = JSON.parse(line);
      if (value && typeof value === "object" && !Array.isArray(value)) records.push(value);
      else errors.push({ line: i + 1, message: "not a JSON object" });
    } catch (e) {
      errors.push({ line: i + 1, message: String(e && e.message || e) });
    }
  }
  // A JSON array file (the API's export) is accepted too.
  if (records.length === 0 && errors.length && text.trim().startsWith("[")) {
    try {
      const arr = JSON.parse(text);
      if (Array.isArray(arr)) return { records: arr.filter((r) => r && typeof r === "object"), errors: [] };
    } catch { /* keep the line errors */ }
  }
  return { records, errors };
}

/** Group records by trace_id, keeping file order. Map<trace_id, record[]>. */
export function groupByTrace(records) {
  const groups = new Map();
  for (const rec of records) {
    const tid = typeof own(rec, "trace_id") === "string" ? rec.trace_id : "(no trace id)";
    let list = groups.get(tid);
    if (!list) groups.set(tid, (list = []));
    list.push(rec);
  }
  return groups;
}

const NO_ATTRS = Object.freeze(Object.create(null));
const NO_LOGS = Object.freeze([]);

/**
 * An empty span. `lazy`: a span of a tree built without its records (spantree.js): `loaded` false, and no
 * fields or logs of its own until addSpanRecords gives it its records (fewer objects for 100,000 spans).
 */
export function newSpan(id, lazy = false) {
  return {
    id, parentId: null, name: null, kind: null, status: null, service: null,
    start: NaN, end: NaN, duration: NaN,
    startRec: null, endRec: null, logs: lazy ? NO_LOGS : [], children: [], items: [],
    attrs: lazy ? NO_ATTRS : Object.create(null), depth: 0, order: 0,
    error: false, errorBelow: false, orphan: false, incomplete: false, running: false,
    loaded: !lazy, logCount: 0, recordCount: 0, more: false,
  };
}

function mergeAttrs(target, rec) {
  for (const key of Object.keys(rec)) {
    if (!STANDARD_KEYS.has(key)) target[key] = rec[key];
  }
}

function compareBy(a, b) {
  return (a.t - b.t) || (a.seq - b.seq);
}

/** Fill a span's derived fields (name, kind, times, status, flags) from its start/end records and logs. */
export function finishSpan(span) {
  if (span.startRec) mergeAttrs(span.attrs, span.startRec);
  if (span.endRec) mergeAttrs(span.attrs, span.endRec);
  const name = span.attrs.span_name;
  span.name = typeof name === "string" && name ? name : (span.logs.length ? String(own(span.logs[0].rec, "event")) : span.id);
  span.kind = typeof span.attrs.span_kind === "string" ? span.attrs.span_kind : (span.startRec || span.endRec ? "span" : "log");
  const dur = span.attrs.duration_ms;
  if (!Number.isFinite(span.start)) {
    if (Number.isFinite(span.end) && typeof dur === "number") span.start = span.end - dur;
    else if (span.logs.length) span.start = span.logs[0].t;
  }
  // Started and not ended: no duration yet (a live page counts the time elapsed); `end` is the last record.
  span.running = !!span.startRec && !span.endRec && typeof dur !== "number";
  if (!Number.isFinite(span.end)) {
    if (typeof dur === "number" && Number.isFinite(span.start)) span.end = span.start + dur;
    else span.end = span.logs.length ? span.logs[span.logs.length - 1].t : span.start;
  }
  span.duration = typeof dur === "number" ? dur : span.running ? NaN : Math.max(0, span.end - span.start);
  const status = span.attrs.status;
  span.status = typeof status === "string" ? status : (span.endRec ? "ok" : (span.startRec ? "running" : "log"));
  span.incomplete = span.attrs.incomplete === true || (!!span.startRec && !span.endRec);
  span.error = span.status === "error" || hasErrorLog(span);
  span.logs.sort(compareBy);
}

function hasErrorLog(span) {
  return span.logs.some((l) => {
    const lv = own(l.rec, "level");
    return lv === "error" || lv === "critical";
  });
}

/**
 * Give a span of a tree built without records (spantree.js) its records, as fetched for it alone: its fields,
 * start and end records and log lines (its figures stay those of the tree). `more`: some were left out.
 */
export function addSpanRecords(tree, span, records, more = false) {
  span.startRec = null;
  span.endRec = null;
  span.logs = [];
  span.attrs = Object.create(null);
  records.forEach((rec, index) => {
    if (!rec || typeof rec !== "object") return;
    const event = own(rec, "event");
    if (!span.service && typeof own(rec, "service") === "string") span.service = rec.service;
    if (event === SPAN_START && !span.startRec) span.startRec = rec;
    else if (event === SPAN_END && !span.endRec) span.endRec = rec;
    else span.logs.push({ rec, t: parseTime(own(rec, "timestamp")), seq: typeof own(rec, "seq") === "number" ? rec.seq : index });
  });
  if (span.startRec) mergeAttrs(span.attrs, span.startRec);
  if (span.endRec) mergeAttrs(span.attrs, span.endRec);
  span.logs.sort(compareBy);
  if (hasErrorLog(span)) {
    span.error = true;
    const seen = new Set();
    for (let p = tree.spans.get(span.parentId); p && !seen.has(p); p = tree.spans.get(p.parentId)) {
      seen.add(p);
      p.errorBelow = true;
    }
  }
  span.items = spanItems(span);
  span.more = more;
  span.loaded = true;
}

/** A span's rows under it: child spans and its log records, interleaved by time. */
export function spanItems(span) {
  const items = span.children.map((c) => ({ type: "span", t: c.start, seq: -1, span: c }));
  if (!span.logs.length) return items; // children come sorted by start already
  for (const l of span.logs) items.push({ type: "log", t: l.t, seq: l.seq, rec: l.rec, span });
  items.sort((a, b) => (a.t - b.t) || (a.seq - b.seq));
  return items;
}

/**
 * Link spans (a Map id → span) into a tree: children sorted by start, a pre-order walk, error flags carried up,
 * each span's items (child spans and log records interleaved by time). Returns {roots, order}.
 * Spans whose parent is missing become roots flagged `orphan`; a parent cycle is broken the same way.
 */
export function linkTree(spans) {
  // Link children; a missing parent makes a root.
  const roots = [];
  for (const span of spans.values()) {
    const parent = span.parentId ? spans.get(span.parentId) : undefined;
    if (parent && parent !== span) parent.children.push(span);
    else {
      if (span.parentId) span.orphan = true;
      roots.push(span);
    }
  }
  const byStart = (a, b) => (a.start - b.start) || (a.end - b.end) || (a.id < b.id ? -1 : 1);
  // Pre-order walk; anything not reached sits in a parent cycle and becomes a root.
  const order = [];
  const seen = new Set();
  const walk = (root) => {
    root.depth = 0;
    const stack = [root];
    while (stack.length) {
      const span = stack.pop();
      if (seen.has(span)) continue;
      seen.add(span);
      span.order = order.length;
      order.push(span);
      const kids = span.children;
      if (kids.some((c) => seen.has(c))) span.children = kids.filter((c) => !seen.has(c));
      span.children.sort(byStart);
      for (let i = span.children.length - 1; i >= 0; i--) {
        const child = span.children[i];
        child.depth = span.depth + 1;
        stack.push(child);
      }
    }
  };
  roots.sort(byStart);
  roots.forEach(walk);
  for (const span of spans.values()) {
    if (!seen.has(span)) {
      span.orphan = true;
      roots.push(span);
      walk(span);
    }
  }
  // Error flags travel to every ancestor; items interleave child spans and log records by time.
  for (let i = order.length - 1; i >= 0; i--) {
    const span = order[i];
    for (const c of span.children) if (c.error || c.errorBelow) span.errorBelow = true;
    span.items = spanItems(span);
  }
  return { roots, order };
}

/**
 * Build the tree of one trace. Returns
 * {traceId, spans: Map<id, span>, roots: span[], start, end, duration, records, order: span[] (pre-order)}.
 * Spans whose parent is missing become roots flagged `orphan`; a parent cycle is broken the same way.
 * Message references (docs/schema.md) are resolved first, so `records` and every span's records hold them.
 */
export function buildTree(records) {
  records = resolveRefs(records); // every page builds its tree here: messages written once are put back in place
  const spans = new Map();
  let minT = Infinity;
  let maxT = -Infinity;
  let traceId = null;
  records.forEach((rec, index) => {
    const sid = typeof own(rec, "span_id") === "string" ? rec.span_id : "(no span id)";
    if (traceId === null && typeof own(rec, "trace_id") === "string") traceId = rec.trace_id;
    let span = spans.get(sid);
    if (!span) spans.set(sid, (span = newSpan(sid)));
    const t = parseTime(own(rec, "timestamp"));
    const seq = typeof own(rec, "seq") === "number" ? rec.seq : index;
    if (Number.isFinite(t)) { if (t < minT) minT = t; if (t > maxT) maxT = t; }
    const pid = own(rec, "parent_span_id");
    if (typeof pid === "string" && pid && !span.parentId) span.parentId = pid;
    if (!span.service && typeof own(rec, "service") === "string") span.service = rec.service;
    const event = own(rec, "event");
    if (event === SPAN_START && !span.startRec) {
      span.startRec = rec;
      span.start = t;
    } else if (event === SPAN_END && !span.endRec) {
      span.endRec = rec;
      span.end = t;
    } else {
      span.logs.push({ rec, t, seq });
    }
  });
  for (const span of spans.values()) finishSpan(span);
  const { roots, order } = linkTree(spans);
  const start = Number.isFinite(minT) ? minT : 0;
  let end = Number.isFinite(maxT) ? maxT : start;
  for (const s of order) if (Number.isFinite(s.end) && s.end > end) end = s.end;
  return { traceId, spans, roots, start, end, duration: Math.max(0, end - start), records, order };
}

const TOOL_PREFIX = "execute_tool ";

/** The name a span's row shows: a tool span's tool ("execute_tool get_weather" → "get_weather"). */
export function displayName(span) {
  const name = String(span.name);
  return span.kind === "tool" && name.startsWith(TOOL_PREFIX) && name.length > TOOL_PREFIX.length
    ? name.slice(TOOL_PREFIX.length) : name;
}

/** The ids of a span's ancestors, nearest first. */
export function ancestors(tree, spanId) {
  const out = [];
  const seen = new Set();
  let span = tree.spans.get(spanId);
  while (span && span.parentId && !span.orphan && !seen.has(span.parentId)) {
    seen.add(span.parentId);
    const parent = tree.spans.get(span.parentId);
    if (!parent) break;
    out.push(parent.id);
    span = parent;
  }
  return out;
}

/** Spans up to this many are shown with every subgraph and node open; bigger ones open their roots only. */
export const OPEN_ALL_BELOW = 200;

/** Which spans start expanded: all of a small trace; a big one's roots, and every error's ancestors. */
export function defaultExpanded(tree, { maxDepth } = {}) {
  const limit = maxDepth ?? (tree.order.length < OPEN_ALL_BELOW ? Infinity : 1);
  const expanded = new Set();
  for (const span of tree.order) {
    if (span.depth < limit && span.items.length) expanded.add(span.id);
    if (span.errorBelow && span.order < 5000) expanded.add(span.id);
  }
  return expanded;
}

/**
 * The rows to show, in order: spans and their log records, following `expanded` (a Set of span ids).
 * Each row is {type: "span"|"log", span, rec?, depth}.
 */
export function visibleRows(tree, expanded) {
  const rows = [];
  const stack = [];
  for (let i = tree.roots.length - 1; i >= 0; i--) stack.push({ type: "span", span: tree.roots[i], depth: 0 });
  while (stack.length) {
    const row = stack.pop();
    rows.push(row);
    if (row.type === "span" && expanded.has(row.span.id)) {
      const items = row.span.items;
      for (let i = items.length - 1; i >= 0; i--) {
        const it = items[i];
        stack.push(it.type === "span"
          ? { type: "span", span: it.span, depth: row.depth + 1 }
          : { type: "log", span: row.span, rec: it.rec, depth: row.depth + 1 });
      }
    }
  }
  return rows;
}

const LLM_KINDS = new Set(["llm", "chat_model"]);

function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/** A trace summary shaped like the API's (docs/api.md), computed from records alone. */
export function summarize(tree) {
  const root = tree.roots[0] || null;
  let input = 0, output = 0, total = 0, cost = 0, errors = 0, records = 0, model = null, thread = null;
  let hasTokens = false, hasCost = false;
  for (const span of tree.order) {
    const a = span.attrs;
    if (span.status === "error") errors++;
    // An LLM span inside an LLM span is the same model call seen twice (an SDK instrumentation's span under
    // a LangChain chat model's): the outer one counts, as the server's summaries do (docs/otlp.md).
    const nested = LLM_KINDS.has(span.kind) && LLM_KINDS.has(tree.spans.get(span.parentId)?.kind);
    const hasUsage = typeof a["gen_ai.usage.input_tokens"] === "number" || typeof a["gen_ai.usage.output_tokens"] === "number";
    if (hasUsage && !nested) {
      hasTokens = true;
      input += num(a["gen_ai.usage.input_tokens"]);
      output += num(a["gen_ai.usage.output_tokens"]);
      total += num(a["gen_ai.usage.total_tokens"]) ||
        (num(a["gen_ai.usage.input_tokens"]) + num(a["gen_ai.usage.output_tokens"]));
    }
    if (!nested && typeof a["gen_ai.usage.cost_usd"] === "number") { hasCost = true; cost += a["gen_ai.usage.cost_usd"]; }
    const m = a["gen_ai.response.model"] ?? a["gen_ai.request.model"];
    if (!model && typeof m === "string") model = m;
    if (!thread && typeof a.thread_id === "string") thread = a.thread_id;
  }
  for (const rec of tree.records) { records++; if (!thread && typeof own(rec, "thread_id") === "string") thread = rec.thread_id; }
  return {
    trace_id: tree.traceId,
    root_name: root ? root.name : null,
    root_kind: root ? root.kind : null,
    service: root ? root.service : null,
    start: Number.isFinite(tree.start) ? new Date(tree.start).toISOString() : null,
    end: root && root.running ? null : Number.isFinite(tree.end) ? new Date(tree.end).toISOString() : null,
    duration_ms: root && root.running ? null : root && Number.isFinite(root.duration) ? root.duration : tree.duration,
    span_count: tree.order.filter((s) => s.kind !== "log").length,
    record_count: records,
    error_count: errors,
    status: root ? root.status : "ok",
    input_tokens: hasTokens ? input : null,
    output_tokens: hasTokens ? output : null,
    total_tokens: hasTokens ? total : null,
    cost_usd: hasCost ? cost : null,
    model,
    thread_id: thread,
    incomplete: tree.order.some((s) => s.incomplete),
  };
}
