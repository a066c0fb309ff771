// The trace table, shared by the served list page (links to /traces/…) and the no-server viewer (#trace=…).
import { h, fmtDuration, fmtInt, fmtCost, fmtTime, ticking } from "./dom.js";
import { parseTime } from "./tree.js";

export const TRACE_ID_RE = /^[0-9a-f]{32}$/;

function statusClass(s) {
  return /^(ok|error|cancelled|interrupted|running)$/.test(s) ? `status-${s}` : "status-other";
}

export function traceHeadRow() {
  return h("tr", null, ["trace", "service", "started", "duration", "spans", "errors", "tokens", "cost", "model"].map((c) =>
    h("th", { class: `col-${c}` }, c)));
}

/** A summary's duration; a running trace's counts up from its start when `live` (served pages). */
export function durationOf(s, live) {
  const start = parseTime(s.start);
  if (s.status === "running" && (s.duration_ms === null || s.duration_ms === undefined)) {
    return live && Number.isFinite(start) ? ticking(start, "running-time") : h("span", { class: "running-time" }, "running");
  }
  return fmtDuration(s.duration_ms);
}

/** One row; `hrefFor(trace_id)` gives the link (a path or a #fragment); `live`: running durations tick. */
export function traceRow(s, hrefFor, { live = false } = {}) {
  const id = typeof s.trace_id === "string" && TRACE_ID_RE.test(s.trace_id) ? s.trace_id : null;
  const name = s.root_name ?? "(unnamed)";
  const tokens = s.total_tokens ?? (s.input_tokens !== null && s.input_tokens !== undefined ? (s.input_tokens + (s.output_tokens || 0)) : null);
  const td = (cls, ...c) => h("td", { class: cls }, ...c);
  return h("tr", { class: `trace-row ${statusClass(s.status)}`, "data-trace": id ?? "" },
    td("col-trace",
      h("span", { class: `status-dot ${statusClass(s.status)}`, title: String(s.status ?? "") }),
      id ? h("a", { href: hrefFor(id), class: "trace-link" }, name) : h("span", null, name),
      s.root_kind ? h("span", { class: `kind kind-${String(s.root_kind).replace(/[^a-z_]/gi, "")}` }, s.root_kind) : null,
      s.incomplete ? h("span", { class: "flag status-running", title: "some spans have no end record" }, "incomplete") : null),
    td("col-service", s.service ?? "–"),
    td("col-started", s.start ? fmtTime(s.start) : "–"),
    td("col-duration num", durationOf(s, live)),
    td("col-spans num", fmtInt(s.span_count)),
    td(`col-errors num${s.error_count ? " has-errors" : ""}`, fmtInt(s.error_count)),
    td("col-tokens num", tokens === null || tokens === undefined ? "–" : fmtInt(tokens)),
    td("col-cost num", fmtCost(s.cost_usd)),
    td("col-model", s.model ?? "–"));
}
