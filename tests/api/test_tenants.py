"""Tenants on one server: every route that names a thing answers another tenant's thing as
not found, exactly as it answers one that does not exist; lists, searches, counts and the
defaults are each tenant's own; names and meetings are unique only within a tenant; and a
voice enrolled by one tenant names no one in another tenant's sessions."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta, timezone

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from livetranslate.store import tenancy
from tests.api.conftest import _as, _speech_of
from tests.conftest import drain, pcm16

START = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}
MEETING = "https://meet.google.com/abc-defg-hij"


@pytest.fixture(scope="module")
def acme(keyed, two_voices):
    """What tenant acme has: a session, a scheduled bot with a webhook (so a delivery), the
    voice of voice1 enrolled as Alice, and its admin key's id."""
    with httpx.Client(base_url=keyed.base, headers=_as(keyed.env["admin"]), timeout=60) as c:
        session = c.post("/v1/sessions", json={"title": "Quarterly zanzibar review"}).json()
        later = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
        bot = c.post("/v1/bots", json={"meeting_url": MEETING, "join_at": later, "deduplication_key": "weekly",
                                       "webhooks": [{"url": "http://127.0.0.1:9/hooks"}]})
        assert bot.status_code == 201, bot.text
        voice = c.post("/v1/voiceprints", data={"name": "Alice"}, files={"file": ("a.wav", _speech_of(two_voices, "voice1"))})
        assert voice.status_code == 201, voice.text
        deliveries = c.get("/v1/webhooks/deliveries", params={"bot_id": bot.json()["id"]}).json()
        keys = c.get("/v1/keys").json()
    return {
        "session_id": session["id"], "bot_id": bot.json()["id"], "voiceprint_id": voice.json()["id"],
        "delivery_id": deliveries[0]["id"], "key_id": keys[0]["id"], "source_id": "s0urce", "speaker_id": "S1", "n": "1",
    }


def _fill(path: str, values: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m[1]], path)


def test_every_path_parameter_is_known_to_the_tenancy_check(keyed):
    """A new route naming a new kind of thing must say whose it is (tenancy) or fail here."""
    spec = httpx.get(f"{keyed.base}/openapi.json").json()
    named = {p for path in spec["paths"] for p in re.findall(r"\{(\w+)\}", path)}
    assert named == set(tenancy.OWNED) | set(tenancy.WITHIN) | set(tenancy.OWN_SCOPE), named


def test_another_tenants_things_are_not_found_on_every_route(keyed, acme):
    spec = httpx.get(f"{keyed.base}/openapi.json").json()
    missing = {k: ("nope" if k != "n" else "1") + ("0" * 28 if k.endswith("_id") and k != "speaker_id" else "")
               for k in acme}
    missing["speaker_id"] = "S1"
    globex = _as(keyed.env["globex"])
    checked = 0
    for path, operations in spec["paths"].items():
        if "{" not in path:
            continue
        for method in operations:
            theirs = httpx.request(method, keyed.base + _fill(path, acme), headers=globex)
            nowhere = httpx.request(method, keyed.base + _fill(path, missing), headers=globex)
            assert theirs.status_code == 404, (method, path, theirs.text)
            assert nowhere.status_code == 404, (method, path, nowhere.text)

            def shown(r, ids):
                message = r.json()["error"]["message"]
                for value in ids.values():
                    message = message.replace(value, "ID")
                return r.json()["error"]["code"], message

            assert shown(theirs, acme) == shown(nowhere, missing), (method, path)  # no existence leak
            checked += 1
    assert checked > 25
    with httpx.Client(base_url=keyed.base, headers=_as(keyed.env["admin"])) as c:  # and nothing was changed
        assert c.get(f"/v1/sessions/{acme['session_id']}").json()["status"] == "created"
        assert c.get(f"/v1/bots/{acme['bot_id']}").json()["status"]["code"] == "scheduled"
        assert c.get(f"/v1/voiceprints/{acme['voiceprint_id']}").status_code == 200
        assert any(k["id"] == acme["key_id"] and k["revoked_at"] is None for k in c.get("/v1/keys").json())


def test_another_tenants_sockets_and_links_are_not_found(keyed, acme):
    globex = {"Authorization": f"Bearer {keyed.env['globex']}"}
    closes = []
    for sid in (acme["session_id"], "nope" + "0" * 28):
        for kind in ("events", "audio"):
            with connect(f"{keyed.ws}/v1/sessions/{sid}/{kind}", additional_headers=globex) as ws:
                if kind == "audio":
                    ws.send(json.dumps(START))
                error = json.loads(ws.recv(timeout=10))
                with pytest.raises(ConnectionClosed):
                    ws.recv(timeout=10)
            closes.append((kind, error["code"], ws.close_code, ws.close_reason.replace(sid, "ID")))
    assert closes[:2] == closes[2:] and {c[1] for c in closes} == {"not_found"}, closes
    r = httpx.post(f"{keyed.base}/v1/tokens", json={"session_id": acme["session_id"]}, headers=globex)
    assert r.status_code == 404, r.text


