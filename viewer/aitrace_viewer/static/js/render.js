// The detail panel: a span's lenses, its other fields as a JSON tree, and its records.
import { h, fmtDuration, fmtInt, fmtCost, fmtTime, copyText, download, flash, ticking } from "./dom.js";
import {
  lensesFor, claimedKeys, field, hasField, normalizeMessages, tokenFigures, firstField, TTFT_KEYS,
} from "./lenses.js";
import { jsonTree, longText, fieldsTree, parseJsonString, childPath } from "./jsontree.js";
import { parseTime } from "./tree.js";
import { stateMessages } from "./conversation.js";

const SPAN_KEYS = new Set(["span_name", "span_kind", "duration_ms", "status", "incomplete"]);

function chip(text, cls = "", title = null) {
  return h("span", { class: `chip ${cls}`.trim(), title }, text);
}

function labelled(label, ...content) {
  return h("div", { class: "field" }, h("div", { class: "field-label" }, label), h("div", { class: "field-value" }, ...content));
}

function spanLink(ctx, span, text) {
  const a = h("a", { href: `#span=${span.id}`, class: "span-link", "data-span": span.id }, text);
  a.addEventListener("click", (e) => { e.preventDefault(); ctx.select(span.id, { reveal: true }); });
  return a;
}

function renderModel(attrs) {
  const chips = [];
  const req = field(attrs, "gen_ai.request.model");
  const resp = field(attrs, "gen_ai.response.model");
  if (req !== undefined) chips.push(chip(String(req), "chip-model", "gen_ai.request.model"));
  if (resp !== undefined && resp !== req) chips.push(chip(`→ ${resp}`, "chip-model", "gen_ai.response.model"));
  const provider = field(attrs, "gen_ai.provider.name") ?? field(attrs, "gen_ai.system");
  if (provider !== undefined) chips.push(chip(String(provider), "", "gen_ai.provider.name"));
  for (const k of Object.keys(attrs)) {
    if (k.startsWith("gen_ai.request.") && k !== "gen_ai.request.model") {
      const v = attrs[k];
      const text = typeof v === "object" ? JSON.stringify(v) : String(v);
      chips.push(chip(`${k.slice("gen_ai.request.".length)}: ${text.length > 60 ? text.slice(0, 60) + "…" : text}`, "chip-param", k));
    }
  }
  const fr = field(attrs, "gen_ai.response.finish_reasons");
  if (fr !== undefined) chips.push(chip(`finish: ${Array.isArray(fr) ? fr.join(", ") : String(fr)}`, "", "gen_ai.response.finish_reasons"));
  return chips.length ? labelled("Model", h("div", { class: "chips" }, chips)) : null;
}

function renderTokens(attrs, span) {
  const t = tokenFigures(attrs) || {};
  const chips = [];
  const add = (label, v, cls) => { if (v !== null && v !== undefined) chips.push(chip(`${label} ${fmtInt(v)}`, `chip-token ${cls}`)); };
  add("input", t.input, "tok-in");
  add("output", t.output, "tok-out");
  add("total", t.total, "tok-total");
  add("cached", t.cached, "tok-cached");
  add("reasoning", t.reasoning, "tok-reasoning");
  const cost = field(attrs, "gen_ai.usage.cost_usd");
  if (typeof cost === "number") chips.push(chip(`cost ${fmtCost(cost)}`, "chip-cost", "gen_ai.usage.cost_usd"));
  if (Number.isFinite(span.duration)) chips.push(chip(`latency ${fmtDuration(span.duration)}`, "chip-latency"));
  const ttft = firstField(attrs, TTFT_KEYS);
  if (ttft && typeof ttft.value === "number") chips.push(chip(`TTFT ${fmtDuration(ttft.value)}`, "chip-ttft", ttft.key));
  return chips.length ? labelled("Usage", h("div", { class: "chips" }, chips)) : null;
}

function toolCallBox(call, ctx) {
  let args = call.arguments;
  const parsed = parseJsonString(args);
  if (parsed !== undefined) args = parsed;
  const target = call.id ? ctx.toolSpans.get(call.id) : undefined;
  return h("div", { class: "tool-call" },
    h("div", { class: "tool-call-head" },
      h("span", { class: "tool-name" }, String(call.name)),
      call.id ? chip(String(call.id), "chip-id", "tool call id") : null,
      target ? spanLink(ctx, target, `→ ${target.name}`) : h("span", { class: "muted" }, "no tool span with this id")),
    args === null || args === undefined ? null
      : typeof args === "object" ? jsonTree(args, { path: "$.arguments", maxInitialDepth: 3 })
        : h("pre", { class: "text-block" }, String(args)));
}

