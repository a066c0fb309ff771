// The compare view: two runs side by side, one aligned row per pair (GET /api/compare, docs/api.md), rows
// virtualised like the trace tree, the selected pair's differences in the detail panel. Text only, never HTML.
import { h, clear, fmtDuration, fmtInt, fmtCost } from "./dom.js";
import { displayName } from "./tree.js";

export const CMP_ROW_HEIGHT = 28;
const OVERSCAN = 12;
const STATUS_TEXT = { same: "same", changed: "changed", only_a: "only in A", only_b: "only in B" };
const MARK = { same: "=", changed: "≠", only_a: "−", only_b: "+" };
const TOTALS = [
  ["duration_ms", "duration", fmtDuration],
  ["input_tokens", "tokens in", fmtInt],
  ["output_tokens", "tokens out", fmtInt],
  ["cost_usd", "cost", fmtCost],
  ["span_count", "spans", fmtInt],
  ["error_count", "errors", fmtInt],
];

const statusOf = (p) => (STATUS_TEXT[p.status] ? p.status : "changed");

function signed(value, fmt) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  if (value === 0) return "±0";
  return `${value > 0 ? "+" : "−"}${fmt(Math.abs(value))}`;
}

function relative(r) {
  return typeof r === "number" && Number.isFinite(r) && r !== 0 ? ` (${r > 0 ? "+" : "−"}${Math.abs(r * 100).toFixed(1)}%)` : "";
}

/** The header: both runs (name, id, link), the totals with deltas, the pair counts. */
export function compareHeader(result, { traceHref = null } = {}) {
  const side = (key) => {
    const s = result[key] || {};
    const id = typeof s.trace_id === "string" ? s.trace_id : "";
    return h("div", { class: `cmp-run cmp-run-${key}` },
      h("span", { class: "cmp-tag" }, key.toUpperCase()),
      traceHref && id ? h("a", { href: traceHref(id), class: "trace-link" }, String(s.name ?? id)) : h("strong", null, String(s.name ?? id)),
      h("span", { class: "muted trace-id" }, ` ${id}`),
      s.status === "error" ? h("span", { class: "cmp-err" }, " error") : null);
  };
  const totals = result.totals || {};
  const table = h("table", { class: "cmp-totals" },
    h("thead", null, h("tr", null, h("th", null, ""), h("th", null, "A"), h("th", null, "B"), h("th", null, "delta"))),
    h("tbody", null, TOTALS.map(([key, label, fmt]) => {
      const t = totals[key] || {};
      const worse = typeof t.delta === "number" && t.delta > 0 && key !== "span_count" ? "up" : typeof t.delta === "number" && t.delta < 0 ? "down" : "";
      return h("tr", { "data-key": key }, h("th", null, label), h("td", null, fmt(t.a)), h("td", null, fmt(t.b)),
        h("td", { class: `cmp-delta ${worse}` }, `${signed(t.delta, fmt)}${relative(t.relative)}`));
    })));
  const counts = result.counts || {};
  const chips = h("div", { class: "chips cmp-counts" }, ["changed", "only_a", "only_b", "same"].map((s) =>
    h("span", { class: `chip cmp-chip st-${s}` }, `${MARK[s]} ${fmtInt(counts[s] ?? 0)} ${STATUS_TEXT[s]}`)));
  return h("div", { class: "cmp-header" }, h("div", { class: "cmp-runs" }, side("a"), side("b"), chips), table);
}

function sideCell(info, depth, key) {
  if (!info) return h("div", { class: `cmp-side cmp-${key} cmp-gap` });
  const kind = String(info.kind || "span").replace(/[^a-z_]/gi, "");
  const cell = h("div", { class: `cmp-side cmp-${key}${info.status === "error" ? " status-error" : ""}` },
    h("span", { class: `kind kind-${kind}` }, kind),
    h("span", { class: "name", title: String(info.name ?? "") }, displayName({ name: info.name ?? "?", kind })),
    h("span", { class: "dur" }, info.status === "running" ? "running" : fmtDuration(info.duration_ms)));
  cell.style.paddingLeft = `${6 + Math.min(depth, 40) * 14}px`;
  return cell;
}

/** Text of a JSON value for the detail panel (strings as they are). */
function valueText(v) {
  if (v === null || v === undefined) return "(absent)";
  return typeof v === "string" ? v : JSON.stringify(v, null, 2);
}

/** A word diff as text pieces: removed and added words marked by element, the text set as text. */
export function diffPieces(ops) {
  return h("pre", { class: "cmp-diff" }, (Array.isArray(ops) ? ops : []).map((op) => {
    const text = String(op && op[1] !== undefined ? op[1] : "");
    if (op[0] === "-") return h("del", null, text);
    if (op[0] === "+") return h("ins", null, text);
    return text;
  }));
}

