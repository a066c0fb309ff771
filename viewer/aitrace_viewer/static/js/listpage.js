// The served trace list: filters and sort in the URL, pages by cursor, live rows, selection → delete or compare.
import { SEL, $, h, clear, setStatus, getJson } from "./dom.js";
import { traceHeadRow, traceRow, TRACE_ID_RE } from "./listview.js";

/** Every filter the URL and the form carry (`tag` and `meta` may repeat); sort and order are not filters. */
const FILTER_KEYS = ["q", "service", "status", "errors", "model", "min_duration_ms", "thread_id", "since", "until", "tag", "meta"];
const MULTI = new Set(["tag", "meta"]);
const VIEW_KEYS = ["sort", "order", "limit"];
const SORTS = new Set(["started", "duration", "tokens", "cost", "errors"]);

const LIST = {
  selectAll: ".select-all",
  rowSelect: ".row-select",
  serviceOptions: "#service-options",
  modelOptions: "#model-options",
  actions: "#list-actions",
  selectedCount: "#selected-count",
  deleteSelected: "#delete-selected",
  compareSelected: "#compare-selected",
};



/** The filters and view (sort, order) of a query string, only the keys we know. */
export function listParams(search) {
  const given = new URLSearchParams(search);
  const out = new URLSearchParams();
  for (const k of [...FILTER_KEYS, ...VIEW_KEYS]) {
    for (const v of MULTI.has(k) ? given.getAll(k) : [given.get(k)]) if (v) out.append(k, v);
  }
  if (out.get("sort") && !SORTS.has(out.get("sort"))) out.delete("sort");
  if (out.get("order") && out.get("order") !== "asc") out.delete("order");
  return out;
}

const isFiltered = (params) => FILTER_KEYS.some((k) => params.has(k));

function fillForm(form, params) {
  for (const k of [...FILTER_KEYS, ...VIEW_KEYS]) {
    const input = form.elements.namedItem(k);
    if (!input) continue;
    if (input.type === "checkbox") input.checked = params.get(k) === "true";
    else if (MULTI.has(k)) input.value = params.getAll(k).join(", ");
    else input.value = params.get(k) ?? (input.tagName === "SELECT" ? input.options[0].value : "");
  }
}

function formParams(form) {
  const out = new URLSearchParams();
  for (const k of [...FILTER_KEYS, ...VIEW_KEYS]) {
    const input = form.elements.namedItem(k);
    if (!input) continue;
    if (input.type === "checkbox") { if (input.checked) out.set(k, "true"); }
    else if (MULTI.has(k)) { for (const v of input.value.split(",")) if (v.trim()) out.append(k, v.trim()); }
    else if (input.value.trim()) out.set(k, input.value.trim());
  }
  if (out.get("sort") === "started") out.delete("sort");  // the defaults stay out of the link
  if (out.get("order") === "desc") out.delete("order");
  return out;
}

const lower = (v) => String(v ?? "").toLowerCase();
const shownValue = (v) => (typeof v === "string" ? v : JSON.stringify(v));

/** Whether a live summary passes the filters we can check here (text search needs the server). */
export function summaryMatches(s, params) {
  if (params.get("service") && !lower(s.service).includes(lower(params.get("service")))) return false;
  if (params.get("model") && !lower(s.model).includes(lower(params.get("model")))) return false;
  if (params.get("status") && s.status !== params.get("status")) return false;
  if (params.get("errors") === "true" && !s.error_count) return false;
  if (params.get("thread_id") && s.thread_id !== params.get("thread_id")) return false;
  const tags = Array.isArray(s.tags) ? s.tags : [];
  if (params.getAll("tag").some((t) => !tags.includes(t))) return false;
  const meta = s.metadata && typeof s.metadata === "object" ? s.metadata : {};
  for (const pair of params.getAll("meta")) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at);
    if (at < 1 || !Object.hasOwn(meta, key) || shownValue(meta[key]) !== pair.slice(at + 1)) return false;
  }
  const min = Number(params.get("min_duration_ms"));
  if (params.get("min_duration_ms") && !(s.duration_ms >= min)) return false;
  return true;
}

