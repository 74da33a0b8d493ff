"""Clients that do not read what the server sends: a stalled events reader is cut off with
4408 and told where to resume; a sender that reads nothing back streams for as long as it
likes. Real server, real TCP, the websockets client library as users run it."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import numpy as np
import pytest

from livetranslate.events import WarningEvent
from livetranslate.settings import Settings
from livetranslate.store import Database, crud
from tests.conftest import pcm16, wer


def _store_events(server, session_id: str, n: int, size: int) -> None:
    """Give a session ``n`` stored events of about ``size`` bytes (the server's own store code)."""
    db = Database(Settings(data_dir=server.data_dir).database_url)
    try:
        with db.session() as s:
            for i in range(n):
                crud.append_event(s, session_id=session_id, event=WarningEvent(code="note", message=f"{i} " + "x" * size))
    finally:
        db.dispose()


def _errors(server, code: str) -> float:
    for line in httpx.get(server.base + "/metrics").text.splitlines():
        if line.startswith("livetranslate_client_errors_total{") and f'code="{code}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class _RawReader:
    """A WebSocket client that reads only when told to: websockets' own sans-I/O protocol over a
    plain socket with a small receive buffer (a client library would keep reading into memory)."""

    def __init__(self, port: int, path: str) -> None:
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        self.sock = socket.socket()
        # small before connecting, so the window the server sees is the buffer's (shrunk after the
        # handshake, the server would send into a window that is not there, and TCP back off)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        self.proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}{path}"))
        self.proto.send_request(self.proto.connect())
        self.sock.sendall(b"".join(self.proto.data_to_send()))

    def send(self, message: str | bytes) -> None:
        from websockets.protocol import State

        while self.proto.state is State.CONNECTING:  # the handshake's answer first
            self.proto.receive_data(self.sock.recv(4096))
        if isinstance(message, str):
            self.proto.send_text(message.encode())
        else:
            self.proto.send_binary(message)
        self.sock.sendall(b"".join(self.proto.data_to_send()))

    def read_all(self, timeout: float = 30) -> tuple[list[dict], int | None, str]:
        """Everything until the server closes: the messages, the close code and reason."""
        from websockets.frames import Close, Opcode

        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)  # reading in earnest now
        self.sock.settimeout(timeout)
        messages, close = [], None
        while close is None:
            data = self.sock.recv(1 << 16)
            if not data:
                break
            self.proto.receive_data(data)
            for event in self.proto.events_received():
                if getattr(event, "opcode", None) is Opcode.TEXT:
                    messages.append(json.loads(event.data))
                elif getattr(event, "opcode", None) is Opcode.CLOSE:
                    close = Close.parse(event.data)
            self.sock.sendall(b"".join(self.proto.data_to_send()))  # pongs, the close reply
        self.sock.close()
        return messages, close.code if close else None, close.reason if close else ""


def test_an_events_reader_that_stops_reading_is_cut_off_with_4408_and_where_to_resume(server):
    sid = httpx.post(server.base + "/v1/sessions", json={"title": "slow reader"}).json()["id"]
    _store_events(server, sid, 4000, 2000)  # 8 MB: more than the socket buffers hold
    before = _errors(server, "slow_reader")
    reader = _RawReader(server.port, f"/v1/sessions/{sid}/events?after_seq=0")
    started, cut_at = time.monotonic(), None
    while time.monotonic() - started < 9:  # read nothing; watch the server give up
        if cut_at is None and _errors(server, "slow_reader") > before:
            cut_at = time.monotonic() - started
        time.sleep(0.25)
    got, code, reason = reader.read_all()
    assert cut_at is not None and cut_at < 8.0, cut_at  # 5 s without a send going out, and a little slack
    events, error = got[:-1], got[-1]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) < 4000  # gap-free up to the cut
    assert error["type"] == "error" and error["code"] == "slow_reader" and error["close_code"] == 4408
    assert f"after_seq={seqs[-1]}" in error["message"] and code == 4408 and f"after_seq={seqs[-1]}" in reason

    async def resume():
        import websockets

        url = f"ws://127.0.0.1:{server.port}/v1/sessions/{sid}/events?after_seq={seqs[-1]}"
        async with websockets.connect(url, max_size=None) as ws:
            return json.loads(await ws.recv())

    assert asyncio.run(resume())["seq"] == seqs[-1] + 1  # nothing lost, nothing twice


