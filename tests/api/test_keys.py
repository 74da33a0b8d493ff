"""API keys: with LIVETRANSLATE_AUTH=keys every route but health and the docs asks for one, each
role may do what it should and no more, revoked and expired keys are refused at once, and the
sockets say so with 4401/4403. Off loopback the server will not start without a word on keys."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.api.conftest import LT, _as, _cli
from tests.conftest import _free_port, drain


def _key(srv, role: str, **body) -> dict:
    r = httpx.post(f"{srv.base}/v1/keys", json={"role": role, **body}, headers=_as(srv.env["admin"]))
    assert r.status_code == 201, r.text
    srv.env["keys"].append(r.json()["key"])
    return r.json()


def test_every_route_but_health_and_the_docs_asks_for_a_key(keyed):
    spec = httpx.get(f"{keyed.base}/openapi.json").json()
    asked = 0
    for path, operations in spec["paths"].items():
        url = keyed.base + path.replace("{", "").replace("}", "")  # any value: the key is asked first
        for method in operations:
            r = httpx.request(method, url, json={} if method in ("post", "put", "patch") else None)
            if path.startswith("/health") or path == "/metrics" or path.startswith("/v1/auth"):
                assert r.status_code != 401 or path.startswith("/v1/auth"), (method, path)
                continue  # (signing in is how the dashboard gets a key's rights)
            asked += 1
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", (method, path, r.text)
            assert r.headers["www-authenticate"].startswith("Bearer")
    assert asked > 40
    for free in ("/docs", "/", "/health/live"):
        assert httpx.get(f"{keyed.base}{free}").status_code == 200, free
    bad = httpx.get(f"{keyed.base}/v1/sessions", headers=_as("lt_not-a-key"))
    assert bad.status_code == 401 and "not one of this server's" in bad.json()["error"]["message"]


def test_each_role_does_what_it_may_and_is_refused_the_rest(keyed):
    viewer, member = _key(keyed, "viewer", name="wall")["key"], _key(keyed, "member")["key"]
    made = httpx.post(f"{keyed.base}/v1/sessions", json={"title": "standup"}, headers=_as(member))
    assert made.status_code == 201, made.text
    assert httpx.get(f"{keyed.base}/v1/sessions", headers=_as(viewer)).status_code == 200
    refused = httpx.post(f"{keyed.base}/v1/sessions", json={}, headers=_as(viewer))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", refused.text
    assert "member" in refused.json()["error"]["message"]
    assert httpx.patch(f"{keyed.base}/v1/settings", json={}, headers=_as(member)).status_code == 403
    assert httpx.get(f"{keyed.base}/v1/keys", headers=_as(member)).status_code == 403
    assert httpx.patch(f"{keyed.base}/v1/settings", json={}, headers=_as(keyed.env["admin"])).status_code == 200
    listed = httpx.get(f"{keyed.base}/v1/keys", headers=_as(keyed.env["admin"])).json()
    assert {k["role"] for k in listed} == {"admin", "viewer", "member"} and all("key" not in k for k in listed)
    assert all(k["tenant"] == "acme" and k["hint"].startswith("lt_") for k in listed)

    sid = made.json()["id"]
    with connect(f"{keyed.ws}/v1/sessions/{sid}/events") as ws:  # no key
        error = json.loads(ws.recv(timeout=5))
        drain(ws, timeout=5)  # the server's close, not ours
    assert (error["code"], error["close_code"], ws.close_code) == ("unauthorized", 4401, 4401)
    with connect(f"{keyed.ws}/v1/sessions/{sid}/audio", additional_headers=_as(viewer)) as ws:  # may only read
        error = json.loads(ws.recv(timeout=5))
        drain(ws, timeout=5)
    assert (error["code"], ws.close_code) == ("forbidden", 4403)
    with connect(f"{keyed.ws}/v1/sessions/{sid}/events", additional_headers=_as(viewer)) as ws:
        with pytest.raises(TimeoutError):  # open, waiting for captions
            ws.recv(timeout=1)
    with connect(f"{keyed.ws}/v1/sessions/{sid}/audio", additional_headers=_as(member)) as ws:
        ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"


def test_revoked_and_expired_keys_are_refused(keyed):
    doomed = _key(keyed, "member")
    assert httpx.get(f"{keyed.base}/v1/sessions", headers=_as(doomed["key"])).status_code == 200
    gone = httpx.delete(f"{keyed.base}/v1/keys/{doomed['id']}", headers=_as(keyed.env["admin"]))
    assert gone.status_code == 204
    r = httpx.get(f"{keyed.base}/v1/sessions", headers=_as(doomed["key"]))
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]  # at once, not after the cache
    assert httpx.delete(f"{keyed.base}/v1/keys/nope", headers=_as(keyed.env["admin"])).status_code == 404

    old = _key(keyed, "member", expires_in="1m")
    assert old["expires_at"] is not None
    with sqlite3.connect(keyed.data_dir / "livetranslate.db") as db:  # a minute later, as far as it knows
        db.execute("UPDATE api_keys SET expires_at = '2020-01-01 00:00:00' WHERE id = ?", (old["id"],))
    r = httpx.get(f"{keyed.base}/v1/sessions", headers=_as(old["key"]))
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"], r.text
    assert "expired" in _cli(keyed.data_dir, "keys", "list").stdout  # not "expires 2020-01-01"
    bad = httpx.post(f"{keyed.base}/v1/keys", json={"role": "owner"}, headers=_as(keyed.env["admin"]))
    assert bad.status_code == 422


def test_the_cli_lists_and_revokes_keys_and_never_shows_one_again(keyed):
    listed = _cli(keyed.data_dir, "keys", "list")
    assert listed.returncode == 0 and "acme" in listed.stdout and "ops" in listed.stdout, listed.stderr
    assert keyed.env["admin"] not in listed.stdout
    made = _cli(keyed.data_dir, "keys", "create", "--tenant", "acme", "--role", "viewer", "--expires", "90d")
    key_id = made.stderr.split()[1]
    assert made.returncode == 0 and "expires" in made.stderr
    keyed.env["keys"].append(made.stdout.strip())
    assert httpx.get(f"{keyed.base}/v1/sessions", headers=_as(made.stdout.strip())).status_code == 200
    assert _cli(keyed.data_dir, "keys", "revoke", key_id).returncode == 0
    assert _cli(keyed.data_dir, "keys", "revoke", "nope").returncode == 1
    wrong = _cli(keyed.data_dir, "keys", "create", "--tenant", "acme", "--role", "owner")
    assert wrong.returncode == 2 and "viewer, member, admin" in wrong.stderr


def test_off_loopback_the_server_wants_a_word_on_keys(tmp_path):
    env = {**os.environ, "LIVETRANSLATE_DATA_DIR": str(tmp_path), "LIVETRANSLATE_PORT": str(_free_port())}
    env.pop("LIVETRANSLATE_AUTH", None)
    refused = subprocess.run([*LT, "serve", "--host", "0.0.0.0"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode != 0 and "LIVETRANSLATE_AUTH=keys" in refused.stderr, refused.stderr
    assert "keys create" in refused.stderr


def test_a_share_token_reads_one_session_and_nothing_else(keyed):
    import base64
    import hashlib
    import hmac
    import time

    member = _key(keyed, "member")
    auth = _as(member["key"])
    a, b = (httpx.post(f"{keyed.base}/v1/sessions", json={}, headers=auth).json()["id"] for _ in range(2))
    made = httpx.post(f"{keyed.base}/v1/tokens", json={"session_id": a, "ttl_s": 3600}, headers=auth)
    assert made.status_code == 201 and made.json()["role"] == "viewer", made.text
    token = made.json()["token"]
    assert token.startswith("ltt_")
    shared = _as(token)
    assert httpx.get(f"{keyed.base}/v1/sessions/{a}", headers=shared).status_code == 200
    assert httpx.get(f"{keyed.base}/v1/sessions/{a}/transcript", headers=shared).status_code == 200
    for other in (f"/v1/sessions/{b}", "/v1/sessions"):  # another session, or the list: not through this link
        r = httpx.get(f"{keyed.base}{other}", headers=shared)
        assert r.status_code == 403 and "one session" in r.json()["error"]["message"], (other, r.text)
    assert httpx.post(f"{keyed.base}/v1/sessions/{a}/end", headers=shared).status_code == 403  # it only reads
    with connect(f"{keyed.ws}/v1/sessions/{a}/events", subprotocols=["lt-token", token]) as ws:  # as a browser
        assert ws.subprotocol == "lt-token"
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1)
    with connect(f"{keyed.ws}/v1/sessions/{b}/events", subprotocols=["lt-token", token]) as ws:
        error = json.loads(ws.recv(timeout=5))
        with pytest.raises(ConnectionClosed):  # the server's close, not ours
            ws.recv(timeout=5)
    assert (error["code"], ws.close_code) == ("forbidden", 4403)

    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert httpx.get(f"{keyed.base}/v1/sessions/{a}", headers=_as(tampered)).status_code == 401
    secret = (keyed.data_dir / "secret_key").read_text().strip().encode()  # a token of the server's, gone stale
    body = base64.urlsafe_b64encode(json.dumps({"k": member["id"], "t": "x", "r": "viewer", "s": a, "l": None,
                                                "e": int(time.time()) - 1}).encode()).rstrip(b"=")
    mac = base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest()).rstrip(b"=")
    stale = httpx.get(f"{keyed.base}/v1/sessions/{a}", headers=_as(f"ltt_{body.decode()}.{mac.decode()}"))
    assert stale.status_code == 401 and "expired" in stale.json()["error"]["message"]

    viewer = _as(_key(keyed, "viewer")["key"])
    assert httpx.post(f"{keyed.base}/v1/tokens", json={"role": "member"}, headers=viewer).status_code == 403
    for sent in (token, f" {token}", f"\t{token}"):  # a link is no sign-in (that would reach every session)
        swap = httpx.post(f"{keyed.base}/v1/auth/session", json={"key": sent})
        assert swap.status_code == 401 and "lt_session" not in swap.headers.get("set-cookie", ""), sent
    unbound = httpx.post(f"{keyed.base}/v1/tokens", json={"role": "member"}, headers=auth).json()["token"]
    again = httpx.post(f"{keyed.base}/v1/tokens", json={}, headers=_as(unbound))  # a link cannot renew itself
    assert again.status_code == 403, again.text
    assert httpx.post(f"{keyed.base}/v1/tokens", json={"session_id": "nope"}, headers=auth).status_code == 404
    httpx.delete(f"{keyed.base}/v1/keys/{member['id']}", headers=_as(keyed.env["admin"]))
    r = httpx.get(f"{keyed.base}/v1/sessions/{a}", headers=shared)  # its maker's key was revoked: so is the link
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]


def test_log_records_have_secrets_masked_and_keep_their_shape():
    import logging

    from livetranslate.auth import keep_secrets_out_of_logs

    keep_secrets_out_of_logs()
    key, hook = "lt_" + "k" * 43, "whsec_ab+/cdEF==ghIJ"
    access = logging.getLogger("uvicorn.access").makeRecord(  # uvicorn's access formatter unpacks these five
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", f"/v1/x?key={key}", "1.1", 200), None)
    assert isinstance(access.args, tuple) and len(access.args) == 5
    assert key not in access.getMessage() and "lt_[redacted]" in access.getMessage()
    said = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "%s: %s / %s", (
        "authorization", "Bearer ltt_abc.def", f"secret {hook}, cookie lt_session=abcdefgh"), None).getMessage()
    assert "ltt_abc" not in said and "+/cdEF" not in said and "abcdefgh" not in said, said
