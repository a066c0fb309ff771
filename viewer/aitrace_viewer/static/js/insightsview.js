// The insights page (/insights): totals, charts over time and breakdowns of /api/insights, and the threads
// index (/threads) of /api/threads. Everything from the server is set as text.
import { h, clear, fmtDuration, fmtInt, fmtCost, fmtTime } from "./dom.js";
import { barChart, legend, lineChart, mountChart } from "./charts.js";
import { traceHeadRow, traceRow } from "./listview.js";

export const INSIGHTS_SEL = {
  form: "#insights-filters",
  box: "#insights",
  rangeNote: "#insights-range",
  services: "#insights-services",
  models: "#insights-models",
  threadRows: "#thread-rows",
  threadsEmpty: "#threads-empty",
  threadsMore: "#threads-more",
};

const PRESETS = ["1h", "24h", "7d", "30d"];
const KEYS = ["range", "since", "until", "service", "model"];

export const fmtRate = (r) => (typeof r === "number" && Number.isFinite(r) ? `${(r * 100).toFixed(1)}%` : "–");
const fmtTokens = (n) => (typeof n === "number" ? fmtInt(n) : "–");

/** A datetime-local input's value (local time, minutes) for an RFC 3339 time, and back. */
function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fromLocalInput(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.000Z$/, "Z");
}

