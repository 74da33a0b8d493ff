"""POST /v1/sessions/{id}/end: a paused session (its socket gone) or a live one (its socket
still open) ends with every final stored; an ended one is 409, an unknown one 404."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import normalize, pcm16, read_events, stream, wer

START = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}


def _stored_text(server, session_id) -> str:
    with server.client() as c:
        return " ".join(s["text"] for s in c.get(f"/v1/sessions/{session_id}/transcript").json()["segments"])


def test_end_a_paused_session_keeps_its_finals_and_tells_its_readers(server, librivox):
    session = server.create_session(title="left paused")
    stream(server, session["id"], pcm16(librivox[1].audio), chunk_bytes=32000, stop=False)  # the tab went away
    with server.client() as c:
        # the socket's finals are published when the server notices it is gone
        events, _ = read_events(server, session["id"], timeout=10)
        assert c.get(f"/v1/sessions/{session['id']}").json()["status"] == "paused"
        r = c.post(f"/v1/sessions/{session['id']}/end")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ended" and r.json()["ended_at"] is not None
    assert wer(librivox[1].text, _stored_text(server, session["id"])) < 0.3
    events, code = read_events(server, session["id"], timeout=10)
    assert events[-1]["type"] == "session.ended" and events[-1]["reason"] == "ended" and code == 1000


def test_end_a_live_session_finishes_its_socket_as_stop_would(server, librivox):
    session = server.create_session(title="still live")
    with connect(f"{server.ws}/v1/sessions/{session['id']}/audio", max_size=None) as ws:
        ws.send(json.dumps(START))
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        speech = pcm16(librivox[4].audio)
        for i in range(0, len(speech), 32000):
            ws.send(speech[i : i + 32000])
        with server.client() as c:
            r = c.post(f"/v1/sessions/{session['id']}/end")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ended" and r.json()["audio_seconds"] == pytest.approx(len(librivox[4].audio) / 16000, abs=0.05)
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=30)
        assert ws.close_code == 1001 and ws.close_reason == "session ended"
    assert wer(librivox[4].text, _stored_text(server, session["id"])) < 0.3  # the audio sent before End is all there
    events, _ = read_events(server, session["id"], timeout=10)
    assert [e["type"] for e in events].count("session.ended") == 1


def test_end_an_ended_session_is_a_conflict_and_an_unknown_one_not_found(server):
    session = server.create_session(title="twice")
    with server.client() as c:
        assert c.post(f"/v1/sessions/{session['id']}/end").json()["status"] == "ended"  # a new session may end too
        again = c.post(f"/v1/sessions/{session['id']}/end")
        assert again.status_code == 409 and "already ended" in again.json()["error"]["message"]
        missing = c.post("/v1/sessions/nope/end")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_audio_sent_by_a_client_gone_before_its_ready_is_kept(server, librivox):
    """A client sends its start, its audio and its close in one write, and hangs up once the
    server has answered the close. The server reads all of it in one go, so its ready, sent
    after that, goes nowhere; the audio it had received is still transcribed (before, the failed
    send dropped every frame unread). Under load the dashboard's pause button did this."""
    import socket

    from websockets.client import ClientProtocol
    from websockets.frames import Close, CloseCode, Frame, Opcode
    from websockets.uri import parse_uri

    session = server.create_session(title="gone before ready")
    port = int(server.base.rsplit(":", 1)[1])
    proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/v1/sessions/{session['id']}/audio"))
    proto.send_request(proto.connect())
    audio = librivox[1].audio[: 16000 * 3 // 2]  # small enough for one read by the server
    frames = [Frame(Opcode.TEXT, json.dumps(START).encode()), Frame(Opcode.BINARY, pcm16(audio)),
              Frame(Opcode.CLOSE, Close(CloseCode.GOING_AWAY, "").serialize())]
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"".join(proto.data_to_send()))
        while proto.state.name == "CONNECTING":
            proto.receive_data(sock.recv(65536))
        assert proto.handshake_exc is None and len(proto.events_received()) == 1  # the 101
        sock.sendall(b"".join(f.serialize(mask=True, extensions=[]) for f in frames))
        proto.receive_data(b"".join(iter(lambda: sock.recv(65536), b"")))  # until the server hangs up
    assert [e.opcode for e in proto.events_received()] == [Opcode.CLOSE]  # no ready before it
    with connect(f"{server.ws}/v1/sessions/{session['id']}/events") as ws:
        while (event := json.loads(ws.recv(timeout=60))).get("status") != "paused":
            pass
    assert event["audio_seconds"] == pytest.approx(audio.size / 16000, abs=0.01)
    heard = normalize(_stored_text(server, session["id"])).split()
    assert heard and set(heard) <= set(normalize(librivox[1].text).split()), heard
