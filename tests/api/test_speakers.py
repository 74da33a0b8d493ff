"""Speakers end to end on a real server: voice clusters, meeting events on the socket and over
REST, per-participant tracks, renames and merges in exports, voiceprints, and bad input."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.api.conftest import _wav
from tests.conftest import drain, pcm16
from tests.speakers import corpus

START = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}


def _events_for(conv: corpus.Conversation, speaker: str, name: str) -> list[dict]:
    out = []
    for t in conv.turns:
        if t.speaker == speaker:
            p = {"id": speaker, "name": name}
            out += [{"kind": "on", "participant": p, "time": t.start}, {"kind": "off", "participant": p, "time": t.end}]
    return out


@pytest.fixture(scope="module")
def meeting(server, two_voices):
    """A two-voice meeting whose indicator names only voice1 (Alice), sent on the socket
    after the audio (late): the voice2 cluster stays unnamed."""
    session = server.create_session(title="two voices")
    with connect(f"{server.ws}/v1/sessions/{session['id']}/audio", max_size=None) as ws:
        ws.send(json.dumps(START))
        data = pcm16(two_voices.audio)
        for i in range(0, len(data), 32000):
            ws.send(data[i : i + 32000])
        ws.send(json.dumps({"type": "speakers", "events": _events_for(two_voices, "voice1", "Alice")}))
        ws.send(json.dumps({"type": "stop"}))
        messages = drain(ws)
    return session, [m for m in messages if "seq" in m]


def _apply(events: list[dict]) -> dict[str, dict]:
    """A client's view: finals by id, with speaker updates applied."""
    finals, names = {}, {}
    for e in events:
        if e["type"] == "segment" and e["status"] == "final" and e["text"]:
            finals[e["segment_id"]] = dict(e)
            names.setdefault(e["speaker"], e["speaker_name"])
        elif e["type"] == "speaker.update":
            names[e["speaker"]] = e["name"]
            for sid in e["segment_ids"]:
                finals[sid]["speaker"] = e["speaker"]
            for f in finals.values():
                if f["speaker"] in e["merged"]:
                    f["speaker"] = e["speaker"]
    for f in finals.values():
        f["speaker_name"] = names.get(f["speaker"])
    return finals


def test_finals_carry_speakers_and_late_meeting_events_name_one_voice(meeting, two_voices):
    _, events = meeting
    finals = _apply(events)
    # two voices, two speakers (a transient third cluster may have taken a number on the way: S1 and S3)
    assert len({f["speaker"] for f in finals.values()}) == 2
    assert any(e["type"] == "speaker.update" and e["name"] == "Alice" and e["source"] == "meeting" for e in events)
    # words of voice1 are Alice's, voice2's are nobody's: no confident wrong name
    right = wrong = 0
    for f in finals.values():
        for w in f["words"]:
            truth = two_voices.speaker_at((w["start"] + w["end"]) / 2)
            if truth is None or f["speaker_name"] is None:
                continue
            right += truth == "voice1"
            wrong += truth != "voice1"
    assert right >= 40 and wrong <= 2, (right, wrong)
    assert all(f["speaker_name"] in (None, "Alice") for f in finals.values())


