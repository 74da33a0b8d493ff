"""A whole file as a source (an upload to the OpenAI-compatible endpoints, the CLI's
``transcribe``): its audio goes through the same track pipeline as live audio — VAD and
utterances, the shared engine, speaker turns, word timings — at batch priority, so live finals
still go first. There is no store and no bus: what the pipeline publishes is collected here
into transcript segments (speaker updates applied to the earlier ones).

    transcript = await transcribe_file(engine, vad, audio, language=None, segmenter=options)
    transcript.segments, transcript.language, transcript.warnings
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from livetranslate.asr import AsrEngine, Priority, SegmenterOptions, Transcription, Utterance, UtteranceSegmenter
from livetranslate.asr.language import FileLanguage, TrackLanguage
from livetranslate.audio.decode import SAMPLE_RATE, PcmDecoder
from livetranslate.events import SegmentEvent, SessionEventT, SpeakerUpdateEvent, WarningEvent
from livetranslate.exports import TranscriptSegment
from livetranslate.session.pipeline import SessionPipeline
from livetranslate.vad import SileroVad

if TYPE_CHECKING:
    from livetranslate.speakers import SessionSpeakers, VoiceEncoder

CHUNK_S = 1.0
"""Audio handed to the pipeline at a time (as a live source would, only faster)."""
AHEAD_S = 60.0
"""Speech decoding at once once the language is known: enough for the engine to batch a file's
utterances, little enough that a live session's finals never wait behind a whole file."""


@dataclass
class FileTranscript:
    segments: list[TranscriptSegment]
    language: str | None
    """The file's language: asked for, or detected."""
    warnings: list[WarningEvent] = field(default_factory=list)
    """Utterances that could not be transcribed (``asr_failed``), with their times."""


class _Collector:
    """The pipeline's publish, for a file: finals become transcript segments."""

    def __init__(self, on_progress: Callable[[float], None] | None) -> None:
        self.segments: list[TranscriptSegment] = []
        self.warnings: list[WarningEvent] = []
        self._on_progress = on_progress
        self._decode: Transcription | None = None

    def decoded(self, u: Utterance, result: Transcription) -> None:
        self._decode = result  # the figures of the finals published next (one per speaker turn)

    async def publish(self, event: SessionEventT, audio: np.ndarray | None = None) -> SessionEventT:
        if isinstance(event, SegmentEvent) and event.status == "final":
            self._final(event)
        elif isinstance(event, SpeakerUpdateEvent):
            _follow(self.segments, event)
        elif isinstance(event, WarningEvent):
            self.warnings.append(event)
        return event

    def _final(self, event: SegmentEvent) -> None:
        if self._on_progress is not None:
            self._on_progress(event.end)
        if not event.text:
            return
        d = self._decode
        self.segments.append(TranscriptSegment(
            id=event.segment_id, start=event.start, end=event.end, text=event.text, language=event.language,
            speaker=event.speaker, speaker_name=event.speaker_name, words=[w.model_dump() for w in event.words],
            avg_logprob=round(d.avg_logprob, 4) if d else None,
            no_speech_prob=round(d.no_speech_prob, 4) if d else None,
            compression_ratio=round(d.compression_ratio, 4) if d else None,
        ))


def _follow(segments: list[TranscriptSegment], update: SpeakerUpdateEvent) -> None:
    """Earlier turns re-attributed, speakers merged or named: as a client applies it."""
    moved, merged = set(update.segment_ids), set(update.merged)
    for seg in segments:
        if seg.id in moved or seg.speaker in merged:
            seg.speaker = update.speaker
        if seg.speaker == update.speaker:
            seg.speaker_name = update.name


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
) -> FileTranscript:
    """Transcribe 16 kHz mono ``audio``. ``task="translate"``: English text from speech in any
    language (Whisper's own translation; no word timings). ``language`` None detects it:
    ``detect="file"`` once for the whole file (:class:`FileLanguage`), ``"segment"`` per
    utterance (a meeting that switches languages). With ``speakers`` and ``encoder``: who
    spoke, as in a live session (utterances cut into speaker turns, "Speaker N" per voice)."""
    collector = _Collector(on_progress)
    spoken = FileLanguage() if language is None and detect == "file" else TrackLanguage()
    pipeline = SessionPipeline(
        session_id="file", language=language, decoder=PcmDecoder("pcm_f32le", SAMPLE_RATE, 1),
        segmenter=UtteranceSegmenter(vad.stream(), replace(segmenter, drafts=False)), engine=engine,
        publish=collector.publish, final_beam_size=beam_size, max_pending_audio_s=AHEAD_S,
        speakers=speakers, encoder=encoder, spoken=spoken, task=task, priority=Priority.BATCH,
        decoded=collector.decoded,
    )
    pipeline.start()
    try:
        step = int(CHUNK_S * SAMPLE_RATE)
        data = np.ascontiguousarray(audio, dtype="<f4")
        for i in range(0, data.size, step):
            await pipeline.feed(data[i : i + step].tobytes())
        await pipeline.finish()
    except BaseException:
        await pipeline.cancel()
        raise
    return FileTranscript(collector.segments, language or spoken.decided, collector.warnings)
