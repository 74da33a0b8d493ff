"""One audio stream of a session (or a whole file: sources/file.py), wired stage by stage:

    bytes → decode/resample → VAD + utterances → shared ASR engine → speakers → SegmentEvent → publish
                                             └→ voice windows ─────────────┘        (the session's stages follow)

The pipeline only wires stages; each stage lives in its own module. Audio work (decode,
VAD) runs in a thread per received frame; Whisper runs in the engine's workers. A final
goes to the engine the moment its utterance ends (it never waits for a draft of its
session) and finals are published in utterance order; at most one draft per session is
decoding, always the newest, and a draft whose final is on the way is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

from livetranslate import executors, metrics
from livetranslate.asr import AsrEngine, DecodeOptions, Priority, Transcription, Utterance, UtteranceSegmenter
from livetranslate.asr.language import TrackLanguage
from livetranslate.audio import Decoder, StreamInput, to_pcm16
from livetranslate.audio.decode import SAMPLE_RATE
from livetranslate.errors import UnsupportedMedia
from livetranslate.events import Participant, SegmentEvent, WarningEvent, Word
from livetranslate.stages import Publish
from livetranslate.speakers import SessionSpeakers, Turn, VoiceEncoder

log = logging.getLogger(__name__)


class SessionPipeline:
    def __init__(
        self,
        *,
        session_id: str,
        language: str | None,
        candidates: list[str] | None = None,
        decoder: Decoder,
        segmenter: UtteranceSegmenter,
        engine: AsrEngine,
        publish: Publish,
        final_beam_size: int = 1,
        draft_beam_size: int = 1,
        max_pending_audio_s: float = 60.0,
        draft_max_lag_s: float = 1.5,
        audio_file: BinaryIO | None = None,
        speakers: SessionSpeakers | None = None,
        encoder: VoiceEncoder | None = None,
        participant: Participant | None = None,
        spoken: TrackLanguage | None = None,
        task: str = "transcribe",
        priority: Priority = Priority.FINAL,
        decoded: Callable[[Utterance, Transcription], None] | None = None,
    ) -> None:
        """``publish``: the session's (stores the event, then hands it to the session's stages);
        ``speakers`` belongs to the session (shared by its tracks); ``participant``: this track is theirs.
        A whole file (sources/file.py) brings its own ``spoken`` language policy, ``task``
        (``translate``: Whisper's English, no word timings), ``Priority.BATCH`` (live finals go
        first) and ``decoded``, which sees each decode's own figures before its finals are published."""
        self.session_id = session_id
        self._language = language
        self._spoken = spoken or TrackLanguage()
        self._priority = priority
        self._decoded = decoded
        self._decoder = decoder
        self._segmenter = segmenter
        self._engine = engine
        self._publish_event = publish
        known = tuple(candidates) if candidates else None
        self._final_opts = DecodeOptions(
            language=language, candidates=known, task=task, beam_size=final_beam_size,
            word_timestamps=task == "transcribe",
        )
        self._draft_opts = DecodeOptions(
            language=language, candidates=known, beam_size=draft_beam_size, word_timestamps=False, fallback=False
        )
        self._max_pending = max_pending_audio_s
        self._draft_max_lag = draft_max_lag_s
        self._audio_file = audio_file
        self._speakers = speakers
        self._encoder = encoder if participant is None else None  # a named track needs no voice
        self._participant = participant
        self._start_seconds = segmenter.session_seconds

        # decoding, in order: (utterance, its decode, its voice windows)
        self._finals: deque[tuple[Utterance, asyncio.Future | None, asyncio.Future | None]] = deque()
        # segments whose final is decoding, waiting or published (the last 64): a draft of one is stale
        self._finalized: deque[str] = deque(maxlen=64)
        self._draft: Utterance | None = None  # the newest draft not yet decoding
        self._drafted: set[str] = set()  # segments with a published draft and no final yet
        self._final_wake = asyncio.Event()
        self._draft_wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._closing = False
        self._cancelled = False
        self._tasks: list[asyncio.Task] = []

    # --- lifecycle

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._final_loop(), name=f"finals-{self.session_id}"),
            asyncio.create_task(self._draft_loop(), name=f"drafts-{self.session_id}"),
        ]

    async def feed(self, data: bytes) -> None:
        """Decode, store and segment one received frame. Raises UnsupportedMedia."""
        await self._wait_for_room()
        utterances = await executors.run("audio", self._process, data, time.monotonic())
        if not self._cancelled:  # deleted meanwhile: nothing more to decode
            self._submit(utterances)

    async def finish(self) -> None:
        """No more audio: decode what is left and publish every final.

        Raises UnsupportedMedia if the stream never yielded any audio (it was not audio)."""
        error = None
        try:
            rest = await executors.run("audio", self._decoder.finish)
        except UnsupportedMedia as e:
            rest = np.zeros(0, dtype=np.float32)
            if self._segmenter.session_seconds == self._start_seconds:
                error = e
            else:  # an undecodable tail: keep what was accepted
                log.warning("session %s: audio tail dropped: %s", self.session_id, e)
        utterances = await executors.run("audio", self._segment, rest, time.monotonic())
        self._submit(utterances + self._segmenter.flush())
        self._draft = None  # the stream is over: only finals matter now
        self._closing = True
        self._final_wake.set()
        self._draft_wake.set()
        await asyncio.gather(*self._tasks)
        if self._audio_file is not None:
            self._audio_file.close()
        if error is not None:
            raise error

    async def cancel(self) -> None:
        self._cancelled = True
        self._drained.set()  # a feed waiting for room returns
        pending = self._tasks + [f for _, *futures in self._finals for f in futures if f is not None]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._decoder.close()
        if self._audio_file is not None:
            self._audio_file.close()

    @property
    def input(self) -> StreamInput | None:
        """What the client's audio is (its rate and channels); None until a container's header is read."""
        return self._decoder.input

    @property
    def audio_seconds(self) -> float:
        """Session time at the end of the audio received so far."""
        return self._segmenter.session_seconds

    # --- audio side (runs in a thread)

    def _process(self, data: bytes, arrived_at: float) -> list[Utterance]:
        started = time.perf_counter()
        audio = self._decoder.feed(data)
        out = self._segment(audio, arrived_at)
        metrics.AUDIO_DECODE_SECONDS.observe(time.perf_counter() - started)
        return out

    def _segment(self, audio: np.ndarray, arrived_at: float) -> list[Utterance]:
        if audio.size == 0:
            return []
        if self._audio_file is not None and not self._audio_file.closed:
            self._audio_file.write(to_pcm16(audio))
            self._audio_file.flush()  # in the kernel at once: a killed process loses no received audio
        metrics.AUDIO_SECONDS.inc(audio.size / SAMPLE_RATE)
        return self._segmenter.push(audio, arrived_at)

    async def _wait_for_room(self) -> None:
        """Back-pressure: stop reading the socket while too much speech waits for Whisper (and,
        while a file's language is being detected, while any does)."""
        while not self._cancelled and self._pending_s() > (self._max_pending if self._spoken.settled else 0.0):
            self._drained.clear()
            await self._drained.wait()

    def _pending_s(self) -> float:
        return sum(u.audio.size for u, *_ in self._finals) / SAMPLE_RATE

    # --- ASR side: finals in order, at most one draft in flight

    def _submit(self, utterances: list[Utterance]) -> None:
        for u in utterances:
            if u.final:
                # decoded at once, alongside any draft in flight: a final never waits for a draft
                decode = (
                    asyncio.ensure_future(
                        self._engine.transcribe(u.audio, self._spoken.options(self._final_opts), self._priority)
                    )
                    if u.speech
                    else None
                )
                # the voice windows are embedded while Whisper decodes
                windows = (
                    asyncio.ensure_future(executors.run("voice", self._encoder.windows, u.audio))
                    if u.speech and self._encoder is not None and self._speakers is not None
                    else None
                )
                self._finals.append((u, decode, windows))
                self._finalized.append(u.segment_id)
                if self._draft is not None and self._draft.segment_id == u.segment_id:
                    self._draft = None
                self._final_wake.set()
            else:
                self._draft = u
                self._draft_wake.set()

    async def _final_loop(self) -> None:
        """Publish finals in utterance order as their decodes complete."""
        while True:
            if not self._finals:
                if self._closing:
                    return
                self._final_wake.clear()
                await self._final_wake.wait()
                continue
            u, decode, windows = self._finals[0]
            result = voice = None
            try:
                if decode is not None:
                    result = await decode
                if windows is not None:
                    decoded = time.monotonic()
                    voice = await windows
                    metrics.VOICE_WAIT_SECONDS.observe(time.monotonic() - decoded)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # said, not swallowed: the client learns a caption is missing
                log.exception("session %s: final of segment %s failed", self.session_id, u.segment_id)
                metrics.ASR_FAILURES.inc()
                await self._publish_event(WarningEvent(
                    code="asr_failed", message=f"the final of {u.start:.2f}–{u.end:.2f} s could not be transcribed: {e}",
                    segment_id=u.segment_id, start=round(u.start, 3), end=round(u.end, 3),
                ))
                result = None
            if result is not None and self._decoded is not None:
                self._decoded(u, result)
            await self._publish_final(u, result, voice)
            self._finals.popleft()
            self._drained.set()

    async def _draft_loop(self) -> None:
        """Decode the newest draft; a draft whose final was submitted meanwhile is dropped."""
        while True:
            if self._draft is None:
                if self._closing:
                    return
                self._draft_wake.clear()
                await self._draft_wake.wait()
                continue
            u, self._draft = self._draft, None
            try:
                result = await self._engine.transcribe(
                    u.audio, self._spoken.options(self._draft_opts), Priority.DRAFT,
                    deadline=u.heard_at + self._draft_max_lag,
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("session %s: draft of segment %s failed", self.session_id, u.segment_id)
                continue
            # stale (overload); noise; its final is on the way; or an earlier final is to be published
            if result is None or result.rejected or u.segment_id in self._finalized or self._finals:
                continue
            self._drafted.add(u.segment_id)
            await self._publish(u, "draft", result.text, result.language, [])
            metrics.DRAFT_LATENCY.observe(time.monotonic() - u.heard_at)

    async def _publish_final(self, u: Utterance, result: Transcription | None, voice) -> None:
        text, language, words = "", self._language, []
        if result is not None and result.rejected:
            metrics.HALLUCINATIONS.labels(result.rejected).inc()
        elif result is not None:
            text, language = result.text, result.language
            self._spoken.heard(language, u.end - u.start)
            words = [
                Word(
                    word=w.word,
                    start=round(u.start + w.start, 3),
                    end=round(u.start + w.end, 3),
                    probability=w.probability,
                )
                for w in result.words
            ]
        drafted = u.segment_id in self._drafted
        self._drafted.discard(u.segment_id)
        if not text and not drafted:
            return  # noise that never reached a client
        if not text:  # an empty final retracts the drafts of a segment that turned out to be noise
            await self._publish(u, "final", text, language, words, u.audio)
            return
        turns = await self._attribute(u, text, words, voice)
        if turns is None:
            await self._publish(u, "final", text, language, words, u.audio)
        else:
            for turn in turns:
                a = int(round((turn.start - u.start) * SAMPLE_RATE))
                b = int(round((turn.end - u.start) * SAMPLE_RATE))
                await self._publish(
                    u, "final", turn.text, language, turn.words, u.audio[max(a, 0) : b], turn=turn
                )
            for update in self._speakers.take_updates():
                await self._publish_event(update)
        if self._priority is Priority.FINAL:  # a file's decodes are not a caption's latency
            metrics.FINAL_LATENCY.observe(time.monotonic() - u.heard_at)

    async def _attribute(self, u: Utterance, text: str, words: list[Word], voice) -> list[Turn] | None:
        """Who spoke the utterance, cut into speaker turns; None without the speakers stage."""
        if self._speakers is None or (voice is None and self._participant is None):
            return None
        started = time.perf_counter()
        try:
            return await executors.run(
                "voice", self._speakers.attribute, segment_id=u.segment_id, start=round(u.start, 3), end=round(u.end, 3),
                text=text, words=words, windows=voice, participant=self._participant,
            )
        except Exception:  # attribution must never cost a caption
            log.exception("session %s: speaker attribution of segment %s failed", self.session_id, u.segment_id)
            return None
        finally:
            metrics.SPEAKER_SECONDS.observe(time.perf_counter() - started)

    async def _publish(
        self, u: Utterance, status: str, text: str, language: str | None, words: list[Word], audio=None,
        turn: Turn | None = None,
    ) -> None:
        event = SegmentEvent(
            segment_id=turn.segment_id if turn else u.segment_id,
            status=status,
            text=text,
            start=turn.start if turn else round(u.start, 3),
            end=turn.end if turn else round(u.end, 3),
            language=language,
            speaker=turn.speaker.id if turn else None,
            speaker_name=turn.speaker.name if turn else None,
            speaker_source=turn.speaker.source if turn else None,
            words=words,
        )
        await self._publish_event(event, audio)
