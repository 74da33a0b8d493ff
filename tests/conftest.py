"""Shared harness: real speech, a real server process, and WebSocket helpers."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
# the multilingual model is assembled from its PyPI halves once, not once per test server
os.environ.setdefault("LIVETRANSLATE_MODELS_DIR", str(Path(__file__).resolve().parent.parent / "data" / "test-models"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@dataclass
class Clip:
    name: str
    audio: np.ndarray  # 16 kHz mono float32
    text: str


def normalize(text: str) -> str:
    """Lower case, words only (for WER): 'Mr.' → 'mister', hyphens split."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"\bmr\b\.?", "mister", text)
    text = re.sub(r"\bmrs\b\.?", "missus", text)
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(normalize(reference), normalize(hypothesis))


@pytest.fixture(scope="session")
def librivox() -> list[Clip]:
    """Five real recordings (LibriVox, Debian's pocketsphinx-testdata) with their transcripts."""
    if not (LIBRIVOX / "transcription").is_file():
        pytest.fail("pocketsphinx-testdata is missing: run `make test` (it installs the test packages)")
    return librivox_clips()


def librivox_clips() -> list[Clip]:
    from livetranslate.audio import decode_file

    clips = []
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        m = re.match(r"<s> (.*) </s> \((.*)\)", line.strip())
        if m:
            clips.append(Clip(m.group(2), decode_file(LIBRIVOX / f"{m.group(2)}.wav"), m.group(1)))
    return clips


SENTENCES = [
    "Good morning everyone, let's start with the quarterly numbers.",
    "Can you share your screen please?",
    "I think we should move the deadline to next Friday.",
    "The budget was approved yesterday by the board.",
]


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> list[Clip]:
    """Meeting sentences spoken by espeak-ng."""
    from livetranslate.audio import decode_file

    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: run `make test` (it installs the test packages)")
    out = tmp_path_factory.mktemp("espeak")
    clips = []
    for i, text in enumerate(SENTENCES):
        path = out / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), text], check=True)
        clips.append(Clip(f"s{i}", decode_file(path), text))
    return clips


FOREIGN = {
    "es": [
        "Buenos días a todos. Hoy vamos a revisar el presupuesto del próximo trimestre.",
        "Necesitamos terminar el informe antes del viernes.",
    ],
    "de": [
        "Guten Morgen zusammen. Heute besprechen wir das Budget für das nächste Quartal.",
        "Wir müssen den Bericht bis Freitag fertig machen.",
    ],
}


@pytest.fixture(scope="session")
def foreign(tmp_path_factory) -> dict[str, list[Clip]]:
    """Spanish and German meeting sentences spoken by espeak-ng's voices for those languages."""
    from livetranslate.audio import decode_file

    out = tmp_path_factory.mktemp("espeak-foreign")
    clips: dict[str, list[Clip]] = {}
    for lang, sentences in FOREIGN.items():
        for i, text in enumerate(sentences):
            path = out / f"{lang}{i}.wav"
            subprocess.run(["espeak-ng", "-v", lang, "-s", "140", "-w", str(path), text], check=True)
            clips.setdefault(lang, []).append(Clip(f"{lang}{i}", decode_file(path), text))
    return clips


def conversation(clips: list[Clip], gap_s: float = 1.2) -> tuple[np.ndarray, str]:
    """Clips joined by silence: a multi-utterance stream and its reference text."""
    gap = np.zeros(int(gap_s * 16000), dtype=np.float32)
    parts = [gap[:8000]]
    for c in clips:
        parts += [c.audio, gap]
    return np.concatenate(parts), " ".join(c.text for c in clips)


def pcm16(audio: np.ndarray) -> bytes:
    from livetranslate.audio import to_pcm16

    return to_pcm16(audio)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base: str
    data_dir: Path
    process: subprocess.Popen
    env: dict = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=60)

    def create_session(self, **body) -> dict:
        with self.client() as c:
            r = c.post("/v1/sessions", json=body)
            assert r.status_code == 201, r.text
            return r.json()


