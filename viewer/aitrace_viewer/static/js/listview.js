// The trace table, shared by the served list page (links to /traces/…) and the no-server viewer (#trace=…).
import { h, fmtDuration, fmtInt, fmtCost, fmtTime, ticking } from "./dom.js";
import { parseTime } from "./tree.js";

export const TRACE_ID_RE = /^[0-9a-f]{32}$/;

function statusClass(s) {
  return /^(ok|error|cancelled|interrupted|running)$/.test(s) ? `status-${s}` : "status-other";
}

/** The header row; `select`: a first column of checkboxes (the served list), its header ticking them all. */
export function traceHeadRow({ select = false } = {}) {
  return h("tr", null,
    select ? h("th", { class: "col-select" }, h("input", { type: "checkbox", class: "select-all", "aria-label": "select every trace shown" })) : null,
    ["trace", "service", "started", "duration", "spans", "errors", "tokens", "cost", "model"].map((c) =>
      h("th", { class: `col-${c}` }, c)));
}

const nonEmpty = (v) => typeof v === "string" && v.length > 0;

/** A short text shown whole in a tooltip (the cell cuts it with an ellipsis). */
function preview(cls, label, text) {
  return nonEmpty(text) ? h("span", { class: `preview ${cls}`, title: `${label}: ${text}` }, h("span", { class: "preview-label" }, label), text) : null;
}

/** Chips under the name: the run's tags, metadata (each a link filtering by it) and thread. */
function chips(s, { threadHref, filterHref }) {
  const out = [];
  for (const tag of Array.isArray(s.tags) ? s.tags.slice(0, 8) : []) {
    if (!nonEmpty(tag)) continue;
    const attrs = { class: "chip chip-tag", title: `tag ${tag}` };
    out.push(filterHref ? h("a", { ...attrs, href: filterHref("tag", tag) }, `#${tag}`) : h("span", attrs, `#${tag}`));
  }
  const meta = s.metadata && typeof s.metadata === "object" && !Array.isArray(s.metadata) ? Object.entries(s.metadata).slice(0, 8) : [];
  for (const [key, value] of meta) {
    const shown = typeof value === "string" ? value : JSON.stringify(value);
    const attrs = { class: "chip chip-meta", title: `metadata ${key} = ${shown}` };
    const body = [h("span", { class: "chip-key" }, key), "=", shown.length > 40 ? `${shown.slice(0, 39)}…` : shown];
    const simple = value === null || ["string", "number", "boolean"].includes(typeof value);
    out.push(filterHref && simple ? h("a", { ...attrs, href: filterHref("meta", `${key}=${shown}`) }, body) : h("span", attrs, body));
  }
  if (nonEmpty(s.thread_id)) {
    const attrs = { class: "chip chip-thread", title: `thread ${s.thread_id}: every turn of this conversation` };
    out.push(threadHref ? h("a", { ...attrs, href: threadHref(s.thread_id) }, `thread ${s.thread_id}`) : h("span", attrs, `thread ${s.thread_id}`));
  }
  return out.length ? h("div", { class: "row-chips" }, out) : null;
}

/** A search hit's snippet: the matched words in <mark>, everything as text; a link to the matching span. */
function matchLine(s, id, matchHref) {
  const m = s.match;
  if (!m || !Array.isArray(m.snippet) || !id) return null;
  const parts = m.snippet.filter((p) => Array.isArray(p) && typeof p[0] === "string")
    .map(([text, marked]) => (marked ? h("mark", null, text) : text));
  const span = typeof m.span_id === "string" && /^[0-9a-f]{16}$/.test(m.span_id) ? m.span_id : null;
  return h("div", { class: "row-match" }, h("span", { class: "preview-label" }, "found"), matchHref && span ? h("a", { href: matchHref(id, span), class: "match-link", title: "open the trace at the matching span" }, parts) : parts);
}

/** A summary's duration; a running trace's counts up from its start when `live` (served pages). */
export function durationOf(s, live) {
  const start = parseTime(s.start);
  if (s.status === "running" && (s.duration_ms === null || s.duration_ms === undefined)) {
    return live && Number.isFinite(start) ? ticking(start, "running-time") : h("span", { class: "running-time" }, "running");
  }
  return fmtDuration(s.duration_ms);
}

/** One row; `hrefFor(trace_id)` gives the link (a path or a #fragment); `live`: running durations tick;
 * `select`: a checkbox first; `threadHref`, `filterHref(key, value)`, `matchHref(trace_id, span_id)`: links of
 * the served pages (thread, a chip's filter, a text search hit). */
export function traceRow(s, hrefFor, { live = false, select = false, threadHref = null, filterHref = null, matchHref = null } = {}) {
  const id = typeof s.trace_id === "string" && TRACE_ID_RE.test(s.trace_id) ? s.trace_id : null;
  const name = s.root_name ?? "(unnamed)";
  const tokens = s.total_tokens ?? (s.input_tokens !== null && s.input_tokens !== undefined ? (s.input_tokens + (s.output_tokens || 0)) : null);
  const td = (cls, ...c) => h("td", { class: cls }, ...c);
  // the run ended without error, but spans inside it failed (caught by the caller): say so plainly
  const inner = s.status !== "error" && Number(s.error_count) > 0;
  return h("tr", { class: `trace-row ${statusClass(s.status)}${inner ? " errors-inside" : ""}`, "data-trace": id ?? "" },
    select ? td("col-select", h("input", { type: "checkbox", class: "row-select", value: id ?? "", "aria-label": `select ${name}` })) : null,
    td("col-trace",
      h("div", { class: "row-title" },
      h("span", { class: `status-dot ${statusClass(s.status)}`, title: String(s.status ?? "") }),
      id ? h("a", { href: hrefFor(id), class: "trace-link" }, name) : h("span", null, name),
      s.root_kind ? h("span", { class: `kind kind-${String(s.root_kind).replace(/[^a-z_]/gi, "")}` }, s.root_kind) : null,
      s.incomplete ? h("span", { class: "flag status-running", title: "some spans have no end record" }, "incomplete") : null,
      inner ? h("span", { class: "flag flag-inner-error", title: `${s.status === "running" ? "the run is still going" : `the run ended ${s.status ?? "ok"}`}, but ${s.error_count} span${s.error_count === 1 ? "" : "s"} inside it failed` },
        `⚠ ${fmtInt(s.error_count)} error${s.error_count === 1 ? "" : "s"} inside`) : null),
      nonEmpty(s.input_preview) || nonEmpty(s.output_preview)
        ? h("div", { class: "row-preview" }, preview("preview-in", "in", s.input_preview), preview("preview-out", "out", s.output_preview)) : null,
      chips(s, { threadHref, filterHref }),
      matchLine(s, id, matchHref)),
    td("col-service", s.service ?? "–"),
    td("col-started", s.start ? fmtTime(s.start) : "–"),
    td("col-duration num", durationOf(s, live)),
    td("col-spans num", fmtInt(s.span_count)),
    td(`col-errors num${s.error_count ? " has-errors" : ""}`, fmtInt(s.error_count)),
    td("col-tokens num", tokens === null || tokens === undefined ? "–" : fmtInt(tokens)),
    td("col-cost num", fmtCost(s.cost_usd)),
    td("col-model", s.model ?? "–"));
}
