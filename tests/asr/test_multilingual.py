"""The multilingual model: assembled from its two PyPI halves, loaded on first need, detects
the language of each utterance and translates speech to English."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from livetranslate.asr import AsrEngine, DecodeOptions, Priority
from livetranslate.asr.models import _BASE_SHA256, model_path
from livetranslate.errors import UnsupportedLanguage
from livetranslate.settings import Settings


def test_base_model_is_joined_once_and_verified(tmp_path):
    path = model_path("base", tmp_path)
    assert {p.name for p in path.iterdir()} >= {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    digest = hashlib.sha256(path.joinpath("model.bin").read_bytes()).hexdigest()
    assert digest == _BASE_SHA256
    stamp = path.joinpath("model.bin").stat().st_mtime_ns
    assert model_path("base", tmp_path) == path and path.joinpath("model.bin").stat().st_mtime_ns == stamp


@pytest.fixture(scope="module")
def engine():
    engine = AsrEngine.from_settings(Settings(), workers=1, final_lane=False)
    engine.start()
    yield engine
    engine.stop()


def decode(engine, audio, **options):
    return asyncio.run(engine.transcribe(audio, DecodeOptions(**options), Priority.FINAL))


def test_english_stays_on_tiny_en_and_other_languages_load_base(engine, foreign, librivox):
    assert engine.asr.name == "tiny.en"
    assert decode(engine, librivox[0].audio, language="en").language == "en"
    result = decode(engine, foreign["es"][1].audio, language=None)
    assert engine._multilingual is not None and engine._multilingual.name == "base"
    assert result.language == "es" and "viernes" in result.text.lower()


@pytest.mark.parametrize("lang, word", [("es", "viernes"), ("de", "bericht"), ("es", "presupuesto")])
def test_detects_the_spoken_language(engine, foreign, lang, word):
    clip = {"es": foreign["es"][1], "de": foreign["de"][1]}[lang] if word != "presupuesto" else foreign["es"][0]
    result = decode(engine, clip.audio, language=None)
    assert result.language == lang and word in result.text.lower(), result.text


def test_whisper_translates_speech_to_english(engine, foreign):
    result = decode(engine, foreign["es"][0].audio, language="es", task="translate", word_timestamps=False)
    assert "good morning" in result.text.lower() and result.words == []


def test_language_checks(engine):
    engine.check_language(None)
    engine.check_language("de")
    with pytest.raises(UnsupportedLanguage, match="supported: af, am"):
        engine.check_language("xx")
    english_only = AsrEngine(engine.asr)
    with pytest.raises(UnsupportedLanguage, match="detection needs a multilingual model"):
        english_only.check_language(None)
    with pytest.raises(UnsupportedLanguage, match="supported: en"):
        english_only.check_language("de")
    # a file (CLI, OpenAI endpoint) without a language: detected, or on an English-only engine English
    assert engine.file_language(None) is None and english_only.file_language(None) == "en"
    assert english_only.file_language("de") == "de"  # then refused by check_language


def test_detection_choice_candidates_and_prior():
    from livetranslate.asr.whisper import _pick_language

    probs = [("<|th|>", 0.7), ("<|en|>", 0.2), ("<|de|>", 0.06), ("<|es|>", 0.04)]
    assert _pick_language(probs, DecodeOptions(language=None)) == "th"
    assert _pick_language(probs, DecodeOptions(language=None, candidates=("de", "es", "en"))) == "en"
    # unsure among the candidates: the previous utterance's language holds
    assert _pick_language(probs, DecodeOptions(language=None, candidates=("de", "es"), prior="es")) == "es"
    sure = [("<|de|>", 0.9), ("<|es|>", 0.05)]
    assert _pick_language(sure, DecodeOptions(language=None, prior="es")) == "de"  # a real switch
    assert _pick_language([("<|fr|>", 1.0)], DecodeOptions(language=None, candidates=("es",))) == "es"


def test_detection_among_the_meeting_languages(engine, foreign):
    clip = foreign["de"][1]
    result = decode(engine, clip.audio, language=None, candidates=("es", "de"))
    assert result.language == "de" and "bericht" in result.text.lower()
