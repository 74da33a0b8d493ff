"""A bot in the stand-in Meet, end to end: Debian's Chromium joins, is let in, hears each
participant over real WebRTC, names who speaks from their tiles, and leaves when asked;
every move is stored and on the session's stream."""

from __future__ import annotations

import json
import time

import httpx

from tests.bots.conftest import SHOTS, attribution, moves, script, wait_for
from tests.conftest import read_events, wer
from tests.fakemeet import Scenario


def test_a_bot_is_let_in_hears_everyone_names_who_speaks_and_leaves_when_asked(bot_server, meet, librivox, synthetic,
                                                                               tmp_path):
    call = script(tmp_path, [("ana", "Ana Lima", librivox[0]), ("bob", "Bob Stone", synthetic[0]),
                             ("ana", "Ana Lima", librivox[1]), ("bob", "Bob Stone", synthetic[1])])
    url = meet.open("abc-defg-hij", Scenario(mode="knock", admit_after_s=1.5, participants=call.participants))
    started = time.monotonic()
    r = httpx.post(f"{bot_server.base}/v1/bots", json={"meeting_url": url, "bot_name": "Notes"})
    assert r.status_code == 201, r.text
    bot = r.json()
    assert (bot["platform"], bot["meeting_id"], bot["status"]["code"]) == ("google_meet", "abc-defg-hij", "joining")
    bot = wait_for(bot_server, bot["id"], {"in_call_recording", "fatal", "call_ended"}, 90)
    joined_s = time.monotonic() - started
    assert bot["status"]["code"] == "in_call_recording", bot["status"]
    time.sleep(call.lines[-1].end + 6)  # the call plays out; its last final follows
    left = httpx.post(f"{bot_server.base}/v1/bots/{bot['id']}/leave")
    assert left.status_code == 200, left.text
    bot = wait_for(bot_server, bot["id"], {"done", "fatal"}, 30)
    print("moves", json.dumps(bot["status_changes"], indent=1))
    assert moves(bot) == ["joining", "in_waiting_room", "in_call_not_recording", "in_call_recording", "leaving",
                          "call_ended", "done"]
    ended = bot["status_changes"][-2]
    assert ended["sub_code"] == "bot_received_leave_call" and ended["source"] == "bot"
    assert not (bot_server.data_dir / "bots" / bot["id"] / "profile").exists()  # its browser's profile went with it
    seen = meet.state("abc-defg-hij")
    assert seen["bot_name"] == "Notes" and seen["mic_off"] and seen["camera_off"] and seen["left"], seen

    sid = bot["session_id"]
    segments = httpx.get(f"{bot_server.base}/v1/sessions/{sid}/transcript").json()["segments"]
    heard = " ".join(s["text"] for s in segments)
    score = attribution(call, segments)
    print(f"joined in {joined_s:.1f} s; WER {wer(call.text, heard):.3f}; attribution {score}")
    assert wer(call.text, heard) < 0.25, heard
    named = score["right"] + score["wrong"] + score["unnamed"]
    assert score["wrong"] <= 0.02 * named, score  # never a confident wrong name
    assert score["right"] >= 0.6 * named, score
    people = httpx.get(f"{bot_server.base}/v1/bots/{bot['id']}/participants").json()
    assert {p["name"] for p in people} == {"Ana Lima", "Bob Stone"}, people
    assert all(p["speech_s"] > 2 for p in people), people
    events, _ = read_events(bot_server, sid, timeout=5)
    statuses = [e["new"] for e in events if e["type"] == "bot.status"]
    assert statuses[:4] == ["joining", "in_waiting_room", "in_call_not_recording", "in_call_recording"], statuses
    shot = httpx.get(f"{bot_server.base}/v1/bots/{bot['id']}/screenshots/{bot['screenshots']}")
    assert shot.status_code == 200 and shot.content[:8] == b"\x89PNG\r\n\x1a\n"
    (SHOTS / "in-call.png").write_bytes(shot.content)

