// Page controllers: the served list, trace and thread pages, and the no-server viewer.
import { SEL, $, h, clear, fmtDuration, fmtInt, fmtTime } from "./dom.js";
import { buildTree, groupByTrace, parseJsonl, summarize } from "./tree.js";
import { treeFromSpans } from "./spantree.js";
import { registerBuiltinLenses, registerLens } from "./lenses.js";
import { mountTraceView, traceSummaryHeader, hashParams } from "./traceview.js";
import { traceHeadRow, traceRow, TRACE_ID_RE } from "./listview.js";
import { turnMessages } from "./conversation.js";
import { longText } from "./jsontree.js";
import { insightsPage, threadsPage } from "./insightsview.js";

const FILTER_KEYS = ["q", "service", "status", "errors", "model", "min_duration_ms", "thread_id", "since", "until"];

function setStatus(text, cls = "") {
  const el = $(SEL.status);
  if (!el) return;
  el.textContent = text;
  el.className = `page-status ${cls}`.trim();
  el.hidden = !text;
}

async function getJson(url) {
  // No custom headers: the trace page preloads its data request, and fetch() must match it to reuse it.
  const res = await fetch(url, { credentials: "same-origin" });
  if (!res.ok) {
    let why = `${res.status} ${res.statusText}`;
    try { const body = await res.json(); if (body && typeof body.error === "string") why = body.error; } catch { /* not JSON */ }
    throw new Error(why);
  }
  return res.json();
}

const threadHref = (id) => `/threads/${encodeURIComponent(id)}`;

// ---- list ---------------------------------------------------------------------------------------------

function filterParams() {
  const params = new URLSearchParams(location.search);
  const out = new URLSearchParams();
  for (const k of FILTER_KEYS) { const v = params.get(k); if (v) out.set(k, v); }
  return out;
}

function fillForm(form, params) {
  for (const k of FILTER_KEYS) {
    const input = form.elements.namedItem(k);
    if (!input) continue;
    if (input.type === "checkbox") input.checked = params.get(k) === "true";
    else input.value = params.get(k) ?? "";
  }
}

function formParams(form) {
  const out = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const input = form.elements.namedItem(k);
    if (!input) continue;
    if (input.type === "checkbox") { if (input.checked) out.set(k, "true"); }
    else if (input.value.trim()) out.set(k, input.value.trim());
  }
  return out;
}

/** Whether a live summary passes the filters we can check here (text search needs the server). */
export function summaryMatches(s, params) {
  if (params.get("service") && s.service !== params.get("service")) return false;
  if (params.get("status") && s.status !== params.get("status")) return false;
  if (params.get("errors") === "true" && !s.error_count) return false;
  if (params.get("model") && s.model !== params.get("model")) return false;
  if (params.get("thread_id") && s.thread_id !== params.get("thread_id")) return false;
  const min = Number(params.get("min_duration_ms"));
  if (params.get("min_duration_ms") && !(s.duration_ms >= min)) return false;
  return true;
}

