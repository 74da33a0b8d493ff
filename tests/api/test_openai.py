"""The OpenAI-compatible endpoint, exercised with the official ``openai`` client."""

from __future__ import annotations

import io
import json

import httpx
import openai
import pytest
import srt
import webvtt

from tests.conftest import LIBRIVOX, conversation, encode, wer


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base + "/v1", api_key="not-needed", max_retries=0)


@pytest.fixture(scope="module")
def two_clips(librivox):
    audio, reference = conversation(librivox[:2])
    return encode(audio, "mp3"), reference, audio.size / 16000


def test_json_with_the_official_client(client, librivox):
    clip = librivox[0]
    with open(LIBRIVOX / f"{clip.name}.wav", "rb") as f:
        result = client.audio.transcriptions.create(model="whisper-1", file=f)
    assert wer(clip.text, result.text) <= 0.15, result.text


def test_text_srt_vtt_formats(client, two_clips):
    data, reference, _ = two_clips
    text = client.audio.transcriptions.create(model="whisper-1", file=("a.mp3", data), response_format="text")
    assert isinstance(text, str) and wer(reference, text) <= 0.2
    subs = list(srt.parse(client.audio.transcriptions.create(model="whisper-1", file=("a.mp3", data), response_format="srt")))
    # two segments, cut into cues of at most two lines of 42 characters
    assert len(subs) >= 2 and all(a.end <= b.start for a, b in zip(subs, subs[1:]))
    assert wer(reference, " ".join(s.content for s in subs)) <= 0.2
    vtt = webvtt.from_string(
        client.audio.transcriptions.create(model="whisper-1", file=("a.mp3", data), response_format="vtt")
    )
    assert len(vtt.captions) == len(subs)


def test_verbose_json_with_words(client, two_clips):
    data, reference, duration = two_clips
    result = client.audio.transcriptions.create(
        model="whisper-1",
        file=("a.mp3", data),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="en",
    )
    assert result.language == "en"
    assert result.duration == pytest.approx(duration, abs=0.1)  # mp3 adds a little padding
    assert len(result.segments) == 2
    assert result.segments[0].avg_logprob < 0 and 0 <= result.segments[0].no_speech_prob <= 1
    assert wer(reference, " ".join(w.word for w in result.words)) <= 0.2
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)


def test_unknown_model_lists_the_choices(client, librivox):
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="whisper-9000", file=("a.wav", encode(librivox[4].audio, "wav")))
    assert "whisper-1" in e.value.body["message"] and e.value.body["code"] == "invalid_input"


def test_not_audio_is_415(client):
    with pytest.raises(openai.APIStatusError) as e:
        client.audio.transcriptions.create(model="whisper-1", file=("notes.txt", b"just some text\n" * 200))
    assert e.value.status_code == 415 and "audio" in e.value.body["message"]


def test_unsupported_language_is_422(client, librivox):
    with pytest.raises(openai.UnprocessableEntityError) as e:
        client.audio.transcriptions.create(
            model="whisper-1", file=("a.wav", encode(librivox[4].audio, "wav")), language="xx"
        )
    assert "supported: af, am" in e.value.body["message"]


def test_missing_file_and_too_large_upload(server):
    with httpx.Client(base_url=server.base, timeout=60) as c:
        r = c.post("/v1/audio/transcriptions", data={"model": "whisper-1"})
        assert r.status_code == 422 and "file" in r.json()["error"]["message"]
        r = c.post("/v1/audio/transcriptions", data={"model": ""}, files={"file": ("a.wav", io.BytesIO(b"RIFF"))})
        assert r.status_code == 422 and r.json()["error"]["message"] == "model: must not be empty"  # not "missing"
        r = c.post(
            "/v1/audio/transcriptions",
            data={"model": "whisper-1"},
            files={"file": ("big.wav", io.BytesIO(b"\0" * (26 << 20)))},
        )
        assert r.status_code == 413 and "limit" in json.loads(r.text)["error"]["message"]

        def chunks():  # no Content-Length: the limit holds on what arrives
            yield b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n"
            for _ in range(27):
                yield b"\0" * (1 << 20)

        r = c.post(
            "/v1/audio/transcriptions", content=chunks(), headers={"content-type": "multipart/form-data; boundary=x"}
        )
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_translations_endpoint_turns_spanish_speech_into_english(client, foreign):
    from livetranslate.translation.langid import detect_language

    clip = foreign["es"][0]
    result = client.audio.translations.create(
        model="whisper-1", file=("es.wav", encode(clip.audio, "wav")), response_format="verbose_json"
    )
    assert result.task == "translate" and result.language == "es"
    # "Hoy vamos a revisar..." → "Today we are going to ..." (base's translation of the short
    # "Buenos días a todos" is low-confidence noise and the guard drops it)
    assert "today we are going to" in result.text.lower() and detect_language(result.text)[0] == "en"
    text = client.audio.translations.create(model="whisper-1", file=("es.wav", encode(clip.audio, "wav")),
                                            response_format="text")
    assert text.strip() == result.text


def test_the_language_is_detected_when_not_given_as_openai_does(client, foreign):
    clip = foreign["es"][1]
    data = encode(clip.audio, "mp3", rate=16000, channels=1)
    result = client.audio.transcriptions.create(model="whisper-1", file=("es.mp3", data), response_format="verbose_json")
    assert result.language == "es" and "viernes" in result.text.lower()
    result = client.audio.transcriptions.create(model="whisper-1", file=("es.mp3", data), language="auto")
    assert "viernes" in result.text.lower()


def test_nothing_recognised_is_said_not_silently_empty(server):
    import numpy as np

    silence = encode(np.zeros(48000, np.float32), "wav", rate=16000, channels=1)
    r = httpx.post(server.base + "/v1/audio/transcriptions", files={"file": ("s.wav", silence)},
                   data={"model": "whisper-1", "language": "en"}, timeout=60)
    assert r.status_code == 200 and r.json()["text"] == ""
    assert r.json()["warning"]["code"] == "no_speech" and "language" in r.json()["warning"]["message"]
    assert "no speech recognised" in r.headers["x-livetranslate-warning"]
