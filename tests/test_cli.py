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
    assert r.returncode == 0 and "wrote 1 segment to" in r.stderr
    cues = list(srt.parse(out.read_text()))  # one segment, cut into cues of at most 2 lines of 42 characters
    assert wer(clip.text, " ".join(c.content for c in cues)) <= 0.15
    assert all(len(line) <= 42 for c in cues for line in c.content.split("\n") if " " in line)
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
    r = _cli("transcribe", str(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"), "-l", "en", "--to", "de")
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
    assert len(es) == len(fr) >= 1 and es[0].content != fr[0].content
    assert (tmp_path / "talk.srt").is_file()  # the original beside its translations
    r = _cli("transcribe", str(LIBRIVOX / f"{clip.name}.wav"), "--to", "es", "--bilingual")
    original, translation = r.stdout.strip().split("\n")
    assert wer(clip.text, original) <= 0.15 and translation.split()[:3] == es[0].content.split()[:3]


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


def _espeak(tmp_path, voice: str, text: str):
    path = tmp_path / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(path), text], check=True)
    return path


def test_speech_that_is_not_english_is_detected_by_default(tmp_path):
    """No --language: the language is detected (as OpenAI's endpoint does), not assumed English."""
    wav = _espeak(tmp_path, "es", "Buenos días a todos. Necesitamos terminar el informe antes del viernes.")
    r = _cli("transcribe", str(wav), "-f", "json", "--no-speakers")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["language"] == "es" and "viernes" in data["text"].lower()
    r = _cli("transcribe", str(wav), "--language", "AUTO", "--no-speakers")  # any case, and 'auto' says the same
    assert r.returncode == 0 and "viernes" in r.stdout.lower()


def test_files_without_speech_or_audio_are_said_in_words(tmp_path):
    import wave

    silence = tmp_path / "silence.wav"
    with wave.open(str(silence), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0" * 64000)
    r = _cli("transcribe", str(silence))
    assert r.returncode == 1 and r.stdout == "" and "no speech recognised" in r.stderr and "--language" in r.stderr
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    r = _cli("transcribe", str(empty))
    assert r.returncode == 2 and "the file is empty" in r.stderr
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(bytes(range(256)) * 20)
    r = _cli("transcribe", str(junk))
    assert r.returncode == 2 and "junk.mp3: the file is not audio or video" in r.stderr
    assert "Errno" not in r.stderr and "none" not in r.stderr.lower()
    r = _cli("transcribe", str(tmp_path / "missing.wav"))
    assert r.returncode == 2 and "no such file" in r.stderr


def test_output_format_follows_the_extension_and_the_original_is_written_beside_translations(tmp_path, librivox):
    wav = LIBRIVOX / f"{librivox[0].name}.wav"
    r = _cli("transcribe", str(wav), "-l", "en", "--to", "es", "-o", str(tmp_path / "talk.srt"))
    assert r.returncode == 0, r.stderr
    original = list(srt.parse((tmp_path / "talk.srt").read_text()))  # SRT, from the name; not plain text
    spanish = list(srt.parse((tmp_path / "talk.es.srt").read_text()))
    assert wer(librivox[0].text, " ".join(s.content for s in original)) <= 0.15
    assert len(spanish) == len(original) and spanish[0].start == original[0].start
    assert all(len(line) <= 42 for s in original + spanish for line in s.content.split("\n"))
    r = _cli("transcribe", str(wav), "-l", "en", "-o", str(tmp_path / "talk.vtt"))
    assert r.returncode == 0 and (tmp_path / "talk.vtt").read_text().startswith("WEBVTT")
    r = _cli("transcribe", str(wav), "-o", str(tmp_path / "talk.docx"))
    assert r.returncode == 2 and "--format" in r.stderr


def test_a_target_that_nothing_translates_fails_and_writes_no_file_for_it(tmp_path):
    """Italian speech into Galician: no installed engine translates it→gl (Apertium has en→gl only)."""
    wav = _espeak(tmp_path, "it", "Buongiorno a tutti. Oggi parliamo del bilancio del prossimo trimestre.")
    r = _cli("transcribe", str(wav), "--to", "gl", "-o", str(tmp_path / "x.srt"), "--no-speakers")
    assert r.returncode == 1, r.stderr
    assert "nothing could be translated into gl" in r.stderr and "it into gl" in r.stderr
    assert (tmp_path / "x.srt").is_file() and not (tmp_path / "x.gl.srt").exists()


def test_help_version_and_engine_messages():
    r = _cli("transcribe", "--help")
    assert "Usage: livetranslate transcribe [OPTIONS] FILE" in r.stdout and "<bool>" not in r.stdout
    assert "auto" in r.stdout and "Examples" in r.stdout and "{" not in r.stdout
    r = _cli("--help")
    assert "LIVETRANSLATE_DATA_DIR" in r.stdout
    assert _cli("--version").stdout.startswith("livetranslate ")
    r = _cli("translate", "hello", "--to", "es", "--engine", "whisper")
    assert r.returncode == 2 and "translates speech" in r.stderr
    r = _cli("translate", "hello", "--to", "es", "--engine", "llm")
    assert r.returncode == 2 and "LIVETRANSLATE_LLM_BASE_URL" in r.stderr
    r = _cli("languages")
    assert r.returncode == 0 and "en (English) → ca, eo, es, fr (via es), gl, it (via es), pt (via es)" in r.stdout


def test_the_data_directory_does_not_depend_on_where_the_command_runs(tmp_path):
    """No LIVETRANSLATE_DATA_DIR: the per-user directory (platformdirs), never ./data."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "LIVETRANSLATE_DATA_DIR"}
    env["XDG_DATA_HOME"] = str(tmp_path / "home")
    r = _cli("db", "upgrade", cwd=tmp_path / "..", env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "home" / "livetranslate" / "livetranslate.db").is_file()
    assert not (tmp_path / ".." / "data").exists()
