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
    r = _cli("transcribe", str(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"), "-l", "xx")
    assert r.returncode == 2 and "supported: af, am" in r.stderr
    r = _cli("transcribe", str(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"), "--to", "de")
    assert r.returncode == 2 and "supported from en: ['ca', 'eo', 'es'" in r.stderr
    r = _cli("transcribe", str(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"), "--to", "es,fr")
    assert r.returncode == 2 and "--output" in r.stderr


def test_db_upgrade(tmp_path):
    import os

    env = {**os.environ, "LIVETRANSLATE_DATA_DIR": str(tmp_path)}
    r = _cli("db", "upgrade", env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "livetranslate.db").is_file()


def test_transcribe_and_translate_into_several_languages(tmp_path, librivox):
    clip = librivox[0]
    out = tmp_path / "talk.srt"
    r = _cli("transcribe", str(LIBRIVOX / f"{clip.name}.wav"), "-f", "srt", "--to", "es,fr", "-o", str(out))
    assert r.returncode == 0, r.stderr
    es = list(srt.parse((tmp_path / "talk.es.srt").read_text()))
    fr = list(srt.parse((tmp_path / "talk.fr.srt").read_text()))
    assert len(es) == len(fr) == 1 and es[0].content != fr[0].content
    r = _cli("transcribe", str(LIBRIVOX / f"{clip.name}.wav"), "--to", "es", "--bilingual")
    original, translation = r.stdout.strip().split("\n")
    assert wer(clip.text, original) <= 0.15 and translation == es[0].content


def test_transcribe_detects_spanish_and_translates_to_english(tmp_path, foreign):
    from tests.conftest import encode

    wav = tmp_path / "es.wav"
    wav.write_bytes(encode(foreign["es"][1].audio, "wav", rate=16000, channels=1))
    data = json.loads(_cli("transcribe", str(wav), "--detect", "--to", "en", "-f", "json").stdout)
    assert data["language"] == "es" and data["segments"][0]["language"] == "es"
    assert "friday" in data["translation"].lower() and data["segments"][0]["translation_engine"] == "apertium"


def test_translate_text(tmp_path):
    r = _cli("translate", "We need to review the budget before Friday.", "--to", "es,pt")
    assert r.returncode == 0, r.stderr
    lines = dict(line.split("\t") for line in r.stdout.strip().split("\n"))
    assert lines["es"].startswith("Necesitamos revisar el presupuesto") and "orçamento" in lines["pt"]
    r = _cli("translate", "Necesitamos revisar el presupuesto.", "--from", "es", "--to", "en")
    assert r.stdout.strip() == "We need to revise the estimate."
    r = _cli("translate", "Hello", "--to", "de")
    assert r.returncode == 2 and "no installed engine translates en into ['de']" in r.stderr


def test_transcribe_says_who_spoke(tmp_path):
    """A two-voice meeting file: the transcript labels two speakers, each line's label the
    voice that said most of it."""
    import wave

    from livetranslate.audio import to_pcm16
    from tests.speakers.corpus import synthetic_conversation

    conv = synthetic_conversation(2, seed=1)
    path = tmp_path / "meeting.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(to_pcm16(conv.audio))
    r = _cli("transcribe", str(path), "-f", "json")
    assert r.returncode == 0, r.stderr
    segments = json.loads(r.stdout)["segments"]
    assert {s["speaker"] for s in segments} == {"S1", "S2"}
    voice_of = {}
    for s in segments:
        mid = (s["start"] + s["end"]) / 2
        voice_of.setdefault(s["speaker"], set()).add(conv.speaker_at(mid) or min(
            conv.turns, key=lambda t: abs((t.start + t.end) / 2 - mid)).speaker)
    assert all(len(v) == 1 for v in voice_of.values()) and len(set().union(*voice_of.values())) == 2, voice_of
    txt = _cli("transcribe", str(path)).stdout
    assert txt.count("Speaker 1: ") >= 2 and txt.count("Speaker 2: ") >= 2
    assert "Speaker" not in _cli("transcribe", str(path), "--no-speakers").stdout
