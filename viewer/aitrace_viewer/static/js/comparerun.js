// Pure: two runs compared in the browser, for the no-server viewer (two dropped files). The same algorithm
// and JSON as aitrace_viewer/compare.py and _valuediff.py (docs/viewer.md, "Compare two runs"); a test runs
// both on the same LangGraph runs and checks they agree.
import { resolveRefs } from "./refs.js";

const IGNORED_KEYS = new Set(["id", "tool_call_id", "run_id", "parent_run_id", "$id"]);
const NOT_COMPARED = new Set([
  "timestamp", "level", "event", "logger", "service", "trace_id", "span_id", "parent_span_id", "seq",
  "span_name", "span_kind", "duration_ms", "run_id", "parent_run_id", "checkpoint_ns", "langgraph_path",
  "langgraph_checkpoint_ns", "langgraph_step", "langgraph_triggers", "thread_id", "incomplete",
  "gen_ai.response.id", "gen_ai.conversation.id", "gen_ai.tool.call.id", "error.stacktrace",
  "llm.time_to_first_token_ms",
]);
const METRICS = {
  input_tokens: "gen_ai.usage.input_tokens",
  output_tokens: "gen_ai.usage.output_tokens",
  cost_usd: "gen_ai.usage.cost_usd",
  time_to_first_token_ms: "llm.time_to_first_token_ms",
};
const LLM_KINDS = new Set(["llm", "chat_model"]);
const TOTALS = ["duration_ms", "input_tokens", "output_tokens", "cost_usd", "span_count", "error_count"];
const ALIGN_LIMIT = 2000;
const MAX_WORD_TOKENS = 20000;
const MIN_SIMILARITY = 0.4;
const MAX_CHANGES = 200;
const TOKEN = /\s+|[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]/gu;

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const round = (x, digits) => { const f = 10 ** digits; return Math.round(x * f) / f; };

// ---- difflib.SequenceMatcher (no junk), over arrays of strings ------------------------------------------

function matchingBlocks(a, b) {
  const b2j = new Map();
  b.forEach((x, j) => { const l = b2j.get(x); if (l) l.push(j); else b2j.set(x, [j]); });
  const longest = (alo, ahi, blo, bhi) => {
    let besti = alo, bestj = blo, bestsize = 0;
    let j2len = new Map();
    for (let i = alo; i < ahi; i++) {
      const next = new Map();
      for (const j of b2j.get(a[i]) || []) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) || 0) + 1;
        next.set(j, k);
        if (k > bestsize) { besti = i - k + 1; bestj = j - k + 1; bestsize = k; }
      }
      j2len = next;
    }
    return [besti, bestj, bestsize];
  };
  const queue = [[0, a.length, 0, b.length]];
  const blocks = [];
  while (queue.length) {
    const [alo, ahi, blo, bhi] = queue.pop();
    const [i, j, k] = longest(alo, ahi, blo, bhi);
    if (k) {
      blocks.push([i, j, k]);
      if (alo < i && blo < j) queue.push([alo, i, blo, j]);
      if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
    }
  }
  blocks.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out = [];
  let [i1, j1, k1] = [0, 0, 0];
  for (const [i2, j2, k2] of blocks) {
    if (i1 + k1 === i2 && j1 + k1 === j2) k1 += k2;
    else { if (k1) out.push([i1, j1, k1]); [i1, j1, k1] = [i2, j2, k2]; }
  }
  if (k1) out.push([i1, j1, k1]);
  out.push([a.length, b.length, 0]);
  return out;
}

/** difflib's opcodes: [tag, i1, i2, j1, j2] with tag equal | replace | delete | insert; and its ratio. */
export function opcodes(a, b) {
  const blocks = matchingBlocks(a, b);
  const ops = [];
  let i = 0, j = 0, matches = 0;
  for (const [ai, bj, size] of blocks) {
    const tag = i < ai && j < bj ? "replace" : i < ai ? "delete" : j < bj ? "insert" : "";
    if (tag) ops.push([tag, i, ai, j, bj]);
    i = ai + size; j = bj + size;
    if (size) ops.push(["equal", ai, i, bj, j]);
    matches += size;
  }
  const total = a.length + b.length;
  return { ops, ratio: total ? (2 * matches) / total : 1 };
}

// ---- values ---------------------------------------------------------------------------------------------

export function normalize(v) {
  if (Array.isArray(v)) return v.map(normalize);
  if (isObj(v)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) if (!IGNORED_KEYS.has(k)) out[k] = normalize(x);
    return out;
  }
  return v;
}

function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v === undefined ? null : v);
}

