"""The audit log: each recorded action, done over REST (and keys by the CLI), is at
GET /v1/audit for its tenant's admins — who (key id), what, to which thing, when — newest
first, filtered and paged; another tenant sees none of it, a member may not read it, and no
secret is in it."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from livetranslate.audit import ACTIONS
from tests.api.conftest import _as, _cli, _speech_of


@pytest.fixture(scope="module")
def tenant(keyed):
    """Tenant hooli with its admin and member keys (and the admin key's id)."""
    made = {role: _cli(keyed.data_dir, "keys", "create", "--tenant", "hooli", "--role", role) for role in ("admin", "member")}
    assert all(m.returncode == 0 for m in made.values())
    keys = {role: m.stdout.strip() for role, m in made.items()}
    keyed.env["keys"] += list(keys.values())
    listed = httpx.get(f"{keyed.base}/v1/keys", headers=_as(keys["admin"])).json()
    admin_id = next(k["id"] for k in listed if k["role"] == "admin")
    return {**keys, "admin_id": admin_id}


def _audit(keyed, key: str, **params) -> httpx.Response:
    return httpx.get(f"{keyed.base}/v1/audit", params=params, headers=_as(key))


def test_every_action_is_recorded_with_who_what_and_when(keyed, tenant, two_voices):
    started = datetime.now(timezone.utc) - timedelta(seconds=1)
    before = _audit(keyed, tenant["admin"]).json()["items"]
    assert [(e["action"], e["via"]) for e in before] == [("key.create", "cli")] * 2  # the fixture's keys
    with httpx.Client(base_url=keyed.base, headers=_as(tenant["admin"]), timeout=60) as c:
        made = c.post("/v1/keys", json={"role": "viewer", "name": "wall screen"}).json()
        assert c.delete(f"/v1/keys/{made['id']}").status_code == 204
        sid = c.post("/v1/sessions", json={"title": "audit"}).json()["id"]
        with sqlite3.connect(keyed.data_dir / "livetranslate.db") as db:  # two speakers the session heard
            for speaker in ("S1", "S2"):
                db.execute("INSERT INTO speakers (session_id, id, source, confidence, created_at) "
                           "VALUES (?, ?, 'voice', 1.0, CURRENT_TIMESTAMP)", (sid, speaker))
        assert c.patch(f"/v1/sessions/{sid}/speakers/S1", json={"name": "Dana"}).status_code == 200
        assert c.post(f"/v1/sessions/{sid}/speakers/S2/merge", json={"into": "S1"}).status_code == 200
        assert c.delete(f"/v1/sessions/{sid}").status_code == 204
        voice = c.post("/v1/voiceprints", data={"name": "Erlich"}, files={"file": ("a.wav", _speech_of(two_voices, "voice1"))})
        assert voice.status_code == 201, voice.text
        vid = voice.json()["id"]
        assert c.post(f"/v1/voiceprints/{vid}/samples", files={"file": ("a.wav", _speech_of(two_voices, "voice1"))}).status_code == 200
        assert c.delete(f"/v1/voiceprints/{vid}").status_code == 204
        assert c.patch("/v1/settings", json={"targets": ["es"]}).status_code == 200
        later = (datetime.now(timezone.utc) + timedelta(hours=3)).isoformat()
        bot = c.post("/v1/bots", json={"meeting_url": "https://meet.google.com/aaa-bbbb-ccc", "join_at": later,
                                       "webhooks": [{"url": "http://127.0.0.1:9/hooks"}]})
        assert bot.status_code == 201, bot.text
        secret = bot.json()["webhooks"][0]["secret"]
        assert c.delete(f"/v1/bots/{bot.json()['id']}").status_code == 204
        later_bot = c.post("/v1/bots", json={"meeting_url": "https://meet.google.com/ddd-eeee-fff", "join_at": later}).json()
        assert c.post(f"/v1/bots/{later_bot['id']}/leave").status_code == 200
        refused = c.delete(f"/v1/sessions/{sid}")  # gone: a failed call is not recorded
        assert refused.status_code == 404
    cli = _cli(keyed.data_dir, "keys", "revoke", made["id"])  # again, from the CLI
    assert cli.returncode == 0, cli.stderr

    page = _audit(keyed, tenant["admin"], limit=500).json()
    events = [e for e in page["items"] if e["id"] > before[0]["id"]]
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)  # newest first
    done = [(e["action"], e["target"]) for e in reversed(events)]
    assert done == [
        ("key.create", made["id"]), ("key.revoke", made["id"]), ("speaker.rename", "S1"), ("speaker.merge", "S2"),
        ("session.delete", sid), ("voiceprint.enroll", vid), ("voiceprint.sample", vid), ("voiceprint.delete", vid),
        ("settings.change", None), ("bot.send", bot.json()["id"]), ("bot.cancel", bot.json()["id"]),
        ("bot.send", later_bot["id"]), ("bot.leave", later_bot["id"]), ("key.revoke", made["id"]),
    ], done
    assert {a for a, _ in done} == set(ACTIONS)  # each action the log knows was made here
    by_api = [e for e in events if e["via"] == "api"]
    assert all(e["key_id"] == tenant["admin_id"] for e in by_api) and len(by_api) == len(events) - 1
    assert (events[0]["via"], events[0]["key_id"]) == ("cli", None)
    assert all(started <= datetime.fromisoformat(e["at"]) <= datetime.now(timezone.utc) for e in events)
    details = {e["action"]: e["detail"] for e in events}
    assert details["speaker.rename"] == {"session": sid, "name": "Dana"}
    assert details["settings.change"] == {"targets": ["es"]}
    assert details["bot.send"]["platform"] == "google_meet" and details["key.create"]["role"] == "viewer"
    assert secret not in json.dumps(page) and "lt_" not in json.dumps(page)
    assert page["total"] == len(events) + 2 and page["next_before"] is None


def test_filtered_paged_and_each_tenants_own(keyed, tenant):
    one = _audit(keyed, tenant["admin"], limit=1).json()
    assert len(one["items"]) == 1 and one["next_before"] == one["items"][0]["id"] and one["total"] >= 2
    older = _audit(keyed, tenant["admin"], limit=1, before=one["next_before"]).json()
    assert older["items"][0]["id"] < one["items"][0]["id"]
    sends = _audit(keyed, tenant["admin"], action="bot.send").json()["items"]
    assert sends and {e["action"] for e in sends} == {"bot.send"}
    mine = _audit(keyed, tenant["admin"], key_id=tenant["admin_id"]).json()["items"]
    assert mine and all(e["key_id"] == tenant["admin_id"] for e in mine)
    others = _audit(keyed, keyed.env["globex"], limit=500).json()["items"]
    assert not {e["target"] for e in others} & {e["target"] for e in mine}
    assert _audit(keyed, tenant["member"]).status_code == 403
    bad = _audit(keyed, tenant["admin"], action="session.read")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