export function listPage() {
  const body = $(SEL.listBody);
  const table = body.closest("table");
  table.tHead.replaceChildren(traceHeadRow({ select: true }));
  const form = $(SEL.filters);
  const more = $(SEL.listMore);
  const empty = $(SEL.listEmpty);
  const noMatch = $(SEL.listNoMatch);
  const live = $(SEL.listLive);
  const rowsById = new Map();
  const selected = new Set();  // in the order they were ticked: the first is compare's "a"
  let cursor = null;
  let params = listParams(location.search);
  fillForm(form, params);
  const href = (id) => `/traces/${id}`;
  const rowOptions = {
    live: true,
    select: true,
    threadHref: (id) => `/threads/${encodeURIComponent(id)}`,
    filterHref: (key, value) => {
      const next = listParams(location.search);
      next.delete("cursor");
      if (!next.getAll(key).includes(value)) next.append(key, value);
      return `?${next}`;
    },
    matchHref: (id, span) => `/traces/${id}?${new URLSearchParams({ span, q: params.get("q") || "" })}`,
  };

  function showSelection() {
    for (const id of [...selected]) if (!rowsById.has(id)) selected.delete(id);
    const n = selected.size;
    $(LIST.selectedCount).textContent = n ? `${n} selected` : "select traces to delete or compare them";
    $(LIST.deleteSelected).disabled = n === 0;
    const compare = $(LIST.compareSelected);
    compare.disabled = n !== 2;
    compare.title = n === 2 ? "compare these two runs side by side" : "select exactly two traces to compare";
    const all = table.tHead.querySelector(LIST.selectAll);
    all.checked = n > 0 && n === rowsById.size;
    all.indeterminate = n > 0 && n < rowsById.size;
  }

  function addRow(s, before = null) {
    const tr = traceRow(s, href, rowOptions);
    const box = tr.querySelector(LIST.rowSelect);
    if (box && selected.has(s.trace_id)) box.checked = true;
    const old = rowsById.get(s.trace_id);
    if (old) old.replaceWith(tr);
    else if (before) body.insertBefore(tr, before);
    else body.appendChild(tr);
    rowsById.set(s.trace_id, tr);
    return tr;
  }

  async function load(append) {
    const q = new URLSearchParams(params);
    const size = Number(new URLSearchParams(location.search).get("limit"));
    q.set("limit", String(Number.isInteger(size) && size > 0 && size <= 500 ? size : 50));
    if (append && cursor) q.set("cursor", cursor);
    setStatus("Loading…");
    try {
      const data = await getJson(`/api/traces?${q}`);
      if (!append) { clear(body); rowsById.clear(); }
      for (const s of data.traces || []) if (s && TRACE_ID_RE.test(s.trace_id)) addRow(s);
      cursor = data.next_cursor || null;
      more.hidden = !cursor;
      // Nothing at all is "no traces yet"; nothing under filters is the filters' doing: say so, offer to clear.
      const filtered = isFiltered(params);
      empty.hidden = rowsById.size > 0 || filtered;
      noMatch.hidden = rowsById.size > 0 || !filtered;
      setStatus("");
      showSelection();
      document.body.dataset.listReady = String(rowsById.size);
    } catch (e) {
      setStatus(`Could not load traces: ${e.message}`, "error");
    }
  }

  async function loadFacets() {
    try {
      const data = await getJson("/api/facets");
      for (const [key, sel] of [["services", LIST.serviceOptions], ["models", LIST.modelOptions]]) {
        const values = Array.isArray(data[key]) ? data[key].filter((v) => typeof v === "string") : [];
        $(sel).replaceChildren(...values.map((v) => h("option", { value: v })));
      }
    } catch { /* suggestions are a convenience: the filters work without them */ }
  }

  async function deleteSelected() {
    const ids = [...selected];
    if (!ids.length) return;
    const what = ids.length === 1 ? "this trace" : `these ${ids.length} traces`;
    if (!window.confirm(`Delete ${what}? Their records, spans and search entries are removed from the database for good.`)) return;
    let done = 0;
    try {
      for (const id of ids) {
        await getJson(`/api/traces/${id}`, { method: "DELETE" });
        rowsById.get(id)?.remove();
        rowsById.delete(id);
        selected.delete(id);
        done += 1;
      }
      setStatus(`Deleted ${done} trace${done === 1 ? "" : "s"}.`);
    } catch (e) {
      setStatus(`Deleted ${done} of ${ids.length}; could not delete the next one: ${e.message}`, "error");
    }
    showSelection();
    document.body.dataset.listReady = String(rowsById.size);
  }

  body.addEventListener("change", (e) => {
    const box = e.target;
    if (!(box instanceof HTMLInputElement) || !box.matches(LIST.rowSelect) || !TRACE_ID_RE.test(box.value)) return;
    if (box.checked) selected.add(box.value); else selected.delete(box.value);
    showSelection();
  });
  table.tHead.addEventListener("change", (e) => {
    if (!(e.target instanceof HTMLInputElement) || !e.target.matches(LIST.selectAll)) return;
    const on = e.target.checked;
    for (const [id, tr] of rowsById) {
      tr.querySelector(LIST.rowSelect).checked = on;
      if (on) selected.add(id); else selected.delete(id);
    }
    showSelection();
  });
  $(LIST.deleteSelected).addEventListener("click", deleteSelected);
  $(LIST.compareSelected).addEventListener("click", () => {
    if (selected.size !== 2) return;
    const [a, b] = [...selected];
    location.assign(`/compare?${new URLSearchParams({ a, b })}`);
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const size = listParams(location.search).get("limit");  // a page size given in the link stays
    params = formParams(form);
    if (size) params.set("limit", size);
    const qs = params.toString();
    history.pushState(null, "", qs ? `?${qs}` : location.pathname);
    load(false);
  });
  form.addEventListener("reset", () => {
    setTimeout(() => form.requestSubmit(), 0);
  });
  // a new sort applies at once
  for (const k of VIEW_KEYS) form.elements.namedItem(k)?.addEventListener("change", () => form.requestSubmit());
  window.addEventListener("popstate", () => { params = listParams(location.search); fillForm(form, params); load(false); });
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
      // a new trace goes on top only where the newest come first; elsewhere a shown row is brought up to date
      const newestFirst = !params.get("sort") && !params.get("order");
      if (!rowsById.has(s.trace_id) && !newestFirst) return;
      const tr = addRow(s, body.firstChild);
      tr.classList.add("fresh");
      empty.hidden = true;
      noMatch.hidden = true;
      showSelection();
    });
  }
  loadFacets();
  load(false);
}
