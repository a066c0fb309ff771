"""One self-contained HTML file: the viewer's CSS and scripts inlined, the records embedded as JSON.

ES modules do not load from ``file://``, so the modules under ``static/js`` are joined into one classic
script, each in its own function scope (imports become reads from a small module table). The file's CSP
allows that one script and that one stylesheet by hash: no other script, no inline handlers, no eval, no
network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

__all__ = [
    "bundle_js",
    "main",
    "read_jsonl",
    "render_compare_html",
    "render_html",
    "write_compare_html",
    "write_html",
]

HERE = Path(__file__).parent
JS_DIR = HERE / "static" / "js"
CSS_FILE = HERE / "static" / "css" / "aitrace.css"

_IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"\./([\w-]+\.js)";\s*$', re.M)
_EXPORT_DECL = re.compile(r"^export\s+(async\s+function|function|const|let|class)\s+([A-Za-z_$][\w$]*)", re.M)


def _module_order(entry: str = "main.js") -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise ValueError(f"import cycle through {name}")
        visiting.add(name)
        for match in _IMPORT.finditer((JS_DIR / name).read_text(encoding="utf-8")):
            visit(match.group(2))
        visiting.discard(name)
        order.append(name)

    visit(entry)
    return order


def bundle_js(entry: str = "main.js") -> str:
    """The modules reachable from ``entry`` as one classic script (no build tool, no eval)."""
    parts = ['"use strict";', "const __aitraceModules = Object.create(null);"]
    for name in _module_order(entry):
        source = (JS_DIR / name).read_text(encoding="utf-8")
        exports = [m.group(2) for m in _EXPORT_DECL.finditer(source)]

        def as_const(match: re.Match[str]) -> str:
            names = []
            for item in (i.strip() for i in match.group(1).split(",")):
                if item:
                    imported, _, local = item.partition(" as ")
                    names.append(f"{imported.strip()}: {local.strip()}" if local else imported)
            return f'const {{ {", ".join(names)} }} = __aitraceModules["{match.group(2)}"];'

        body = _IMPORT.sub(as_const, source)
        body = _EXPORT_DECL.sub(lambda m: f"{m.group(1)} {m.group(2)}", body)
        if re.search(r"^\s*(import|export)\b", body, re.M):
            raise ValueError(f"{name}: an import or export the bundler does not understand")
        parts.append(
            f"// ---- {name}\n(() => {{\n{body}\n"
            f"__aitraceModules[{json.dumps(name)}] = {{ {', '.join(exports)} }};\n}})();"
        )
    script = "\n".join(parts)
    return script.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _embed_json(value: Any) -> str:
    # Safe inside <script type="application/json">: no "</script", no "<!--", no U+2028/9 surprises.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def render_html(records: Iterable[dict[str, Any]], *, title: str = "trace") -> str:
    """The HTML text of a self-contained viewer holding ``records`` (an empty list gives a file opener)."""
    recs = list(records)
    return _render(_embed_json({"name": title, "records": recs}) if recs else "", title)


def render_compare_html(result: dict[str, Any], *, title: str = "comparison") -> str:
    """The HTML text of a self-contained view of a comparison (:func:`aitrace_viewer.compare.compare`)."""
    return _render(_embed_json({"name": title, "compare": result}), title)


def _render(data: str, title: str) -> str:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    css = CSS_FILE.read_text(encoding="utf-8").replace("</style", "<\\/style")
    js = bundle_js()
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src '{_sha256(js)}'",
            f"style-src '{_sha256(css)}'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    return env.get_template("standalone.html").render(csp=csp, css=css, js=js, data_json=data, title=title)


def write_html(
    records: list[dict[str, Any]], path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Write one HTML file that shows ``records`` offline (opens from ``file://``); returns its path."""
    out = Path(path)
    traces = {r.get("trace_id") for r in records}
    if title is None and len(traces) > 1:
        title = f"{len(traces)} traces"  # the file holds them all: not named after its first one
    if title is None:
        roots = [r for r in records if r.get("event") == "span_start" and not r.get("parent_span_id")]
        title = str(roots[0].get("span_name") or "trace") if roots else out.stem
    out.write_text(render_html(records, title=title), encoding="utf-8")
    return out


def write_compare_html(result: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write one HTML file that shows the comparison ``result`` offline; returns its path."""
    out = Path(path)
    names = [str((result.get(k) or {}).get("name") or k.upper()) for k in ("a", "b")]
    out.write_text(render_compare_html(result, title=f"{names[0]} vs {names[1]}"), encoding="utf-8")
    return out


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Records from a .jsonl file (a JSON array file works too); unreadable lines are skipped."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, list):
            return [r for r in data if isinstance(r, dict)]
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m aitrace_viewer.export_html run.jsonl -o run.html``; no file: an empty viewer."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m aitrace_viewer.export_html",
        description="Write one self-contained HTML viewer file, with the records of a .jsonl embedded.",
    )
    parser.add_argument(
        "jsonl", nargs="?", help="records to embed (omit for an empty viewer that opens files)"
    )
    parser.add_argument("-o", "--output", required=True, help="the HTML file to write")
    args = parser.parse_args(argv)
    records = read_jsonl(args.jsonl) if args.jsonl else []
    out = write_html(records, args.output, title=None if records else "aitrace viewer")
    print(f"wrote {out} ({len(records)} records)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
