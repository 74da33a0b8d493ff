"""Streaming servers on 127.0.0.1 for the stream-URL source, made from real speech with PyAV:
an MP3 file, an endless MP3 stream (Icecast-like, at real-time pace) that a test can cut and
restore, an HLS playlist with its segments, a 404, a page that is not audio, and a stream
that stalls after its first bytes."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np

from tests.conftest import encode


def write_hls(audio: np.ndarray, folder: Path, segment_s: float = 2.0) -> Path:
    """An HLS playlist (VOD: it ends) and its AAC segments, written by PyAV's HLS muxer."""
    folder.mkdir(parents=True, exist_ok=True)
    playlist = folder / "index.m3u8"
    with av.open(str(playlist), "w", format="hls", options={"hls_time": str(segment_s), "hls_playlist_type": "vod"}) as out:
        stream = out.add_stream("aac", rate=44100)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = 16000
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=44100)
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return playlist


class Streams:
    """``with Streams(speech, tmp_path) as s: s.url("/live.mp3")``; ``s.cut()`` drops every live
    listener and refuses new ones until ``s.restore()``."""

    def __init__(self, speech: np.ndarray, folder: Path) -> None:
        self.mp3 = encode(speech, "mp3", rate=44100, channels=1)
        self.seconds = speech.size / 16000
        self.hls = write_hls(speech, folder / "hls")
        self.down = threading.Event()
        self.listeners = 0
        self.connections = 0
        streams = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                streams.connections += 1
                path = self.path.split("?")[0]
                if path == "/speech.mp3":
                    self._send(200, "audio/mpeg", streams.mp3)
                elif path == "/live.mp3":
                    self._live()
                elif path.startswith("/hls/"):
                    f = streams.hls.parent / path.removeprefix("/hls/")
                    kind = "application/vnd.apple.mpegurl" if f.suffix == ".m3u8" else "video/mp2t"
                    self._send(200, kind, f.read_bytes()) if f.is_file() else self._send(404, "text/plain", b"no")
                elif path == "/page.html":
                    self._send(200, "text/html", b"<!doctype html><title>hello</title><p>not audio at all</p>" * 50)
                elif path == "/stall.mp3":
                    self.send_response(200)
                    self.send_header("Content-Type", "audio/mpeg")
                    self.end_headers()
                    self.wfile.write(streams.mp3[:8000])
                    self.wfile.flush()
                    time.sleep(60)
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _live(self) -> None:
                """The speech over and over, at real-time pace, with no length: a radio stream."""
                if streams.down.is_set():
                    self._send(503, "text/plain", b"down")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/mpeg")
                self.end_headers()
                rate = len(streams.mp3) / streams.seconds  # bytes per second of audio
                streams.listeners += 1
                try:
                    started, sent = time.monotonic(), 0
                    while not streams.down.is_set():
                        piece = streams.mp3[sent % len(streams.mp3):][:4096]
                        self.wfile.write(piece)
                        sent += len(piece)
                        ahead = sent / rate - (time.monotonic() - started)
                        if ahead > 0.5:
                            time.sleep(ahead - 0.5)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    streams.listeners -= 1

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def cut(self) -> None:
        self.down.set()

    def restore(self) -> None:
        self.down.clear()

    def __enter__(self) -> "Streams":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.down.set()
        self._server.shutdown()
        self._server.server_close()