/** The label of a bucket start: the hour for hourly points, the (UTC) date for daily ones. */
function bucketLabel(iso, bucket) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "?";
  const pad = (n) => String(n).padStart(2, "0");
  return bucket === "hour" ? `${pad(d.getHours())}:00` : `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** A box whose chart is drawn at the box's width once it is in the page (see render). */
const pendingCharts = [];
function chartBox(draw) {
  const box = h("div", { class: "chart-box" });
  pendingCharts.push([box, draw]);
  return box;
}

function card(titleText, ...children) {
  return h("section", { class: "insight-card" }, h("h2", null, titleText), ...children);
}

function kpi(name, label, value, extra = "") {
  return h("div", { class: `kpi ${extra}`.trim(), "data-kpi": name }, h("span", { class: "kpi-label" }, label), h("span", { class: "kpi-value" }, value));
}

function breakdown(titleText, rows, { what, tokens }) {
  if (!rows.length) return card(titleText, h("p", { class: "muted" }, `no ${what} in this range`));
  const chart = chartBox((width) => barChart({ items: rows.map((r) => ({ label: r.key, value: r.count })), fmt: fmtInt, label: `${what} by count`, width }));
  const head = ["", "count", "errors", ...(tokens ? ["tokens in", "tokens out", "cost"] : []), "p50", "p95"];
  const table = h("table", { class: "traces breakdown" },
    h("thead", null, h("tr", null, head.map((c, i) => h("th", { class: i ? "num" : "" }, c)))),
    h("tbody", null, rows.map((r) => h("tr", { "data-key": String(r.key) },
      h("td", { class: "col-key" }, String(r.key)),
      h("td", { class: "num" }, fmtInt(r.count)),
      h("td", { class: `num${r.errors ? " has-errors" : ""}` }, r.errors ? `${fmtInt(r.errors)} (${fmtRate(r.error_rate)})` : "0"),
      tokens ? [h("td", { class: "num" }, fmtTokens(r.input_tokens)), h("td", { class: "num" }, fmtTokens(r.output_tokens)),
        h("td", { class: "num" }, fmtCost(r.cost_usd))] : null,
      h("td", { class: "num" }, fmtDuration(r.p50_ms)),
      h("td", { class: "num" }, fmtDuration(r.p95_ms))))));
  return card(titleText, chart, h("div", { class: "breakdown-wrap" }, table));
}

function traceTable(titleText, traces, name) {
  if (!traces.length) return card(titleText, h("p", { class: "muted" }, "no finished traces in this range"));
  return card(titleText, h("div", { class: "breakdown-wrap" }, h("table", { class: "traces", "data-top": name },
    h("thead", null, traceHeadRow()), h("tbody", null, traces.map((s) => traceRow(s, (id) => `/traces/${id}`))))));
}

function timeCharts(data) {
  const labels = data.series.map((p) => bucketLabel(p.start, data.bucket));
  const col = (k) => data.series.map((p) => (typeof p[k] === "number" ? p[k] : null));
  const charts = [
    ["Runs and errors", "runs", [{ name: "runs", values: col("count"), cls: "chart-s1" }, { name: "errors", values: col("errors"), cls: "chart-err" }], fmtInt],
    ["Latency", "latency", [{ name: "p50", values: col("p50_ms"), cls: "chart-s1" }, { name: "p95", values: col("p95_ms"), cls: "chart-s2" }], (v) => (v ? fmtDuration(v) : "0")],
    ["Tokens", "tokens", [{ name: "in", values: col("input_tokens"), cls: "chart-s1" }, { name: "out", values: col("output_tokens"), cls: "chart-s3" }], fmtInt],
    ["Cost", "cost", [{ name: "cost", values: col("cost_usd"), cls: "chart-s2" }], fmtCost],
  ];
  const per = data.bucket === "hour" ? "per hour" : "per day (UTC)";
  return charts.map(([t, name, series, fmt]) => {
    const c = card(`${t} ${per}`, legend(series), chartBox((width) => lineChart({ labels, series, fmt, label: `${t} ${per}`, width })));
    c.dataset.chart = name;
    return c;
  });
}

function render(box, data) {
  const t = data.totals;
  const tokens = `${fmtTokens(t.input_tokens)} / ${fmtTokens(t.output_tokens)}`;
  clear(box).append(
    h("div", { class: "kpis" },
      kpi("runs", "runs", fmtInt(t.count)),
      kpi("error_rate", "error rate", fmtRate(t.error_rate), t.errors ? "status-error" : ""),
      kpi("tokens", "tokens in / out", tokens),
      kpi("cost", "cost", fmtCost(t.cost_usd)),
      kpi("p50", "latency p50", fmtDuration(t.p50_ms)),
      kpi("p95", "latency p95", fmtDuration(t.p95_ms))),
    h("div", { class: "insight-grid" }, timeCharts(data)),
    h("div", { class: "insight-grid" },
      breakdown("By model (LLM calls)", data.by_model, { what: "model calls", tokens: true }),
      breakdown("By LangGraph node", data.by_node, { what: "node runs", tokens: false }),
      breakdown("By tool", data.by_tool, { what: "tool calls", tokens: false })),
    h("div", { class: "insight-grid" },
      traceTable("Slowest traces", data.slowest, "slowest"),
      traceTable("Most expensive traces", data.costliest, "costliest")));
  for (const [chartEl, draw] of pendingCharts.splice(0)) mountChart(chartEl, draw);
}

function fillList(list, values) {
  clear(list);
  for (const v of values) if (typeof v === "string") list.appendChild(h("option", { value: v }));
}

export function insightsPage({ $, getJson, setStatus }) {
  const form = $(INSIGHTS_SEL.form);
  const box = $(INSIGHTS_SEL.box);
  const custom = form.querySelector(".custom-range");
  const el = (name) => form.elements.namedItem(name);

  function fromUrl() {
    const p = new URLSearchParams(location.search);
    const out = new URLSearchParams();
    for (const k of KEYS) { const v = p.get(k); if (v) out.set(k, v); }
    return out;
  }
  function fill(params) {
    const preset = params.get("range");
    const isCustom = !preset && params.get("since");
    el("range").value = isCustom ? "custom" : PRESETS.includes(preset) ? preset : "24h";
    custom.hidden = !isCustom;
    el("since").value = isCustom ? toLocalInput(params.get("since")) : "";
    el("until").value = isCustom && params.get("until") ? toLocalInput(params.get("until")) : "";
    el("service").value = params.get("service") || "";
    el("model").value = params.get("model") || "";
  }
  function fromForm() {
    const out = new URLSearchParams();
    if (el("range").value === "custom") {
      const since = fromLocalInput(el("since").value);
      const until = fromLocalInput(el("until").value);
      if (since) out.set("since", since);
      if (until) out.set("until", until);
    } else out.set("range", el("range").value);
    for (const k of ["service", "model"]) if (el(k).value.trim()) out.set(k, el(k).value.trim());
    return out;
  }

  async function load(params) {
    setStatus("Loading…");
    try {
      const data = await getJson(`/api/insights?${params}`);
      setStatus("");
      $(INSIGHTS_SEL.rangeNote).textContent = `${fmtTime(data.since)} – ${fmtTime(data.until)}`;
      fillList($(INSIGHTS_SEL.services), data.services || []);
      fillList($(INSIGHTS_SEL.models), (data.by_model || []).map((r) => r.key));
      render(box, data);
      document.body.dataset.insightsReady = String(data.totals.count);
    } catch (e) {
      setStatus(`Could not load insights: ${e.message}`, "error");
    }
  }

  el("range").addEventListener("change", () => {
    custom.hidden = el("range").value !== "custom";
    if (el("range").value === "custom" && !el("since").value) {
      el("since").value = toLocalInput(new Date(Date.now() - 86400000).toISOString());
      el("until").value = toLocalInput(new Date().toISOString());
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const params = fromForm();
    history.pushState(null, "", `?${params}`);
    load(params);
  });
  window.addEventListener("popstate", () => { const p = fromUrl(); fill(p); load(p); });
  const initial = fromUrl();
  fill(initial);
  load(initial);
}

// ---- threads index ----------------------------------------------------------------------------------

function statusCell(t) {
  const st = /^(ok|error|cancelled|interrupted|running)$/.test(t.status) ? t.status : "other";
  const words = { interrupted: "waiting for input (interrupted)", running: "running" }[st] || String(t.status ?? "–");
  return h("td", { class: "col-status" }, h("span", { class: `status-dot status-${st}` }), words,
    t.error_turns ? h("span", { class: "has-errors" }, ` · ${fmtInt(t.error_turns)} turn${t.error_turns === 1 ? "" : "s"} with errors`) : null);
}

export function threadsPage({ $, getJson, setStatus }) {
  const body = $(INSIGHTS_SEL.threadRows);
  const more = $(INSIGHTS_SEL.threadsMore);
  const empty = $(INSIGHTS_SEL.threadsEmpty);
  let cursor = null;
  let count = 0;
  async function load() {
    setStatus("Loading…");
    try {
      const data = await getJson(`/api/threads${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
      for (const t of data.threads || []) {
        const tokens = t.total_tokens;
        body.appendChild(h("tr", { class: "thread-row", "data-thread": String(t.thread_id) },
          h("td", { class: "col-trace" }, h("a", { href: `/threads/${encodeURIComponent(t.thread_id)}`, class: "trace-link" }, String(t.thread_id))),
          h("td", { class: "num" }, fmtInt(t.turns)),
          h("td", null, fmtTime(t.last_activity)),
          h("td", { class: "num" }, typeof tokens === "number" ? fmtInt(tokens) : "–"),
          h("td", { class: "num" }, fmtCost(t.cost_usd)),
          statusCell(t)));
        count += 1;
      }
      cursor = data.next_cursor || null;
      more.hidden = !cursor;
      empty.hidden = count > 0;
      setStatus("");
      document.body.dataset.threadsReady = String(count);
    } catch (e) {
      setStatus(`Could not load threads: ${e.message}`, "error");
    }
  }
  more.addEventListener("click", load);
  load();
}