function changeBlock(c) {
  const op = typeof c.op === "string" ? c.op : "changed";
  const head = h("div", { class: "cmp-change-head" }, h("code", { class: "cmp-field" }, String(c.field ?? "")),
    h("span", { class: `chip cmp-op op-${op.replace(/[^a-z]/g, "")}` }, op), c.at ? h("span", { class: "muted" }, ` at ${c.at}`) : null);
  if (Array.isArray(c.diff)) return h("div", { class: "cmp-change" }, head, diffPieces(c.diff));
  return h("div", { class: "cmp-change" }, head,
    h("div", { class: "cmp-values" },
      h("div", null, h("div", { class: "fig-label" }, "A"), h("pre", { class: "cmp-value cmp-value-a" }, valueText(c.a))),
      h("div", null, h("div", { class: "fig-label" }, "B"), h("pre", { class: "cmp-value cmp-value-b" }, valueText(c.b)))));
}

function metricsTable(metrics) {
  const fmtFor = (name) => (name === "cost_usd" ? fmtCost : name.endsWith("_ms") ? fmtDuration : fmtInt);
  const rows = Object.entries(metrics || {}).filter(([, m]) => m && (m.a !== null || m.b !== null));
  if (!rows.length) return null;
  return h("table", { class: "cmp-totals cmp-metrics" },
    h("thead", null, h("tr", null, h("th", null, ""), h("th", null, "A"), h("th", null, "B"), h("th", null, "delta"))),
    h("tbody", null, rows.map(([name, m]) => {
      const fmt = fmtFor(name);
      return h("tr", null, h("th", null, name.replace(/_/g, " ")), h("td", null, fmt(m.a)), h("td", null, fmt(m.b)),
        h("td", null, `${signed(m.delta, fmt)}${relative(m.relative)}`));
    })));
}

/** The detail of one pair: where it is, both spans (linked to their traces when served), figures, changes. */
export function pairDetail(result, index, { spanHref = null } = {}) {
  const p = result.pairs[index];
  const st = statusOf(p);
  const link = (key) => {
    const id = p[key];
    const run = result[key] || {};
    if (!id) return h("span", { class: "muted" }, `not in ${key.toUpperCase()}`);
    return spanHref && run.trace_id ? h("a", { href: spanHref(run.trace_id, id), class: "span-link" }, `open in ${key.toUpperCase()}`) : h("code", null, id);
  };
  const changes = Array.isArray(p.changes) ? p.changes : [];
  return h("div", { class: "cmp-detail" },
    h("div", { class: "detail-head" },
      h("h2", null, h("span", { class: `chip cmp-chip st-${st}` }, `${MARK[st]} ${STATUS_TEXT[st]}`), " ", String((p.a_info || p.b_info || {}).name ?? "")),
      h("div", { class: "detail-ids" }, h("code", { class: "cmp-path" }, String(p.path ?? "")), " · ", link("a"), " · ", link("b")),
      index === result.first_divergence ? h("p", { class: "cmp-first-note" }, "First divergence: the earliest place in the run where A and B differ.") : null),
    metricsTable(p.metrics),
    st === "only_a" || st === "only_b" ? h("p", { class: "muted" }, `This ${String((p.a_info || p.b_info || {}).kind ?? "span")} ran only in ${st === "only_a" ? "A" : "B"}.`) : null,
    st === "same" ? h("p", { class: "muted" }, "Same inputs, outputs and status in both runs.") : null,
    changes.length ? h("section", { class: "lens" }, h("h3", null, `${changes.length} difference${changes.length === 1 ? "" : "s"}${p.changes_truncated ? " (more left out)" : ""}`), changes.map(changeBlock)) : null);
}

/**
 * Mount the compare view of `result` into `root`: a toolbar, the aligned rows (virtualised: only the rows in
 * view exist), the detail panel. The first divergence is selected on open. Returns {select(i), destroy()}.
 */
