"""``aitrace diff A B``: compare two runs from the store or from .jsonl files, as text or as JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from aitrace_core import is_trace_id

__all__ = ["diff_cmd", "export_comparison", "format_text", "load_run"]

#: Equal text longer than this is shortened around the changes in an inline diff.
CONTEXT = 40
MAX_CHANGES_SHOWN = 8
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _safe(text: str) -> str:
    """Untrusted text for a terminal: control characters (escape sequences, bidi overrides) made visible."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text).replace("\n", "⏎ ")


def load_run(source: str, db: str | None, store_box: list[Any]) -> list[dict[str, Any]]:
    """The records of one run: ``FILE``, ``FILE#TRACE_ID`` or a trace id in the store."""
    from .compare import split_traces
    from .export_html import read_jsonl

    path_text, _, wanted = source.partition("#")
    path = Path(path_text).expanduser()
    if path.is_file():
        traces = split_traces(read_jsonl(path))
        if not traces:
            raise click.ClickException(f"{path} holds no records")
        if wanted:
            if wanted not in traces:
                raise click.ClickException(f"{path} holds no trace {wanted}")
            return traces[wanted]
        if len(traces) > 1:
            ids = ", ".join(list(traces)[:10])
            raise click.ClickException(
                f"{path} holds {len(traces)} traces: name one as {path}#TRACE_ID ({ids})"
            )
        return next(iter(traces.values()))
    if is_trace_id(source):
        if not store_box:
            from .cli import _open_store, cli_settings, need

            need("viewer")
            store_box.append(_open_store(cli_settings(db=db)))
        records: list[dict[str, Any]] = store_box[0].trace_records(source)
        if not records:
            raise click.ClickException(f"no trace {source} in the store")
        return records
    raise click.BadParameter(
        f"{source!r} is neither a trace id (32 lowercase hex), nor a .jsonl file, nor FILE#TRACE_ID"
    )


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = _safe(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _inline(diff: list[list[str]]) -> str:
    """A word diff as one line: ``[-removed-]{+added+}``, long equal stretches shortened."""
    out = []
    for i, (op, text) in enumerate(diff):
        text = _safe(text)
        if op == "=":
            if len(text) > 2 * CONTEXT:
                head = text[:CONTEXT] if i > 0 else ""
                tail = text[-CONTEXT:] if i < len(diff) - 1 else ""
                text = f"{head}…{tail}"
            out.append(text)
        else:
            out.append(f"[-{text}-]" if op == "-" else f"{{+{text}+}}")
    return "".join(out)


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.6f}".rstrip("0") if abs(value) < 1 else f"{value:,.1f}"
    return f"{int(value):,}"


_STATUS = {"changed": "changed", "only_a": "only in A", "only_b": "only in B", "same": "same"}


def format_text(result: dict[str, Any]) -> str:
    """The readable summary: both runs, totals with deltas, the first divergence, then each changed pair
    (a span on one side only is shown once, not with every span under it)."""
    lines = []
    for side in ("a", "b"):
        s = result[side]
        lines.append(f"{side.upper()}  {s['trace_id']}  {_short(s['name'] or '?', 40)}  ({s['status']})")
    lines.append("")
    lines.append(f"{'':16}{'A':>14}{'B':>14}{'delta':>14}")
    for key, t in result["totals"].items():
        delta = "" if t["delta"] is None else ("+" if t["delta"] > 0 else "") + _number(t["delta"])
        if t["relative"] is not None and t["delta"]:
            delta += f" ({t['relative']:+.1%})"
        lines.append(f"{key:16}{_number(t['a']):>14}{_number(t['b']):>14}  {delta}")
    counts = result["counts"]
    lines.append("")
    lines.append(
        f"{len(result['pairs'])} pairs: {counts['same']} same, {counts['changed']} changed, "
        f"{counts['only_a']} only in A, {counts['only_b']} only in B"
    )
    first = result["first_divergence"]
    pairs = result["pairs"]
    if first is None:
        lines.append("the runs match")
        return "\n".join(lines) + "\n"
    lines.append(
        f"first divergence: #{first} {_safe(pairs[first]['path'])} ({_STATUS[pairs[first]['status']]})"
    )
    lines.append("")
    for i, pair in enumerate(pairs):
        status = pair["status"]
        parent = pair["parent"]
        if status == "same" or (parent is not None and pairs[parent]["status"] == status != "changed"):
            continue
        mark = "*" if i == first else " "
        lines.append(f"{mark}#{i} {_STATUS[status]:9} {_safe(pair['path'])}")
        for change in pair["changes"][:MAX_CHANGES_SHOWN]:
            field = _safe(change["field"])
            if "diff" in change:
                lines.append(f"      {field}: {_inline(change['diff'])}")
            else:
                op = change.get("op", "changed")
                lines.append(f"      {field} ({op}): {_short(change['a'])} → {_short(change['b'])}")
        more = len(pair["changes"]) - MAX_CHANGES_SHOWN
        if more > 0 or pair.get("changes_truncated"):
            lines.append(f"      … {max(more, 0)} more change(s) (--json for all)")
    return "\n".join(lines) + "\n"


def export_comparison(a: str, b: str, html: bool, output: Path | None, db: str | None) -> None:
    """``aitrace export A --html --compare-with B``: the comparison as one self-contained HTML file."""
    from .compare import compare
    from .export_html import write_compare_html

    if not html:
        raise click.UsageError("--compare-with writes an HTML comparison: add --html")
    records_a, records_b = _load_both(a, b, db)
    target = output or Path("comparison.html")
    write_compare_html(compare(records_a, records_b), target)
    click.echo(f"wrote {target}", err=True)


def _load_both(a: str, b: str, db: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    store_box: list[Any] = []
    try:
        return load_run(a, db, store_box), load_run(b, db, store_box)
    finally:
        for store in store_box:
            store.close()


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON (docs/api.md, Compare).")
@click.option(
    "--html",
    "html",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the comparison as one self-contained HTML file (opens offline, from file://).",
)
@click.option("--db", default=None, help="Database URL or path for trace ids (default the configured one).")
def diff_cmd(a: str, b: str, as_json: bool, html: Path | None, db: str | None) -> None:
    """Compare run A with run B: what changed, and where the runs first diverged.

    A and B are trace ids in the store, .jsonl files, or FILE#TRACE_ID for a file with several traces.
    The exit status is 0 whether or not the runs differ (1 for errors).
    """
    from .compare import compare

    records_a, records_b = _load_both(a, b, db)
    result = compare(records_a, records_b)
    if html is not None:
        from .export_html import write_compare_html

        click.echo(f"wrote {write_compare_html(result, html)}", err=True)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(format_text(result), nl=False)
