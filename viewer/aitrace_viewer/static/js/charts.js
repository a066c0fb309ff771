// Plain SVG charts (no library): a line chart over time and a horizontal bar chart. Colours come from CSS
// classes on the marks (aitrace.css sets them from the theme's variables, so light and dark both work);
// every value shows in a <title> tooltip. Labels go in as text, never as markup.

const NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes (numbers and strings only) and children (nodes or text). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const title = (text) => s("title", {}, text);

/** A round upper bound for an axis and its tick step: 0 … max in 4 steps of 1, 2, 2.5 or 5 × 10^k. */
export function niceScale(max) {
  if (!(max > 0)) return { max: 1, step: 0.25 };
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= raw);
  return { max: step * 4, step };
}

/**
 * A line chart. `labels`: the x positions' names (e.g. bucket starts, already formatted);
 * `series`: [{name, values: [number|null …], cls}] where cls names the colour (chart-s1 … chart-s4);
 * `fmt(value)`: how values read on the axis and in tooltips. A null value leaves a gap.
 */
export function lineChart({ labels, series, fmt = String, label = "", width = 640, height = 220 }) {
  const pad = { l: 64, r: 24, t: 12, b: 28 };
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  const all = series.flatMap((se) => se.values.filter((v) => typeof v === "number" && Number.isFinite(v)));
  const { max, step } = niceScale(Math.max(0, ...all));
  const n = labels.length;
  const x = (i) => pad.l + (n <= 1 ? w / 2 : (i * w) / (n - 1));
  const y = (v) => pad.t + hgt - (v / max) * hgt;
  const svg = s("svg", { class: "chart chart-line", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  const axis = s("g", { class: "chart-axis" });
  for (let v = 0; v <= max + step / 2; v += step) {
    axis.appendChild(s("line", { class: "chart-grid", x1: pad.l, x2: pad.l + w, y1: y(v), y2: y(v) }));
    axis.appendChild(s("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, fmt(v)));
  }
  const every = Math.max(1, Math.ceil(n / 6));
  for (let i = 0; i < n; i += every) {
    axis.appendChild(s("text", { x: x(i), y: height - 8, "text-anchor": "middle" }, labels[i]));
  }
  axis.appendChild(s("line", { class: "chart-baseline", x1: pad.l, x2: pad.l + w, y1: y(0), y2: y(0) }));
  svg.appendChild(axis);
  series.forEach((se, k) => {
    const cls = se.cls || `chart-s${k + 1}`;
    let d = "";
    let pen = false;
    se.values.forEach((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v)) { pen = false; return; }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    const g = s("g", { class: `chart-series ${cls}`, "data-series": se.name });
    if (d) g.appendChild(s("path", { class: "chart-path", d }));
    se.values.forEach((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v)) return;
      g.appendChild(s("circle", { class: "chart-point", cx: x(i), cy: y(v), r: n > 60 ? 2 : 3.5 },
        title(`${labels[i]} · ${se.name}: ${fmt(v)}`)));
    });
    svg.appendChild(g);
  });
  return svg;
}

/** The legend of a line chart's series: a swatch and the name of each. */
export function legend(series) {
  const box = document.createElement("div");
  box.className = "chart-legend";
  series.forEach((se, k) => {
    const item = document.createElement("span");
    const sw = s("svg", { class: `chart-swatch ${se.cls || `chart-s${k + 1}`}`, width: 14, height: 4, "aria-hidden": "true" },
      s("rect", { width: 14, height: 4 }));
    item.append(sw, document.createTextNode(` ${se.name}`));
    box.appendChild(item);
  });
  return box;
}

/**
 * A horizontal bar chart: `items` [{label, value}] top to bottom, one bar each, the value at its end.
 * `fmt(value)` formats the value; `cls` names the colour.
 */
export function barChart({ items, fmt = String, label = "", cls = "chart-s1", width = 640 }) {
  const row = 22;
  const labelW = 180;
  const valueW = 80;
  const height = Math.max(row, items.length * row) + 4;
  const w = width - labelW - valueW;
  const max = Math.max(0, ...items.map((it) => (Number.isFinite(it.value) ? it.value : 0)));
  const svg = s("svg", { class: "chart chart-bar", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  items.forEach((it, i) => {
    const v = Number.isFinite(it.value) ? it.value : 0;
    const bw = max > 0 ? Math.max(1, (v / max) * w) : 0;
    const top = i * row + 2;
    const name = String(it.label);
    const g = s("g", { class: `chart-series ${cls}`, "data-key": name },
      title(`${name}: ${fmt(it.value)}`),
      s("text", { class: "chart-label", x: labelW - 8, y: top + 14, "text-anchor": "end" },
        name.length > 26 ? `${name.slice(0, 25)}…` : name),
      s("rect", { class: "chart-bar-rect", x: labelW, y: top + 3, width: bw.toFixed(1), height: row - 8, rx: 2 }),
      s("text", { class: "chart-value", x: labelW + bw + 6, y: top + 14 }, fmt(it.value)));
    svg.appendChild(g);
  });
  return svg;
}

/**
 * Draw `draw(width)` into `box` at the box's own width (so text keeps its size), and again whenever the
 * box's width changes (a window resized, a panel narrowed).
 */
export function mountChart(box, draw) {
  let drawn = -1;
  const redraw = () => {
    const width = Math.max(240, Math.floor(box.clientWidth));
    if (width === drawn) return;
    drawn = width;
    box.replaceChildren(draw(width));
  };
  if (typeof ResizeObserver === "function") new ResizeObserver(redraw).observe(box);
  redraw();
}
