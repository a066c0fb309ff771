// Pure: the tree of a big trace from the server's compact span list (GET /api/traces/{id}/tree, docs/api.md),
// before any record is loaded. Spans come out shaped like tree.js's, with `loaded: false`: their fields, start
// and end records and log lines arrive per span (tree.js addSpanRecords) when the page opens them.
import { newSpan, linkTree } from "./tree.js";

/** {traceId, spans, roots, order, start, end, duration, records: [], lazy: true} from the tree document. */
export function treeFromSpans(doc) {
  const cols = Array.isArray(doc.columns) ? doc.columns : [];
  const at = (name) => cols.indexOf(name);
  const [iId, iParent, iName, iKind, iStart, iEnd, iLast, iDur, iStatus, iRecords, iLogs] = [
    "span_id", "parent", "name", "kind", "start_us", "end_us", "last_us", "duration_ms", "status", "record_count", "log_count",
  ].map(at);
  const rows = Array.isArray(doc.spans) ? doc.spans : [];
  const t0 = Number(doc.t0_us) / 1000; // epoch ms
  const spans = new Map();
  const byIndex = new Array(rows.length);
  let end = t0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const id = String(r[iId]);
    const span = newSpan(id, true);
    const status = typeof r[iStatus] === "string" ? r[iStatus] : "ok";
    span.status = status;
    span.kind = typeof r[iKind] === "string" && r[iKind] ? r[iKind] : status === "log" ? "log" : "span";
    span.name = typeof r[iName] === "string" && r[iName] ? r[iName] : id;
    span.start = t0 + Number(r[iStart]) / 1000;
    const last = t0 + Number(r[iLast] ?? r[iStart]) / 1000;
    span.end = typeof r[iEnd] === "number" ? t0 + r[iEnd] / 1000 : last;
    span.running = status === "running";
    span.incomplete = span.running;
    span.duration = typeof r[iDur] === "number" ? r[iDur] : span.running ? NaN : Math.max(0, span.end - span.start);
    span.error = status === "error";
    span.recordCount = Number(r[iRecords]) || 0;
    span.logCount = Number(r[iLogs]) || 0;
    if (span.end > end) end = span.end;
    if (last > end) end = last;
    byIndex[i] = span;
    spans.set(id, span);
  }
  for (let i = 0; i < rows.length; i++) {
    const p = rows[i][iParent];
    if (typeof p === "number" && byIndex[p]) byIndex[i].parentId = byIndex[p].id;
    else if (typeof p === "string" && p) byIndex[i].parentId = p;
  }
  const { roots, order } = linkTree(spans);
  const traceId = doc.summary && typeof doc.summary.trace_id === "string" ? doc.summary.trace_id : null;
  return { traceId, spans, roots, order, start: t0, end, duration: Math.max(0, end - t0), records: [], lazy: true };
}
