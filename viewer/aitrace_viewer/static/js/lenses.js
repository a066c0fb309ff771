// Pure: the lens registry. A lens says which spans it applies to (span kind and/or record event pattern,
// or a `when` predicate), which fields it shows and how (display type), and a priority. Renderers for the
// display types live in render.js; this module has no DOM so Node tests it.
//
//   registerLens({name: "my-lens", kinds: ["tool"], event: /cache_hit/, priority: 15,
//                 fields: [{key: "cache.key", label: "Cache key", type: "text"}]});

export const DISPLAY_TYPES = new Set([
  "text", "chips", "model", "tokens", "messages", "tool-calls", "documents", "stacktrace", "json-tree", "links",
]);

const registry = [];

function toMatcher(p) {
  if (p === undefined || p === null) return null;
  if (p instanceof RegExp) return (v) => typeof v === "string" && p.test(v);
  if (Array.isArray(p)) { const s = new Set(p); return (v) => s.has(v); }
  if (typeof p === "string") return (v) => v === p;
  if (typeof p === "function") return p;
  throw new TypeError("a lens pattern is a RegExp, a string, an array of strings or a function");
}

/** Read a field of a null-prototype attrs object or a record, never from a prototype. */
export function field(obj, key) {
  if (obj === null || typeof obj !== "object") return undefined;
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

export function hasField(obj, key) {
  const v = field(obj, key);
  return v !== undefined && v !== null && v !== "";
}

/** Add a lens; returns a function that removes it. */
export function registerLens(lens) {
  if (!lens || typeof lens.name !== "string" || !lens.name) throw new TypeError("a lens needs a name");
  const fields = (lens.fields || []).map((f) => {
    if (!f || typeof f.key !== "string") throw new TypeError(`lens ${lens.name}: every field needs a key`);
    const type = f.type || "text";
    if (!DISPLAY_TYPES.has(type)) throw new TypeError(`lens ${lens.name}: unknown display type ${type}`);
    return { key: f.key, label: f.label || f.key, type, maxInitialDepth: f.maxInitialDepth ?? 2 };
  });
  const entry = {
    name: lens.name,
    priority: typeof lens.priority === "number" ? lens.priority : 0,
    kind: toMatcher(lens.kinds),
    event: toMatcher(lens.event),
    when: typeof lens.when === "function" ? lens.when : null,
    requireField: lens.requireField !== false,
    fields,
    seq: registry.length,
  };
  const existing = registry.findIndex((l) => l.name === entry.name);
  if (existing >= 0) registry.splice(existing, 1, entry); else registry.push(entry);
  registry.sort((a, b) => (b.priority - a.priority) || (a.seq - b.seq));
  return () => { const i = registry.indexOf(entry); if (i >= 0) registry.splice(i, 1); };
}

export function lensNames() {
  return registry.map((l) => l.name);
}

function spanEvents(span) {
  const out = [];
  if (span.startRec) out.push(field(span.startRec, "event"));
  if (span.endRec) out.push(field(span.endRec, "event"));
  for (const l of span.logs || []) out.push(field(l.rec, "event"));
  return out;
}

/**
 * The lenses that apply to a span (an object with kind, attrs, startRec, endRec, logs), best first.
 * A lens matches when every pattern it gives matches (kind, any record's event, `when`) and, unless it says
 * requireField: false, at least one of its fields is present.
 */
export function lensesFor(span) {
  const out = [];
  for (const lens of registry) {
    if (lens.kind && !lens.kind(span.kind)) continue;
    if (lens.event && !spanEvents(span).some((e) => lens.event(e))) continue;
    if (lens.when) {
      let ok = false;
      try { ok = !!lens.when(span); } catch { ok = false; }
      if (!ok) continue;
    }
    if (lens.requireField && lens.fields.length && !lens.fields.some((f) => hasField(span.attrs, f.key))) continue;
    out.push(lens);
  }
  return out;
}

/** The keys shown by the given lenses; the JSON tree shows the rest. */
export function claimedKeys(lenses) {
  const keys = new Set();
  for (const lens of lenses) for (const f of lens.fields) keys.add(f.key);
  return keys;
}

const LLM_KINDS = ["llm", "chat_model"];
const hasAny = (keys) => (span) => keys.some((k) => hasField(span.attrs, k));

/** The built-in lenses. */
export function registerBuiltinLenses() {
  registerLens({
    name: "error", priority: 100, requireField: false,
    when: (s) => s.status === "error" || hasField(s.attrs, "error.type") || hasField(s.attrs, "error.message"),
    fields: [
      { key: "error.type", label: "Error", type: "text" },
      { key: "error.message", label: "Message", type: "text" },
      { key: "error.stacktrace", label: "Stack trace", type: "stacktrace" },
    ],
  });
  registerLens({
    name: "llm", priority: 50,
    when: (s) => LLM_KINDS.includes(s.kind) || hasAny(["gen_ai.input.messages", "gen_ai.output.messages"])(s),
    fields: [
      { key: "gen_ai.request.model", label: "Model", type: "model" },
      { key: "gen_ai.response.model", label: "Model", type: "model" },
      { key: "gen_ai.usage.input_tokens", label: "Usage", type: "tokens" },
      { key: "gen_ai.system_instructions", label: "System", type: "messages" },
      { key: "gen_ai.input.messages", label: "Input messages", type: "messages" },
      { key: "gen_ai.output.messages", label: "Output messages", type: "messages" },
      { key: "gen_ai.tool.definitions", label: "Tools offered", type: "json-tree", maxInitialDepth: 0 },
    ],
  });
  registerLens({
    name: "tool", priority: 40,
    when: (s) => s.kind === "tool" || hasField(s.attrs, "gen_ai.tool.name"),
    fields: [
      { key: "gen_ai.tool.name", label: "Tool", type: "chips" },
      { key: "input", label: "Input", type: "json-tree" },
      { key: "output", label: "Output", type: "json-tree" },
    ],
  });
  registerLens({
    name: "retriever", priority: 40,
    when: (s) => s.kind === "retriever" || hasField(s.attrs, "retrieval.documents"),
    fields: [
      { key: "input", label: "Query", type: "json-tree" },
      { key: "retrieval.documents", label: "Documents", type: "documents" },
      { key: "output", label: "Documents", type: "documents" },
    ],
  });
  registerLens({
    name: "langgraph", priority: 20,
    fields: [
      { key: "langgraph_node", label: "Node", type: "chips" },
      { key: "langgraph_step", label: "Step", type: "chips" },
      { key: "thread_id", label: "Thread", type: "links" },
      { key: "checkpoint_ns", label: "Checkpoint ns", type: "chips" },
      { key: "langgraph_triggers", label: "Triggers", type: "chips" },
    ],
  });
  registerLens({
    name: "io", priority: 10,
    when: (s) => !["tool", "retriever", "llm", "chat_model"].includes(s.kind),
    fields: [
      { key: "input", label: "Input", type: "json-tree" },
      { key: "output", label: "Output", type: "json-tree" },
    ],
  });
}

// ---- helpers the LLM lens uses; pure so they are tested in Node --------------------------------------

/** The text of a message's content: a string, or a list of parts ({type: "text", text|content}). */
export function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    const parts = [];
    for (const p of content) {
      if (typeof p === "string") parts.push(p);
      else if (p && typeof p === "object") {
        const t = field(p, "text") ?? field(p, "content");
        if (typeof t === "string") parts.push(t);
      }
    }
    return parts.length ? parts.join("\n") : null;
  }
  return null;
}

