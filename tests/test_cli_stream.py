"""``livetranslate stream URL``: captions printed as a stream plays through a running server,
the transcript and its translation written at the end; a URL that fails exits 1 saying why."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import srt

from tests.conftest import wer
from tests.sources.servers import Streams


def _cli(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "livetranslate", *args], capture_output=True, text=True, timeout=timeout)


def test_stream_prints_captions_and_writes_the_transcripts(server, librivox, tmp_path):
    gap = np.zeros(8000, np.float32)
    speech = np.concatenate([gap, librivox[0].audio, gap, librivox[2].audio, gap])
    with Streams(speech, tmp_path) as streams:
        out = tmp_path / "radio.srt"
        r = _cli("stream", streams.url("/speech.mp3"), "--to", "es", "-o", str(out), "--server", server.base)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    captions = [line for line in lines if line.startswith("[")]
    assert captions[0].startswith("[00:0") and "Speaker 1: " in captions[0]
    assert any(line.startswith("    es: ") for line in lines)
    text = " ".join(line.split(": ", 1)[1] for line in captions)
    assert wer(f"{librivox[0].text} {librivox[2].text}", text) < 0.2
    cues = list(srt.parse(out.read_text()))
    assert wer(f"{librivox[0].text} {librivox[2].text}", " ".join(c.content for c in cues)) < 0.2
    assert list(srt.parse((tmp_path / "radio.es.srt").read_text())) and "wrote" in r.stderr


def test_stream_of_a_url_that_fails_exits_1_with_the_reason(server, tmp_path):
    with Streams(np.zeros(16000, np.float32), tmp_path) as streams:
        r = _cli("stream", streams.url("/missing.mp3"), "--server", server.base)
    assert r.returncode == 1 and "404 Not Found" in r.stderr
    r = _cli("stream", "ftp://example.org/a.mp3", "--server", server.base)
    assert r.returncode == 1 and "http://, https://" in r.stderr
    r = _cli("stream", "https://example.org/a.mp3", "--server", "http://127.0.0.1:9")
    assert r.returncode == 1 and "livetranslate serve" in r.stderr


def test_transcribe_reads_a_url_as_fast_as_it_comes(librivox, tmp_path):
    gap = np.zeros(8000, np.float32)
    with Streams(np.concatenate([gap, librivox[1].audio, gap]), tmp_path) as streams:
        r = _cli("transcribe", streams.url("/speech.mp3"), "-f", "srt")
        missing = _cli("transcribe", streams.url("/missing.mp3"))
    assert r.returncode == 0, r.stderr
    assert wer(librivox[1].text, " ".join(c.content for c in srt.parse(r.stdout))) < 0.3  # one short clip (MP3)
    assert missing.returncode == 2 and "404" in missing.stderr
    refused = _cli("transcribe", "ftp://example.org/a.mp3")
    assert refused.returncode == 2 and "http://, https://" in refused.stderr
