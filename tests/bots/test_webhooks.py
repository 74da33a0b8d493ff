"""Webhooks signed the Standard Webhooks way, from a stored outbox: retried until a 2xx with
the same webhook-id, dead after the last attempt, listed and sent again on request."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from livetranslate.webhooks.signing import InvalidSignature, headers, new_secret, verify
from tests.bots.conftest import wait_for
from tests.conftest import _free_port, start_server, stop_server
from tests.fakemeet import Scenario


def test_a_signature_verifies_and_any_change_breaks_it():
    secret, body = new_secret(), b'{"type":"bot.status_change"}'
    sent = headers(secret, "msg_1", body, timestamp=1_800_000_000)
    assert verify(secret, sent, body, now=1_800_000_100) == {"type": "bot.status_change"}
    for tampered in ({**sent, "webhook-id": "msg_2"}, {**sent, "webhook-timestamp": "1800000001"}):
        with pytest.raises(InvalidSignature, match="no signature matches"):
            verify(secret, tampered, body, now=1_800_000_000)
    with pytest.raises(InvalidSignature, match="no signature matches"):
        verify(secret, sent, body + b" ", now=1_800_000_000)
    with pytest.raises(InvalidSignature, match="no signature matches"):
        verify(new_secret(), sent, body, now=1_800_000_000)
    with pytest.raises(InvalidSignature, match="too old"):
        verify(secret, sent, body, now=1_800_000_000 + 301)
    rotated = {**sent, "webhook-signature": "v1,AAAA " + sent["webhook-signature"]}  # two secrets during a rotation
    assert verify(secret, rotated, body, now=1_800_000_000)


class Receiver:
    """An endpoint that answers ``fail_first`` requests per webhook-id with 500, then 204."""

    def __init__(self, fail_first: int = 0, port: int = 0) -> None:
        self.got: list[tuple[dict, bytes]] = []
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.got.append((dict(self.headers), body))
                tries = sum(1 for h, _ in outer.got if h["webhook-id"] == self.headers["webhook-id"])
                self.send_response(500 if tries <= outer.fail_first else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def hook_server(tmp_path_factory, meet):
    srv = start_server(tmp_path_factory.mktemp("hook-server"), LIVETRANSLATE_MEET_BASE_URL=meet.base,
                       LIVETRANSLATE_WEBHOOK_RETRY_SCALE="0.00005", LIVETRANSLATE_WEBHOOK_POLL_S="0.1")
    yield srv
    stop_server(srv)


def test_a_bots_moves_reach_its_webhook_signed_retried_and_once_each(hook_server, meet):
    flaky, gone = Receiver(fail_first=2), f"http://127.0.0.1:{_free_port()}/nobody"
    url = meet.open("nfd-nfdn-nfd", Scenario(mode="not_found"))
    r = httpx.post(f"{hook_server.base}/v1/bots", json={
        "meeting_url": url, "metadata": {"crm": "42"},
        "webhooks": [{"url": flaky.url, "events": ["bot.status_change"]}, {"url": gone}],
    })
    assert r.status_code == 201, r.text
    bot = r.json()
    secret = bot["webhooks"][0]["secret"]
    assert secret.startswith("whsec_") and bot["webhooks"][1]["secret"] != secret
    bot = wait_for(hook_server, bot["id"], {"fatal"}, 60)
    assert bot["status"]["sub_code"] == "meeting_not_found"
    assert "webhooks" not in httpx.get(f"{hook_server.base}/v1/bots/{bot['id']}").json()  # secrets: once only

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len({h["webhook-id"] for h, _ in flaky.got if _ok(flaky, h)}) < 2:
        time.sleep(0.2)
    events = {}
    for h, body in flaky.got:
        event = verify(secret, h, body)
        events.setdefault(h["webhook-id"], []).append(event)
    assert [e[0]["data"]["status"]["code"] for e in events.values()] == ["joining", "fatal"], events
    assert all(len(tries) == 3 for tries in events.values())  # 500, 500, then 204: the same id each time
    fatal = list(events.values())[1][0]
    assert fatal["type"] == "bot.status_change" and fatal["data"]["metadata"] == {"crm": "42"}
    assert fatal["data"]["status"]["sub_code"] == "meeting_not_found"

    deliveries = _deliveries(hook_server, bot["id"])
    assert {d["state"] for d in deliveries if d["url"] == flaky.url} == {"delivered"}
    assert all(d["attempts"] == 3 for d in deliveries if d["url"] == flaky.url)
    deadline = time.monotonic() + 30  # the endpoint that never answers: every attempt, then a dead letter
    while time.monotonic() < deadline and any(d["state"] != "dead" for d in _deliveries(hook_server, bot["id"])
                                               if d["url"] == gone):
        time.sleep(0.5)
    dead = [d for d in _deliveries(hook_server, bot["id"]) if d["url"] == gone]
    assert dead and all(d["state"] == "dead" and d["attempts"] == 8 and "ConnectError" in d["last_error"]
                        for d in dead), dead

    again = httpx.post(f"{hook_server.base}/v1/webhooks/deliveries/{dead[0]['id']}/redeliver")
    assert again.status_code == 200 and again.json()["id"] == dead[0]["id"]
    missing = httpx.post(f"{hook_server.base}/v1/webhooks/deliveries/msg_nope/redeliver")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    flaky.close()


def test_deliveries_not_made_before_a_restart_are_made_after_it(tmp_path, meet):
    port = _free_port()
    env = {"LIVETRANSLATE_MEET_BASE_URL": meet.base, "LIVETRANSLATE_WEBHOOK_RETRY_SCALE": "2",
           "LIVETRANSLATE_WEBHOOK_POLL_S": "0.1"}  # the second attempt 10 s after the first
    srv = start_server(tmp_path, **env)
    try:
        r = httpx.post(f"{srv.base}/v1/bots", json={"meeting_url": meet.open("rst-rstr-rst", Scenario(mode="not_found")),
                                                    "webhooks": [{"url": f"http://127.0.0.1:{port}/hook"}]})
        assert r.status_code == 201, r.text
        bot_id, secret = r.json()["id"], r.json()["webhooks"][0]["secret"]
        wait_for(srv, bot_id, {"fatal"}, 60)
        deadline = time.monotonic() + 10  # the receiver is down: each move's first attempt fails
        while time.monotonic() < deadline and not all(d["attempts"] >= 1 for d in _deliveries(srv, bot_id)):
            time.sleep(0.1)
        before = _deliveries(srv, bot_id)
    finally:
        stop_server(srv)
    assert len(before) == 2 and all(d["state"] == "pending" and d["attempts"] == 1 for d in before), before

    receiver = Receiver(port=port)  # it is up again; so is the server, on the same store
    left = tmp_path / "bots" / "killed-worker" / "profile"  # a browser profile a killed worker left behind
    (left / "Default").mkdir(parents=True)
    srv = start_server(tmp_path, **env)
    assert not left.exists()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(receiver.got) < 2:
            time.sleep(0.1)
        after = _deliveries(srv, bot_id)
    finally:
        stop_server(srv)
        receiver.close()
    assert sorted(h["webhook-id"] for h, _ in receiver.got) == sorted(d["id"] for d in before)
    assert [verify(secret, h, body)["data"]["status"]["code"] for h, body in receiver.got] == ["joining", "fatal"]
    assert all(d["state"] == "delivered" and d["attempts"] == 2 for d in after), after


def _ok(receiver: Receiver, h: dict) -> bool:
    return sum(1 for x, _ in receiver.got if x["webhook-id"] == h["webhook-id"]) > receiver.fail_first


def _deliveries(server, bot_id: str) -> list[dict]:
    return httpx.get(f"{server.base}/v1/webhooks/deliveries", params={"bot_id": bot_id, "limit": 100}).json()
