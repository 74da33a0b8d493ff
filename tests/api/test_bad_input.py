"""Bad input gets a clear error and a close code; nothing accepted is lost; others keep running."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import conversation, exchange, pcm16, read_events, stream, wer

START = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}


def _exchange(server, session_id: str, *frames) -> tuple[list[dict], int, str]:
    return exchange(f"{server.ws}/v1/sessions/{session_id}/audio", list(frames))


@pytest.fixture
def session(server):
    return server.create_session(title="bad input")


def _error(out: list[dict]) -> dict:
    errors = [m for m in out if m["type"] == "error"]
    assert len(errors) == 1, out
    return errors[0]


def test_binary_before_start_is_rejected(server, session):
    out, code, reason = _exchange(server, session["id"], b"\x00\x01" * 100)
    err = _error(out)
    assert (code, err["code"], err["close_code"]) == (4400, "invalid_input", 4400)
    assert "before the start message" in err["message"] and "start" in reason


@pytest.mark.parametrize(
    ("frame", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", '"type"'),
        (json.dumps({"type": "begin"}), "type"),
        (json.dumps({"type": "start", "format": "aiff"}), "format"),
        (json.dumps({"type": "start", "format": "pcm_s16le"}), "sample_rate"),
        (json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 0}), "channels"),
        (json.dumps({"type": "start", "sample_rate": 16000, "bogus": 1}), "bogus"),
        (json.dumps({"type": "stop"}), "first message must be"),
    ],
)
def test_malformed_start_is_rejected_with_reason(server, session, frame, needle):
    out, code, _ = _exchange(server, session["id"], frame)
    err = _error(out)
    assert code == 4400 and needle in err["message"], err


def test_unknown_session_is_rejected(server):
    out, code, _ = _exchange(server, "nope", json.dumps(START))
    assert code == 4404 and "nope" in _error(out)["message"]
    events, code = read_events(server, "nope")
    assert code == 4404 and events[0]["type"] == "error"


def test_events_socket_rejects_bad_after_seq(server, session):
    events, code = read_events(server, session["id"], after_seq="-3")
    assert code == 4400 and "after_seq" in events[0]["message"]


@pytest.mark.parametrize("size", [(1 << 20) + 1, 3 << 20, 15 << 20])
def test_every_oversized_frame_gets_4413_with_the_error(server, session, size):
    out, code, _ = _exchange(server, session["id"], json.dumps(START), b"\x00" * size)
    assert code == 4413 and _error(out)["close_code"] == 4413, (size, code, out)


def test_oversized_frame_is_rejected_and_accepted_audio_is_kept(server, session, librivox):
    speech = pcm16(librivox[1].audio)
    out, code, _ = _exchange(
        server, session["id"], json.dumps(START), *[speech[i : i + 8000] for i in range(0, len(speech), 8000)],
        b"\x00" * (2 << 20),
    )
    assert code == 4413 and "over the limit" in _error(out)["message"]
    # the audio before the bad frame was transcribed and stored; the session is paused, not lost
    events, _ = read_events(server, session["id"], timeout=5)
    text = " ".join(e["text"] for e in events if e["type"] == "segment" and e["status"] == "final")
    assert wer(librivox[1].text, text) < 0.5, text
    with httpx.Client(base_url=server.base) as c:
        assert c.get(f"/v1/sessions/{session['id']}").json()["status"] == "paused"


@pytest.mark.parametrize("fmt", ["ogg", "webm", "mp3", "wav"])
def test_undecodable_stream_is_rejected(server, session, fmt):
    garbage = b"this is not audio at all " * 12_000  # 300 KB, past the header limit
    out, code, _ = _exchange(
        server, session["id"], json.dumps({"type": "start", "format": fmt}),
        *[garbage[i : i + 30_000] for i in range(0, len(garbage), 30_000)],
    )
    err = _error(out)
    assert code == 4415 and err["code"] == "unsupported_media" and fmt in err["message"], err


@pytest.mark.parametrize("fmt", ["flac", "mp4", "ogg"])
def test_random_bytes_are_no_audio_whatever_the_container(server, session, fmt):
    import random

    noise = random.Random(fmt).randbytes(200_000)
    out, code, _ = _exchange(
        server, session["id"], json.dumps({"type": "start", "format": fmt}),
        *[noise[i : i + 20_000] for i in range(0, len(noise), 20_000)], json.dumps({"type": "stop"}),
    )
    err = _error(out)
    assert code == 4415 and err["code"] == "unsupported_media" and fmt in err["message"], (fmt, err)


def test_short_undecodable_stream_is_rejected_at_stop(server, session):
    out, code, _ = _exchange(
        server, session["id"], json.dumps({"type": "start", "format": "ogg"}), b"junk" * 100, json.dumps({"type": "stop"})
    )
    assert code == 4415 and "ogg" in _error(out)["message"]
    with httpx.Client(base_url=server.base) as c:
        assert c.get(f"/v1/sessions/{session['id']}").json()["status"] == "paused"


def test_nan_float_pcm_is_rejected(server, session):
    import numpy as np

    out, code, _ = _exchange(
        server, session["id"], json.dumps({**START, "format": "pcm_f32le"}), np.full(1600, np.nan, "<f4").tobytes()
    )
    assert code == 4415 and "NaN" in _error(out)["message"]


def test_second_start_on_a_live_socket_is_rejected(server, session):
    out, code, _ = _exchange(server, session["id"], json.dumps(START), json.dumps(START))
    assert code == 4400 and "already started" in _error(out)["message"]


def test_second_audio_socket_on_a_live_session_is_rejected(server, session, librivox):
    """The first socket is sending audio: a second one for the same track is a 4409 (after
    ``reattach_wait_s``, in case the first had gone), and the first is not disturbed."""
    audio = pcm16(librivox[4].audio)
    with connect(f"{server.ws}/v1/sessions/{session['id']}/audio") as first:
        first.send(json.dumps(START))
        assert json.loads(first.recv(timeout=30))["type"] == "ready"
        sending = threading.Event()

        def send_in_real_time():
            for i in range(0, len(audio), 3200):
                first.send(audio[i : i + 3200])
                sending.set()
                time.sleep(0.1)

        sender = threading.Thread(target=send_in_real_time)
        sender.start()
        sending.wait(10)
        out, code, _ = _exchange(server, session["id"], json.dumps(START))
        assert code == 4409 and "already has a live audio socket that is sending audio" in _error(out)["message"]
        sender.join()
        first.send(json.dumps({"type": "stop"}))
        received = []
        try:
            while True:
                received.append(json.loads(first.recv(timeout=60)))
        except ConnectionClosed:
            pass
    assert received[-1]["type"] == "session.ended"  # the first socket was not disturbed
    assert wer(librivox[4].text, " ".join(m["text"] for m in received if m.get("status") == "final")) < 0.3


def test_ended_session_refuses_more_audio(server, session, librivox):
    stream(server, session["id"], pcm16(librivox[4].audio))
    out, code, _ = _exchange(server, session["id"], json.dumps(START))
    assert code == 4409 and "has ended" in _error(out)["message"]


def test_bad_client_does_not_disturb_another_session(server, librivox):
    audio, reference = conversation(librivox[:2])
    good = server.create_session(title="good")
    result = {}
    t = threading.Thread(target=lambda: result.update(r=stream(server, good["id"], pcm16(audio), pace=0.02)))
    t.start()
    for _ in range(5):
        bad = server.create_session(title="bad")
        _exchange(
            server, bad["id"], json.dumps({"type": "start", "format": "webm"}), b"\x1a\x45garbage" * 1000,
            json.dumps({"type": "stop"}),
        )
        _exchange(server, bad["id"], "{{{")
    t.join()
    assert result["r"].close_code == 1000
    assert wer(reference, result["r"].text) <= 0.2


def test_rest_errors_are_json_with_reasons(server):
    with httpx.Client(base_url=server.base) as c:
        r = c.get("/v1/sessions/does-not-exist")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = c.post("/v1/sessions", json={"language": "xx"})
        assert r.status_code == 422 and "supported: af, am" in r.json()["error"]["message"]
        r = c.post("/v1/sessions", json={"targets": ["xx"]})
        error = r.json()["error"]
        assert r.status_code == 422 and error["code"] == "unsupported_language"
        assert "['xx']" in error["message"] and "es" in error["message"]  # lists what is supported
        r = c.post("/v1/sessions", content=b"{oops", headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
        r = c.post("/v1/sessions", json={"title": "x" * 301})
        assert r.status_code == 422 and "title" in r.json()["error"]["message"]
        r = c.get("/v1/sessions?limit=0")
        assert r.status_code == 422 and "limit" in r.json()["error"]["message"]
        r = c.delete("/v1/sessions/does-not-exist")
        assert r.status_code == 404
        r = c.get("/v1/nowhere")
        assert r.status_code == 404 and "error" in r.json()


def test_a_target_equal_to_the_spoken_language_is_refused(server):
    with httpx.Client(base_url=server.base) as c:
        for body in ({"language": "en", "targets": ["en"]}, {"language": "EN", "targets": ["es", " en"]}):
            r = c.post("/v1/sessions", json=body)
            error = r.json()["error"]
            assert r.status_code == 422 and error["code"] == "unsupported_language", r.text
            assert "'en' is the spoken language" in error["message"] and "es" in error["message"]  # what it could be
        session = server.create_session(language="en", targets=["es"])
        r = c.patch(f"/v1/sessions/{session['id']}", json={"targets": ["es", "EN"]})
        assert r.status_code == 422 and "'en' is the spoken language" in r.json()["error"]["message"]
        assert c.get(f"/v1/sessions/{session['id']}").json()["targets"] == ["es"]  # nothing changed
        r = c.patch("/v1/settings", json={"language": "en", "targets": ["en"]})
        assert r.status_code == 422 and "'en' is the spoken language" in r.json()["error"]["message"]
        # detecting: a target may be one of the spoken languages (its segments are not translated)
        r = c.post("/v1/sessions", json={"language": None, "languages": ["es", "en"], "targets": ["en"]})
        assert r.status_code == 201 and r.json()["targets"] == ["en"], r.text


def test_a_target_named_twice_is_refused(server):
    with httpx.Client(base_url=server.base) as c:
        r = c.post("/v1/sessions", json={"language": "en", "targets": ["es", "fr", "ES"]})
        error = r.json()["error"]
        assert r.status_code == 422 and "es twice" in error["message"], r.text
        session = server.create_session(language="en", targets=["fr"])
        r = c.patch(f"/v1/sessions/{session['id']}", json={"targets": ["es", "es"]})
        assert r.status_code == 422 and "es twice" in r.json()["error"]["message"]
        assert c.get(f"/v1/sessions/{session['id']}").json()["targets"] == ["fr"]


def test_an_overlong_language_code_is_refused(server):
    with httpx.Client(base_url=server.base) as c:
        r = c.post("/v1/sessions", json={"language": "e" * 500})
        assert r.status_code == 422 and "language" in r.json()["error"]["message"]
        assert "e" * 100 not in r.json()["error"]["message"]
