// Pure: "find span" over a trace: each span's searchable text (name, kind, id, attribute values, log lines),
// built once per span on the first search, then matched by substring, in tree order. No DOM: Node tests it.
import { displayName } from "./tree.js";

const MAX_SPAN_TEXT = 1_000_000; // characters indexed per span: a 5 MB prompt is searched in its first MB
const MAX_NODES = 20_000; // values walked per record

/** Append the scalar values under `value` (not its keys) to `out`, bounded. */
function collectValues(value, out) {
  const stack = [value];
  let nodes = 0;
  while (stack.length && nodes++ < MAX_NODES) {
    const v = stack.pop();
    if (v === null || v === undefined) continue;
    if (typeof v === "string") out.push(v);
    else if (typeof v === "number" || typeof v === "boolean") out.push(String(v));
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    else if (typeof v === "object") { const ks = Object.keys(v); for (let i = ks.length - 1; i >= 0; i--) stack.push(v[ks[i]]); }
  }
}

/** The lower-cased text a span is found by. */
export function spanText(span) {
  const out = [String(span.name), displayName(span), String(span.kind), span.id];
  collectValues(span.attrs, out);
  for (const l of span.logs || []) collectValues(l.rec, out);
  let text = out.join("\n");
  if (text.length > MAX_SPAN_TEXT) text = text.slice(0, MAX_SPAN_TEXT);
  return text.toLowerCase();
}

/**
 * A finder over a tree: `find(q)` → the spans whose text contains q (case-insensitive), in tree order.
 * A span's text is built the first time it is searched and kept until the span's records change
 * (a tree built without records loads them span by span).
 */
export function spanFinder(tree) {
  const texts = new Map(); // span → {loaded, text}
  const textOf = (span) => {
    let t = texts.get(span);
    if (!t || t.loaded !== span.loaded || t.logs !== span.logs) {
      t = { loaded: span.loaded, logs: span.logs, text: spanText(span) };
      texts.set(span, t);
    }
    return t.text;
  };
  return {
    find(q) {
      const needle = String(q).trim().toLowerCase();
      if (!needle) return [];
      return tree.order.filter((s) => textOf(s).includes(needle));
    },
  };
}