def test_speakers_rename_merge_and_exports_follow(server, meeting):
    session, _ = meeting
    sid = session["id"]
    with server.client() as c:
        speakers = c.get(f"/v1/sessions/{sid}/speakers").json()
        by_name = {s["name"]: s for s in speakers}
        alice, other = by_name["Alice"], by_name[None]
        assert alice["source"] == "meeting" and alice["segments"] >= 2 and alice["seconds"] > 5
        assert other["label"] == f"Speaker {other['id'][1:]}" and other["source"] == "cluster"
        srt = c.get(f"/v1/sessions/{sid}/transcript?format=srt").text
        assert "Alice: " in srt and f"Speaker {other['id'][1:]}: " in srt

        # rename: transcripts follow; a name taken by another speaker → 409 with a merge hint
        r = c.patch(f"/v1/sessions/{sid}/speakers/{other['id']}", json={"name": "Bob"})
        assert r.status_code == 200 and r.json()["type"] == "speaker.update" and r.json()["source"] == "user"
        assert "Bob: " in c.get(f"/v1/sessions/{sid}/transcript?format=txt").text
        # no name may break an export: the SRT/VTT timing arrow, a newline with a timing line after it
        injected = "Ana\n\n00:00:01,000 --> 00:00:02,000\nX"  # one line only: refused
        r = c.patch(f"/v1/sessions/{sid}/speakers/{other['id']}", json={"name": injected})
        assert r.status_code == 422 and "one line" in r.json()["error"]["message"]
        assert c.patch(f"/v1/sessions/{sid}/speakers/{other['id']}", json={"name": "Ana --> Bob"}).status_code == 200
        vtt = c.get(f"/v1/sessions/{sid}/transcript?format=vtt")
        srt_text = c.get(f"/v1/sessions/{sid}/transcript?format=srt").text
        assert vtt.status_code == 200 and "Ana → Bob: " in vtt.text
        import srt

        cues = list(srt.parse(srt_text))
        assert cues and all("-->" not in cue.content and "\n\n" not in cue.content for cue in cues)
        assert srt_text.count(" --> ") == vtt.text.count(" --> ") == len(cues)
        assert c.patch(f"/v1/sessions/{sid}/speakers/{other['id']}", json={"name": "Bob"}).status_code == 200
        r = c.patch(f"/v1/sessions/{sid}/speakers/{other['id']}", json={"name": "Alice"})
        assert r.status_code == 409 and "merge" in r.json()["error"]["message"]
        # bad input
        assert c.patch(f"/v1/sessions/{sid}/speakers/S99", json={"name": "X"}).status_code == 404
        assert c.patch(f"/v1/sessions/{sid}/speakers/{other['id']}", json={"name": ""}).status_code == 422
        assert c.post(f"/v1/sessions/{sid}/speakers/{other['id']}/merge", json={"into": other["id"]}).status_code == 400

        # merge: one speaker left, every segment hers, in JSON and in the event log
        r = c.post(f"/v1/sessions/{sid}/speakers/{other['id']}/merge", json={"into": alice["id"]})
        assert r.status_code == 200 and r.json()["merged"] == [other["id"]]
        speakers = c.get(f"/v1/sessions/{sid}/speakers").json()
        assert [s["id"] for s in speakers] == [alice["id"]]
        body = c.get(f"/v1/sessions/{sid}/transcript").json()
        assert {s["speaker"] for s in body["segments"]} == {alice["id"]}
        assert {s["speaker_name"] for s in body["segments"]} == {"Alice"}
        assert c.patch(f"/v1/sessions/{sid}/speakers/{other['id']}", json={"name": "Y"}).status_code == 404


def test_meeting_events_over_rest_check_the_session(server, meeting):
    session, _ = meeting
    event = {"kind": "on", "participant": {"id": "p1", "name": "Ann"}, "time": 1.0}
    with server.client() as c:
        # the session has ended: its meeting events no longer change it
        r = c.post(f"/v1/sessions/{session['id']}/speaker-events", json={"events": [event]})
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
        fresh = server.create_session(title="events")["id"]
        r = c.post(f"/v1/sessions/{fresh}/speaker-events", json={"events": [{**event, "time": 30.0}]})
        assert r.status_code == 400 and "outside the session" in r.json()["error"]["message"]
        ok = {**event, "time": 0.0}
        assert c.post(f"/v1/sessions/{fresh}/speaker-events", json={"events": [ok]}).json() == {"accepted": 1}
        bad = [
            {**ok, "kind": "caption"},  # a caption needs an end
            {**ok, "time": -1},
            {**ok, "participant": {"id": ""}},
            {**ok, "kind": "shout"},
        ]
        for b in bad:
            r = c.post(f"/v1/sessions/{fresh}/speaker-events", json={"events": [b]})
            assert r.status_code == 422 and r.json()["error"]["message"], b
        assert c.post("/v1/sessions/nope/speaker-events", json={"events": [ok]}).status_code == 404
        assert c.get("/v1/sessions/nope/speakers").status_code == 404


