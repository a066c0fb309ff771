"""A trace id is checked the same way everywhere (ingest, API, pages, CLI): 32 lowercase hex, not all 0."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from conftest import TRACE, ingest, rec

from aitrace_core.cli import main

NOT_TRACE_IDS = ["0" * 32, TRACE.upper(), TRACE + "\n", TRACE[:-1], TRACE + "0"]


@pytest.mark.parametrize("bad", NOT_TRACE_IDS, ids=repr)
def test_what_is_not_a_trace_id_is_refused_everywhere(client: Any, db_url: str, bad: str) -> None:
    assert ingest(client, [rec("hello", "00f067aa0ba902b7", "00.000100")]).status_code == 200
    refused = ingest(client, [rec("hello", "00f067aa0ba902b7", "00.000200", trace=bad)])
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"].startswith("record 0: trace_id")
    for path in (f"/api/traces/{quote(bad)}", f"/traces/{quote(bad)}"):
        response = client.get(path)
        assert response.status_code == 400, (path, response.status_code)
        assert "trace" in response.text.lower()
    result = CliRunner().invoke(main, ["export", bad, "--db", db_url])
    assert result.exit_code == 2, result.output
    assert "trace id" in result.output


def test_a_span_id_of_zeros_is_refused(client: Any) -> None:
    response = client.get(f"/api/traces/{TRACE}/spans/{'0' * 16}/records")
    assert response.status_code == 400