function renderMessages(value, ctx, defaultRole) {
  const msgs = normalizeMessages(value, defaultRole);
  if (!msgs.length) return jsonTree(value);
  return h("div", { class: "messages" }, msgs.map((m) => {
    const role = m.role.toLowerCase();
    const known = ["system", "user", "assistant", "tool"].includes(role) ? role : "other";
    const toolTarget = m.toolCallId ? ctx.toolSpans.get(m.toolCallId) : undefined;
    return h("div", { class: `msg role-${known}` },
      h("div", { class: "msg-head" }, h("span", { class: "role" }, m.role),
        m.toolCallId ? chip(String(m.toolCallId), "chip-id", "tool_call_id") : null,
        toolTarget ? spanLink(ctx, toolTarget, `→ ${toolTarget.name}`) : null),
      m.text !== null && m.text !== "" ? longText(m.text, "msg-text")
        : (m.toolCalls.length ? null : jsonTree(m.raw, { maxInitialDepth: 1 })),
      m.toolCalls.length ? h("div", { class: "tool-calls" }, m.toolCalls.map((c) => toolCallBox(c, ctx))) : null);
  }));
}

function renderDocuments(value) {
  if (!Array.isArray(value)) return jsonTree(value);
  return h("ol", { class: "documents" }, value.map((d, i) => {
    if (!d || typeof d !== "object") return h("li", null, jsonTree(d));
    const content = field(d, "content") ?? field(d, "page_content");
    const meta = field(d, "metadata");
    const score = field(d, "score");
    return h("li", { class: "document" },
      h("div", { class: "doc-head" }, `document ${i + 1}`, typeof score === "number" ? chip(`score ${score}`) : null,
        field(d, "id") !== undefined ? chip(String(field(d, "id")), "chip-id") : null),
      typeof content === "string" ? longText(content) : jsonTree(content ?? d),
      meta !== undefined ? jsonTree(meta, { label: "metadata", path: `$[${i}].metadata`, maxInitialDepth: 1 }) : null);
  }));
}

function renderLinks(key, value, ctx) {
  const href = ctx.threadHref && typeof value === "string" ? ctx.threadHref(value) : null;
  return href ? h("a", { href, class: "thread-link" }, `${value} — open the thread`) : chip(String(value));
}

/** System instructions that the input messages already start with are not shown twice. */
function systemRepeated(value, attrs) {
  const sys = normalizeMessages(value, "system").map((m) => m.text).join("\n");
  const inputs = normalizeMessages(field(attrs, "gen_ai.input.messages"), "user");
  return inputs.some((m) => m.role === "system" && m.text === sys);
}

function renderField(f, span, ctx, done) {
  const attrs = span.attrs;
  switch (f.type) {
    case "model":
      if (done.has("model")) return null;
      done.add("model");
      return renderModel(attrs);
    case "tokens":
      if (done.has("tokens")) return null;
      done.add("tokens");
      return renderTokens(attrs, span);
    default: break;
  }
  if (!hasField(attrs, f.key)) return null;
  let value = attrs[f.key];
  if (f.key === "gen_ai.system_instructions") {
    // A string, or a list of parts ({type: "text", content}): one system message either way.
    if (Array.isArray(value) && value.every((p) => p && typeof p === "object" && !field(p, "role"))) value = [{ role: "system", content: value }];
    if (systemRepeated(value, attrs)) return null;
    // The message's own head says "system": no field label above it saying it again.
    return h("div", { class: "field field-system" }, renderMessages(value, ctx, "system"));
  }
  switch (f.type) {
    case "messages":
      return labelled(f.label, renderMessages(value, ctx, f.key.includes("output") ? "assistant" : f.key.includes("system") ? "system" : "user"));
    case "tool-calls":
      return labelled(f.label, h("div", { class: "tool-calls" }, (Array.isArray(value) ? value : [value]).map((c) => toolCallBox(normalizeMessages([{ role: "assistant", tool_calls: [c] }])[0].toolCalls[0] || { name: "?", arguments: c }, ctx))));
    case "documents":
      return labelled(f.label, renderDocuments(value));
    case "stacktrace":
      return labelled(f.label, longText(String(value), "stacktrace"));
    case "links":
      return labelled(f.label, renderLinks(f.key, value, ctx));
    case "chips":
      return labelled(f.label, h("div", { class: "chips" }, (Array.isArray(value) ? value : [value]).map((v) => chip(typeof v === "object" ? JSON.stringify(v) : String(v)))));
    case "json-tree": {
      const state = f.key === "input" || f.key === "output" ? stateMessages(value) : null;
      if (state) return labelled(f.label, stateView(state, ctx, f.key));
      return labelled(f.label, jsonTree(value, { path: childPath("$", f.key), maxInitialDepth: f.maxInitialDepth }));
    }
    default:
      return labelled(f.label, typeof value === "string" ? longText(value) : jsonTree(value, { path: childPath("$", f.key) }));
  }
}

