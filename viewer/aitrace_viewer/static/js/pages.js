// Page controllers: the served list, trace and thread pages, and the no-server viewer.
import { SEL, $, h, clear, fmtDuration, fmtInt, fmtTime, setStatus, getJson } from "./dom.js";
import { buildTree, groupByTrace, parseJsonl, summarize } from "./tree.js";
import { treeFromSpans } from "./spantree.js";
import { registerBuiltinLenses, registerLens } from "./lenses.js";
import { mountTraceView, traceSummaryHeader, hashParams } from "./traceview.js";
import { traceHeadRow, traceRow, TRACE_ID_RE } from "./listview.js";
import { listPage } from "./listpage.js";
import { turnMessages } from "./conversation.js";
import { longText } from "./jsontree.js";
import { compareHeader, mountCompareView } from "./compareview.js";
import { compareRuns } from "./comparerun.js";
import { insightsPage, threadsPage } from "./insightsview.js";



const threadHref = (id) => `/threads/${encodeURIComponent(id)}`;

// ---- one trace ----------------------------------------------------------------------------------------

function exportLinks(id) {
  return h("span", { class: "fig-value" }, ["jsonl", "json", "csv"].map((f, i) =>
    [i ? " · " : "", h("a", { href: `/api/traces/${id}/export?format=${f}`, download: `${id}.${f}` }, f)]));
}

/** The span a link asks for (`?span=ID&q=TEXT`, or the same after `#`): {span, q}. */
function wantedSpan() {
  const hash = hashParams();
  const query = new URLSearchParams(location.search);
  return { span: hash.get("span") || query.get("span"), q: hash.get("q") || query.get("q") };
}

function openTrace(root, headerEl, records, summary, { served, onSelect, built = null, keep = null, loadSpan = null, findSpans = null }) {
  const tree = built || buildTree(records);
  const sum = summary || summarize(tree);
  if (headerEl) headerEl.replaceChildren(traceSummaryHeader(sum, { live: served, threadHref: served ? threadHref : null, exportLinks: served && sum.trace_id && TRACE_ID_RE.test(sum.trace_id) ? exportLinks(sum.trace_id) : null }));
  const view = mountTraceView(root, tree, { live: served, threadHref: served ? threadHref : null, onSelect, keep, loadSpan, findSpans });
  if (keep) return view;
  // Opened from a link: that span, with the text it was found by marked; else the root, to show the run.
  const want = wantedSpan();
  if (want.span && view.select(want.span, { updateHash: false, mark: want.q })) return view;
  if (want.span) setStatus(`Span ${want.span} is not in this trace.`, "error");
  if (tree.roots.length) view.select(tree.roots[0].id, { updateHash: false });
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
  const findSpans = big ? async (q) => {
    const data = await getJson(`/api/traces/${encodeURIComponent(id)}/find?q=${encodeURIComponent(q)}`);
    return Array.isArray(data.span_ids) ? data.span_ids : [];
  } : null;
  const open = (data, keep = null) => openTrace(root, $(SEL.traceHeader), big ? [] : (data.records || []), data.summary,
    { served: true, onSelect, keep, loadSpan, findSpans, built: big ? treeFromSpans(data) : null });
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

// ---- compare two runs -----------------------------------------------------------------------------------

/** Mount a comparison (the JSON of GET /api/compare) into the page's header and #app. */
function showComparison(result, served) {
  const traceHref = served ? (id) => `/traces/${id}` : null;
  const spanHref = served ? (tid, sid) => `/traces/${tid}#span=${sid}` : null;
  $(SEL.traceHeader).replaceChildren(compareHeader(result, { traceHref }));
  const want = Number(hashParams().get("pair"));
  return mountCompareView($(SEL.app), result, {
    spanHref,
    initial: Number.isInteger(want) && hashParams().has("pair") ? want : null,
    onSelect: (i) => history.replaceState(null, "", `${location.pathname}${location.search}#pair=${i}`),
  });
}

async function comparePage() {
  const { a, b } = document.body.dataset;
  const form = $("#compare-form");
  if (!a || !b) {
    form.hidden = false;
    const given = new URLSearchParams(location.search);
    if ((given.get("a") && !a) || (given.get("b") && !b)) setStatus("A trace id is 32 lowercase hex characters.", "error");
    return;
  }
  try {
    setStatus("Comparing…");
    const result = await getJson(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
    setStatus("");
    document.title = `Compare ${result.a && result.a.name || "A"} · ${result.b && result.b.name || "B"} · aitrace`;
    showComparison(result, true);
  } catch (e) {
    form.hidden = false;
    setStatus(`Could not compare: ${e.message}`, "error");
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

  /** Two files, one run each: compared in the page (comparerun.js), nothing leaves it. */
  async function compareFiles(fa, fb) {
    message.textContent = `Reading ${fa.name} and ${fb.name}…`;
    try {
      const one = async (file) => {
        const found = groupByTrace(parseJsonl(await file.text()).records);
        if (found.size !== 1) throw new Error(`${file.name} holds ${found.size} traces: compare files of one trace each`);
        return [...found.values()][0];
      };
      const [ra, rb] = await Promise.all([one(fa), one(fb)]);
      const result = compareRuns(ra, rb);
      if (view) { view.destroy(); view = null; }
      clear(listBox);
      $(SEL.dropZone).classList.add("compact");
      message.textContent = `${fa.name} (A) compared with ${fb.name} (B)`;
      showComparison(result, false);
    } catch (e) {
      message.textContent = `Could not compare ${fa.name} and ${fb.name}: ${e.message}`;
    }
  }

  function readFiles(files) {
    const list = files ? [...files] : [];
    if (list.length === 2) compareFiles(list[0], list[1]);
    else readFile(list[0]);
  }

  const input = $(SEL.fileInput);
  input.addEventListener("change", () => readFiles(input.files));
  const zone = $(SEL.dropZone);
  document.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) zone.classList.remove("dragging"); });
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    readFiles(e.dataTransfer && e.dataTransfer.files);
  });
  window.addEventListener("hashchange", route);

  const embedded = $(SEL.embedded);
  if (embedded && embedded.textContent.trim()) {
    let data = null;
    try { data = JSON.parse(embedded.textContent); } catch (e) { message.textContent = `The embedded data is unreadable: ${e.message}`; }
    if (data && data.compare && Array.isArray(data.compare.pairs)) {
      $(SEL.dropZone).hidden = true;
      message.textContent = "";
      showComparison(data.compare, false);
    } else if (data && Array.isArray(data.records)) load(data.records, data.name || "embedded trace");
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
  else if (page === "compare") comparePage();
  else if (page === "view") fileViewer();
  else if (page === "insights") insightsPage({ $, getJson, setStatus });
  else if (page === "threads") threadsPage({ $, getJson, setStatus });
}
