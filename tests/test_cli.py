"""The ``livetranslate`` command: transcribe with every format, db upgrade, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import srt

from tests.conftest import LIBRIVOX, wer


def _cli(*args, cwd=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "livetranslate", *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )


def test_transcribe_to_stdout_and_file(tmp_path, librivox):
    clip = librivox[0]
    wav = LIBRIVOX / f"{clip.name}.wav"
    r = _cli("transcribe", str(wav))
    assert r.returncode == 0, r.stderr
    assert wer(clip.text, r.stdout) <= 0.15
    out = tmp_path / "t.srt"
    r = _cli("transcribe", str(wav), "--format", "srt", "-o", str(out))
    assert r.returncode == 0 and "wrote 1 segments" in r.stderr
    assert len(list(srt.parse(out.read_text()))) == 1
    data = json.loads(_cli("transcribe", str(wav), "-f", "json").stdout)
    assert data["language"] == "en" and data["segments"][0]["words"]


def test_transcribe_errors_are_clear(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio " * 100)
    r = _cli("transcribe", str(notes))
    assert r.returncode == 2 and "audio" in r.stderr
    r = _cli("transcribe", str(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"), "-f", "docx")
    assert r.returncode == 2 and "json, srt, vtt, txt" in r.stderr
    r = _cli("transcribe", str(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"), "-l", "fr")
    assert r.returncode == 2 and "supported: en" in r.stderr


def test_db_upgrade(tmp_path):
    import os

    env = {**os.environ, "LIVETRANSLATE_DATA_DIR": str(tmp_path)}
    r = _cli("db", "upgrade", env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "livetranslate.db").is_file()
