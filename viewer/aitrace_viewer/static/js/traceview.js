// The trace view: a virtualized span tree (only visible rows are in the DOM) with waterfall bars, and the
// detail panel. Used by the served trace page, the no-server viewer and the exported HTML file.
import { h, clear, fmtDuration, fmtInt, fmtCost, fmtTime, onTick } from "./dom.js";
import { visibleRows, defaultExpanded, ancestors, addSpanRecords, displayName } from "./tree.js";
import { spanFinder } from "./spanfind.js";
import { revealText } from "./highlight.js";
import { durationOf } from "./listview.js";
import { field, toolSpansByCallId, callersByCallId } from "./lenses.js";
import { renderSpanDetail, renderRecordDetail } from "./render.js";

export const ROW_HEIGHT = 28;
const LLM_KINDS = new Set(["llm", "chat_model"]);
const OVERSCAN = 12;

function statusClass(s) {
  return /^(ok|error|cancelled|interrupted|running)$/.test(s) ? `status-${s}` : "status-other";
}

/** The header line of a trace: its summary figures (shape of docs/api.md's summary). */
export function traceSummaryHeader(summary, { threadHref = null, exportLinks = null, live = false } = {}) {
  const item = (label, value, cls = "") => h("div", { class: `fig ${cls}`.trim() }, h("span", { class: "fig-label" }, label), h("span", { class: "fig-value" }, value));
  const tokens = summary.total_tokens ?? ((summary.input_tokens ?? 0) + (summary.output_tokens ?? 0) || null);
  const thread = summary.thread_id;
  // A run whose outer function caught a failure below it ends "ok": the header still says spans failed.
  const errors = Number(summary.error_count) || 0;
  const flag = errors && summary.status !== "error"
    ? h("span", { class: "flag flag-error trace-errors", title: `the run ended ${summary.status ?? "?"}, but spans under it failed` },
      `${fmtInt(errors)} error span${errors === 1 ? "" : "s"}`) : null;
  return h("div", { class: `trace-summary${errors ? " has-errors" : ""}` },
    h("div", { class: "trace-title" },
      h("h1", null, h("span", { class: `status-dot ${statusClass(summary.status)}${flag ? " errors-below" : ""}`, title: summary.status }), summary.root_name ?? summary.trace_id ?? "trace"),
      flag),
    h("div", { class: "figs" },
      item("status", summary.status ?? "–", statusClass(summary.status)),
      item("service", summary.service ?? "–"),
      item("started", summary.start ? fmtTime(summary.start) : "–"),
      item("duration", durationOf(summary, live)),
      item("spans", fmtInt(summary.span_count)),
      item("errors", fmtInt(summary.error_count), summary.error_count ? "status-error" : ""),
      item("tokens", tokens === null ? "–" : `${fmtInt(tokens)} (${fmtInt(summary.input_tokens)} in / ${fmtInt(summary.output_tokens)} out)`),
      item("cost", fmtCost(summary.cost_usd)),
      item("model", summary.model ?? "–"),
      thread ? h("div", { class: "fig" }, h("span", { class: "fig-label" }, "thread"),
        threadHref ? h("a", { href: threadHref(thread), class: "fig-value" }, thread) : h("span", { class: "fig-value" }, thread)) : null,
      exportLinks ? h("div", { class: "fig" }, h("span", { class: "fig-label" }, "export"), exportLinks) : null),
    h("div", { class: "trace-id" }, "trace ", h("code", null, summary.trace_id ?? "")));
}

/**
 * Mount the tree + detail view into `root`. Returns {select(id), expandAll(), collapseAll(), destroy()}.
 * opts: {threadHref(id) → href|null, onSelect(spanId), live, loadSpan(span) → Promise<{records, more}>,
 * findSpans(q) → Promise<span ids> (a tree built without records: the server searches their text)}.
 * A tree built without records (spantree.js) gets a span's records through `loadSpan` when the span is
 * selected or opened; its log lines then show as rows under it.
 */
