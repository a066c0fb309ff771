"""Laptop-safe defaults: Host and Origin checks, the token on every route, security headers."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from aitrace_viewer.app import ConfigurationRefused, create_app
from aitrace_viewer.security import CSP
from aitrace_viewer.settings import ViewerSettings
from conftest import BASE_URL, TRACE, ingest, rec
from litestar.testing import TestClient

TOKEN = "s3cret-token"


@pytest.fixture
def sqlite_settings(tmp_path: Any) -> ViewerSettings:
    return ViewerSettings(db=f"sqlite:///{tmp_path / 'logs.db'}")


@pytest.fixture
def token_client(tmp_path: Any) -> Any:
    settings = ViewerSettings(db=f"sqlite:///{tmp_path / 'logs.db'}", token=TOKEN)
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        yield client


def _concrete(path: str) -> str:
    return re.sub(r"\{([a-z_]+)(:[a-z]+)?\}", lambda m: {"trace_id": TRACE}.get(m.group(1), "x"), path)


def test_every_route_refuses_a_missing_or_wrong_token(token_client: Any) -> None:
    app = token_client.app
    checked = 0
    for route in app.routes:
        for method in sorted(getattr(route, "methods", {"GET"}) - {"OPTIONS", "HEAD"}):
            path = _concrete(route.path)
            for headers in (
                {},
                {"authorization": "Bearer wrong"},
                {"authorization": TOKEN},
                {"cookie": "aitrace_session=" + TOKEN},
            ):
                response = token_client.request(
                    method, path, headers={"content-type": "application/json", **headers}
                )
                assert response.status_code == 401, (method, path, headers, response.status_code)
            checked += 1
    assert checked >= 10
    for path in ("/", "/nope", "/static/x.js", "/schema/openapi.json"):
        assert token_client.get(path).status_code == 401


def test_the_right_token_opens_the_api(token_client: Any) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    assert ingest(token_client, [rec("hi", "00f067aa0ba902b7", "00.000001")], **auth).json() == {
        "ingested": 1
    }
    assert token_client.get("/api/traces", headers=auth).json()["traces"][0]["trace_id"] == TRACE


def test_a_token_in_the_query_becomes_an_httponly_strict_cookie(token_client: Any) -> None:
    response = token_client.get("/api/health?token=" + TOKEN + "&x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/api/health?x=1"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert TOKEN not in cookie
    assert token_client.get("/api/health").status_code == 200  # the client kept the cookie
    # The cookie is the credential (docs/api.md): a stale ?token= in a bookmark does not undo it.
    assert token_client.get("/api/health?token=wrong", follow_redirects=False).status_code == 200
    token_client.cookies.clear()
    bearer = {"authorization": f"Bearer {TOKEN}"}
    with_header = token_client.get("/api/health?token=wrong", headers=bearer, follow_redirects=False)
    assert with_header.status_code == 200
    token_client.cookies.clear()
    assert token_client.get("/api/health?token=wrong", follow_redirects=False).status_code == 401


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil"]
)
def test_a_foreign_host_header_is_refused(sqlite_settings: ViewerSettings, host: str) -> None:
    with TestClient(create_app(sqlite_settings), base_url=BASE_URL) as client:
        response = client.get("/api/health", headers={"host": host})
        assert response.status_code == 403
        for ok in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
            assert client.get("/api/health", headers={"host": ok}).status_code == 200


def test_cross_origin_writes_are_refused(sqlite_settings: ViewerSettings) -> None:
    record = (
        '{"timestamp":"2026-11-24T12:00:00Z","level":"info","event":"x","logger":"l","service":"s",'
        f'"trace_id":"{TRACE}","span_id":"00f067aa0ba902b7"}}'
    )
    with TestClient(create_app(sqlite_settings), base_url=BASE_URL) as client:
        drive_by = client.post("/api/ingest", content=record, headers={"content-type": "text/plain"})
        assert drive_by.status_code in (403, 415)
        foreign = client.post(
            "/api/ingest",
            content=record,
            headers={"content-type": "application/json", "origin": "http://evil.example"},
        )
        assert foreign.status_code == 403
        assert (
            client.post(
                "/api/ingest", content=record, headers={"content-type": "application/json", "origin": "null"}
            ).status_code
            == 403
        )
        assert (
            client.delete(f"/api/traces/{TRACE}", headers={"origin": "http://evil.example"}).status_code
            == 403
        )
        assert (
            client.post(
                "/api/ingest",
                content=record,
                headers={"content-type": "application/json", "sec-fetch-site": "cross-site"},
            ).status_code
            == 403
        )
        assert client.get("/api/health").json()["records"] == 0
        same = client.post(
            "/api/ingest", content=record, headers={"content-type": "application/json", "origin": BASE_URL}
        )
        assert same.json() == {"ingested": 1}
        preflight = client.options(
            "/api/ingest", headers={"origin": "http://evil.example", "access-control-request-method": "POST"}
        )
        assert "access-control-allow-origin" not in preflight.headers


def test_security_headers_on_every_response(sqlite_settings: ViewerSettings) -> None:
    with TestClient(create_app(sqlite_settings), base_url=BASE_URL) as client:
        for response in (
            client.get("/api/health"),
            client.get("/nope"),
            client.get("/api/traces/xyz"),
            client.get("/schema/openapi.json"),
            client.get("/api/health", headers={"host": "evil"}),
        ):
            assert response.headers["content-security-policy"] == CSP
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert "access-control-allow-origin" not in response.headers


def test_a_public_address_without_a_token_refuses_to_start(tmp_path: Any) -> None:
    with pytest.raises(ConfigurationRefused, match="token"):
        create_app(ViewerSettings(host="0.0.0.0", db=f"sqlite:///{tmp_path / 'x.db'}"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "aitrace_viewer",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "1",
            "--db",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "without a token" in done.stderr
    create_app(ViewerSettings(host="0.0.0.0", token="t", db=f"sqlite:///{tmp_path / 'x.db'}"))