def test_an_audio_sender_that_reads_nothing_keeps_its_audio_going_and_is_told_where_to_resume(server, librivox):
    """A bot that streams, sends malformed meeting events (each refused with an error notice)
    and never reads: once its socket is full the server sends it nothing more but one error
    saying after which seq to read, and its audio, its stop and its session's end go on as if
    it read. Before, each notice was sent inline and blocked the audio for up to a minute."""
    sid = httpx.post(server.base + "/v1/sessions", json={"title": "unread bot"}).json()["id"]
    before = _errors(server, "slow_reader")
    client = _RawReader(server.port, f"/v1/sessions/{sid}/audio")
    client.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
    gap = np.zeros(16000, np.float32)
    audio = np.concatenate([part for clip in librivox for part in (clip.audio, gap)])
    data, bad = pcm16(audio), json.dumps({"type": "speakers", "events": [{"kind": "nope"}]})
    chunks = range(0, len(data), 3200)
    for k, i in enumerate(chunks):  # 10x real time, 200 bad events per 0.1 s of audio: ~18 MB of notices
        client.send(data[i : i + 3200])
        for _ in range(200 if k < 400 else 0):
            client.send(bad)
        time.sleep(0.01)
    client.send(json.dumps({"type": "stop"}))
    deadline = time.monotonic() + 90
    while (session := httpx.get(f"{server.base}/v1/sessions/{sid}").json())["status"] != "ended":
        assert time.monotonic() < deadline, session  # the session ends while nothing is read
        time.sleep(0.5)
    assert session["audio_seconds"] >= audio.size / 16000 - 0.05
    while _errors(server, "slow_reader") == before:  # a send blocked for 5 s: cut off
        assert time.monotonic() < deadline
        time.sleep(0.25)
    got, code, _ = client.read_all()
    assert code == 1000 and got[0]["type"] == "ready"
    cut = [m for m in got if m["type"] == "error" and m["code"] == "slow_reader"]
    assert len(cut) == 1 and cut[0]["close_code"] is None and got[-1] is cut[0]  # nothing after it
    notices = [m for m in got if m["type"] == "error" and m["code"] == "invalid_input"]
    assert notices and all(m["close_code"] is None for m in notices)  # refused, the audio went on
    seqs = [m["seq"] for m in got if "seq" in m]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gap-free up to the cut
    assert f"after_seq={seqs[-1]}" in cut[0]["message"]

    async def rest():
        import websockets

        url = f"ws://127.0.0.1:{server.port}/v1/sessions/{sid}/events?after_seq={seqs[-1]}"
        async with websockets.connect(url, max_size=None) as ws:
            return [json.loads(m) async for m in ws]

    rest_events = asyncio.run(rest())
    assert [e["seq"] for e in rest_events] == list(range(seqs[-1] + 1, seqs[-1] + 1 + len(rest_events)))
    assert rest_events[-1]["type"] == "session.ended"
    finals = [m for m in got + rest_events if m["type"] == "segment" and m["status"] == "final"]
    assert wer(" ".join(c.text for c in librivox), " ".join(f["text"] for f in finals)) < 0.15


def _ten_minutes(librivox) -> tuple[np.ndarray, str]:
    gap = np.zeros(16000, np.float32)
    parts, texts, seconds = [], [], 0.0
    while seconds < 600:
        for clip in librivox:
            parts += [clip.audio, gap]
            texts.append(clip.text)
            seconds += clip.audio.size / 16000 + 1
    return np.concatenate(parts), " ".join(texts)


@pytest.mark.timeout(600)
def test_a_sender_that_reads_nothing_streams_ten_minutes_to_a_normal_close(server, librivox):
    """``"events": "none"``: only ``ready`` comes back, so a client that never reads never fills
    its library's queue (websockets stops reading at 16 messages, and then its keepalive fails)."""
    import websockets.sync.client as wsc

    audio, reference = _ten_minutes(librivox)
    sid = httpx.post(server.base + "/v1/sessions", json={"title": "send only"}).json()["id"]
    started = time.monotonic()
    with wsc.connect(f"ws://127.0.0.1:{server.port}/v1/sessions/{sid}/audio") as ws:
        ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "events": "none"}))
        data = pcm16(audio)
        for i in range(0, len(data), 32000):  # 10x real time: a minute of wall time, past any keepalive
            ws.send(data[i : i + 32000])
            time.sleep(0.1)
        ws.send(json.dumps({"type": "stop"}))
        received = list(ws)  # only now does it read
        code = ws.close_code
    elapsed = time.monotonic() - started
    assert elapsed > 45  # longer than the client's keepalive (20 s ping + 20 s timeout)
    assert [json.loads(m)["type"] for m in received] == ["ready"] and code == 1000
    session = httpx.get(f"{server.base}/v1/sessions/{sid}").json()
    assert session["status"] == "ended" and session["audio_seconds"] >= 600
    stored = httpx.get(f"{server.base}/v1/sessions/{sid}/transcript?format=json").json()["segments"]
    assert wer(reference, " ".join(s["text"] for s in stored)) < 0.15
