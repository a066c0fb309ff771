// The JSON tree: short values as chips, long ones folded, JSON strings parsed, copy a value or its path.
import { h, copyText, flash } from "./dom.js";

export const CHIP_MAX = 80;
export const TEXT_PREVIEW = 4000;
const CHILDREN_PAGE = 200;

/** A JS-style path to a key: $.a.b[3]["odd key"]. */
export function childPath(path, key) {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** A string that holds a JSON object or array, parsed; undefined otherwise. */
export function parseJsonString(s) {
  if (typeof s !== "string" || s.length < 2 || s.length > 5_000_000) return undefined;
  const c = s.trimStart()[0];
  if (c !== "{" && c !== "[") return undefined;
  try {
    const v = JSON.parse(s);
    return v && typeof v === "object" ? v : undefined;
  } catch {
    return undefined;
  }
}

function typeClass(v) {
  if (v === null) return "v-null";
  return `v-${typeof v}`;
}

function scalarText(v) {
  if (typeof v === "string") return v;
  if (v === null) return "null";
  return String(v);
}

function copyButtons(value, path) {
  const copyVal = h("button", { type: "button", class: "mini", title: "Copy the value" }, "copy");
  copyVal.addEventListener("click", async (e) => {
    e.stopPropagation();
    const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    flash(copyVal, (await copyText(text)) ? "copied" : "failed");
  });
  const copyPath = h("button", { type: "button", class: "mini", title: `Copy the path ${path}` }, "path");
  copyPath.addEventListener("click", async (e) => {
    e.stopPropagation();
    flash(copyPath, (await copyText(path)) ? "copied" : "failed");
  });
  return h("span", { class: "row-actions" }, copyVal, copyPath);
}

/** Long text: a preview and a "show all" button (a 5 MB prompt must not freeze the page). */
export function longText(text, cls = "text-block") {
  const pre = h("pre", { class: cls });
  if (text.length <= TEXT_PREVIEW) {
    pre.textContent = text;
    return pre;
  }
  pre.textContent = text.slice(0, TEXT_PREVIEW) + "…";
  const more = h("button", { type: "button", class: "show-all" },
    `show all (${text.length.toLocaleString("en-US")} characters)`);
  more.addEventListener("click", () => {
    pre.textContent = text;
    more.remove();
  });
  return h("div", { class: "long-text" }, pre, more);
}

function scalarNode(v) {
  if (typeof v === "string" && v.length >= CHIP_MAX) {
    const parsed = parseJsonString(v);
    if (parsed !== undefined) return null;
    return longText(v);
  }
  return h("span", { class: `chip ${typeClass(v)}` }, scalarText(v));
}

function summaryOf(v) {
  if (Array.isArray(v)) return `[ ${v.length} item${v.length === 1 ? "" : "s"} ]`;
  const n = Object.keys(v).length;
  return `{ ${n} key${n === 1 ? "" : "s"} }`;
}

/**
 * One entry: key label, then the value (chip, long text, or a nested <details> filled lazily on open).
 * The key is data too, so it is set as text.
 */
function entry(key, value, path, depth, maxDepth) {
  const label = key === null ? null : h("span", { class: "json-key" }, typeof key === "number" ? String(key) : key);
  let parsedFrom = false;
  if (typeof value === "string") {
    const parsed = parseJsonString(value);
    if (parsed !== undefined) { value = parsed; parsedFrom = true; }
  }
  if (value !== null && typeof value === "object") {
    const details = h("details", { class: "json-node" });
    const summary = h("summary", null, label, label ? ": " : null,
      h("span", { class: "json-summary" }, summaryOf(value)),
      parsedFrom ? h("span", { class: "badge", title: "this value was a string holding JSON" }, "parsed JSON string") : null,
      copyButtons(value, path));
    details.appendChild(summary);
    let filled = false;
    const fill = () => {
      if (filled) return;
      filled = true;
      details.appendChild(children(value, path, depth + 1, maxDepth));
    };
    details.addEventListener("toggle", () => { if (details.open) fill(); });
    if (depth < maxDepth) { details.open = true; fill(); }
    return h("div", { class: "json-entry" }, details);
  }
  const node = scalarNode(value);
  return h("div", { class: "json-entry" }, label, label ? h("span", { class: "json-colon" }, ": ") : null,
    node, copyButtons(value, path));
}

function children(value, path, depth, maxDepth) {
  const box = h("div", { class: "json-children" });
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  const add = (from) => {
    const end = Math.min(keys.length, from + CHILDREN_PAGE);
    for (let i = from; i < end; i++) {
      const k = keys[i];
      box.appendChild(entry(k, value[k], childPath(path, k), depth, maxDepth));
    }
    if (end < keys.length) {
      const more = h("button", { type: "button", class: "show-all" }, `show ${keys.length - end} more`);
      more.addEventListener("click", () => { more.remove(); add(end); });
      box.appendChild(more);
    }
  };
  add(0);
  return box;
}

/** Render any JSON value; objects open to maxInitialDepth levels. */
export function jsonTree(value, { path = "$", maxInitialDepth = 2, label = null } = {}) {
  return h("div", { class: "json-tree" }, entry(label, value, path, 0, maxInitialDepth));
}

/** Render the fields of an attrs object (null prototype) as a JSON tree of its own keys. */
export function fieldsTree(attrs, keys, { maxInitialDepth = 1 } = {}) {
  const box = h("div", { class: "json-tree" });
  for (const k of keys) box.appendChild(entry(k, attrs[k], childPath("$", k), 0, maxInitialDepth));
  return box;
}