def test_bad_speaker_events_on_the_socket_are_refused_and_the_audio_goes_on(server, two_voices):
    sid = server.create_session(title="bad events")["id"]
    with connect(f"{server.ws}/v1/sessions/{sid}/audio", max_size=None) as ws:
        ws.send(json.dumps(START))
        ws.send(pcm16(two_voices.audio[: 16000 * 8]))
        far = {"kind": "on", "participant": {"id": "p", "name": "P"}, "time": 500.0}
        ws.send(json.dumps({"type": "speakers", "events": [far]}))
        ws.send(pcm16(two_voices.audio[16000 * 8 : 16000 * 14]))
        ws.send(json.dumps({"type": "stop"}))
        out = drain(ws)
        code = ws.close_code
    errors = [m for m in out if m["type"] == "error"]
    assert len(errors) == 1 and "outside the session" in errors[0]["message"] and errors[0]["close_code"] is None
    assert code == 1000 and out[-1]["type"] == "session.ended"
    assert [m for m in out if m.get("status") == "final" and m["text"]]  # nothing accepted was lost


def test_participant_tracks_name_their_segments(server, two_voices):
    """Two tracks (as a bot hears each Meet participant) into one session at once."""
    sid = server.create_session(title="tracks")["id"]
    halves = {
        "voice1": np.concatenate([two_voices.audio[int(t.start * 16000) : int(t.end * 16000)] for t in two_voices.turns if t.speaker == "voice1"]),
        "voice2": np.concatenate([two_voices.audio[int(t.start * 16000) : int(t.end * 16000)] for t in two_voices.turns if t.speaker == "voice2"]),
    }
    names = {"voice1": "Alice Smith", "voice2": "Bob Jones"}
    results: dict[str, list[dict]] = {}
    opened = threading.Barrier(3, timeout=300)
    checked = threading.Event()

    def track(who: str):
        with connect(f"{server.ws}/v1/sessions/{sid}/audio", max_size=None) as ws:
            ws.send(json.dumps({**START, "track": who, "participant": {"id": f"id-{who}", "name": names[who]}}))
            assert json.loads(ws.recv(timeout=30))["type"] == "ready"
            opened.wait()
            data = pcm16(np.concatenate([halves[who][:16000 * 10], np.zeros(16000, np.float32)]))
            for i in range(0, len(data), 16000):
                ws.send(data[i : i + 16000])
            while not checked.wait(0.1):  # a live source keeps sending (silence): a quiet one is taken over
                ws.send(b"\0" * 3200)
            opened.wait()  # both sent everything before either stops
            ws.send(json.dumps({"type": "stop"}))
            results[who] = drain(ws)

    threads = [threading.Thread(target=track, args=(w,)) for w in names]
    for t in threads:
        t.start()
    opened.wait()
    # while both tracks are live: the same track again, or an unnamed socket, is refused
    with connect(f"{server.ws}/v1/sessions/{sid}/audio") as ws:
        ws.send(json.dumps({**START, "track": "voice1"}))
        error = json.loads(ws.recv(timeout=30))
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=30)
        assert error["type"] == "error" and "already live" in error["message"] and ws.close_code == 4409
    with connect(f"{server.ws}/v1/sessions/{sid}/audio") as ws:
        ws.send(json.dumps(START))
        assert json.loads(ws.recv(timeout=30))["code"] == "conflict"
    checked.set()
    opened.wait()
    for t in threads:
        t.join(300)
    with server.client() as c:
        body = c.get(f"/v1/sessions/{sid}/transcript").json()
        speakers = c.get(f"/v1/sessions/{sid}/speakers").json()
        session = c.get(f"/v1/sessions/{sid}").json()
    assert session["status"] == "ended"  # when the last track stopped
    assert {s["name"]: s["participant_id"] for s in speakers} == {
        "Alice Smith": "id-voice1", "Bob Jones": "id-voice2"
    }
    assert {s["source"] for s in speakers} == {"track"}
    by_name = {}
    for seg in body["segments"]:
        by_name.setdefault(seg["speaker_name"], []).append(seg["text"])
    assert set(by_name) == {"Alice Smith", "Bob Jones"}
    # the one that stopped first was told the session goes on
    closes = [r[-1] for r in results.values()]
    assert any(m["type"] == "session.ended" for m in closes)