/**
 * Normalise a message list (GenAI conventions, LangChain dumps, or plain strings) to
 * [{role, text, toolCalls: [{id, name, arguments}], toolCallId, raw}].
 */
export function normalizeMessages(value, defaultRole = "user") {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [{ role: defaultRole, text: value, toolCalls: [], toolCallId: null, raw: value }];
  const list = Array.isArray(value) ? value : [value];
  const out = [];
  for (const m of list) {
    if (typeof m === "string") { out.push({ role: defaultRole, text: m, toolCalls: [], toolCallId: null, raw: m }); continue; }
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === "string") {
      out.push({ role: m[0], text: contentText(m[1]) ?? JSON.stringify(m[1]), toolCalls: [], toolCallId: null, raw: m });
      continue;
    }
    if (!m || typeof m !== "object") continue;
    let role = field(m, "role") ?? field(m, "type") ?? defaultRole;
    if (role === "human") role = "user";
    if (role === "ai") role = "assistant";
    let text = contentText(field(m, "content"));
    const parts = Array.isArray(field(m, "parts")) ? m.parts : [];
    if (text === null) text = contentText(parts);
    let toolCallId = field(m, "tool_call_id") ?? null;
    for (const p of parts) {
      if (p && typeof p === "object" && field(p, "type") === "tool_call_response") {
        if (toolCallId === null) toolCallId = field(p, "id") ?? null;
        const r = field(p, "response") ?? field(p, "result");
        if (text === null && r !== undefined) text = typeof r === "string" ? r : JSON.stringify(r, null, 2);
      }
    }
    if (text === null && typeof field(m, "text") === "string") text = m.text;
    const calls = [];
    const rawCalls = field(m, "tool_calls");
    const partCalls = parts.filter((p) => p && field(p, "type") === "tool_call");
    for (const c of [...(Array.isArray(rawCalls) ? rawCalls : []), ...partCalls]) {
      if (!c || typeof c !== "object") continue;
      const fn = field(c, "function");
      calls.push({
        id: field(c, "id") ?? null,
        name: field(c, "name") ?? (fn && field(fn, "name")) ?? "(tool)",
        arguments: field(c, "arguments") ?? field(c, "args") ?? (fn && field(fn, "arguments")) ?? null,
      });
    }
    out.push({ role: String(role), text, toolCalls: calls, toolCallId, raw: m });
  }
  return out;
}

