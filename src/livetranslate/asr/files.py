"""Whole files (uploads, the CLI): cut into utterances by the same VAD segmenter as live audio,
then decoded by the shared engine at batch priority, so live finals still go first."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np

from livetranslate.asr.engine import AsrEngine, Priority
from livetranslate.asr.streaming import SegmenterOptions, Utterance, UtteranceSegmenter
from livetranslate.asr.whisper import DecodeOptions
from livetranslate.events import Word
from livetranslate.exports import TranscriptSegment
from livetranslate.metrics import HALLUCINATIONS
from livetranslate.vad import SileroVad

if TYPE_CHECKING:
    from livetranslate.speakers import SessionSpeakers, VoiceEncoder


DETECT_SPEECH_S = 8.0
"""Speech a file's language is detected from (the majority over its first utterances)."""


class _FileLanguage:
    """A file's language: the one heard longest over its first ``DETECT_SPEECH_S`` of speech."""

    def __init__(self) -> None:
        self.heard: dict[str, float] = {}

    def add(self, language: str, seconds: float) -> str | None:
        """Count an utterance; the file's language once enough speech was heard."""
        self.heard[language] = self.heard.get(language, 0.0) + seconds
        return self.decided() if sum(self.heard.values()) >= DETECT_SPEECH_S else None

    def decided(self) -> str | None:
        return max(self.heard, key=self.heard.get) if self.heard else None


def split_utterances(vad: SileroVad, audio: np.ndarray, options: SegmenterOptions) -> list[Utterance]:
    segmenter = UtteranceSegmenter(vad.stream(), replace(options, drafts=False))
    step = 16000 * 30
    out: list[Utterance] = []
    for i in range(0, audio.size, step):
        out += segmenter.push(audio[i : i + step], 0.0)
    out += segmenter.flush()
    return [u for u in out if u.speech]


async def transcribe_file(
    engine: AsrEngine,
    vad: SileroVad,
    audio: np.ndarray,
    *,
    language: str | None,
    segmenter: SegmenterOptions,
    beam_size: int = 1,
    task: str = "transcribe",
    on_progress: Callable[[float], None] | None = None,
    speakers: "SessionSpeakers | None" = None,
    encoder: "VoiceEncoder | None" = None,
    detect: Literal["file", "segment"] = "file",
) -> tuple[list[TranscriptSegment], str | None]:
    """Return the segments and the file's language. ``task="translate"``: English
    text from speech in any language (Whisper's own translation; no word timings).
    ``language`` None detects it: ``detect="file"`` (as OpenAI and Whisper do) from the first
    ``DETECT_SPEECH_S`` of speech, then decodes the rest in that language (English on the
    fast English model); ``"segment"`` detects each utterance's language (mixed meetings).
    With ``speakers`` and ``encoder``: who spoke, as in a live session (utterances cut into
    speaker turns, "Speaker N" per voice)."""
    utterances = await asyncio.to_thread(split_utterances, vad, audio, segmenter)
    options = DecodeOptions(language=language, task=task, beam_size=beam_size, word_timestamps=task == "transcribe")
    segments: list[TranscriptSegment] = []
    detected = language
    detection = _FileLanguage() if language is None and detect == "file" else None
    for u in utterances:
        result = await engine.transcribe(u.audio, options, Priority.BATCH)
        if detection is not None and not result.rejected and result.language:
            decided = detection.add(result.language, u.end - u.start)
            if decided is not None:  # the rest in that language (English: on the fast English model)
                options, detected, detection = replace(options, language=decided), decided, None
        if on_progress is not None:
            on_progress(u.end)
        if result.rejected:
            HALLUCINATIONS.labels(result.rejected).inc()
            continue
        detected = detected or result.language
        words = [
            Word(word=w.word, start=round(u.start + w.start, 3), end=round(u.start + w.end, 3), probability=w.probability)
            for w in result.words
        ]
        segment = TranscriptSegment(
            id=u.segment_id,
            start=round(u.start, 3),
            end=round(u.end, 3),
            text=result.text,
            language=result.language,
            avg_logprob=round(result.avg_logprob, 4),
            no_speech_prob=round(result.no_speech_prob, 4),
            compression_ratio=round(result.compression_ratio, 4),
            words=[w.model_dump() for w in words],
        )
        if speakers is None or encoder is None or not result.text:
            segments.append(segment)
            continue
        windows = await asyncio.to_thread(encoder.windows, u.audio)
        turns = await asyncio.to_thread(
            speakers.attribute, segment_id=u.segment_id, start=segment.start, end=segment.end, text=result.text,
            words=words, windows=windows,
        )
        for t in turns:
            segments.append(replace(
                segment, id=t.segment_id, start=t.start, end=t.end, text=t.text, speaker=t.speaker.id,
                speaker_name=t.speaker.name, words=[w.model_dump() for w in t.words],
            ))
        _follow(segments, speakers.take_updates())
    if detection is not None:  # less speech than DETECT_SPEECH_S in the whole file
        detected = detection.decided() or detected
    return segments, detected


def _follow(segments: list[TranscriptSegment], updates) -> None:
    """Apply speaker updates (earlier turns re-attributed, speakers merged) to the segments."""
    for update in updates:
        moved, merged = set(update.segment_ids), set(update.merged)
        for seg in segments:
            if seg.id in moved or seg.speaker in merged:
                seg.speaker = update.speaker
            if seg.speaker == update.speaker:
                seg.speaker_name = update.name
