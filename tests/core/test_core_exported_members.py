"""The public surface of aitrace_core is pinned: a change here is a change users notice."""

from __future__ import annotations

import aitrace_core
import aitrace_core.testing

EXPECTED = {
    "CUT_MARK", "SCHEMA_VERSION", "AITraceError", "BufferedLogger", "ConfigError", "CoreSettings", "Limits",
    "Shipper", "SpanHandle", "StdlibBridge", "TraceRefs", "__version__", "add_trace_ids", "auto_span",
    "configure", "continue_trace", "current_shipper", "dumps", "emit", "error_fields", "extract_context",
    "flush", "get_logger", "inject_headers", "load_settings", "open_span", "record_schema", "resolve_refs",
    "setup_tracing", "shutdown", "span", "status_for_exception", "to_jsonable",
}


def test_all_is_pinned() -> None:
    assert set(aitrace_core.__all__) == EXPECTED
    assert len(aitrace_core.__all__) == len(EXPECTED)


def test_every_exported_name_exists_and_is_public_from_its_module() -> None:
    for name in aitrace_core.__all__:
        member = getattr(aitrace_core, name)
        module = getattr(member, "__module__", None)
        if module is not None and module.startswith("aitrace_core."):
            assert module.split(".")[1].startswith("_") or module == "aitrace_core.testing"


def test_testing_helpers() -> None:
    assert set(aitrace_core.testing.__all__) == {"CapturedRecords", "SpanView", "capture_records"}
