"""``POST /v1/audio/transcriptions`` and ``/v1/audio/translations``: the OpenAI-compatible file
endpoints, so the official ``openai`` client (and every tool built on it) works against a
local LiveTranslate."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel, Field

from livetranslate.api.deps import ScopeDep, ServicesDep
from livetranslate.api.openapi import errors_doc
from livetranslate.asr import SegmenterOptions
from livetranslate.audio import decode_file
from livetranslate.errors import InvalidInput, NotReady, TooLarge, UnsupportedLanguage, UnsupportedMedia
from livetranslate.translation.langid import language_code
from livetranslate.exports import TranscriptSegment, to_srt, to_vtt
from livetranslate.sources.file import FileTranscript, transcribe_file

router = APIRouter(prefix="/v1/audio", tags=["openai-compatible"])

# Model names OpenAI clients send, all served by the configured local model.
MODEL_ALIASES = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")
_MODEL_DOC = f"One of {', '.join(MODEL_ALIASES)}, or the local model's name."


class TranscriptionWarning(BaseModel):
    code: str = Field(examples=["no_speech"])
    message: str


class TranscriptionSegment(BaseModel):
    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float | None
    compression_ratio: float | None
    no_speech_prob: float | None


class TranscriptionWord(BaseModel):
    word: str
    start: float
    end: float


class Transcription(BaseModel):
    """``json``: ``text`` (and ``warning`` when nothing was recognised); ``verbose_json`` adds the rest."""

    text: str
    warning: TranscriptionWarning | None = None
    task: Literal["transcribe", "translate"] | None = None
    language: str | None = None
    duration: float | None = Field(None, description="Seconds of audio.")
    segments: list[TranscriptionSegment] | None = None
    words: list[TranscriptionWord] | None = Field(None, description="With `timestamp_granularities[]=word`.")


_ANSWERS = {200: {"model": Transcription, "description": "`json` and `verbose_json` as JSON; `text`, `srt` "
                  "and `vtt` as text.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
_FILE_ERRORS = errors_doc(InvalidInput, UnsupportedLanguage, TooLarge, UnsupportedMedia, NotReady)


@router.post("/transcriptions", summary="Transcribe a file (OpenAI-compatible)", responses={**_ANSWERS, **_FILE_ERRORS})
async def create_transcription(
    services: ServicesDep,
    scope: ScopeDep,
    file: Annotated[UploadFile, File(description="Audio in any format PyAV decodes (wav, mp3, ogg, webm, m4a, flac...).")],
    model: Annotated[str, Form(min_length=1, description=_MODEL_DOC)],
    language: Annotated[str | None, Form()] = None,
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[Literal["json", "text", "srt", "vtt", "verbose_json"], Form()] = "json",
    temperature: Annotated[float, Form(ge=0, le=1)] = 0.0,
    timestamp_granularities: Annotated[list[str] | None, Form(alias="timestamp_granularities[]")] = None,
) -> Response:
    """OpenAI's transcription endpoint. No ``language`` (or ``auto``) detects it; ``model`` is
    one of OpenAI's names or the local model's, all served by the local model. ``prompt`` and
    ``temperature`` are accepted and ignored (decoding is greedy)."""
    language = language_code(language or "") or None
    if language == "auto":  # as OpenAI: no language (or "auto") = detect it
        language = None
    language = services.engine.file_language(language)
    return await _run(services, scope, "transcribe", file, model, language, response_format, timestamp_granularities)


@router.post("/translations", summary="Translate speech into English (OpenAI-compatible)",
             responses={**_ANSWERS, **_FILE_ERRORS})
async def create_translation(
    services: ServicesDep,
    scope: ScopeDep,
    file: Annotated[UploadFile, File(description="Speech in any language Whisper knows.")],
    model: Annotated[str, Form(min_length=1, description=_MODEL_DOC)],
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[Literal["json", "text", "srt", "vtt", "verbose_json"], Form()] = "json",
    temperature: Annotated[float, Form(ge=0, le=1)] = 0.0,
) -> Response:
    """OpenAI's translation endpoint: English text from speech in any language (Whisper's
    own translation, multilingual model)."""
    if not services.engine.can_translate_speech:
        raise UnsupportedLanguage("speech translation needs a multilingual model; this server is English-only")
    return await _run(services, scope, "translate", file, model, None, response_format, None)


async def _run(services, scope, task, file, model, language, response_format, timestamp_granularities) -> Response:
    s = services.settings
    asr = services.engine.asr
    if model not in (*MODEL_ALIASES, asr.name):
        raise InvalidInput(f"model {model!r} is not served here; use one of: {', '.join((asr.name, *MODEL_ALIASES))}")
    services.engine.check_language(language)
    bad = [g for g in timestamp_granularities or [] if g not in ("word", "segment")]
    if bad:
        raise InvalidInput(f"timestamp_granularities {bad} not supported; use 'word' and/or 'segment'")
    await services.quotas.check_upload(tenant=scope.owner, size=file.size)
    await services.quotas.audio(tenant=scope.owner)  # some of today's audio left
    audio = await asyncio.to_thread(decode_file, file.file)
    duration = audio.size / 16000
    await services.quotas.audio(tenant=scope.owner, seconds=math.ceil(duration))
    transcript = await transcribe_file(
        services.engine,
        services.vad,
        audio,
        language=language,
        segmenter=SegmenterOptions.from_settings(s),
        beam_size=s.final_beam_size,
        task=task,
    )
    segments, detected = transcript.segments, transcript.language
    text = " ".join(seg.text for seg in segments)
    warning = _warning(transcript, language, duration)
    headers = {"X-LiveTranslate-Warning": warning["message"]} if warning else {}
    if response_format == "text":
        return Response(text + "\n", media_type="text/plain; charset=utf-8", headers=headers)
    if response_format == "srt":
        return Response(to_srt(segments), media_type="text/plain; charset=utf-8", headers=headers)
    if response_format == "vtt":
        return Response(to_vtt(segments), media_type="text/plain; charset=utf-8", headers=headers)
    extra = {"warning": warning} if warning else {}
    if response_format == "json":
        return Response(json.dumps({"text": text, **extra}, ensure_ascii=False), media_type="application/json",
                        headers=headers)
    body = {
        "task": task,
        "language": detected or language or services.engine.asr.languages[0],
        "duration": round(duration, 3),
        "text": text,
        "segments": [_verbose_segment(i, seg) for i, seg in enumerate(segments)],
        **extra,
    }
    if "word" in (timestamp_granularities or []):
        body["words"] = [
            {"word": w["word"].strip(), "start": w["start"], "end": w["end"]} for seg in segments for w in seg.words
        ]
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json", headers=headers)


def _warning(transcript: FileTranscript, language: str | None, duration: float) -> dict | None:
    """Nothing recognised, or parts that could not be transcribed (the rest is in the answer)."""
    if not transcript.segments:
        return _no_speech(language, duration)
    if transcript.warnings:
        first, n = transcript.warnings[0], len(transcript.warnings)
        return {"code": first.code, "message": f"{n} part{'s' if n > 1 else ''} of the audio could not be "
                f"transcribed; the first: {first.message}"}
    return None


def _no_speech(language: str | None, duration: float) -> dict:
    """What the answer says when nothing was recognised (the text is empty, as OpenAI's)."""
    hint = f"is the language right (asked for {language!r})? omit it to detect" if language else "is there speech?"
    return {"code": "no_speech", "message": f"no speech recognised in {duration:.1f} s of audio: {hint}"}


def _verbose_segment(i: int, seg: TranscriptSegment) -> dict:
    return {
        "id": i,
        "seek": 0,
        "start": seg.start,
        "end": seg.end,
        "text": seg.text,
        "tokens": [],
        "temperature": 0.0,
        "avg_logprob": seg.avg_logprob,
        "compression_ratio": seg.compression_ratio,
        "no_speech_prob": seg.no_speech_prob,
    }
