"""A client whose connection dropped, froze or went quiet: it re-attaches at once, a frozen
one is taken over, a silent one is closed and its session paused; nothing it sent is lost."""

from __future__ import annotations

import json
import socket
import time

import httpx
from websockets.sync.client import connect

from tests.conftest import drain, pcm16, wer

START = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}


def _send(ws, audio: bytes, pace: float = 0.02) -> None:
    for i in range(0, len(audio), 3200):
        ws.send(audio[i : i + 3200])
        time.sleep(pace)


def _rest(ws) -> tuple[list[dict], int | None, str | None]:
    out = drain(ws, timeout=60)
    return out, ws.close_code, ws.close_reason


def test_a_dropped_client_re_attaches_on_the_first_try_and_keeps_its_timeline(server, librivox):
    sid = server.create_session(title="drop")["id"]
    first, second = pcm16(librivox[0].audio), pcm16(librivox[1].audio)
    ws = connect(f"{server.ws}/v1/sessions/{sid}/audio")
    ws.send(json.dumps(START))
    assert json.loads(ws.recv(timeout=30))["type"] == "ready"
    _send(ws, first)
    ws.socket.shutdown(socket.SHUT_RDWR)  # the network is gone: no close frame, no stop
    ws.socket.close()
    started = time.monotonic()
    with connect(f"{server.ws}/v1/sessions/{sid}/audio") as again:
        again.send(json.dumps(START))
        ready = json.loads(again.recv(timeout=30))
        waited = time.monotonic() - started
        assert ready["type"] == "ready", ready  # the first try, not a 4409
        _send(again, second)
        again.send(json.dumps({"type": "stop"}))
        events, code, _ = _rest(again)
    assert waited < 2.0, waited  # bench/abuse_bench.py measures it: target 0.5 s
    assert ready["audio_offset"] >= len(first) / 32000 - 0.05  # after what the dropped socket sent
    assert code == 1000 and events[-1]["type"] == "session.ended"
    stored = httpx.get(f"{server.base}/v1/sessions/{sid}/transcript").json()["segments"]
    assert wer(librivox[0].text + " " + librivox[1].text, " ".join(s["text"] for s in stored)) < 0.2


def test_a_frozen_client_is_taken_over_by_its_new_connection(server, librivox):
    sid = server.create_session(title="frozen")["id"]
    frozen = connect(f"{server.ws}/v1/sessions/{sid}/audio")
    frozen.send(json.dumps(START))
    assert json.loads(frozen.recv(timeout=30))["type"] == "ready"
    _send(frozen, pcm16(librivox[2].audio), pace=0.1)  # real time; then nothing: the laptop slept, TCP still open
    started = time.monotonic()
    with connect(f"{server.ws}/v1/sessions/{sid}/audio") as again:
        again.send(json.dumps(START))
        ready = json.loads(again.recv(timeout=30))
        waited = time.monotonic() - started
        again.send(json.dumps({"type": "stop"}))
        _rest(again)
    old, code, reason = _rest(frozen)
    assert ready["type"] == "ready" and waited < 4.0, (ready, waited)  # takeover_after_s (2 s) of quiet
    assert code == 1001 and "took this track over" in reason
    stored = httpx.get(f"{server.base}/v1/sessions/{sid}/transcript").json()["segments"]
    # what it sent is kept: finals up to its last word, and its words (tiny.en, greedy as live
    # finals are, writes this clip's "ill disposed" as "old-sposed" from the file too: WER 0.14;
    # live it was once "old-a-sposed", 0.21)
    assert stored and stored[-1]["end"] >= librivox[2].audio.size / 16000 - 0.2, stored
    assert wer(librivox[2].text, " ".join(s["text"] for s in stored)) < 0.25


def test_a_socket_that_sends_nothing_is_closed_and_its_session_paused(server):
    sid = server.create_session(title="idle")["id"]
    with connect(f"{server.ws}/v1/sessions/{sid}/audio") as ws:
        ws.send(json.dumps(START))
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        started = time.monotonic()
        out, code, _ = _rest(ws)
    waited = time.monotonic() - started
    errors = [m for m in out if m["type"] == "error"]
    assert code == 4408 and errors and errors[0]["code"] == "idle" and 9 < waited < 14, (code, out, waited)
    assert httpx.get(f"{server.base}/v1/sessions/{sid}").json()["status"] == "paused"


def test_a_bad_speakers_message_leaves_the_audio_going(server, librivox):
    sid = server.create_session(title="bad speakers")["id"]
    with connect(f"{server.ws}/v1/sessions/{sid}/audio") as ws:
        ws.send(json.dumps(START))
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        ws.send(json.dumps({"type": "speakers", "events": [{"kind": "nope"}]}))
        _send(ws, pcm16(librivox[3].audio))
        ws.send(json.dumps({"type": "stop"}))
        out, code, _ = _rest(ws)
    errors = [m for m in out if m["type"] == "error"]
    assert len(errors) == 1 and errors[0]["close_code"] is None and code == 1000
    assert out[-1]["type"] == "session.ended"


def test_a_start_with_strings_for_numbers_is_refused(server):
    sid = server.create_session(title="strict")["id"]
    for bad in ({"sample_rate": "16000"}, {"channels": True}):
        with connect(f"{server.ws}/v1/sessions/{sid}/audio") as ws:
            ws.send(json.dumps({**START, **bad}))
            out, code, _ = _rest(ws)
        assert code == 4400 and out[0]["type"] == "error", (bad, out)


def test_a_title_with_nul_or_a_line_break_is_refused(server):
    with server.client() as c:
        for title in ("a\x00b", "two\nlines"):
            r = c.post("/v1/sessions", json={"title": title})
            assert r.status_code == 422 and "one line" in r.json()["error"]["message"], r.text
        sid = c.post("/v1/sessions", json={"title": "fine"}).json()["id"]
        assert c.patch(f"/v1/sessions/{sid}", json={"title": "x\x00"}).status_code == 422
        assert c.get(f"/v1/sessions/{sid}").json()["title"] == "fine"
