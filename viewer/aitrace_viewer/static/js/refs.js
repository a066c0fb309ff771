// Pure: resolve the message references of aitrace records (docs/schema.md, "References"), as
// aitrace_core.resolve_refs does. A trace writes each message once in full (with "$id": n) and later as
// {"$ref": n | [n, m], "$span": "<span id of the record holding it>"}; readers get the records back as if
// every message had been written in full. No DOM here, so Node tests it.

export const MISSING_MESSAGE = "[aitrace: message not found: written in full by span {span}, whose records are missing]";
const MAX_RANGE = 100000;

const hasOwn = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** True for a reference object: exactly "$ref" (an integer, or [first, last]) and "$span" (a string). */
export function isRef(value) {
  if (!isObject(value) || !hasOwn(value, "$ref") || !hasOwn(value, "$span")) return false;
  if (Object.keys(value).length !== 2 || typeof value.$span !== "string") return false;
  const ref = value.$ref;
  if (Number.isInteger(ref)) return true;
  return Array.isArray(ref) && ref.length === 2 && Number.isInteger(ref[0]) && Number.isInteger(ref[1]);
}

const isFull = (v) => isObject(v) && hasOwn(v, "$id") && Number.isInteger(v.$id);
const withoutId = (v) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== "$id"));
const missing = (span) => ({ role: "unknown", parts: [{ type: "text", content: MISSING_MESSAGE.replace("{span}", span) }] });

/** Index the full messages under `value` by span and id; true when it holds ids or references. */
function collect(value, span, index) {
  let found = false;
  const stack = [value];
  while (stack.length) {
    const obj = stack.pop();
    if (Array.isArray(obj)) {
      for (const v of obj) if (v !== null && typeof v === "object") stack.push(v);
    } else if (isFull(obj)) {
      found = true;
      index.set(`${span} ${obj.$id}`, withoutId(obj));
    } else if (isRef(obj)) {
      found = true;
    } else {
      for (const v of Object.values(obj)) if (v !== null && typeof v === "object") stack.push(v);
    }
  }
  return found;
}

function lookup(index, span, n) {
  const hit = index.get(`${span} ${n}`);
  return hit === undefined ? missing(span) : hit;
}

function resolve(value, index) {
  if (Array.isArray(value)) {
    const out = [];
    for (const item of value) {
      if (isRef(item) && Array.isArray(item.$ref)) {
        const [first, last] = item.$ref;
        const end = Math.min(last, first + MAX_RANGE);
        for (let n = first; n <= end; n++) out.push(lookup(index, item.$span, n));
      } else {
        out.push(item !== null && typeof item === "object" ? resolve(item, index) : item);
      }
    }
    return out;
  }
  if (isFull(value)) return withoutId(value);
  if (isRef(value)) return lookup(index, value.$span, Array.isArray(value.$ref) ? value.$ref[0] : value.$ref);
  // Object.fromEntries defines own properties: a "__proto__" key stays a plain key.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v !== null && typeof v === "object" ? resolve(v, index) : v]));
}

/**
 * The records with every message reference replaced by the message it refers to and the "$id" markers
 * removed. Records without any are returned as they are (the same objects); the input is never modified.
 * A reference whose message is not among the records becomes a visible message saying so.
 */
export function resolveRefs(records) {
  const index = new Map();
  const marked = records.map((rec) => isObject(rec) && collect(rec, typeof rec.span_id === "string" ? rec.span_id : "", index));
  if (!marked.some(Boolean)) return records;
  return records.map((rec, i) => (marked[i] ? resolve(rec, index) : rec));
}
