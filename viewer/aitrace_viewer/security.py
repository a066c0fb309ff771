"""Guards every request before it reaches a route: path, Host (DNS rebinding), Origin (drive-by writes),
bearer token, and the security headers on every response.

It wraps the whole ASGI handler of the app (not a per-route middleware), so 404s, the OpenAPI schema and
static files get the same treatment as the API.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["COOKIE_NAME", "SECURITY_HEADERS", "Guard", "is_loopback"]

COOKIE_NAME = "aitrace_session"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Content types a cross-origin page may send without a CORS preflight: never accepted for writes.
_SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def cookie_value(token: str) -> str:
    """What the session cookie holds: derived from the token, not the token itself."""
    return hmac.new(token.encode(), b"aitrace-session-cookie", hashlib.sha256).hexdigest()


class Guard:
    """ASGI wrapper. ``bound_host`` is the address the server listens on."""

    def __init__(
        self, app: ASGIApp, *, bound_host: str, token: str | None, allowed_hosts: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.token = token
        self.cookie = cookie_value(token) if token else None
        extra = {_host_name(h) for h in allowed_hosts}
        self.any_host = "*" in allowed_hosts or (
            token is not None and bound_host in ("0.0.0.0", "::", "") and not extra  # noqa: S104
        )
        self.hosts = {"localhost", "127.0.0.1", "::1", _host_name(bound_host)} | extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind: str = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._check(scope, headers)
        if refusal is not None:
            status, message, extra = refusal
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
                return
            await self._answer(send, status, {"error": message, "detail": None}, extra)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                added = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _check(
        self, scope: Scope, headers: dict[str, str]
    ) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1").lower()
        path = scope["path"]
        if (
            "%2f" in raw_path
            or "%5c" in raw_path
            or "%2e" in raw_path
            or "\\" in path
            or "/../" in path + "/"
            or ("/./" in path + "/")
        ):
            return 400, "path not allowed", []
        host = headers.get("host")
        if not host:
            return 400, "missing Host header", []
        if not self.any_host and _host_name(host) not in self.hosts:
            return 403, f"Host {host!r} is not served here (DNS rebinding protection)", []
        method = scope.get("method", "GET")
        if method in _UNSAFE:
            origin = headers.get("origin")
            if origin is not None:
                parts = urlsplit(origin)
                if origin == "null" or parts.netloc.lower() != host.strip().lower():
                    return 403, f"cross-origin request from {origin!r} refused", []
            if headers.get("sec-fetch-site") == "cross-site":
                return 403, "cross-site request refused", []
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type in _SIMPLE_TYPES:
                return 415, f"Content-Type {content_type!r} is not accepted (send application/json)", []
        if self.token is None:
            return None
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and hmac.compare_digest(
            auth[7:].strip().encode(), self.token.encode()
        ):
            return None
        cookie_header = headers.get("cookie")
        if cookie_header and self.cookie:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(cookie_header)
            except Exception:
                jar = SimpleCookie()
            morsel = jar.get(COOKIE_NAME)
            if morsel is not None and hmac.compare_digest(morsel.value.encode(), self.cookie.encode()):
                return None
        if method == "GET" and str(scope["type"]) == "http":
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            given = next((v for k, v in query if k == "token"), None)
            if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
                rest = urlencode([(k, v) for k, v in query if k != "token"])
                location = scope["path"] + ("?" + rest if rest else "")
                cookie = f"{COOKIE_NAME}={self.cookie}; Path=/; HttpOnly; SameSite=Strict"
                return (
                    303,
                    "token accepted",
                    [(b"location", location.encode()), (b"set-cookie", cookie.encode())],
                )
        return 401, "missing or wrong token", [(b"www-authenticate", b'Bearer realm="aitrace"')]

    @staticmethod
    async def _answer(
        send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]]
    ) -> None:
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"cache-control", b"no-store"),
            *SECURITY_HEADERS,
            *extra,
        ]
        start: Any = {"type": "http.response.start", "status": status, "headers": headers}
        body_event: Any = {"type": "http.response.body", "body": payload}
        await send(start)
        await send(body_event)
