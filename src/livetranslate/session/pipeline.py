"""One live audio stream of a session, wired stage by stage:

    bytes → decode/resample → VAD + utterances → shared ASR engine → SegmentEvent → publish

The pipeline only wires stages; each stage lives in its own module. Audio work (decode,
VAD) runs in a thread per received frame; Whisper runs in the engine's workers. Per
session, utterances are decoded one at a time in order — finals first, and at most one
draft (the newest) waiting — so events of a session are always in order and a final is
never overtaken by a stale draft.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import BinaryIO

import numpy as np

from livetranslate import metrics
from livetranslate.asr import AsrEngine, DecodeOptions, Priority, Utterance, UtteranceSegmenter
from livetranslate.audio import Decoder, to_pcm16
from livetranslate.audio.decode import SAMPLE_RATE
from livetranslate.errors import UnsupportedMedia
from livetranslate.events import SegmentEvent, Word
from livetranslate.publish import Publisher

log = logging.getLogger(__name__)


class SessionPipeline:
    def __init__(
        self,
        *,
        session_id: str,
        language: str | None,
        decoder: Decoder,
        segmenter: UtteranceSegmenter,
        engine: AsrEngine,
        publisher: Publisher,
        final_beam_size: int = 1,
        draft_beam_size: int = 1,
        max_pending_audio_s: float = 60.0,
        audio_file: BinaryIO | None = None,
    ) -> None:
        self.session_id = session_id
        self._language = language
        self._decoder = decoder
        self._segmenter = segmenter
        self._engine = engine
        self._publisher = publisher
        self._final_opts = DecodeOptions(language=language, beam_size=final_beam_size, word_timestamps=True)
        self._draft_opts = DecodeOptions(
            language=language, beam_size=draft_beam_size, word_timestamps=False, fallback=False
        )
        self._max_pending = max_pending_audio_s
        self._audio_file = audio_file
        self._start_seconds = segmenter.session_seconds

        self._finals: deque[Utterance] = deque()
        self._draft: Utterance | None = None
        self._drafted: set[str] = set()  # segments with a published draft and no final yet
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task | None = None

    # --- lifecycle

    def start(self) -> None:
        self._task = asyncio.create_task(self._transcribe_loop(), name=f"transcribe-{self.session_id}")

    async def feed(self, data: bytes) -> None:
        """Decode, store and segment one received frame. Raises UnsupportedMedia."""
        await self._wait_for_room()
        utterances = await asyncio.to_thread(self._process, data, time.monotonic())
        self._submit(utterances)

    async def finish(self) -> None:
        """No more audio: decode what is left and publish every final.

        Raises UnsupportedMedia if the stream never yielded any audio (it was not audio)."""
        error = None
        try:
            rest = await asyncio.to_thread(self._decoder.finish)
        except UnsupportedMedia as e:
            rest = np.zeros(0, dtype=np.float32)
            if self._segmenter.session_seconds == self._start_seconds:
                error = e
            else:  # an undecodable tail: keep what was accepted
                log.warning("session %s: audio tail dropped: %s", self.session_id, e)
        utterances = await asyncio.to_thread(self._segment, rest, time.monotonic())
        self._submit(utterances + self._segmenter.flush())
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._audio_file is not None:
            self._audio_file.close()
        if error is not None:
            raise error

    async def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._audio_file is not None:
            self._audio_file.close()

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
        metrics.AUDIO_SECONDS.inc(audio.size / SAMPLE_RATE)
        return self._segmenter.push(audio, arrived_at)

    async def _wait_for_room(self) -> None:
        """Back-pressure: stop reading the socket while too much speech waits for Whisper."""
        while sum(u.audio.size for u in self._finals) / SAMPLE_RATE > self._max_pending:
            self._drained.clear()
            await self._drained.wait()

    # --- ASR side (one task per session)

    def _submit(self, utterances: list[Utterance]) -> None:
        for u in utterances:
            if u.final:
                self._finals.append(u)
                if self._draft is not None and self._draft.segment_id == u.segment_id:
                    self._draft = None
            else:
                self._draft = u
        if utterances:
            self._wake.set()

    async def _transcribe_loop(self) -> None:
        while True:
            if self._finals:
                u = self._finals.popleft()
                self._drained.set()
            elif self._draft is not None:
                u, self._draft = self._draft, None
            elif self._closing:
                return
            else:
                await self._wake.wait()
                self._wake.clear()
                continue
            try:
                await (self._final(u) if u.final else self._draft_(u))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("session %s: segment %s failed", self.session_id, u.segment_id)

    async def _draft_(self, u: Utterance) -> None:
        result = await self._engine.transcribe(u.audio, self._draft_opts, Priority.DRAFT)
        if result.rejected or any(f.segment_id == u.segment_id for f in self._finals):
            return  # noise, or the final of this segment is already waiting
        await self._publish(u, "draft", result.text, result.language, [])
        self._drafted.add(u.segment_id)
        metrics.DRAFT_LATENCY.observe(time.monotonic() - u.heard_at)

    async def _final(self, u: Utterance) -> None:
        text, language, words = "", self._language, []
        if u.speech:
            result = await self._engine.transcribe(u.audio, self._final_opts, Priority.FINAL)
            if result.rejected:
                metrics.HALLUCINATIONS.labels(result.rejected).inc()
            else:
                text, language = result.text, result.language
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
        # an empty final retracts the drafts of a segment that turned out to be noise
        await self._publish(u, "final", text, language, words)
        if text:
            metrics.FINAL_LATENCY.observe(time.monotonic() - u.heard_at)

    async def _publish(self, u: Utterance, status: str, text: str, language: str | None, words: list[Word]) -> None:
        event = SegmentEvent(
            segment_id=u.segment_id,
            status=status,
            text=text,
            start=round(u.start, 3),
            end=round(u.end, 3),
            language=language,
            words=words,
        )
        await self._publisher.publish(self.session_id, event)
