"""Which hosts and pages may reach the server: a page on another site cannot read captions,
feed audio or post forms through a visitor's browser, DNS rebinding does not reach a loopback
server, and every response carries the security headers."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import start_server, stop_server

EVIL = "https://evil.example"


def test_a_host_this_server_is_not_is_refused_as_dns_rebinding_would_send_it(server):
    r = httpx.get(f"{server.base}/v1/sessions", headers={"Host": f"rebound.evil.example:{server.port}"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "host_not_allowed", r.text
    assert "LIVETRANSLATE_ALLOWED_HOSTS" in r.json()["error"]["message"]
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", f"[::1]:{server.port}"):
        assert httpx.get(f"{server.base}/health/live", headers={"Host": host}).status_code == 200, host
    sid = server.create_session()["id"]
    rebound = socket.create_connection(("127.0.0.1", server.port))  # the page's name, resolved to us
    with connect(f"ws://rebound.evil.example:{server.port}/v1/sessions/{sid}/events", sock=rebound) as ws:
        error = json.loads(ws.recv(timeout=5))
        with pytest.raises(Exception):
            ws.recv(timeout=5)
    assert error["code"] == "host_not_allowed" and error["close_code"] == 4400
    assert ws.close_code == 4400
    with socket.create_connection(("127.0.0.1", server.port)) as raw:  # two Hosts: which did a proxy check?
        raw.sendall(f"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nHost: rebound.evil.example\r\n"
                    "Connection: close\r\n\r\n".encode())
        reply = b"".join(iter(lambda: raw.recv(65536), b""))
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]


@pytest.mark.parametrize("path", ["events", "audio"])
def test_a_page_of_another_site_cannot_open_a_sessions_sockets(server, path):
    sid = server.create_session()["id"]
    with connect(f"{server.ws}/v1/sessions/{sid}/{path}", additional_headers={"Origin": EVIL}) as ws:
        error = json.loads(ws.recv(timeout=5))
        with pytest.raises(Exception):
            ws.recv(timeout=5)
    assert (error["type"], error["code"], error["close_code"]) == ("error", "origin_not_allowed", 4403), error
    assert ws.close_code == 4403 and "LIVETRANSLATE_ALLOWED_ORIGINS" in ws.close_reason
    with connect(f"{server.ws}/v1/sessions/{sid}/{path}", additional_headers={"Origin": server.base}) as ws:
        if path == "audio":  # the server's own page: the socket is open and speaks the protocol
            ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
            assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        else:  # nothing to say yet, and open
            with pytest.raises(TimeoutError):
                ws.recv(timeout=1)


def test_a_cross_site_form_post_changes_nothing_and_reading_needs_cors(server):
    before = httpx.get(f"{server.base}/v1/sessions").json()["total"]
    r = httpx.post(f"{server.base}/v1/sessions", json={"title": "from evil"}, headers={"Origin": EVIL})
    assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed", r.text
    sid = server.create_session()["id"]
    gone = httpx.delete(f"{server.base}/v1/sessions/{sid}", headers={"Origin": EVIL})
    assert gone.status_code == 403
    assert httpx.get(f"{server.base}/v1/sessions").json()["total"] == before + 1
    read = httpx.get(f"{server.base}/v1/sessions", headers={"Origin": EVIL})  # answered, but not for the page:
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers  # the browser withholds it
    same = httpx.post(f"{server.base}/v1/sessions", json={}, headers={"Origin": server.base})
    assert same.status_code == 201


def test_every_response_has_the_security_headers_and_the_dashboard_a_strict_policy(server):
    for path in ("/", "/app.js", "/v1/sessions", "/health/live", "/v1/sessions/nope"):
        r = httpx.get(f"{server.base}{path}")
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "no-referrer", path
    csp = httpx.get(f"{server.base}/").headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "frame-ancestors 'self'" in csp, csp
    docs = httpx.get(f"{server.base}/docs").headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in docs  # Swagger UI's own page keeps its policy


def test_allowed_hosts_and_origins_are_settings(tmp_path):
    app = "https://app.example.org"
    srv = start_server(tmp_path, LIVETRANSLATE_ALLOWED_HOSTS='["captions.example.org"]',
                       LIVETRANSLATE_ALLOWED_ORIGINS=json.dumps([app]))
    try:
        assert httpx.get(f"{srv.base}/health/live", headers={"Host": "captions.example.org"}).status_code == 200
        pre = httpx.options(f"{srv.base}/v1/sessions", headers={
            "Origin": app, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == app, pre.headers
        made = httpx.post(f"{srv.base}/v1/sessions", json={}, headers={"Origin": app})
        assert made.status_code == 201 and made.headers["access-control-allow-origin"] == app
        assert httpx.post(f"{srv.base}/v1/sessions", json={}, headers={"Origin": EVIL}).status_code == 403
        assert f"frame-ancestors 'self' {app}" in httpx.get(f"{srv.base}/").headers["content-security-policy"]
    finally:
        stop_server(srv)
