"""The README's streaming example, as printed there, run for over a minute of real-time audio
against a real server: it must print captions while it sends and end normally."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import pcm16, wer

ROOT = Path(__file__).resolve().parent.parent


def _example() -> str:
    readme = (ROOT / "README.md").read_text()
    after = readme[readme.index("Streaming from Python") :]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def _wav(path, librivox, seconds: float) -> str:
    gap = np.zeros(16000, np.float32)
    parts, texts, total = [gap], [], 1.0
    while total < seconds:
        for clip in librivox:
            parts += [clip.audio, gap]
            texts.append(clip.text)
            total += clip.audio.size / 16000 + 1
            if total >= seconds:
                break
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm16(np.concatenate(parts)))
    return " ".join(texts)


@pytest.mark.timeout(300)
def test_the_readme_streaming_example_runs_for_over_a_minute(server, librivox, tmp_path):
    reference = _wav(tmp_path / "meeting.wav", librivox, 62)
    code = (_example().replace("http://127.0.0.1:8000", server.base)
            .replace("ws://127.0.0.1:8000", server.base.replace("http", "ws"))
            .replace('"meeting.wav"', repr(str(tmp_path / "meeting.wav"))))
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-3000:]
    assert elapsed >= 60  # real time: past the 40 s at which an unread socket used to die
    finals = [line[len("final ") :] for line in run.stdout.splitlines() if line.startswith("final ")]
    assert wer(reference, " ".join(f for f in finals if not f.startswith(("es ", "fr ")))) < 0.15
    assert any(line.startswith("final es ") for line in run.stdout.splitlines())
    session = httpx.get(server.base + "/v1/sessions", params={"q": "standup"}).json()["items"][0]
    assert session["status"] == "ended"