/** Map<tool call id, span> over a tree, for linking an LLM's tool calls to the tool spans that ran them. */
export function toolSpansByCallId(tree) {
  const map = new Map();
  for (const span of tree.order) {
    const id = field(span.attrs, "gen_ai.tool.call.id");
    if (typeof id === "string" && id && !map.has(id)) map.set(id, span);
  }
  return map;
}

/** Map<tool call id, LLM span> over a tree: the span whose output asked for the call. */
export function callersByCallId(tree) {
  const map = new Map();
  for (const span of tree.order) {
    const out = field(span.attrs, "gen_ai.output.messages");
    if (!out) continue;
    for (const m of normalizeMessages(out, "assistant")) {
      for (const c of m.toolCalls) if (typeof c.id === "string" && !map.has(c.id)) map.set(c.id, span);
    }
  }
  return map;
}

/** Token figures of a span: {input, output, total, cached, reasoning}; null when it has none. */
export function tokenFigures(attrs) {
  const get = (k) => { const v = field(attrs, k); return typeof v === "number" && Number.isFinite(v) ? v : null; };
  const input = get("gen_ai.usage.input_tokens");
  const output = get("gen_ai.usage.output_tokens");
  let total = get("gen_ai.usage.total_tokens");
  if (total === null && (input !== null || output !== null)) total = (input || 0) + (output || 0);
  const cached = get("gen_ai.usage.cache_read.input_tokens") ?? get("gen_ai.usage.cached_tokens");
  const reasoning = get("gen_ai.usage.reasoning.output_tokens");
  if (input === null && output === null && total === null) return null;
  return { input, output, total, cached, reasoning };
}

/** The first present field among keys, e.g. for "time to first token" whose name varies. */
export function firstField(attrs, keys) {
  for (const k of keys) if (hasField(attrs, k)) return { key: k, value: field(attrs, k) };
  return null;
}

export const TTFT_KEYS = [
  "gen_ai.server.time_to_first_token_ms", "llm.time_to_first_token_ms", "gen_ai.response.time_to_first_token_ms",
  "gen_ai.time_to_first_token_ms", "time_to_first_token_ms", "gen_ai.server.time_to_first_token",
];
