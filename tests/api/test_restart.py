"""Nothing accepted is lost when the server stops: gracefully (SIGTERM) or not (SIGKILL)."""

from __future__ import annotations

import json
import signal
import time

from websockets.sync.client import connect

from tests.conftest import pcm16, read_events, start_server, stop_server, wer

START = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}


def _send_and_leave_open(server, session_id, audio):
    ws = connect(f"{server.ws}/v1/sessions/{session_id}/audio", max_size=None)
    ws.send(json.dumps(START))
    data = pcm16(audio)
    for i in range(0, len(data), 16000):
        ws.send(data[i : i + 16000])
    return ws


def _interrupt_and_restart(tmp_path, audio, sig: signal.Signals):
    """Stream ``audio`` on a socket left open, stop the server with ``sig``, start it again on
    the same data; return the new server, the session and its row as the new server sees it."""
    srv = start_server(tmp_path)
    s = srv.create_session(title=sig.name)
    ws = _send_and_leave_open(srv, s["id"], audio)
    time.sleep(1.0)  # the server has the audio
    srv.process.send_signal(sig)
    srv.process.wait(60)
    ws.close()
    srv = start_server(tmp_path)
    with srv.client() as c:
        row = c.get(f"/v1/sessions/{s['id']}").json()
    return srv, s, row


def test_sigterm_finishes_live_sessions_and_a_restart_finds_them_paused(tmp_path, librivox):
    srv, s, row = _interrupt_and_restart(tmp_path, librivox[0].audio, signal.SIGTERM)
    try:
        assert row["status"] == "paused"
        assert row["audio_seconds"] == round(len(librivox[0].audio) / 16000, 3)
        events, _ = read_events(srv, s["id"], timeout=3)
        text = " ".join(e["text"] for e in events if e.get("status") == "final")
        assert wer(librivox[0].text, text) <= 0.15, text
    finally:
        stop_server(srv)


def test_sigkill_leaves_sessions_recoverable_on_restart(tmp_path, librivox):
    srv, s, row = _interrupt_and_restart(tmp_path, librivox[1].audio, signal.SIGKILL)
    try:
        assert row["status"] == "paused"
        # the timeline continues after the audio kept on disk
        assert row["audio_seconds"] == round(len(librivox[1].audio) / 16000, 3)
        events, _ = read_events(srv, s["id"], timeout=3)
        assert events[0]["status"] == "live" and events[-1]["status"] == "paused"
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        # and it can go on
        with connect(f"{srv.ws}/v1/sessions/{s['id']}/audio") as ws2:
            ws2.send(json.dumps(START))
            ready = json.loads(ws2.recv(timeout=30))
        assert ready["audio_offset"] == row["audio_seconds"]
    finally:
        stop_server(srv)
