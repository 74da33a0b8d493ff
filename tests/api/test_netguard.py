"""With keys, the server connects only to public addresses on a caller's word: a webhook
endpoint or a stream URL on its loopback, its LAN or a metadata service is refused with 422
before anything is made, unless the operator allowed that host."""

from __future__ import annotations

import httpx
import pytest

from livetranslate.netguard import public
from tests.api.conftest import _as

MEETING = "https://meet.google.com/kkk-llll-mmm"
LATER = "2099-01-01T00:00:00Z"


@pytest.mark.parametrize("address, ok", [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.9", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("::1", False), ("fe80::1%eth0", False), ("fd00::1", False), ("::ffff:127.0.0.1", False),
    ("::ffff:93.184.216.34", True),
])
def test_public_means_global_unicast(address, ok):
    assert public(address) is ok


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hooks", "http://localhost:9/hooks",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/hooks",
                                 "http://10.0.0.7/hooks", "http://0x7f000001/hooks"])
def test_a_private_webhook_endpoint_is_refused_and_nothing_is_made(keyed, url):
    admin = _as(keyed.env["admin"])
    before = httpx.get(f"{keyed.base}/v1/bots", headers=admin).json()["total"]
    r = httpx.post(f"{keyed.base}/v1/bots", headers=admin,
                   json={"meeting_url": MEETING, "join_at": LATER, "webhooks": [{"url": url}]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsupported_url", r.text
    assert "private address" in r.json()["error"]["message"]
    assert httpx.get(f"{keyed.base}/v1/bots", headers=admin).json()["total"] == before


def test_a_private_stream_url_is_refused_and_an_allowed_host_is_reached(keyed):
    admin = _as(keyed.env["admin"])
    sid = httpx.post(f"{keyed.base}/v1/sessions", json={}, headers=admin).json()["id"]
    r = httpx.post(f"{keyed.base}/v1/sessions/{sid}/sources", json={"url": "http://192.168.0.10/live.m3u8"},
                   headers=admin)
    assert r.status_code == 422 and "private address (192.168.0.10)" in r.json()["error"]["message"], r.text
    assert httpx.get(f"{keyed.base}/v1/sessions/{sid}/sources", headers=admin).json() == []
    allowed = httpx.post(f"{keyed.base}/v1/bots", headers=admin, json={
        "meeting_url": "https://meet.google.com/nnn-oooo-ppp", "join_at": LATER,
        "webhooks": [{"url": "http://127.0.0.1:9/hooks"}]})  # the operator's LIVETRANSLATE_PRIVATE_URLS_ALLOWED
    assert allowed.status_code == 201, allowed.text