function equal(a, b) {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObj(a)) {
    if (!isObj(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

/** [[op, text], …]: "=" in both, "-" only in a, "+" only in b (as _valuediff.word_diff). */
export function wordDiff(a, b) {
  let ta = a.match(TOKEN) || [], tb = b.match(TOKEN) || [];
  if (ta.length > MAX_WORD_TOKENS || tb.length > MAX_WORD_TOKENS) {
    ta = a.split(/(?<=\n)/); tb = b.split(/(?<=\n)/);
  }
  const out = [];
  const put = (op, pieces) => {
    const text = pieces.join("");
    if (!text) return;
    if (out.length && out[out.length - 1][0] === op) out[out.length - 1][1] += text;
    else out.push([op, text]);
  };
  let { ops, ratio } = opcodes(ta, tb);
  if (ratio < MIN_SIMILARITY) ops = [["replace", 0, ta.length, 0, tb.length]];
  for (const [tag, i1, i2, j1, j2] of ops) {
    if (tag === "equal") put("=", ta.slice(i1, i2));
    else { put("-", ta.slice(i1, i2)); put("+", tb.slice(j1, j2)); }
  }
  return out;
}

function changes() {
  const list = [];
  list.truncated = false;
  list.put = (c) => { if (list.length >= MAX_CHANGES) list.truncated = true; else list.push(c); };
  list.add = (field, a, b, op = "changed") => {
    const c = { field, a: a === undefined ? null : a, b: b === undefined ? null : b };
    if (op !== "changed") c.op = op;
    if (typeof a === "string" && typeof b === "string") c.diff = wordDiff(a, b);
    list.put(c);
  };
  return list;
}

const keyPath = (path, key) => (path ? `${path}.${key}` : key);

function diffValues(a, b, path, out) {
  if (equal(a, b)) return;
  if (isObj(a) && isObj(b)) {
    for (const key of [...Object.keys(a), ...Object.keys(b).filter((k) => !Object.hasOwn(a, k))]) {
      if (!Object.hasOwn(b, key)) out.add(keyPath(path, key), a[key], null, "removed");
      else if (!Object.hasOwn(a, key)) out.add(keyPath(path, key), null, b[key], "added");
      else diffValues(a[key], b[key], keyPath(path, key), out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) { diffLists(a, b, path, out, true); return; }
  out.add(path, a, b);
}

function coarse(item) {
  if (isObj(item)) {
    const o = {};
    for (const k of ["role", "type", "name"]) if (Object.hasOwn(item, k)) o[k] = item[k];
    return canonical(o);
  }
  return item === null ? "NoneType" : Array.isArray(item) ? "list" : typeof item;
}

function diffLists(a, b, path, out, fine) {
  const ka = a.map(fine ? canonical : coarse), kb = b.map(fine ? canonical : coarse);
  for (const [tag, i1, i2, j1, j2] of opcodes(ka, kb).ops) {
    if (tag === "equal") {
      if (!fine) for (let k = 0; k < i2 - i1; k++) diffValues(a[i1 + k], b[j1 + k], `${path}[${i1 + k}]`, out);
      continue;
    }
    if (tag === "replace" && fine) {
      const sub = changes();
      diffLists(a.slice(i1, i2), b.slice(j1, j2), "", sub, false);
      for (const c of sub) {
        const m = /^\[(\d+)\](.*)$/s.exec(c.field);
        const rest = m[2];
        const shift = c.op === "added" && !rest ? j1 : i1;
        c.field = `${path}[${Number(m[1]) + shift}]${rest}`;
        out.put(c);
      }
      out.truncated = out.truncated || sub.truncated;
      continue;
    }
    for (let i = i1; i < i2; i++) out.add(`${path}[${i}]`, a[i], null, "removed");
    for (let j = j1; j < j2; j++) out.add(`${path}[${j}]`, null, b[j], "added");
  }
}

function diffDocuments(a, b, path, out) {
  if (!Array.isArray(a) || !Array.isArray(b)) { diffValues(a ?? null, b ?? null, path, out); return; }
  const ka = a.map(canonical), kb = b.map(canonical);
  if (ka.length === kb.length && ka.every((k, i) => k === kb[i])) return;
  const inA = new Set(ka), inB = new Set(kb);
  ka.forEach((k, i) => { if (!inB.has(k)) out.add(`${path}[${i}]`, a[i], null, "removed"); });
  kb.forEach((k, j) => { if (!inA.has(k)) out.add(`${path}[${j}]`, null, b[j], "added"); });
  const keptA = ka.filter((k) => inB.has(k)), keptB = kb.filter((k) => inA.has(k));
  if (keptA.join("\u0000") !== keptB.join("\u0000")) {
    out.add(path, keptA.map((k) => ka.indexOf(k)), keptB.map((k) => ka.indexOf(k)), "reordered");
  }
}

// ---- spans and alignment --------------------------------------------------------------------------------

function build(records) {
  const recs = resolveRefs(records);
  const spans = new Map();
  const parents = new Map();
  recs.forEach((r, at) => {
    if (!isObj(r) || typeof r.span_id !== "string") return;
    let s = spans.get(r.span_id);
    if (!s) {
      s = { id: r.span_id, start: {}, end: {}, startAt: 2 ** 52, endAt: 2 ** 52, children: [], label: "", fine: "", tool: "", kind: "span" };
      spans.set(r.span_id, s);
      parents.set(r.span_id, r.parent_span_id);
    }
    if (r.event === "span_start" && !Object.keys(s.start).length) { s.start = r; s.startAt = at; }
    else if (r.event === "span_end" && !Object.keys(s.end).length) { s.end = r; s.endAt = at; }
  });
  const roots = [];
  for (const s of spans.values()) {
    const p = spans.get(parents.get(s.id) || "");
    (p && p !== s ? p.children : roots).push(s);
  }
  for (const s of [...spans.values()].reverse()) label(s);
  return { roots, recs };
}

const get = (s, key) => { const v = s.end[key]; return v === undefined || v === null ? s.start[key] : v; };

function label(s) {
  const kind = (s.kind = String(get(s, "span_kind") || "span"));
  if (LLM_KINDS.has(kind)) {
    s.label = String(get(s, "llm.class") || "llm");
    s.fine = `${s.label}|${get(s, "gen_ai.request.model") || ""}`;
    return;
  }
  if (kind === "tool") s.label = s.tool = String(get(s, "gen_ai.tool.name") || get(s, "span_name") || "tool");
  else {
    s.label = String(get(s, "langgraph_node") || get(s, "span_name") || kind);
    s.tool = (s.children.find((c) => c.tool) || {}).tool || "";
  }
  s.fine = `${kind}|${s.label}|${s.tool}`;
}

function info(s) {
  return {
    name: get(s, "span_name") ?? null,
    kind: s.kind,
    duration_ms: num(s.end.duration_ms),
    status: s.end.status || (Object.keys(s.end).length ? null : "running"),
    model: get(s, "gen_ai.response.model") || get(s, "gen_ai.request.model") || null,
  };
}

function align(a, b) {
  const n = Math.min(a.length, b.length);
  let head = 0;
  while (head < n && a[head].fine === b[head].fine) head++;
  let tail = 0;
  while (tail < n - head && a[a.length - 1 - tail].fine === b[b.length - 1 - tail].fine) tail++;
  const out = [];
  for (let i = 0; i < head; i++) out.push([a[i], b[i]]);
  out.push(...alignMiddle(a.slice(head, a.length - tail), b.slice(head, b.length - tail), true));
  for (let i = 0; i < tail; i++) out.push([a[a.length - tail + i], b[b.length - tail + i]]);
  return out;
}

function alignMiddle(a, b, fine) {
  if (!a.length || !b.length) return [...a.map((x) => [x, null]), ...b.map((y) => [null, y])];
  if (a.length > ALIGN_LIMIT && b.length > ALIGN_LIMIT) {
    const out = [];
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (a[i].label === b[i].label) out.push([a[i], b[i]]);
      else out.push([a[i], null], [null, b[i]]);
    }
    return [...out, ...a.slice(n).map((x) => [x, null]), ...b.slice(n).map((y) => [null, y])];
  }
  const key = (s) => (fine ? s.fine : s.label);
  const out = [];
  for (const [tag, i1, i2, j1, j2] of opcodes(a.map(key), b.map(key)).ops) {
    if (tag === "equal") for (let k = 0; k < i2 - i1; k++) out.push([a[i1 + k], b[j1 + k]]);
    else if (tag === "replace" && fine) out.push(...alignMiddle(a.slice(i1, i2), b.slice(j1, j2), false));
    else out.push(...a.slice(i1, i2).map((x) => [x, null]), ...b.slice(j1, j2).map((y) => [null, y]));
  }
  return out;
}

function* named(level) {
  const counts = new Map();
  for (const [a, b] of level) {
    const l = (a || b).label;
    counts.set(l, (counts.get(l) || 0) + 1);
    yield [`${l}#${counts.get(l)}`, a, b];
  }
}

function fields(record, skip = null) {
  const out = {};
  for (const [k, v] of Object.entries(record)) {
    if (!NOT_COMPARED.has(k) && !k.startsWith("gen_ai.usage.") && !(skip && Object.hasOwn(skip, k))) out[k] = v;
  }
  return out;
}

function diffFields(a, b, out, documents = false) {
  if (equal(a, b)) return;
  a = normalize(a); b = normalize(b);
  if (documents) {
    const da = a.output, db = b.output;
    delete a.output; delete b.output;
    diffDocuments(da ?? null, db ?? null, "documents", out);
  }
  diffValues(a, b, "", out);
}

function delta(a, b) {
  const out = { a, b, delta: null, relative: null };
  if (a !== null && b !== null) {
    out.delta = round(b - a, 6);
    out.relative = a ? round((b - a) / a, 4) : null;
  }
  return out;
}

function diffPair(a, b) {
  const out = changes();
  diffFields(fields(a.start), fields(b.start), out);
  for (const c of out) c.at = "start";
  const ended = changes();
  diffFields(fields(a.end, a.start), fields(b.end, b.start), ended, a.kind === "retriever" && b.kind === "retriever");
  for (const c of ended) { c.at = "end"; out.put(c); }
  out.truncated = out.truncated || ended.truncated;
  const metrics = { duration_ms: delta(num(a.end.duration_ms), num(b.end.duration_ms)) };
  if (LLM_KINDS.has(a.kind) || LLM_KINDS.has(b.kind)) {
    for (const [name, key] of Object.entries(METRICS)) metrics[name] = delta(num(get(a, key)), num(get(b, key)));
  }
  return { changes: out, metrics };
}

function firstDivergence(pairs, sides) {
  let best = null;
  let lastStart = -1;
  pairs.forEach((p, i) => {
    const a = sides[i][0];
    if (a) lastStart = a.startAt;
    if (p.status === "same") return;
    let at;
    if (p.status === "only_b") at = lastStart + 0.5;
    else if (p.status === "only_a" || p.changes.some((c) => c.at === "start")) at = lastStart;
    else at = a ? a.endAt : lastStart;
    if (best === null || at < best[0]) best = [at, i];
  });
  return best === null ? null : best[1];
}

function summary(roots, recs) {
  const spans = [];
  const stack = [...roots].reverse();
  while (stack.length) { const s = stack.pop(); spans.push(s); for (let i = s.children.length - 1; i >= 0; i--) stack.push(s.children[i]); }
  const root = roots[0] || null;
  const llm = spans.filter((s) => LLM_KINDS.has(s.kind));
  const total = (key) => { const v = llm.map((s) => num(s.end[key])).filter((x) => x !== null); return v.length ? v.reduce((x, y) => x + y, 0) : null; };
  const durations = roots.map((r) => num(r.end.duration_ms)).filter((d) => d !== null);
  const first = recs[0] || {};
  return {
    trace_id: recs.length ? first.trace_id ?? null : null,
    name: root ? get(root, "span_name") ?? null : null,
    service: recs.length ? first.service ?? null : null,
    start: recs.length ? first.timestamp ?? null : null,
    status: root ? root.end.status || "running" : null,
    duration_ms: durations.length ? Math.max(...durations) : null,
    input_tokens: total("gen_ai.usage.input_tokens"),
    output_tokens: total("gen_ai.usage.output_tokens"),
    cost_usd: total("gen_ai.usage.cost_usd"),
    span_count: spans.length,
    error_count: spans.filter((s) => s.end.status === "error").length,
  };
}

/** Run A compared with run B (records of one trace each): the JSON of GET /api/compare (docs/api.md). */
export function compareRuns(recordsA, recordsB) {
  const A = build(recordsA), B = build(recordsB);
  const pairs = [], sides = [];
  const stack = [[named(align(A.roots, B.roots)), "", null, 0]];
  while (stack.length) {
    const [level, prefix, parent, depth] = stack[stack.length - 1];
    const item = level.next();
    if (item.done) { stack.pop(); continue; }
    const [name, a, b] = item.value;
    const path = prefix ? `${prefix}/${name}` : name;
    const pair = { path, kind: (a || b).kind, a: a ? a.id : null, b: b ? b.id : null, parent, depth, a_info: a ? info(a) : null, b_info: b ? info(b) : null };
    let children;
    if (a && b) {
      const d = diffPair(a, b);
      pair.status = d.changes.length ? "changed" : "same";
      pair.changes = [...d.changes];
      if (d.changes.truncated) pair.changes_truncated = true;
      pair.metrics = d.metrics;
      children = align(a.children, b.children);
    } else if (a) { pair.status = "only_a"; pair.changes = []; children = a.children.map((c) => [c, null]); }
    else { pair.status = "only_b"; pair.changes = []; children = b.children.map((c) => [null, c]); }
    pairs.push(pair);
    sides.push([a, b]);
    if (children.length) stack.push([named(children), path, pairs.length - 1, depth + 1]);
  }
  const sa = summary(A.roots, A.recs), sb = summary(B.roots, B.recs);
  const totals = {};
  for (const k of TOTALS) totals[k] = delta(sa[k], sb[k]);
  const counts = { same: 0, changed: 0, only_a: 0, only_b: 0 };
  for (const p of pairs) counts[p.status]++;
  return { a: sa, b: sb, totals, pairs, first_divergence: firstDivergence(pairs, sides), counts };
}