/** A graph state holding a conversation: its messages as the LLM lens draws them, then its other keys. */
function stateView(state, ctx, key) {
  return h("div", { class: "state-messages" },
    renderMessages(state.messages, ctx, key === "output" ? "assistant" : "user"),
    state.rest ? jsonTree(state.rest, { path: childPath("$", key), maxInitialDepth: 1 }) : null);
}

const hasIO = (span) => hasField(span.attrs, "input") || hasField(span.attrs, "output");

/**
 * What a root span that holds no input or output of its own (a function around a graph) shows first: the
 * run's input and output from the first span under it that has them, and the first error under it.
 */
function renderRunSection(span, ctx) {
  if (span.parentId && !span.orphan) return null;
  const order = ctx.tree.order;
  const parts = [];
  if (!hasIO(span)) {
    const end = span.order + 1 + 50;
    for (let i = span.order + 1; i < Math.min(order.length, end); i++) {
      const s = order[i];
      if (s.depth <= span.depth) break;
      if (!s.loaded || !hasIO(s)) continue;
      parts.push(h("div", { class: "field run-from" }, "from ", spanLink(ctx, s, s.name)));
      for (const key of ["input", "output"]) {
        if (!hasField(s.attrs, key)) continue;
        const value = s.attrs[key];
        const state = stateMessages(value);
        parts.push(labelled(key === "input" ? "Input" : "Output",
          state ? stateView(state, ctx, key) : jsonTree(value, { path: childPath("$", key), maxInitialDepth: 2 })));
      }
      break;
    }
  }
  if (span.status !== "error" && span.errorBelow) {
    const failed = order.slice(span.order + 1).find((s) => s.depth > span.depth && s.status === "error");
    if (failed) {
      const msg = field(failed.attrs, "error.message") ?? field(failed.attrs, "error.type");
      parts.push(labelled("Error below", h("div", { class: "run-error" }, spanLink(ctx, failed, failed.name),
        msg !== undefined ? h("pre", { class: "text-block" }, String(msg)) : null)));
    }
  }
  return parts.length ? h("section", { class: "lens lens-run", "data-key": "run" }, h("h3", null, "run"), parts) : null;
}

function renderToolBacklink(span, ctx) {
  const id = field(span.attrs, "gen_ai.tool.call.id");
  if (typeof id !== "string") return null;
  const caller = ctx.callers.get(id);
  return labelled("Call", h("div", { class: "chips" }, chip(id, "chip-id", "gen_ai.tool.call.id"),
    caller ? spanLink(ctx, caller, `← asked for by ${caller.name}`) : null));
}

function recordRow(rec, index, span, ctx) {
  const event = String(field(rec, "event") ?? "(no event)");
  const level = String(field(rec, "level") ?? "");
  const t = parseTime(field(rec, "timestamp"));
  const offset = Number.isFinite(t) ? `+${fmtDuration(t - ctx.tree.start)}` : "";
  const details = h("details", { class: `record level-${/^(debug|info|warning|error|critical)$/.test(level) ? level : "other"}` });
  const dl = h("button", { type: "button", class: "mini", title: "Download this record as JSON" }, "download");
  dl.addEventListener("click", (e) => {
    e.preventDefault();
    download(`record-${span.id}-${index}.json`, JSON.stringify(rec, null, 2));
  });
  details.appendChild(h("summary", null, h("span", { class: "rec-time" }, offset), h("span", { class: "rec-level" }, level),
    h("span", { class: "rec-event" }, event), dl));
  let filled = false;
  details.addEventListener("toggle", () => {
    if (details.open && !filled) { filled = true; details.appendChild(jsonTree(rec, { maxInitialDepth: 1 })); }
  });
  return details;
}