def start_server(data_dir: Path, wait_ready: bool = True, port: int | None = None, **env_overrides: str) -> Server:
    """Start ``livetranslate serve`` on ``port`` (default: a free one); wait until ready (or only live)."""
    port = port or _free_port()
    env = {
        **os.environ,
        "LIVETRANSLATE_DATA_DIR": str(data_dir),
        "LIVETRANSLATE_PORT": str(port),
        "LIVETRANSLATE_HOST": "127.0.0.1",
        # LT_TEST_SERVER_LOG=debug puts every frame in each test server's server.log
        "LIVETRANSLATE_LOG_LEVEL": os.environ.get("LT_TEST_SERVER_LOG", "warning"),
        **env_overrides,
    }
    log = open(data_dir / "server.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "livetranslate", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(data_dir / 'server.log').read_text()[-3000:]}")
        try:
            if httpx.get(base + ("/health/ready" if wait_ready else "/health/live"), timeout=2).status_code == 200:
                return Server(base, data_dir, proc, env)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become ready in 120 s")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(30)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    srv = start_server(tmp_path_factory.mktemp("server"))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def playwright():
    """Playwright for Python, to drive Debian's Chromium (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@dataclass
class StreamResult:
    events: list[dict]
    messages: list[dict]  # everything received, connection messages included
    close_code: int | None
    close_reason: str | None

    @property
    def finals(self) -> list[dict]:
        return [e for e in self.events if e["type"] == "segment" and e["status"] == "final" and e["text"]]

    @property
    def text(self) -> str:
        return " ".join(e["text"] for e in self.finals)


def stream(
    server: Server,
    session_id: str,
    payload: bytes,
    *,
    start: dict | None = None,
    chunk_bytes: int = 3200,
    pace: float | None = None,
    stop: bool = True,
) -> StreamResult:
    """Send audio on the audio socket and collect everything the server sends back.

    ``pace``: seconds to sleep per chunk (None: as fast as possible)."""
    from websockets.sync.client import connect

    messages: list[dict] = []
    start = start or {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}
    with connect(f"{server.ws}/v1/sessions/{session_id}/audio", max_size=None, open_timeout=30) as ws:
        ws.send(json.dumps(start))
        for i in range(0, len(payload), chunk_bytes):
            ws.send(payload[i : i + chunk_bytes])
            if pace:
                time.sleep(pace)
        if not stop:  # drop the connection, as a client whose network fails does
            return StreamResult([m for m in messages if "seq" in m], messages, None, None)
        ws.send(json.dumps({"type": "stop"}))
        messages += drain(ws)
        code, reason = ws.close_code, ws.close_reason
    events = [m for m in messages if "seq" in m]
    return StreamResult(events, messages, code, reason)


def drain(ws, timeout: float = 120) -> list[dict]:
    """Every message until the server closes the socket (after ``stop``: finals, then session.ended)."""
    from websockets.exceptions import ConnectionClosed

    out = []
    try:
        while True:
            out.append(json.loads(ws.recv(timeout=timeout)))
    except ConnectionClosed:
        pass
    return out


def exchange(url: str, frames: list, idle: float = 60) -> tuple[list[dict], int | None, str]:
    """Open a socket, send ``frames`` (str: text, bytes: binary) and read until the server
    closes: what came back, the close code and reason; code None when the server said nothing
    for ``idle`` seconds and kept the socket open (the client then leaves, as a client would)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    out = []
    with connect(url, max_size=None, open_timeout=30) as ws:
        try:
            for f in frames:
                ws.send(f)
        except ConnectionClosed:
            pass  # closed while we sent: what it said before is still to be read
        try:
            while True:
                out.append(json.loads(ws.recv(timeout=idle)))
        except ConnectionClosed:
            return out, ws.close_code, ws.close_reason
        except TimeoutError:
            return out, None, ""


def read_events(server: Server, session_id: str, after_seq: int = 0, timeout: float = 30) -> tuple[list[dict], int | None]:
    """Read the events socket until the server closes it (after session.ended) or ``timeout``
    passes with nothing new."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    out = []
    with connect(f"{server.ws}/v1/sessions/{session_id}/events?after_seq={after_seq}", max_size=None) as ws:
        try:
            while True:
                out.append(json.loads(ws.recv(timeout=timeout)))
        except (ConnectionClosed, TimeoutError):
            pass
        return out, ws.close_code


def encode(audio: np.ndarray, fmt: str, rate: int = 48000, channels: int = 2) -> bytes:
    """Encode 16 kHz mono audio as a browser or file would send it (PyAV): webm/opus, ogg/opus,
    mp3, wav — at ``rate`` Hz with ``channels`` channels, so the server must resample and downmix."""
    import io

    import av

    codec, container_fmt = {
        "webm": ("libopus", "webm"),
        "ogg": ("libopus", "ogg"),
        "mp3": ("libmp3lame", "mp3"),
        "wav": ("pcm_s16le", "wav"),
        "flac": ("flac", "flac"),
    }[fmt]
    buf = io.BytesIO()
    layout = "stereo" if channels == 2 else "mono"
    with av.open(buf, mode="w", format=container_fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate)
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = 16000
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
