"""aitrace_core: spans and structured log records for any Python code.

OpenTelemetry gives trace and span ids; structlog writes JSON records that carry them; a buffered shipper
sends them to the aitrace server, a .jsonl file, or stdout, and, if asked, to an OTLP receiver. See
docs/schema.md for the record format.
"""

from __future__ import annotations

from ._api import BufferedLogger, configure, current_shipper, flush, shutdown
from ._auto_span import auto_span
from ._config import CoreSettings, LayeredSettings, config_stamp, load_settings
from ._encode import dumps
from ._errors import AITraceError, ConfigError
from ._extras import missing_packages_message
from ._fields import MISSING, is_span_id, is_trace_id
from ._logging import StdlibBridge, add_trace_ids, get_logger
from ._otel_in import OtelLog, OtelSpan, OtelSpanRecorder
from ._otel_in import log_record as otel_log_record
from ._otel_in import span_records as otel_span_records
from ._otlp_setup import send_otlp
from ._paths import cache_dir, config_dir
from ._propagation import continue_trace, extract_context, inject_headers
from ._refs import TraceRefs, resolve_refs
from ._runtime import emit, setup_tracing
from ._schema import SCHEMA_VERSION, record_schema
from ._serialize import CUT_MARK, Limits, to_jsonable
from ._settings_check import allowed as allowed_values
from ._settings_check import describe_value, say_once
from ._shipper import Shipper
from ._spans import SpanHandle, error_fields, open_span, span, status_for_exception
from ._version import __version__

__all__ = [
    "CUT_MARK",
    "MISSING",
    "SCHEMA_VERSION",
    "AITraceError",
    "BufferedLogger",
    "ConfigError",
    "CoreSettings",
    "LayeredSettings",
    "Limits",
    "OtelLog",
    "OtelSpan",
    "OtelSpanRecorder",
    "Shipper",
    "SpanHandle",
    "StdlibBridge",
    "TraceRefs",
    "__version__",
    "add_trace_ids",
    "allowed_values",
    "auto_span",
    "cache_dir",
    "config_dir",
    "config_stamp",
    "configure",
    "continue_trace",
    "current_shipper",
    "describe_value",
    "dumps",
    "emit",
    "error_fields",
    "extract_context",
    "flush",
    "get_logger",
    "inject_headers",
    "is_span_id",
    "is_trace_id",
    "load_settings",
    "missing_packages_message",
    "open_span",
    "otel_log_record",
    "otel_span_records",
    "record_schema",
    "resolve_refs",
    "say_once",
    "send_otlp",
    "setup_tracing",
    "shutdown",
    "span",
    "status_for_exception",
    "to_jsonable",
]
