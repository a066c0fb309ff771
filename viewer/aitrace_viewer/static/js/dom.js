// DOM helpers. Everything from data goes in as text (textContent / attributes we choose), never as HTML.

/** Every selector the pages' JS looks up, in one place (templates/ carry the matching ids and classes). */
export const SEL = {
  app: "#app",
  listBody: "#trace-rows",
  listEmpty: "#trace-empty",
  listNoMatch: "#trace-nomatch",
  listClear: "#trace-clear",
  listMore: "#trace-more",
  listLive: "#live-status",
  filters: "#filters",
  treeScroll: "#tree-scroll",
  treeSpacer: "#tree-spacer",
  detail: "#detail",
  traceHeader: "#trace-header",
  expandAll: "#expand-all",
  collapseAll: "#collapse-all",
  thread: "#thread",
  dropZone: "#drop-zone",
  fileInput: "#file-input",
  fileTraces: "#file-traces",
  fileMessage: "#file-message",
  embedded: "#aitrace-data",
  status: "#page-status",
};

export function $(selector, root = document) {
  return root.querySelector(selector);
}

const SAFE_ATTRS = new Set([
  "class", "id", "title", "role", "tabindex", "type", "name", "value", "placeholder", "for", "colspan",
  "aria-expanded", "aria-level", "aria-selected", "aria-label", "aria-live", "aria-controls", "download",
  "open", "data-span", "data-key", "data-row", "data-trace", "accept", "checked", "min", "step", "rel",
  "datetime", "hidden",
]);

/**
 * h("div", {class: "x", onclick: fn}, child, "text", …). Strings become text nodes; attributes are
 * limited to a known list, and `href` is accepted only as a relative path or a #fragment we build.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "href") el.setAttribute("href", safeHref(v));
      else if (SAFE_ATTRS.has(k) || k.startsWith("data-")) el.setAttribute(k, v === true ? "" : String(v));
      else throw new Error(`h(): attribute ${k} is not allowed`);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Only links we build: same-origin paths and fragments. Anything else (javascript:, data:, //host) → "#". */
export function safeHref(v) {
  const s = String(v);
  if (/^(#|\/(?!\/)|\?)/.test(s) && !/[\u0000-\u001f]/.test(s)) return s;
  return "#";
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function fmtDuration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "–";
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function fmtTime(value) {
  const d = typeof value === "number" ? new Date(value) : new Date(String(value));
  if (Number.isNaN(d.getTime())) return "–";
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtInt(n) {
  return typeof n === "number" && Number.isFinite(n) ? n.toLocaleString("en-US") : "–";
}

export function fmtCost(c) {
  if (typeof c !== "number" || !Number.isFinite(c)) return "–";
  return c === 0 ? "$0" : c < 0.01 ? `$${c.toPrecision(2)}` : `$${c.toFixed(2)}`;
}

/** Copy text; falls back to a hidden textarea where the async clipboard is unavailable (file://). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h("textarea", { class: "offscreen" });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

/** Offer text as a file download (a Blob URL; nothing leaves the machine). */
export function download(name, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { download: name, class: "offscreen" });
  a.href = url;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A small transient note next to a button ("copied"). */
export function flash(button, text) {
  const old = button.textContent;
  button.textContent = text;
  setTimeout(() => { button.textContent = old; }, 1200);
}

// ---- time that ticks: elapsed time of what is still running -----------------------------------------

const tickers = new Set();
let tickTimer = 0;

/** Elapsed milliseconds since `startMs` (epoch ms), never below `atLeast` (e.g. the last record seen). */
export function elapsedMs(startMs, atLeast = 0) {
  return Math.max(atLeast, Date.now() - startMs);
}

function ensureTimer() {
  if (tickTimer) return;
  tickTimer = setInterval(() => {
    const now = Date.now();
    for (const t of [...tickers]) t(now);
    document.querySelectorAll(".ticking[data-since]").forEach((el) => {
      el.textContent = fmtDuration(elapsedMs(Number(el.dataset.since), Number(el.dataset.atLeast) || 0));
    });
  }, 250);
}

/** Call `fn(nowMs)` four times a second until the returned function is called. */
export function onTick(fn) {
  tickers.add(fn);
  ensureTimer();
  return () => tickers.delete(fn);
}

/** A text that shows the time elapsed since `startMs` and keeps counting (for a running trace or span). */
export function ticking(startMs, cls = "", atLeast = 0) {
  const el = h("span", { class: `ticking ${cls}`.trim(), title: "running: time elapsed so far", "data-since": String(startMs) },
    fmtDuration(elapsedMs(startMs, atLeast)));
  if (atLeast) el.dataset.atLeast = String(atLeast);
  ensureTimer();
  return el;
}

/** Show ``text`` in the page's status line (hidden when empty); ``cls`` e.g. "error". */
export function setStatus(text, cls = "") {
  const el = $(SEL.status);
  if (!el) return;
  el.textContent = text;
  el.className = `page-status ${cls}`.trim();
  el.hidden = !text;
}

/** GET (or ``init``) a JSON document of the API; a failure throws with the server's ``error`` or ``detail``.
 * No custom headers by default: the trace page preloads its data request, and fetch() must match it. */
export async function getJson(url, init = {}) {
  const res = await fetch(url, { credentials: "same-origin", ...init });
  if (!res.ok) {
    let why = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body && typeof body.error === "string") why = body.error;
      else if (body && typeof body.detail === "string") why = body.detail;
    } catch { /* not JSON */ }
    throw new Error(why);
  }
  return res.json();
}