def test_lists_searches_counts_and_defaults_are_each_tenants_own(keyed, acme):
    mine, theirs = _as(keyed.env["admin"]), _as(keyed.env["globex"])
    with httpx.Client(base_url=keyed.base, timeout=60) as c:
        own = c.post("/v1/sessions", json={"title": "Globex zanzibar plans"}, headers=theirs).json()
        found = c.get("/v1/sessions", params={"q": "zanzibar"}, headers=theirs).json()
        assert [s["id"] for s in found["items"]] == [own["id"]] and found["total"] == 1
        assert acme["session_id"] not in {s["id"] for s in c.get("/v1/sessions?limit=200", headers=theirs).json()["items"]}
        assert c.get("/v1/bots", headers=theirs).json()["total"] == 0
        assert c.get("/v1/voiceprints", headers=theirs).json() == []
        assert c.get("/v1/webhooks/deliveries", headers=theirs).json() == []
        assert c.get("/v1/webhooks/deliveries", params={"bot_id": acme["bot_id"]}, headers=theirs).json() == []
        assert acme["key_id"] not in {k["id"] for k in c.get("/v1/keys", headers=theirs).json()}
        assert c.get("/v1/bots", headers=mine).json()["total"] >= 1

        changed = c.patch("/v1/settings", json={"targets": ["es"]}, headers=mine)
        assert changed.status_code == 200 and changed.json()["defaults"]["targets"] == ["es"], changed.text
        assert c.get("/v1/settings", headers=theirs).json()["defaults"]["targets"] == []
        assert c.post("/v1/sessions", json={}, headers=theirs).json()["targets"] == []
        assert c.post("/v1/sessions", json={}, headers=mine).json()["targets"] == ["es"]
        c.patch("/v1/settings", json={"targets": None}, headers=mine)


@pytest.fixture(scope="module")
def globex_alice(keyed, acme, two_voices) -> str:
    """Globex's own Alice is another person (voice2): the name acme enrolled is free in this tenant."""
    with httpx.Client(base_url=keyed.base, headers=_as(keyed.env["globex"]), timeout=60) as c:
        voice = c.post("/v1/voiceprints", data={"name": "Alice"}, files={"file": ("b.wav", _speech_of(two_voices, "voice2"))})
        assert voice.status_code == 201, voice.text
        return voice.json()["id"]


def test_names_and_meetings_are_unique_within_a_tenant_only(keyed, acme, globex_alice, two_voices):
    with httpx.Client(base_url=keyed.base, headers=_as(keyed.env["globex"]), timeout=60) as c:
        later = (datetime.now(timezone.utc) + timedelta(hours=3)).isoformat()
        bot = c.post("/v1/bots", json={"meeting_url": MEETING, "join_at": later, "deduplication_key": "weekly"})
        assert bot.status_code == 201, bot.text  # acme's bot waits for the same meeting: not globex's business
        assert c.delete(f"/v1/bots/{bot.json()['id']}").status_code == 204
        checked = c.post("/v1/voiceprints/verify", data={"name": "Alice"},
                         files={"file": ("c.wav", _speech_of(two_voices, "voice2"))}).json()
        assert checked["voiceprint_id"] == globex_alice and checked["match"] is True


def _stream(keyed, who: str, audio: np.ndarray, out: dict) -> None:
    headers = _as(keyed.env[who])
    sid = httpx.post(f"{keyed.base}/v1/sessions", json={"title": "voices"}, headers=headers).json()["id"]
    with connect(f"{keyed.ws}/v1/sessions/{sid}/audio", additional_headers=headers, max_size=None) as ws:
        ws.send(json.dumps(START))
        data = pcm16(audio)
        for i in range(0, len(data), 32000):
            ws.send(data[i : i + 32000])
        ws.send(json.dumps({"type": "stop"}))
        drain(ws)
    out[who] = httpx.get(f"{keyed.base}/v1/sessions/{sid}/speakers", headers=headers).json()


def test_a_voice_names_speakers_only_in_its_own_tenants_sessions(keyed, acme, globex_alice, two_voices):
    """Both tenants enrolled an Alice (acme: voice1; globex: voice2); the same meeting audio
    streamed by each names only that tenant's Alice."""
    out: dict = {}
    threads = [threading.Thread(target=_stream, args=(keyed, who, two_voices.audio, out)) for who in ("admin", "globex")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    named = {k: {s["voiceprint_id"] for s in speakers if s["name"] == "Alice"} for k, speakers in out.items()}
    assert named == {"admin": {acme["voiceprint_id"]}, "globex": {globex_alice}}, out