export function mountTraceView(root, tree, opts = {}) {
  // opts.keep: the state of the view this one replaces (live updates): which spans were open, the selection
  // and the scroll position. Spans that are new get the default; the ones the reader saw keep their state.
  const keep = opts.keep || null;
  const expanded = defaultExpanded(tree);
  if (keep) {
    for (const id of [...expanded]) if (keep.known.has(id)) expanded.delete(id);
    for (const id of keep.expanded) expanded.add(id);
    // records fetched for spans that have had no new record since stay (a tree built without records)
    for (const [id, old] of keep.loaded || []) {
      const span = tree.spans.get(id);
      if (span && !span.loaded && span.recordCount === old.count) addSpanRecords(tree, span, old.records, old.more);
    }
  }
  let rows = [];
  let selected = null; // {span, rec|null}
  let frame = 0;
  let destroyed = false;
  const loading = new Map(); // span id → Promise, while its records are on their way
  const hasKids = (span) => span.items.length > 0 || (!span.loaded && span.logCount > 0);
  // A live page of a trace whose root is still running: running spans count up and the waterfall is scaled
  // to now, four times a second. Elsewhere (a file, a finished trace) a span with no end has no duration.
  const live = !!opts.live && tree.roots.some((r) => r.running);
  let now = Date.now();
  const endOf = (span) => (span.running && live ? Math.max(now, span.end) : span.end);
  const total = () => (live ? Math.max(tree.end, now) - tree.start : tree.duration) || 1;
  const durText = (span) => (span.running ? (live ? fmtDuration(endOf(span) - span.start) : "running") : fmtDuration(span.duration));

  const spacer = h("div", { id: "tree-spacer", class: "tree-spacer" });
  const scroller = h("div", { id: "tree-scroll", class: "tree-scroll", role: "tree", tabindex: "0", "aria-label": "spans" }, spacer);
  const expandBtn = h("button", { type: "button", id: "expand-all" }, "Expand all");
  const collapseBtn = h("button", { type: "button", id: "collapse-all" }, "Collapse all");
  const counter = h("span", { class: "muted tree-count" });
  const find = h("input", { type: "search", class: "tree-find", placeholder: "find span…", title: "Names, log lines and values (inputs, outputs, messages). Enter: next match, Shift+Enter: previous", "aria-label": "find spans by name, log line or value" });
  const findPrev = h("button", { type: "button", class: "mini find-prev", title: "previous match (Shift+Enter)", "aria-label": "previous match" }, "↑");
  const findNext = h("button", { type: "button", class: "mini find-next", title: "next match (Enter)", "aria-label": "next match" }, "↓");
  const findNote = h("span", { class: "muted find-note", "aria-live": "polite" });
  const axis = h("div", { class: "axis" }, [0, 0.25, 0.5, 0.75, 1].map((f) =>
    h("span", { class: "tick", "data-key": String(f) }, f === 0 ? "0" : fmtDuration(total() * f))));
  const detail = h("aside", { id: "detail", class: "detail", "aria-live": "polite" },
    h("p", { class: "muted detail-empty" }, "Select a span to see its details. Keys: ↑ ↓ move, → ← open and close, Enter toggles."));
  const layout = h("div", { class: "trace-layout" },
    h("div", { class: "tree-pane" },
      h("div", { class: "tree-toolbar" }, expandBtn, collapseBtn, h("span", { class: "find-box" }, find, findPrev, findNext, findNote), counter),
      h("div", { class: "tree-columns" }, h("span", { class: "col-name" }, "span"), axis),
      scroller),
    detail);
  clear(root).appendChild(layout);
  // Ticks are positioned through the CSSOM (allowed under a strict CSP, unlike style attributes in markup).
  axis.querySelectorAll(".tick").forEach((t) => { t.style.left = `${Number(t.dataset.key) * 100}%`; });

  const ctx = {
    tree,
    toolSpans: toolSpansByCallId(tree),
    callers: callersByCallId(tree),
    threadHref: opts.threadHref || null,
    live,
    select: (id, o) => select(id, o),
  };

  function recompute() {
    rows = visibleRows(tree, expanded);
    spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    counter.textContent = `${fmtInt(tree.order.length)} spans · ${fmtInt(rows.length)} rows shown`;
  }

  function rowIndexOf(sel) {
    if (!sel) return -1;
    for (let i = 0; i < rows.length; i++) if (rows[i].span === sel.span && (rows[i].rec || null) === sel.rec) return i;
    return -1;
  }

  function place(b, span) {
    const scale = total();
    const left = Math.max(0, Math.min(1, (span.start - tree.start) / scale));
    const length = span.running ? endOf(span) - span.start : span.duration;
    const width = Math.max(0, Math.min(1 - left, (length || 0) / scale));
    b.style.left = `${left * 100}%`;
    b.style.width = `max(2px, ${width * 100}%)`;
  }

  function bar(span) {
    const b = h("div", { class: `bar ${statusClass(span.status)} kind-${span.kind.replace(/[^a-z_]/gi, "")}` });
    place(b, span);
    return h("div", { class: "waterfall" }, b);
  }

  /** A tick of a live trace: the axis and the visible rows' bars rescaled to now, running spans' times. */
  function tick(t) {
    now = t;
    axis.querySelectorAll(".tick").forEach((el) => { const f = Number(el.dataset.key); if (f) el.textContent = fmtDuration(total() * f); });
    for (const el of spacer.children) {
      const row = rows[Number(el.dataset.row)];
      if (!row || row.type !== "span") continue;
      const b = el.querySelector(".bar");
      if (b) place(b, row.span);
      if (row.span.running) el.querySelector(".dur").textContent = durText(row.span);
    }
  }
  const stopTicking = live ? onTick(tick) : () => {};

  function renderRow(i) {
    const row = rows[i];
    const span = row.span;
    const isSel = selected && selected.span === span && (selected.rec || null) === (row.rec || null);
    let el;
    if (row.type === "span") {
      const open = expanded.has(span.id);
      const kids = hasKids(span);
      el = h("div", {
        class: `row span-row ${statusClass(span.status)}${isSel ? " selected" : ""}${span.errorBelow ? " error-below" : ""}`,
        role: "treeitem", "aria-level": String(row.depth + 1), "aria-selected": isSel ? "true" : "false",
        "aria-expanded": kids ? String(open) : null, "data-row": String(i), "data-span": span.id, id: `row-${i}`,
      },
      h("div", { class: "cell-name" },
        h("span", { class: `twisty${kids ? "" : " leaf"}`, "data-row": String(i) }, kids ? (open ? "▾" : "▸") : "·"),
        h("span", { class: `kind kind-${span.kind.replace(/[^a-z_]/gi, "")}` }, span.kind),
        h("span", { class: "name", title: span.name }, displayName(span)),
        span.status === "error" ? h("span", { class: "flag flag-error", title: "this span failed" }, "error")
          : span.errorBelow ? h("span", { class: "flag flag-below", title: "a span under this one failed" }, "!") : null,
        span.status !== "ok" && span.status !== "error" && span.status !== "log" ? h("span", { class: `flag ${statusClass(span.status)}` }, span.status) : null,
        h("span", { class: `dur${span.running ? " running-time" : ""}` }, durText(span))),
      bar(span));
    } else {
      const rec = row.rec;
      const level = String(field(rec, "level") ?? "");
      el = h("div", {
        class: `row log-row level-${/^(debug|info|warning|error|critical)$/.test(level) ? level : "other"}${isSel ? " selected" : ""}`,
        role: "treeitem", "aria-level": String(row.depth + 1), "aria-selected": isSel ? "true" : "false",
        "data-row": String(i), id: `row-${i}`,
      },
      h("div", { class: "cell-name" }, h("span", { class: "twisty leaf" }, "–"),
        h("span", { class: "kind kind-log" }, level || "log"),
        h("span", { class: "name" }, String(field(rec, "event") ?? ""))),
      h("div", { class: "waterfall" }));
    }
    el.style.top = `${i * ROW_HEIGHT}px`;
    el.firstChild.style.paddingLeft = `${row.depth * 16 + 4}px`;
    return el;
  }

  function paint() {
    frame = 0;
    const top = scroller.scrollTop;
    const height = scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      frag.appendChild(renderRow(i));
      const row = rows[i]; // an open span on screen shows its log lines: fetch them if they are not here yet
      if (row.type === "span" && !row.span.loaded && row.span.logCount && expanded.has(row.span.id)) ensureLoaded(row.span);
    }
    spacer.replaceChildren(frag);
    const si = rowIndexOf(selected);
    if (si >= first && si < last) scroller.setAttribute("aria-activedescendant", `row-${si}`);
    else scroller.removeAttribute("aria-activedescendant");
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(paint);
  }

  function refresh() {
    recompute();
    paint();
  }

  function scrollToRow(i) {
    if (i < 0) return;
    const top = i * ROW_HEIGHT;
    const h0 = scroller.clientHeight || 600;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > scroller.scrollTop + h0) scroller.scrollTop = top + ROW_HEIGHT - h0;
  }

  /** Fetch a span's records (a tree built without them); redraw its rows and, if selected, the detail. */
  function ensureLoaded(span, retry = false) {
    if (span.loaded || !opts.loadSpan || (span.loadError && !retry)) return Promise.resolve();
    if (loading.has(span.id)) return loading.get(span.id);
    const done = () => {
      loading.delete(span.id);
      if (destroyed) return;
      refresh();
      if (selected && selected.span === span && !selected.rec) showDetail();
    };
    const promise = Promise.resolve().then(() => opts.loadSpan(span)).then(({ records, more }) => {
      addSpanRecords(tree, span, records, more);
      span.loadError = null;
      done();
    }, (e) => {
      span.loadError = String(e && e.message || e);
      done();
    });
    loading.set(span.id, promise);
    return promise;
  }

  /**
   * A tree built without records: the spans a span links to by tool call id get their records too — the tool
   * spans that ran an LLM call's tool calls come after it, the LLM call that asked for a tool before it — a few
   * of the nearest, once; then the detail is drawn again with its links.
   */
  function loadLinked(span) {
    if (!tree.lazy || span.linksTried) return;
    span.linksTried = true;
    const asked = [...callersByCallId({ order: [span] }).keys()].filter((id) => !ctx.toolSpans.has(id));
    const callId = field(span.attrs, "gen_ai.tool.call.id");
    const caller = typeof callId === "string" && !ctx.callers.has(callId);
    if (!asked.length && !caller) return;
    const near = [];
    const want = (s) => !s.loaded && (asked.length ? s.kind === "tool" : LLM_KINDS.has(s.kind));
    const step = asked.length ? 1 : -1;
    const limit = Math.max(8, 2 * asked.length);
    for (let i = span.order + step; i >= 0 && i < tree.order.length && near.length < limit; i += step) {
      if (want(tree.order[i])) near.push(tree.order[i]);
    }
    if (!near.length) return;
    Promise.all(near.map((s) => ensureLoaded(s))).then(() => {
      if (!destroyed && selected && selected.span === span && !selected.rec) showDetail();
    });
  }

  function showDetail() {
    clear(detail);
    if (!selected) return;
    const span = selected.span;
    if (!selected.rec && !span.loaded) {
      detail.appendChild(h("div", { class: "detail-inner" },
        h("header", { class: "detail-head" }, h("h2", null, span.name)),
        span.loadError ? h("p", { class: "page-status error" }, `Could not load this span's records: ${span.loadError}`)
          : h("p", { class: "muted detail-loading" }, "Loading the span's records…")));
      if (!span.loadError) ensureLoaded(span);
      return;
    }
    if (tree.lazy) { // the links between spans known so far (spans get their fields when they are opened)
      ctx.toolSpans = toolSpansByCallId(tree);
      ctx.callers = callersByCallId(tree);
    }
    detail.appendChild(selected.rec ? renderRecordDetail(selected.rec, span, ctx) : renderSpanDetail(span, ctx));
    detail.scrollTop = 0;
    if (selected.mark) revealText(detail, selected.mark);
    if (!selected.rec) loadLinked(span);
  }

  /** Select a span (or one of its records); `mark`: a text to highlight in its detail and scroll to. */
  function select(spanId, { reveal = true, rec = null, updateHash = true, mark = null } = {}) {
    const span = tree.spans.get(spanId);
    if (!span) return false;
    if (reveal) for (const a of ancestors(tree, spanId)) expanded.add(a);
    selected = { span, rec, mark: mark || null };
    recompute();
    const i = rowIndexOf(selected);
    if (reveal && i >= 0) {
      const h0 = scroller.clientHeight || 600;
      if (i * ROW_HEIGHT < scroller.scrollTop || i * ROW_HEIGHT > scroller.scrollTop + h0 - ROW_HEIGHT) {
        scroller.scrollTop = Math.max(0, i * ROW_HEIGHT - h0 / 3);
      }
    }
    paint();
    showDetail();
    if (updateHash && !rec && opts.onSelect) opts.onSelect(span.id);
    return true;
  }

  function selectRow(i) {
    const row = rows[i];
    if (!row) return;
    selected = { span: row.span, rec: row.rec || null };
    scrollToRow(i);
    paint();
    showDetail();
    if (!row.rec && opts.onSelect) opts.onSelect(row.span.id);
  }

  function toggle(span, open = !expanded.has(span.id)) {
    if (!hasKids(span)) return;
    if (open) expanded.add(span.id); else expanded.delete(span.id);
    if (open) ensureLoaded(span, true);
    refresh();
  }

  scroller.addEventListener("scroll", schedule, { passive: true });
  window.addEventListener("resize", schedule);
  scroller.addEventListener("click", (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const rowEl = target && target.closest(".row");
    if (!rowEl) return;
    const i = Number(rowEl.dataset.row);
    const row = rows[i];
    if (!row) return;
    if (target.classList.contains("twisty") && row.type === "span") { toggle(row.span); return; }
    selectRow(i);
  });
  scroller.addEventListener("dblclick", (e) => {
    const rowEl = e.target instanceof Element ? e.target.closest(".span-row") : null;
    if (rowEl) toggle(rows[Number(rowEl.dataset.row)].span);
  });
  scroller.addEventListener("keydown", (e) => {
    let i = rowIndexOf(selected);
    const row = rows[i];
    switch (e.key) {
      case "ArrowDown": selectRow(Math.min(rows.length - 1, i + 1)); break;
      case "ArrowUp": selectRow(Math.max(0, i - 1)); break;
      case "Home": selectRow(0); break;
      case "End": selectRow(rows.length - 1); break;
      case "PageDown": selectRow(Math.min(rows.length - 1, i + Math.floor(scroller.clientHeight / ROW_HEIGHT))); break;
      case "PageUp": selectRow(Math.max(0, i - Math.floor(scroller.clientHeight / ROW_HEIGHT))); break;
      case "ArrowRight":
        if (row && row.type === "span" && hasKids(row.span) && !expanded.has(row.span.id)) toggle(row.span, true);
        else selectRow(Math.min(rows.length - 1, i + 1));
        break;
      case "ArrowLeft":
        if (row && row.type === "span" && expanded.has(row.span.id)) toggle(row.span, false);
        else if (row) {
          const parentId = row.type === "log" ? row.span.id : row.span.parentId;
          if (parentId && tree.spans.has(parentId)) select(parentId);
        }
        break;
      case "Enter": case " ":
        if (row && row.type === "span") toggle(row.span); else if (i < 0) selectRow(0);
        break;
      default: return;
    }
    e.preventDefault();
  });
  // Find: the spans whose name, log lines or values contain the text, in tree order; Enter / Shift+Enter
  // (or the arrows) step through them, opening collapsed ancestors and marking the text in the detail.
  const finder = spanFinder(tree);
  let findState = { q: "", ids: null, at: -1 };
  async function matches(q) {
    if (findState.q === q && findState.ids) return findState.ids;
    let ids;
    if (tree.lazy && opts.findSpans) { // the records are on the server: it searches them
      findNote.textContent = "searching…";
      const got = new Set(await opts.findSpans(q));
      for (const sp of finder.find(q)) got.add(sp.id); // names, and what was loaded since
      ids = tree.order.filter((sp) => got.has(sp.id)).map((sp) => sp.id);
    } else {
      ids = finder.find(q).map((sp) => sp.id);
    }
    findState = { q, ids, at: -1 };
    return ids;
  }
  async function findStep(dir) {
    const q = find.value.trim();
    if (!q) { findNote.textContent = ""; return; }
    let ids;
    try { ids = await matches(q); } catch (e) { findNote.textContent = `search failed: ${e.message}`; return; }
    if (destroyed || find.value.trim() !== q) return;
    if (!ids.length) { findNote.textContent = "no match"; find.classList.add("no-match"); return; }
    find.classList.remove("no-match");
    let at = findState.at;
    if (at < 0) { // the first step goes from the selection (forward: the selected span itself if it matches)
      const from = selected ? selected.span.order : -1;
      const orderOf = (id) => tree.spans.get(id).order;
      at = dir > 0 ? ids.findIndex((id) => orderOf(id) >= from) : ids.length - 1 - [...ids].reverse().findIndex((id) => orderOf(id) < from);
      if (at < 0 || at >= ids.length) at = dir > 0 ? 0 : ids.length - 1;
    } else {
      at = (at + dir + ids.length) % ids.length;
    }
    findState.at = at;
    findNote.textContent = `${fmtInt(at + 1)} of ${fmtInt(ids.length)}`;
    select(ids[at], { mark: q });
  }
  find.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    findStep(e.shiftKey ? -1 : 1);
  });
  find.addEventListener("input", () => { findState = { q: "", ids: null, at: -1 }; findNote.textContent = ""; find.classList.remove("no-match"); });
  findNext.addEventListener("click", () => findStep(1));
  findPrev.addEventListener("click", () => findStep(-1));
  expandBtn.addEventListener("click", () => {
    for (const s of tree.order) if (s.items.length) expanded.add(s.id);
    refresh();
  });
  collapseBtn.addEventListener("click", () => {
    expanded.clear();
    refresh();
  });

  refresh();
  if (keep) {
    if (keep.selected && tree.spans.has(keep.selected)) select(keep.selected, { reveal: false, updateHash: false });
    scroller.scrollTop = keep.scrollTop;
    schedule();
  }
  // The first paint of rows: tests and the benchmark wait on this.
  requestAnimationFrame(() => {
    performance.mark("aitrace:tree-painted");
    document.body.dataset.treeReady = String(tree.order.length);
  });

  return {
    select,
    /** What a replacement view needs to look the same (see opts.keep). */
    state: () => ({
      known: new Set(tree.spans.keys()),
      expanded: new Set(expanded),
      selected: selected ? selected.span.id : null,
      scrollTop: scroller.scrollTop,
      loaded: tree.lazy ? new Map([...tree.spans.values()].filter((sp) => sp.loaded).map((sp) => [sp.id, {
        count: sp.recordCount, more: sp.more,
        records: [sp.startRec, ...sp.logs.map((l) => l.rec), sp.endRec].filter(Boolean),
      }])) : null,
    }),
    expandAll: () => expandBtn.click(),
    collapseAll: () => collapseBtn.click(),
    rowCount: () => rows.length,
    destroy() {
      destroyed = true;
      stopTicking();
      window.removeEventListener("resize", schedule);
      clear(root);
    },
  };
}

/** `#span=…&trace=…` → URLSearchParams (the fragment never reaches a server). */
export function hashParams() {
  return new URLSearchParams(location.hash.replace(/^#/, ""));
}
