// Mark a text in a panel (the detail of a span opened from a search hit): every occurrence wrapped in
// <mark>, collapsed parts opened, the first one scrolled into view. Text stays text: no HTML is parsed.
const SKIP = new Set(["BUTTON", "SCRIPT", "STYLE", "MARK"]);

/** Wrap each case-insensitive occurrence of q in the text under root in <mark class="find-hit">. */
export function markText(root, q) {
  const needle = String(q).toLowerCase();
  if (!needle) return [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => {
      for (let p = n.parentNode; p && p !== root; p = p.parentNode) if (SKIP.has(p.nodeName)) return NodeFilter.FILTER_REJECT;
      return n.nodeValue.toLowerCase().includes(needle) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
    },
  });
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  const marks = [];
  for (let node of nodes) {
    let at = node.nodeValue.toLowerCase().indexOf(needle);
    while (at >= 0) {
      const hit = node.splitText(at);
      node = hit.splitText(needle.length);
      const mark = document.createElement("mark");
      mark.className = "find-hit";
      hit.parentNode.replaceChild(mark, hit);
      mark.appendChild(hit);
      marks.push(mark);
      at = node.nodeValue.toLowerCase().indexOf(needle);
    }
  }
  return marks;
}

const nextFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

/**
 * Mark q in root and scroll the first mark into view, opening collapsed JSON nodes level by level (they
 * fill when opened) until it shows up. Resolves to the number of marks.
 */
export async function revealText(root, q, { levels = 8 } = {}) {
  for (let level = 0; level <= levels; level++) {
    const marks = markText(root, q);
    if (marks.length) {
      for (let p = marks[0].parentElement; p && p !== root; p = p.parentElement) if (p.tagName === "DETAILS") p.open = true;
      marks[0].classList.add("find-hit-first");
      marks[0].scrollIntoView({ block: "center" });
      return marks.length;
    }
    const closed = root.querySelectorAll("details:not([open])");
    if (!closed.length) return 0;
    closed.forEach((d) => { d.open = true; });
    await nextFrame(); // a <details> fills on its toggle event
  }
  return 0;
}