def test_voiceprints_enroll_verify_and_name_a_voice_in_a_later_session(server, two_voices):
    turns = {s: [t for t in two_voices.turns if t.speaker == s] for s in ("voice1", "voice2")}

    def clip(speaker: str, which: slice) -> bytes:
        return _wav(np.concatenate([two_voices.audio[int(t.start * 16000) : int(t.end * 16000)] for t in turns[speaker][which]]))

    with server.client() as c:
        r = c.post("/v1/voiceprints", data={"name": "Alice"}, files={"file": ("a.wav", clip("voice1", slice(0, 3)))})
        assert r.status_code == 201, r.text
        vp = r.json()
        assert vp["name"] == "Alice" and vp["seconds"] >= 4 and vp["samples"] == 1
        # the same voice saying other things matches; another voice does not
        same = c.post("/v1/voiceprints/verify", data={"name": "Alice"}, files={"file": ("b.wav", clip("voice1", slice(3, 6)))}).json()
        other = c.post("/v1/voiceprints/verify", data={"name": "Alice"}, files={"file": ("c.wav", clip("voice2", slice(0, 3)))}).json()
        assert same["match"] is True and same["score"] >= same["threshold"]
        assert other["match"] is False and other["score"] < same["score"] - 0.1
        # bad input
        r = c.post("/v1/voiceprints", data={"name": "Alice"}, files={"file": ("a.wav", clip("voice1", slice(3, 6)))})
        assert r.status_code == 409 and "samples" in r.json()["error"]["message"]
        short = _wav(two_voices.audio[int(turns["voice2"][0].start * 16000) : int((turns["voice2"][0].start + 1.5) * 16000)])
        r = c.post("/v1/voiceprints", data={"name": "Bob"}, files={"file": ("s.wav", short)})
        assert r.status_code == 400 and "speech" in r.json()["error"]["message"]
        r = c.post("/v1/voiceprints", data={"name": "Bob"}, files={"file": ("x.wav", b"not audio at all" * 100)})
        assert r.status_code in (400, 415)
        assert c.post("/v1/voiceprints/verify", data={"name": "Nobody"}, files={"file": ("b.wav", short)}).status_code == 404
        r = c.post(f"/v1/voiceprints/{vp['id']}/samples", files={"file": ("d.wav", clip("voice1", slice(3, 6)))})
        assert r.status_code == 200 and r.json()["samples"] == 2
        assert [v["name"] for v in c.get("/v1/voiceprints").json()] == ["Alice"]

    # a later session with both voices: the enrolled one is named, the other is not
    sid = server.create_session(title="voiceprint")["id"]
    with connect(f"{server.ws}/v1/sessions/{sid}/audio", max_size=None) as ws:
        ws.send(json.dumps(START))
        data = pcm16(two_voices.audio)
        for i in range(0, len(data), 32000):
            ws.send(data[i : i + 32000])
        ws.send(json.dumps({"type": "stop"}))
        finals = _apply([m for m in drain(ws) if "seq" in m])
    named = {f["speaker_name"] for f in finals.values()}
    assert named == {"Alice", None}
    with server.client() as c:
        speakers = c.get(f"/v1/sessions/{sid}/speakers").json()
        alice = next(s for s in speakers if s["name"] == "Alice")
        assert alice["source"] == "voiceprint" and alice["voiceprint_id"] == vp["id"]
        assert c.delete(f"/v1/voiceprints/{vp['id']}").status_code == 204
        assert c.get(f"/v1/voiceprints/{vp['id']}").status_code == 404
        assert c.delete(f"/v1/voiceprints/{vp['id']}").status_code == 404
