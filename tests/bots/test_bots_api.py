"""The bots API's refusals and controls: links it cannot join, a second bot for a meeting,
more bots than allowed, no browser, leave and cancel, listing by state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx

from tests.bots.conftest import moves, wait_for
from tests.conftest import start_server, stop_server
from tests.fakemeet import Scenario


def _post(server, **body) -> httpx.Response:
    return httpx.post(f"{server.base}/v1/bots", json=body)


def test_links_that_are_no_meeting_it_can_join_get_422_saying_what_is(bot_server):
    for url, says in [("https://zoom.us/j/123456789", "Zoom meetings are not supported yet"),
                      ("https://teams.microsoft.com/l/meetup-join/abc", "Teams meetings are not supported yet"),
                      ("https://example.org/x", "supported: Google Meet (e.g. https://meet.google.com/abc-defg-hij)")]:
        r = _post(bot_server, meeting_url=url)
        assert r.status_code == 422 and r.json()["error"]["code"] == "unsupported_url", r.text
        assert says in r.json()["error"]["message"]
    r = _post(bot_server, meeting_url="https://meet.google.com/abc-defg-hij", automatic_leave={"max_duration": -1})
    assert r.status_code == 422 and "max_duration" in r.json()["error"]["message"]
    r = _post(bot_server, meeting_url="https://meet.google.com/abc-defg-hij", webhooks=[{"url": "ftp://x"}])
    assert r.status_code == 422 and "webhooks" in r.json()["error"]["message"]


def test_one_active_bot_per_meeting_and_key_and_no_more_than_allowed(bot_server, meet):
    lobby = meet.open("lob-byon-lyy", Scenario(mode="never_admit"))
    other = meet.open("oth-erme-ett", Scenario(mode="never_admit"))
    third = meet.open("thi-rdme-ett", Scenario(mode="never_admit"))
    first = _post(bot_server, meeting_url=lobby, deduplication_key="standup-2026-12-03")
    assert first.status_code == 201, first.text
    again = _post(bot_server, meeting_url=lobby)
    assert again.status_code == 409 and "for this meeting" in again.json()["error"]["message"]
    same_key = _post(bot_server, meeting_url=other, deduplication_key="standup-2026-12-03")
    assert same_key.status_code == 409 and "deduplication key" in same_key.json()["error"]["message"]
    second = _post(bot_server, meeting_url=other)
    assert second.status_code == 201
    over = _post(bot_server, meeting_url=third)  # the server allows 2
    assert over.status_code == 429 and "max_concurrent_bots" in over.json()["error"]["message"], over.text
    waiting = wait_for(bot_server, first.json()["id"], {"in_waiting_room"}, 60)
    listed = httpx.get(f"{bot_server.base}/v1/bots", params={"status": "in_waiting_room,joining"}).json()
    assert {b["id"] for b in listed["items"]} >= {waiting["id"]} and listed["total"] >= 1
    busy = httpx.delete(f"{bot_server.base}/v1/sessions/{waiting['session_id']}")
    assert busy.status_code == 409 and "make it leave first" in busy.json()["error"]["message"], busy.text
    bad = httpx.get(f"{bot_server.base}/v1/bots", params={"status": "sleeping"})
    assert bad.status_code == 422 and "unknown state sleeping" in bad.json()["error"]["message"]
    for bot in (first.json(), second.json()):
        assert httpx.post(f"{bot_server.base}/v1/bots/{bot['id']}/leave").status_code == 200
    for bot in (first.json(), second.json()):
        done = wait_for(bot_server, bot["id"], {"done"}, 30)
        assert done["status_changes"][-2]["sub_code"] == "bot_received_leave_call", done["status_changes"]
    ended = httpx.post(f"{bot_server.base}/v1/bots/{first.json()['id']}/leave")
    assert ended.status_code == 409 and "already ended" in ended.json()["error"]["message"]
    assert httpx.delete(f"{bot_server.base}/v1/sessions/{waiting['session_id']}").status_code == 204
    assert httpx.get(f"{bot_server.base}/v1/bots/{waiting['id']}").status_code == 404  # it went with its session
    assert not (bot_server.data_dir / "bots" / waiting["id"]).exists()
    again = _post(bot_server, meeting_url=lobby)  # the meeting is free again
    assert again.status_code == 201
    httpx.post(f"{bot_server.base}/v1/bots/{again.json()['id']}/leave")
    wait_for(bot_server, again.json()["id"], {"done"}, 30)
    assert httpx.get(f"{bot_server.base}/v1/bots/nope").status_code == 404


def test_a_scheduled_bot_waits_for_its_time_and_can_be_cancelled(bot_server, meet):
    url = meet.open("sch-edul-edd", Scenario(mode="never_admit"))
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    bot = _post(bot_server, meeting_url=url, join_at=later).json()
    assert bot["status"]["code"] == "scheduled", bot
    assert httpx.delete(f"{bot_server.base}/v1/bots/{bot['id']}").status_code == 204
    bot = httpx.get(f"{bot_server.base}/v1/bots/{bot['id']}").json()
    assert moves(bot) == ["scheduled", "done"] and bot["status_changes"][-1]["source"] == "user"
    soon = (datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat()
    bot = _post(bot_server, meeting_url=url, join_at=soon).json()
    joined = wait_for(bot_server, bot["id"], {"joining", "in_waiting_room"}, 30)
    assert joined["status_changes"][1]["source"] == "scheduler"
    busy = httpx.delete(f"{bot_server.base}/v1/bots/{bot['id']}")
    assert busy.status_code == 409 and "make it leave" in busy.json()["error"]["message"]
    httpx.post(f"{bot_server.base}/v1/bots/{bot['id']}/leave")
    wait_for(bot_server, bot["id"], {"done"}, 30)


def test_no_browser_is_a_503_saying_what_is_missing(tmp_path, meet):
    srv = start_server(tmp_path, LIVETRANSLATE_MEET_BASE_URL=meet.base, LIVETRANSLATE_BROWSER_PATH="/nowhere/chromium")
    try:
        r = _post(srv, meeting_url=meet.open("nob-rows-err", Scenario()))
        assert r.status_code == 503 and "/nowhere/chromium" in r.json()["error"]["message"], r.text
        assert httpx.get(f"{srv.base}/v1/bots").json()["total"] == 0  # nothing half-made
    finally:
        stop_server(srv)
