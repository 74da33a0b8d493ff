"""A server killed mid-sentence (SIGKILL) loses no received audio and no speech: at restart
the audio after the last stored final is transcribed; a stopped one (SIGTERM) sends its live
clients their last finals before it closes their sockets."""

from __future__ import annotations

import json
import signal
import time

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import drain, pcm16, start_server, stop_server, wer

START = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}


def _sent(librivox) -> tuple[np.ndarray, str]:
    """A whole sentence, then 70 % of the next one: the kill falls mid-utterance."""
    second = librivox[1].audio[: int(librivox[1].audio.size * 0.7)]
    return np.concatenate([np.zeros(8000, np.float32), librivox[0].audio, np.zeros(12800, np.float32), second]), \
        librivox[0].text


@pytest.mark.parametrize("after_s", [0.3, 1.5])
def test_sigkill_mid_utterance_loses_no_speech(tmp_path, librivox, after_s):
    audio, first_text = _sent(librivox)
    srv = start_server(tmp_path)
    sid = srv.create_session(title="killed")["id"]
    ws = connect(f"{srv.ws}/v1/sessions/{sid}/audio")
    ws.send(json.dumps(START))
    data = pcm16(audio)
    for i in range(0, len(data), 3200):
        ws.send(data[i : i + 3200])
        time.sleep(0.01)
    time.sleep(after_s)  # the server has read it all; its last utterance is still open
    srv.process.send_signal(signal.SIGKILL)
    srv.process.wait(30)
    ws.close()
    srv = start_server(tmp_path)
    try:
        row = httpx.get(f"{srv.base}/v1/sessions/{sid}").json()
        segments = httpx.get(f"{srv.base}/v1/sessions/{sid}/transcript").json()["segments"]
        sent_s = audio.size / 16000
        assert row["status"] == "paused" and abs(row["audio_seconds"] - sent_s) <= 0.02, (row, sent_s)
        assert segments and segments[-1]["end"] >= sent_s - 0.5, segments[-1]  # the cut sentence is there
        words = librivox[1].text.split()
        said = first_text + " " + " ".join(words[: round(len(words) * 0.7)])  # about what was sent
        assert wer(said, " ".join(s["text"] for s in segments)) < 0.35
        with connect(f"{srv.ws}/v1/sessions/{sid}/audio") as again:  # and it goes on where the audio ended
            again.send(json.dumps(START))
            assert abs(json.loads(again.recv(timeout=30))["audio_offset"] - sent_s) <= 0.02
    finally:
        stop_server(srv)


def test_sigterm_sends_the_last_finals_before_the_close(tmp_path, librivox):
    """The client is still streaming when the server is told to stop."""
    import threading

    srv = start_server(tmp_path)
    sid = srv.create_session(title="stopped")["id"]
    ws = connect(f"{srv.ws}/v1/sessions/{sid}/audio")
    ws.send(json.dumps(START))
    data = pcm16(librivox[0].audio)
    for i in range(0, len(data), 3200):
        ws.send(data[i : i + 3200])

    def keep_sending():  # silence at real time, until the server closes the socket
        try:
            while True:
                ws.send(b"\0" * 3200)
                time.sleep(0.1)
        except ConnectionClosed:
            pass

    sender = threading.Thread(target=keep_sending, daemon=True)
    sender.start()
    time.sleep(0.5)
    srv.process.send_signal(signal.SIGTERM)
    got = drain(ws, timeout=60)
    srv.process.wait(60)
    finals = [m for m in got if m.get("type") == "segment" and m["status"] == "final" and m["text"]]
    assert ws.close_code == 1001, (ws.close_code, ws.close_reason)
    assert finals and wer(librivox[0].text, " ".join(f["text"] for f in finals)) < 0.2
    srv = start_server(tmp_path)
    try:  # every final the client got is stored, and the session waits, paused
        stored = httpx.get(f"{srv.base}/v1/sessions/{sid}/transcript").json()["segments"]
        assert [s["text"] for s in stored] == [f["text"] for f in finals]
        assert httpx.get(f"{srv.base}/v1/sessions/{sid}").json()["status"] == "paused"
    finally:
        stop_server(srv)


def test_sigkill_without_a_recording_still_restarts_and_pauses(tmp_path, librivox):
    """``store_audio`` off: nothing to transcribe after the last final, and nothing in the way."""
    srv = start_server(tmp_path, LIVETRANSLATE_STORE_AUDIO="false")
    sid = srv.create_session(title="unrecorded")["id"]
    ws = connect(f"{srv.ws}/v1/sessions/{sid}/audio")
    ws.send(json.dumps(START))
    ws.send(pcm16(librivox[2].audio))
    time.sleep(0.5)
    srv.process.send_signal(signal.SIGKILL)
    srv.process.wait(30)
    ws.close()
    srv = start_server(tmp_path, LIVETRANSLATE_STORE_AUDIO="false")
    try:
        assert httpx.get(f"{srv.base}/v1/sessions/{sid}").json()["status"] == "paused"
    finally:
        stop_server(srv)
