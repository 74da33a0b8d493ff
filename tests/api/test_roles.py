"""Every operation of the API, from its OpenAPI document, with every kind of caller: no key is
401, a viewer may only read, a member may do all but keys, the audit log and the settings, an
admin everything (the role is checked before anything is looked up, so every id here is
made up), and a share link reaches only its own session. Nothing is 5xx."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import _as, _cli

OPEN = ("/health", "/metrics", "/v1/auth/", "/openapi.json", "/docs", "/redoc")
ADMIN_ONLY = {("*", "/v1/keys"), ("*", "/v1/keys/{key_id}"), ("GET", "/v1/audit"), ("PATCH", "/v1/settings")}
ROLES = ("viewer", "member", "admin")


@pytest.fixture(scope="module")
def callers(keyed):
    keys = {}
    for role in ROLES:
        made = _cli(keyed.data_dir, "keys", "create", "--tenant", "acme", "--role", role)
        assert made.returncode == 0, made.stderr
        keys[role] = made.stdout.strip()
    keyed.env["keys"] += list(keys.values())
    sid = httpx.post(f"{keyed.base}/v1/sessions", json={}, headers=_as(keys["member"])).json()["id"]
    token = httpx.post(f"{keyed.base}/v1/tokens", json={"session_id": sid}, headers=_as(keys["member"]))
    assert token.status_code == 201, token.text
    return {**keys, "token": token.json()["token"], "token_session": sid}


def _operations(keyed) -> list[tuple[str, str]]:
    doc = httpx.get(f"{keyed.base}/openapi.json").json()
    return [(method.upper(), path) for path, ops in doc["paths"].items() for method in ops
            if not path.startswith(OPEN)]


def _call(keyed, method: str, path: str, key: str | None) -> httpx.Response:
    url = keyed.base + path.replace("{", "").replace("}", "-made-up")
    return httpx.request(method, url, json={} if method in ("POST", "PATCH", "PUT") else None, headers=_as(key),
                         timeout=30)


def _needs(method: str, path: str) -> str:
    if ("*", path) in ADMIN_ONLY or (method, path) in ADMIN_ONLY:
        return "admin"
    return "viewer" if method in ("GET", "HEAD") else "member"


def test_each_role_on_every_operation(keyed, callers):
    operations = _operations(keyed)
    assert len(operations) > 40 and ("GET", "/v1/audit") in operations
    wrong = []
    for method, path in operations:
        need = _needs(method, path)
        for who in (None, *ROLES):
            r = _call(keyed, method, path, callers.get(who))
            may = who is not None and ROLES.index(who) >= ROLES.index(need)
            expected_ok = r.status_code not in (401, 403) and r.status_code < 500
            code = r.json()["error"]["code"] if r.status_code >= 400 else None
            if who is None and (r.status_code, code) != (401, "unauthorized"):
                wrong.append((method, path, who, r.status_code, code))
            elif who is not None and not may and (r.status_code, code) != (403, "forbidden"):
                wrong.append((method, path, who, r.status_code, code))
            elif may and not expected_ok:
                wrong.append((method, path, who, r.status_code, code))
    assert not wrong, wrong


def test_a_share_link_reaches_only_its_session_and_only_to_read(keyed, callers):
    token, sid = callers["token"], callers["token_session"]
    wrong = []
    for method, path in _operations(keyed):
        if "{session_id}" not in path:
            continue
        mine = _call(keyed, method, path.replace("{session_id}", sid), token)
        other = _call(keyed, method, path, token)  # a made-up session: not its own
        if other.status_code != 403:
            wrong.append(("other session", method, path, other.status_code))
        if method != "GET" and mine.status_code != 403:
            wrong.append(("its session, changing", method, path, mine.status_code))
        if method == "GET" and (mine.status_code in (401, 403) or mine.status_code >= 500):
            wrong.append(("its session, reading", method, path, mine.status_code))
    assert not wrong, wrong
