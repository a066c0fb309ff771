"""The self-contained HTML file, checked without a browser (the browser tests open it from file://)."""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import re
import subprocess
import sys
from pathlib import Path

import ui_records
from aitrace_viewer.export_html import bundle_js, write_html


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_csp_allows_exactly_the_embedded_script_and_style(tmp_path: Path) -> None:
    html = write_html(ui_records.xss_trace(), tmp_path / "t.html").read_text()
    csp = html_lib.unescape(
        re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    )
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(scripts) == 1
    assert len(styles) == 1
    assert f"script-src '{_hash(scripts[0])}'" in csp
    assert f"style-src '{_hash(styles[0])}'" in csp
    assert "default-src 'none'" in csp
    assert "unsafe" not in csp
    assert not re.search(r"<[^>]+\son\w+=", html.split('id="aitrace-data">')[0])  # no inline handlers


def test_embedded_records_cannot_close_their_script_block(tmp_path: Path) -> None:
    recs = ui_records.xss_trace()
    recs[0]["span_name"] = "</script><script>alert(1)</script><!--"
    html = write_html(recs, tmp_path / "t.html").read_text()
    block = html.split('<script type="application/json" id="aitrace-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block
    assert json.loads(block)["records"][0]["span_name"] == recs[0]["span_name"]


def test_bundle_has_no_module_syntax_left() -> None:
    js = bundle_js()
    assert not re.search(r"^\s*(import|export)\s", js, re.M)
    assert "</script" not in js


def test_command_line_writes_a_file_from_jsonl(tmp_path: Path) -> None:
    src = tmp_path / "run.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in ui_records.llm_agent_trace()) + "\nnot json\n")
    out = tmp_path / "run.html"
    proc = subprocess.run(
        [sys.executable, "-m", "aitrace_viewer.export_html", str(src), "-o", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "18 records" in proc.stdout
    assert "<title>LangGraph · aitrace</title>" in out.read_text()