/** The panel for one span. ctx: {tree, select(id, opts), toolSpans, callers, threadHref(id)|null}. */
export function renderSpanDetail(span, ctx) {
  const lenses = lensesFor(span);
  const claimed = claimedKeys(lenses);
  const statusCls = `status-${/^(ok|error|cancelled|interrupted|running)$/.test(span.status) ? span.status : "other"}`;
  const parent = span.parentId ? ctx.tree.spans.get(span.parentId) : null;
  const link = h("button", { type: "button", class: "mini", title: "Copy a link to this span" }, "copy link");
  link.addEventListener("click", async () => {
    const url = location.href.split("#")[0] + `#span=${span.id}`;
    flash(link, (await copyText(url)) ? "copied" : "failed");
  });
  const head = h("header", { class: "detail-head" },
    h("h2", null, span.name),
    h("div", { class: "chips" },
      chip(span.kind, `kind kind-${span.kind.replace(/[^a-z_]/gi, "")}`),
      chip(span.status, `status ${statusCls}`),
      span.running ? chip(ctx.live ? ticking(span.start, "", span.end - span.start) : "no end yet", "chip-latency", "running: time elapsed so far")
        : chip(fmtDuration(span.duration), "chip-latency", "duration"),
      Number.isFinite(span.start) ? chip(`starts +${fmtDuration(span.start - ctx.tree.start)}`, "", fmtTime(span.start)) : null,
      span.incomplete ? chip("incomplete", "status status-running", "the span has no end record of its own") : null,
      span.orphan ? chip("parent missing", "status status-running", `parent ${span.parentId} is not in this trace`) : null,
      span.errorBelow ? chip("error below", "status status-error", "a span under this one failed") : null),
    h("div", { class: "detail-ids" }, "span ", h("code", null, span.id),
      parent ? h("span", null, " · parent ", spanLink(ctx, parent, parent.name)) : null, " ", link));
  const sections = [];
  const run = renderRunSection(span, ctx);
  if (run) sections.push(run);
  for (const lens of lenses) {
    const done = new Set();
    const parts = lens.fields.map((f) => renderField(f, span, ctx, done)).filter(Boolean);
    if (lens.name === "tool") { const back = renderToolBacklink(span, ctx); if (back) parts.unshift(back); }
    if (parts.length) sections.push(h("section", { class: `lens lens-${lens.name.replace(/[^a-z0-9_-]/gi, "")}`, "data-key": lens.name }, h("h3", null, lens.name), parts));
  }
  const rest = Object.keys(span.attrs).filter((k) => !claimed.has(k) && !SPAN_KEYS.has(k) && k !== "gen_ai.provider.name" && !k.startsWith("gen_ai.request.") && !k.startsWith("gen_ai.usage."));
  if (rest.length) sections.push(h("section", { class: "lens lens-fields" }, h("h3", null, "fields"), fieldsTree(span.attrs, rest)));
  const recs = [];
  if (span.startRec) recs.push(span.startRec);
  for (const l of span.logs) recs.push(l.rec);
  if (span.endRec) recs.push(span.endRec);
  const dlAll = h("button", { type: "button", class: "mini" }, "download all");
  dlAll.addEventListener("click", () => download(`span-${span.id}.jsonl`, recs.map((r) => JSON.stringify(r)).join("\n") + "\n", "application/x-ndjson"));
  sections.push(h("section", { class: "lens lens-records" }, h("h3", null, `records (${recs.length})`, " ", dlAll),
    recs.slice(0, 500).map((r, i) => recordRow(r, i, span, ctx)),
    recs.length > 500 ? h("p", { class: "muted" }, `${recs.length - 500} more records: download all to see them`) : null,
    span.more ? h("p", { class: "muted records-more" }, `This span has ${span.recordCount} records; the first ones and its end are shown (export the trace for all).`) : null));
  return h("div", { class: "detail-inner" }, head, sections);
}

/** The panel for one log record (a row under its span). */
export function renderRecordDetail(rec, span, ctx) {
  const level = String(field(rec, "level") ?? "");
  const dl = h("button", { type: "button", class: "mini" }, "download");
  dl.addEventListener("click", () => download(`record-${span.id}.json`, JSON.stringify(rec, null, 2)));
  const rest = Object.create(null);
  for (const k of Object.keys(rec)) rest[k] = rec[k];
  return h("div", { class: "detail-inner" },
    h("header", { class: "detail-head" },
      h("h2", null, String(field(rec, "event") ?? "(record)")),
      h("div", { class: "chips" }, chip(level || "log", `level level-${level}`), chip(fmtTime(parseTime(field(rec, "timestamp")))), dl),
      h("div", { class: "detail-ids" }, "in span ", spanLink(ctx, span, span.name))),
    h("section", { class: "lens lens-fields" }, h("h3", null, "record"), fieldsTree(rest, Object.keys(rest), { maxInitialDepth: 2 })));
}
