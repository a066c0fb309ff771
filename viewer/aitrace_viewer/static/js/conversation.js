// Pure: a trace's conversation turn (for the threads page): the new user message(s), then the model's
// answers and tool results in time order.
import { field, normalizeMessages } from "./lenses.js";

const LLM = new Set(["llm", "chat_model"]);

function outputText(v) {
  if (typeof v === "string") return v;
  if (v && typeof v === "object") {
    const c = field(v, "content");
    if (typeof c === "string") return c;
  }
  try { return JSON.stringify(v); } catch { return String(v); }
}

/** What a run resumed an interrupted graph with: the `resume` of a LangGraph `Command` given as the root's
 * input (recorded as `{"command": {"resume": …}}`); undefined for any other run. */
export function resumeValue(root) {
  const command = root ? field(field(root.attrs, "input"), "command") : undefined;
  return field(command, "resume");
}

/** [{role, text, toolCalls, toolCallId, spanId}] for one trace tree. A resumed turn starts with what it was
 * resumed with (a user message named "resumed with"). */
export function turnMessages(tree) {
  const llms = tree.order.filter((s) => LLM.has(s.kind) || field(s.attrs, "gen_ai.output.messages") !== undefined);
  const out = [];
  const resume = resumeValue(tree.roots[0]);
  if (resume !== undefined) {
    out.push({ role: "user", name: "resumed with", text: outputText(resume), toolCalls: [], toolCallId: null, spanId: tree.roots[0].id });
  }
  if (!llms.length) {
    const root = tree.roots[0];
    if (!root) return out;
    const input = resume === undefined ? field(root.attrs, "input") : undefined;
    const output = field(root.attrs, "output");
    if (input !== undefined) out.push({ role: "user", text: outputText(input), toolCalls: [], toolCallId: null, spanId: root.id });
    if (output !== undefined) out.push({ role: "assistant", text: outputText(output), toolCalls: [], toolCallId: null, spanId: root.id });
    return out;
  }
  const sorted = [...llms].sort((a, b) => a.start - b.start);
  const first = normalizeMessages(field(sorted[0].attrs, "gen_ai.input.messages"), "user");
  let lastUser = -1;
  for (let i = 0; i < first.length; i++) if (first[i].role === "user") lastUser = i;
  for (const m of lastUser >= 0 ? first.slice(lastUser) : []) out.push({ ...m, spanId: sorted[0].id });
  const tools = tree.order.filter((s) => s.kind === "tool");
  const events = [];
  for (const s of sorted) events.push({ t: s.end, span: s, type: "llm" });
  for (const s of tools) events.push({ t: s.end, span: s, type: "tool" });
  events.sort((a, b) => a.t - b.t);
  for (const ev of events) {
    if (ev.type === "llm") {
      for (const m of normalizeMessages(field(ev.span.attrs, "gen_ai.output.messages"), "assistant")) out.push({ ...m, spanId: ev.span.id });
    } else {
      const o = field(ev.span.attrs, "output");
      out.push({
        role: "tool", text: o === undefined ? `(${ev.span.status})` : outputText(o), toolCalls: [],
        toolCallId: field(ev.span.attrs, "gen_ai.tool.call.id") ?? null, spanId: ev.span.id, name: ev.span.name,
      });
    }
  }
  return out;
}

/**
 * A graph state holding a conversation (`{"messages": [...], ...}`, LangGraph's MessagesState): its messages
 * and the other keys (null when none); null when the value is not such a state.
 */
export function stateMessages(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const msgs = field(value, "messages");
  if (!Array.isArray(msgs) || !msgs.length) return null;
  const isMessage = (m) => m && typeof m === "object" && !Array.isArray(m) &&
    (typeof field(m, "role") === "string" || typeof field(m, "type") === "string");
  if (!msgs.every(isMessage)) return null;
  const rest = Object.create(null);
  for (const k of Object.keys(value)) if (k !== "messages") rest[k] = value[k];
  return { messages: msgs, rest: Object.keys(rest).length ? rest : null };
}
