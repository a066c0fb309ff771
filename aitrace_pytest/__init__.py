"""aitrace_pytest: a pytest plugin that traces each test and keeps a trace (and an HTML viewer) per failure.

Enabled with ``pytest --aitrace`` (``--aitrace=all`` keeps every test's trace) or ``aitrace = true`` in the
ini file; the ``aitrace_spans`` fixture gives a test the spans its code made. See docs/pytest.md.
"""

from ._spans import TestSpans, ToolCall

__all__ = ["TestSpans", "ToolCall"]