function listPage() {
  const body = $(SEL.listBody);
  const table = body.closest("table");
  table.tHead.replaceChildren(traceHeadRow());
  const form = $(SEL.filters);
  const more = $(SEL.listMore);
  const empty = $(SEL.listEmpty);
  const noMatch = $(SEL.listNoMatch);
  const live = $(SEL.listLive);
  const rowsById = new Map();
  let cursor = null;
  let params = filterParams();
  fillForm(form, params);
  const href = (id) => `/traces/${id}`;

  async function load(append) {
    const q = new URLSearchParams(params);
    const size = Number(new URLSearchParams(location.search).get("limit"));
    q.set("limit", String(Number.isInteger(size) && size > 0 && size <= 500 ? size : 50));
    if (append && cursor) q.set("cursor", cursor);
    setStatus("Loading…");
    try {
      const data = await getJson(`/api/traces?${q}`);
      if (!append) { clear(body); rowsById.clear(); }
      for (const s of data.traces || []) {
        const tr = traceRow(s, href, { live: true });
        rowsById.set(s.trace_id, tr);
        body.appendChild(tr);
      }
      cursor = data.next_cursor || null;
      more.hidden = !cursor;
      // Nothing at all is "no traces yet"; nothing under filters is the filters' doing: say so, offer to clear.
      const filtered = [...params.keys()].length > 0;
      empty.hidden = rowsById.size > 0 || filtered;
      noMatch.hidden = rowsById.size > 0 || !filtered;
      setStatus("");
      document.body.dataset.listReady = String(rowsById.size);
    } catch (e) {
      setStatus(`Could not load traces: ${e.message}`, "error");
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    params = formParams(form);
    const qs = params.toString();
    history.pushState(null, "", qs ? `?${qs}` : location.pathname);
    load(false);
  });
  form.addEventListener("reset", () => {
    setTimeout(() => form.requestSubmit(), 0);
  });
  window.addEventListener("popstate", () => { params = filterParams(); fillForm(form, params); load(false); });
  more.addEventListener("click", () => load(true));
  $(SEL.listClear).addEventListener("click", (e) => { e.preventDefault(); form.reset(); });

  if (typeof EventSource === "function") {
    const es = new EventSource("/api/stream");
    es.addEventListener("open", () => { live.textContent = "● live"; live.className = "live on"; });
    es.addEventListener("error", () => { live.textContent = "○ reconnecting"; live.className = "live off"; });
    es.addEventListener("trace", (ev) => {
      let s;
      try { s = JSON.parse(ev.data); } catch { return; }
      if (!s || typeof s.trace_id !== "string" || !TRACE_ID_RE.test(s.trace_id)) return;
      if (params.get("q") || !summaryMatches(s, params)) return;
      const tr = traceRow(s, href, { live: true });
      const old = rowsById.get(s.trace_id);
      if (old) old.replaceWith(tr);
      else body.insertBefore(tr, body.firstChild);
      tr.classList.add("fresh");
      rowsById.set(s.trace_id, tr);
      empty.hidden = true;
    });
  }
  load(false);
}

// ---- one trace ----------------------------------------------------------------------------------------

function exportLinks(id) {
  return h("span", { class: "fig-value" }, ["jsonl", "json", "csv"].map((f, i) =>
    [i ? " · " : "", h("a", { href: `/api/traces/${id}/export?format=${f}`, download: `${id}.${f}` }, f)]));
}

function openTrace(root, headerEl, records, summary, { served, onSelect, built = null, keep = null, loadSpan = null }) {
  const tree = built || buildTree(records);
  const sum = summary || summarize(tree);
  if (headerEl) headerEl.replaceChildren(traceSummaryHeader(sum, { live: served, threadHref: served ? threadHref : null, exportLinks: served && sum.trace_id && TRACE_ID_RE.test(sum.trace_id) ? exportLinks(sum.trace_id) : null }));
  const view = mountTraceView(root, tree, { live: served, threadHref: served ? threadHref : null, onSelect, keep, loadSpan });
  const want = hashParams().get("span");
  if (!keep && want && !view.select(want, { updateHash: false })) setStatus(`Span ${want} is not in this trace.`, "error");
  return view;
}

async function tracePage() {
  const id = document.body.dataset.traceId || "";
  const root = $(SEL.app);
  const onSelect = (spanId) => history.replaceState(null, "", `#span=${spanId}`);
  // A big trace (the server decides, docs/api.md) comes as its span tree; a span's records when it is opened.
  const big = document.body.dataset.load === "tree";
  const url = document.body.dataset.url || `/api/traces/${encodeURIComponent(id)}`;
  const loadSpan = big ? async (span) => {
    const data = await getJson(`/api/traces/${encodeURIComponent(id)}/spans/${encodeURIComponent(span.id)}/records`);
    return { records: Array.isArray(data.records) ? data.records : [], more: data.more === true };
  } : null;
  const open = (data, keep = null) => openTrace(root, $(SEL.traceHeader), big ? [] : (data.records || []), data.summary,
    { served: true, onSelect, keep, loadSpan, built: big ? treeFromSpans(data) : null });
  const count = (data) => (big ? Number(data.summary && data.summary.record_count) || 0 : (data.records || []).length);
  try {
    setStatus("Loading trace…");
    const data = await getJson(url);
    setStatus("");
    document.title = `${data.summary && data.summary.root_name || "trace"} · aitrace`;
    let view = open(data);
    window.addEventListener("hashchange", () => { const s = hashParams().get("span"); if (s) view.select(s, { updateHash: false }); });
    let known = count(data);
    watchTrace(id, () => known, async () => {
      const fresh = await getJson(url);
      const now = count(fresh);
      if (now <= known) return;
      const keep = view.state();
      view.destroy();
      view = open(fresh, keep);
      const added = now - known;
      known = now;
      const note = h("div", { class: "trace-updated" }, `live: ${fmtInt(added)} new records at ${new Date().toLocaleTimeString()}`);
      $(SEL.traceHeader).appendChild(note);
    });
  } catch (e) {
    setStatus(`Could not load trace ${id}: ${e.message}`, "error");
  }
}

