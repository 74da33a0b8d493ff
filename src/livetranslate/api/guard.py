"""Which hosts and web pages may reach the server, and the headers every response carries
(pure ASGI middleware, for HTTP and WebSockets alike).

- **Host**: a request whose ``Host`` is not this server's (127.0.0.1, localhost, ::1, the
  configured ``host``, ``allowed_hosts``) is refused. A web page that rebinds its own domain
  to 127.0.0.1 (DNS rebinding) sends its own name as the Host, so it never reaches the API.
- **Origin**: a browser says which page a request comes from. A WebSocket, or a request that
  changes something (anything but GET, HEAD, OPTIONS), from a page of another origin that is
  not in ``allowed_origins`` is refused: another site cannot read a session's captions, feed
  it audio, or post a form here in a visitor's browser. Clients that are not browsers send no
  Origin and are not concerned. Reading across origins (CORS) is the CORS middleware's.
- **Headers**: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and a
  Content-Security-Policy without inline script on every response that sets none itself.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers

from livetranslate import metrics
from livetranslate.errors import HostNotAllowed, LiveTranslateError, OriginNotAllowed, error_body
from livetranslate.events import ErrorMessage

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_ANY_ADDRESS = {"0.0.0.0", "::", ""}
_SAFE = {"GET", "HEAD", "OPTIONS"}


def allowed_hosts(host: str, extra: list[str]) -> set[str] | None:
    """The host names this server answers to (None: any, when ``extra`` holds ``*``)."""
    if "*" in extra:
        return None
    names = set(_LOOPBACK) | {h.lower() for h in extra}
    if host not in _ANY_ADDRESS:
        names.add(host.lower())
    return names


def policy(frame_origins: list[str]) -> str:
    """The dashboard's Content-Security-Policy: its own scripts, styles, sockets and workers only."""
    ancestors = " ".join(["'self'", *frame_origins])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        f"connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {ancestors}"
    )


def _hostname(host: str) -> str:
    """``Host`` without its port (``[::1]:8000`` → ``::1``)."""
    if host.startswith("["):
        return host[1 : host.find("]")].lower() if "]" in host else host.lower()
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


class Guard:
    def __init__(self, app, *, hosts: set[str] | None, origins: list[str], csp: str) -> None:
        self.app = app
        self.hosts = hosts
        self.origins = {o.rstrip("/").lower() for o in origins}
        self.headers = [
            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
        ]
        self.csp = csp.encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if len(headers.getlist("host")) > 1:  # which one would a proxy have checked?
            return await _refuse(scope, receive, send, HostNotAllowed("a request names one Host, not several"))
        probe = scope["path"].startswith("/health/") or scope["path"] == "/metrics"  # load balancers ask by IP
        if self.hosts is not None and not probe and _hostname(host) not in self.hosts:
            return await _refuse(scope, receive, send, HostNotAllowed(
                f"this server does not answer to the host {host[:100]!r}: add it to LIVETRANSLATE_ALLOWED_HOSTS "
                "(a proxy's public name, say)"))
        origin = headers.get("origin")
        unsafe = scope["type"] == "websocket" or scope["method"] not in _SAFE
        if origin is not None and unsafe and not self._origin_ok(origin, host):
            return await _refuse(scope, receive, send, OriginNotAllowed(
                f"a page from {origin[:100]!r} may not use this server: add the origin to "
                "LIVETRANSLATE_ALLOWED_ORIGINS to let it"))
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in self.headers if h[0] not in names]
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", self.csp))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)

    def _origin_ok(self, origin: str, host: str) -> bool:
        """The server's own pages (same host and port), or an origin allowed by the settings."""
        parts = urlsplit(origin)
        return (parts.netloc.lower() == host.lower() and parts.scheme in ("http", "https")) or \
            origin.rstrip("/").lower() in self.origins


async def _refuse(scope, receive, send, exc: LiveTranslateError) -> None:
    """The JSON error; a WebSocket gets the error event and its close code, and nothing else."""
    metrics.ERRORS.labels(exc.code).inc()
    if scope["type"] == "websocket":
        if (await receive())["type"] != "websocket.connect":
            return
        offered = scope.get("subprotocols") or []
        await send({"type": "websocket.accept", "subprotocol": "lt-token" if "lt-token" in offered else None})
        await send({"type": "websocket.send",
                    "text": ErrorMessage(code=exc.code, message=exc.message, close_code=exc.close_code).to_json()})
        await send({"type": "websocket.close", "code": exc.close_code,
                    "reason": exc.message.encode()[:120].decode(errors="ignore")})
        return
    body = json.dumps(error_body(exc.code, exc.message)).encode()
    await send({"type": "http.response.start", "status": exc.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