export function mountCompareView(root, result, opts = {}) {
  const pairs = Array.isArray(result.pairs) ? result.pairs : [];
  let rows = pairs.map((_, i) => i); // pair indexes shown
  let selected = -1;
  let frame = 0;
  const spacer = h("div", { class: "tree-spacer cmp-spacer" });
  const scroller = h("div", { id: "cmp-scroll", class: "tree-scroll cmp-scroll", role: "listbox", tabindex: "0", "aria-label": "aligned spans of A and B" }, spacer);
  const onlyDiff = h("input", { type: "checkbox", id: "cmp-only-diff" });
  const counter = h("span", { class: "muted tree-count" });
  const firstBtn = h("button", { type: "button", id: "cmp-first" }, "First divergence");
  const nextBtn = h("button", { type: "button", id: "cmp-next", title: "the next pair that differs (n)" }, "Next difference");
  const detail = h("aside", { id: "detail", class: "detail", "aria-live": "polite" },
    h("p", { class: "muted detail-empty" }, "Select a pair to see how A and B differ. Keys: ↑ ↓ move, n next difference."));
  const layout = h("div", { class: "trace-layout cmp-layout" },
    h("div", { class: "tree-pane" },
      h("div", { class: "tree-toolbar" }, firstBtn, nextBtn, h("label", { class: "muted" }, onlyDiff, " differences only"), counter),
      h("div", { class: "cmp-columns" }, h("span", null, "A"), h("span", null, ""), h("span", null, "B")),
      scroller),
    detail);
  clear(root).appendChild(layout);

  function recompute() {
    if (onlyDiff.checked) {
      const keep = new Uint8Array(pairs.length);
      for (let i = 0; i < pairs.length; i++) {
        if (pairs[i].status === "same") continue;
        for (let j = i; j !== null && j !== undefined && !keep[j]; j = pairs[j].parent) keep[j] = 1;
      }
      rows = [];
      for (let i = 0; i < pairs.length; i++) if (keep[i]) rows.push(i);
    } else {
      rows = pairs.map((_, i) => i);
    }
    spacer.style.height = `${rows.length * CMP_ROW_HEIGHT}px`;
    counter.textContent = `${fmtInt(pairs.length)} pairs · ${fmtInt(rows.length)} shown`;
  }

  function renderRow(r) {
    const i = rows[r];
    const p = pairs[i];
    const st = statusOf(p);
    const el = h("div", { class: `cmp-row st-${st}${i === selected ? " selected" : ""}${i === result.first_divergence ? " first" : ""}`,
      role: "option", "data-row": String(i), "aria-selected": i === selected ? "true" : "false", title: `${STATUS_TEXT[st]}: ${String(p.path ?? "")}` },
    sideCell(p.a_info, p.depth || 0, "a"), h("div", { class: "cmp-mark", "aria-label": STATUS_TEXT[st] }, MARK[st]), sideCell(p.b_info, p.depth || 0, "b"));
    el.style.top = `${r * CMP_ROW_HEIGHT}px`;
    return el;
  }

  function paint() {
    frame = 0;
    const top = scroller.scrollTop;
    const height = scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / CMP_ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((top + height) / CMP_ROW_HEIGHT) + OVERSCAN);
    const frag = document.createDocumentFragment();
    for (let r = first; r < last; r++) frag.appendChild(renderRow(r));
    spacer.replaceChildren(frag);
  }
  const schedule = () => { if (!frame) frame = requestAnimationFrame(paint); };

  function select(i, { scroll = true } = {}) {
    if (!(i >= 0 && i < pairs.length)) return false;
    if (!rows.includes(i)) { onlyDiff.checked = false; recompute(); }
    selected = i;
    detail.replaceChildren(pairDetail(result, i, opts));
    detail.scrollTop = 0;
    const r = rows.indexOf(i);
    if (scroll) {
      const h0 = scroller.clientHeight || 600;
      if (r * CMP_ROW_HEIGHT < scroller.scrollTop || r * CMP_ROW_HEIGHT > scroller.scrollTop + h0 - CMP_ROW_HEIGHT) {
        scroller.scrollTop = Math.max(0, r * CMP_ROW_HEIGHT - h0 / 3);
      }
    }
    paint();
    if (opts.onSelect) opts.onSelect(i);
    return true;
  }

  function nextDifference() {
    for (let i = selected + 1; i < pairs.length; i++) if (pairs[i].status !== "same") return select(i);
    return false;
  }

  scroller.addEventListener("scroll", schedule, { passive: true });
  scroller.addEventListener("click", (e) => {
    const row = e.target.closest(".cmp-row");
    if (row) select(Number(row.dataset.row), { scroll: false });
  });
  scroller.addEventListener("keydown", (e) => {
    const r = rows.indexOf(selected);
    if (e.key === "ArrowDown" && r + 1 < rows.length) { e.preventDefault(); select(rows[r + 1]); }
    else if (e.key === "ArrowUp" && r > 0) { e.preventDefault(); select(rows[r - 1]); }
    else if (e.key === "n") { e.preventDefault(); nextDifference(); }
  });
  onlyDiff.addEventListener("change", () => { recompute(); paint(); if (selected >= 0) select(selected); });
  firstBtn.addEventListener("click", () => { if (result.first_divergence !== null) select(result.first_divergence); });
  nextBtn.addEventListener("click", nextDifference);
  firstBtn.disabled = result.first_divergence === null || result.first_divergence === undefined;
  const ro = typeof ResizeObserver === "function" ? new ResizeObserver(schedule) : null;
  if (ro) ro.observe(scroller);

  recompute();
  paint();
  const want = Number.isInteger(opts.initial) ? opts.initial : result.first_divergence;
  if (typeof want === "number" && want >= 0) select(want);
  else if (pairs.length) detail.replaceChildren(h("p", { class: "cmp-match" }, "The runs match: every span is the same in A and B."));
  document.body.dataset.compareReady = String(pairs.length);
  return {
    select,
    destroy() { if (ro) ro.disconnect(); if (frame) cancelAnimationFrame(frame); clear(root); },
  };
}