/** A trace still being written: when the server says it has more records, redraw it in place, keeping what
 * is open, selected and scrolled to; at most once a second, one fetch at a time. */
function watchTrace(id, known, update) {
  if (typeof EventSource !== "function") return;
  const es = new EventSource("/api/stream");
  const live = $(SEL.listLive);
  let busy = false;
  let again = false;
  let last = 0;
  async function run() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const wait = last + 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      last = Date.now();
      await update();
    } catch (e) {
      setStatus(`Could not refresh the trace: ${e.message}`, "error");
    } finally {
      busy = false;
      if (again) { again = false; run(); }
    }
  }
  es.addEventListener("open", () => { live.textContent = "● live"; live.className = "live on"; });
  es.addEventListener("error", () => { live.textContent = "○ reconnecting"; live.className = "live off"; });
  es.addEventListener("trace", (ev) => {
    let s;
    try { s = JSON.parse(ev.data); } catch { return; }
    if (!s || s.trace_id !== id || !(s.record_count > known())) return;
    run();
  });
}

// ---- thread -------------------------------------------------------------------------------------------

async function threadPage() {
  const id = document.body.dataset.threadId || "";
  const box = $(SEL.thread);
  try {
    setStatus("Loading thread…");
    const data = await getJson(`/api/threads/${encodeURIComponent(id)}`);
    const traces = (data.traces || []).slice(0, 100);
    const details = await Promise.all(traces.map((t) => getJson(`/api/traces/${t.trace_id}`).catch(() => null)));
    setStatus(traces.length ? "" : "No traces carry this thread id.");
    traces.forEach((t, i) => {
      const d = details[i];
      const turn = h("section", { class: "turn" },
        h("header", { class: "turn-head" },
          h("span", { class: "turn-no" }, `turn ${i + 1}`),
          TRACE_ID_RE.test(t.trace_id) ? h("a", { href: `/traces/${t.trace_id}`, class: "trace-link" }, t.root_name ?? t.trace_id) : t.root_name,
          h("span", { class: "muted" }, ` ${fmtTime(t.start)} · ${fmtDuration(t.duration_ms)} · ${fmtInt(t.total_tokens)} tokens`)));
      const msgs = d ? turnMessages(buildTree(d.records || [])) : [];
      for (const m of msgs) {
        const role = ["system", "user", "assistant", "tool"].includes(m.role) ? m.role : "other";
        turn.appendChild(h("div", { class: `msg role-${role}` },
          h("div", { class: "msg-head" }, h("span", { class: "role" }, m.role), m.name ? h("span", { class: "muted" }, m.name) : null,
            TRACE_ID_RE.test(t.trace_id) ? h("a", { href: `/traces/${t.trace_id}#span=${m.spanId}`, class: "span-link" }, "span") : null),
          m.text ? longText(m.text, "msg-text") : null,
          m.toolCalls.length ? h("div", { class: "tool-calls" }, m.toolCalls.map((c) =>
            h("div", { class: "tool-call-head" }, h("span", { class: "tool-name" }, String(c.name)),
              h("code", null, typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments))))) : null));
      }
      if (!d) turn.appendChild(h("p", { class: "muted" }, "could not load this trace"));
      box.appendChild(turn);
    });
    document.body.dataset.threadReady = String(traces.length);
  } catch (e) {
    setStatus(`Could not load thread ${id}: ${e.message}`, "error");
  }
}

// ---- no server: a .jsonl file (picked, dropped, or embedded in an exported HTML file) -----------------

function fileViewer() {
  const root = $(SEL.app);
  const listBox = $(SEL.fileTraces);
  const message = $(SEL.fileMessage);
  const header = $(SEL.traceHeader);
  let groups = new Map();
  let trees = new Map();
  let summaries = [];
  let view = null;
  let current = null;

  function showList() {
    if (view) { view.destroy(); view = null; }
    current = null;
    header.replaceChildren();
    clear(root);
    clear(listBox);
    if (!summaries.length) return;
    const table = h("table", { class: "traces" }, h("thead", null, traceHeadRow()),
      h("tbody", null, summaries.map((s) => traceRow(s, (id) => `#trace=${id}`))));
    listBox.appendChild(table);
  }

  function route() {
    const p = hashParams();
    const tid = p.get("trace") || (groups.size === 1 ? [...groups.keys()][0] : null);
    if (!tid || !groups.has(tid)) { showList(); return; }
    if (current !== tid) {
      clear(listBox);
      if (groups.size > 1) listBox.appendChild(h("a", { href: "#", class: "back" }, `← all ${groups.size} traces in this file`));
      current = tid;
      view = openTrace(root, header, groups.get(tid), null, {
        served: false,
        built: trees.get(tid),
        onSelect: (spanId) => history.replaceState(null, "", groups.size > 1 ? `#trace=${tid}&span=${spanId}` : `#span=${spanId}`),
      });
    } else if (p.get("span")) {
      view.select(p.get("span"), { updateHash: false });
    }
  }

  function load(records, name, errors = []) {
    groups = groupByTrace(records);
    trees = new Map([...groups].map(([tid, recs]) => [tid, buildTree(recs)]));
    summaries = [...trees.values()].map((t) => summarize(t))
      .sort((a, b) => String(b.start).localeCompare(String(a.start)));
    message.textContent = `${name}: ${fmtInt(records.length)} records in ${fmtInt(groups.size)} trace${groups.size === 1 ? "" : "s"}` +
      (errors.length ? ` · ${errors.length} unreadable line${errors.length === 1 ? "" : "s"} skipped (first: line ${errors[0].line}: ${errors[0].message})` : "");
    document.body.dataset.fileReady = String(groups.size);
    $(SEL.dropZone).classList.add("compact");
    current = null;
    route();
  }

  async function readFile(file) {
    if (!file) return;
    message.textContent = `Reading ${file.name}…`;
    try {
      const { records, errors } = parseJsonl(await file.text());
      load(records, file.name, errors);
    } catch (e) {
      message.textContent = `Could not read ${file.name}: ${e.message}`;
    }
  }

  const input = $(SEL.fileInput);
  input.addEventListener("change", () => readFile(input.files && input.files[0]));
  const zone = $(SEL.dropZone);
  document.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) zone.classList.remove("dragging"); });
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    readFile(f);
  });
  window.addEventListener("hashchange", route);

  const embedded = $(SEL.embedded);
  if (embedded && embedded.textContent.trim()) {
    let data = null;
    try { data = JSON.parse(embedded.textContent); } catch (e) { message.textContent = `The embedded data is unreadable: ${e.message}`; }
    if (data && Array.isArray(data.records)) load(data.records, data.name || "embedded trace");
  }
}

/** Start the page named by <body data-page="…">. */
export function start() {
  registerBuiltinLenses();
  // Extension point: a script loaded before this one may leave lenses in window.aitraceLenses.
  const extra = window.aitraceLenses;
  if (Array.isArray(extra)) for (const lens of extra) { try { registerLens(lens); } catch (e) { console.warn("aitrace: lens skipped:", e.message); } }
  const page = document.body.dataset.page;
  if (page === "list") listPage();
  else if (page === "trace") tracePage();
  else if (page === "thread") threadPage();
  else if (page === "view") fileViewer();
  else if (page === "insights") insightsPage({ $, getJson, setStatus });
  else if (page === "threads") threadsPage({ $, getJson, setStatus });
}
