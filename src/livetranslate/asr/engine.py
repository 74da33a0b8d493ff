"""The shared ASR engine: the only place that touches the model.

All sessions of a process submit work here. Worker threads (started by :meth:`start`, not
by the constructor) take jobs from one priority queue — finals before drafts before file
work — so a long upload or a chatty session never holds back another session's final.
A worker takes every compatible job already waiting (up to ``max_batch``) and decodes them
as one batch: under load, sessions share the decoder's passes (its cost per item fell from
0.12 s alone to 0.04 s at four here). A batch that starts with a draft waits up to
``batch_wait_ms`` for company; a final never waits. With ``final_lane`` one more worker
takes finals only, so a final never waits for a batch of drafts to finish; with
``finals_exclusive`` the other workers start nothing while it decodes (on a small CPU two
decodes at once only slow each other down: the final's decode took twice as long). Callers await
a future; inference never runs on the event loop.

Two models at most: the default one (``tiny.en``: English, fastest) and, loaded on first
need, the multilingual one (``base``) for sessions in other languages, language detection
and Whisper's speech-to-English translation. A batch holds one model's work.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from livetranslate import metrics
from livetranslate.asr.whisper import DecodeOptions, Transcription, WhisperAsr
from livetranslate.errors import UnsupportedLanguage

log = logging.getLogger(__name__)


class Priority(enum.IntEnum):
    FINAL = 0
    DRAFT = 1
    BATCH = 2


@dataclass
class _Job:
    model: WhisperAsr
    audio: np.ndarray
    options: DecodeOptions
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    kind: str
    deadline: float | None = None
    """Monotonic time after which the result is worthless (a stale draft): skipped, not decoded."""
    queued: float = field(default_factory=time.monotonic)


class _JobQueue:
    """A priority heap a worker can take from up to a priority: the finals lane takes finals only."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, _Job]] = []
        self._cond = threading.Condition()
        self._order = itertools.count()
        self.closed = False
        self._held = 0  # while > 0 only finals are handed out (finals are decoding exclusively)

    def put(self, priority: int, job: _Job) -> None:
        with self._cond:
            heapq.heappush(self._heap, (priority, next(self._order), job))
            self._cond.notify_all()

    def put_back(self, items: list[tuple[int, int, _Job]]) -> None:
        with self._cond:
            for item in items:
                heapq.heappush(self._heap, item)
            self._cond.notify_all()

    def get(self, most: int, timeout: float | None = None) -> tuple[int, int, _Job] | None:
        """The most urgent job of priority ``<= most``; None when closed or after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self.closed:
                if self._heap and self._heap[0][0] <= most and (self._held == 0 or self._heap[0][0] == Priority.FINAL):
                    return heapq.heappop(self._heap)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return None

    def hold(self, on: bool) -> None:
        """Hand out finals only (while a final batch decodes), or everything again."""
        with self._cond:
            self._held += 1 if on else -1
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class AsrEngine:
    def __init__(
        self,
        asr: WhisperAsr,
        workers: int = 1,
        *,
        multilingual: Callable[[], WhisperAsr] | None = None,
        final_lane: bool = False,
        max_batch: int = 8,
        batch_wait_ms: int = 10,
        finals_exclusive: bool = False,
    ) -> None:
        self.asr = asr
        self._multilingual = asr if asr.multilingual else None
        self._load_multilingual = multilingual
        self._load_lock = threading.Lock()
        self._lanes = [Priority.BATCH] * workers + ([Priority.FINAL] if final_lane else [])
        self._max_batch = max_batch
        self._batch_wait = batch_wait_ms / 1000
        self._finals_exclusive = finals_exclusive and final_lane
        self._queue = _JobQueue()
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_settings(cls, settings, *, workers: int | None = None, final_lane: bool | None = None) -> "AsrEngine":
        """The engine the settings describe; loads the default model (blocking)."""
        final_lane = settings.asr_final_lane if final_lane is None else final_lane
        workers = settings.asr_workers if workers is None else workers

        def load(name: str) -> WhisperAsr:
            return WhisperAsr(
                name,
                models_dir=settings.models_dir,
                device=settings.device,
                compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads,
                workers=workers + final_lane,
                encoder_window=settings.encoder_window,
            )

        multilingual = settings.multilingual_model
        return cls(
            load(settings.model),
            workers,
            multilingual=(lambda: load(multilingual)) if multilingual else None,
            final_lane=final_lane,
            max_batch=settings.asr_max_batch,
            batch_wait_ms=settings.asr_batch_wait_ms,
            finals_exclusive=settings.asr_finals_exclusive,
        )

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        self._queue.closed = False
        for i, most in enumerate(self._lanes):
            name = f"asr-{'finals' if most == Priority.FINAL else 'worker'}-{i}"
            t = threading.Thread(target=self._work, args=(most,), name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._queue.close()
        for t in self._threads:
            t.join(timeout=30)
        self._threads.clear()

    def warm_up(self) -> None:
        """One decode so the first real request pays no start-up cost."""
        _warm_up(self.asr)

    # --- models

    @property
    def languages(self) -> tuple[str, ...]:
        """What can be spoken: the default model's languages, or every Whisper language when
        a multilingual model is at hand (loaded or loadable)."""
        if self._multilingual is not None:
            return self._multilingual.languages
        if self._load_multilingual is not None:
            from faster_whisper.tokenizer import _LANGUAGE_CODES

            return tuple(_LANGUAGE_CODES)
        return self.asr.languages

    @property
    def can_translate_speech(self) -> bool:
        return self._multilingual is not None or self._load_multilingual is not None

    def file_language(self, language: str | None) -> str | None:
        """The language to transcribe a file in: ``language``, None to detect it; an
        English-only engine has nothing to detect and takes its own language."""
        if language is None and not self.can_translate_speech:
            return self.asr.languages[0]
        return language

    def check_language(self, language: str | None) -> None:
        if language is None and not self.can_translate_speech:
            raise UnsupportedLanguage(
                f"language detection needs a multilingual model; model {self.asr.name!r} speaks: "
                f"{', '.join(self.asr.languages)}"
            )
        if language is not None and language not in self.languages:
            raise UnsupportedLanguage(
                f"language {language!r} is not supported; supported: {', '.join(self.languages)}"
            )

    def _needs_multilingual(self, options: DecodeOptions) -> bool:
        return not (options.language == "en" and options.task == "transcribe") and not self.asr.multilingual

    def multilingual(self) -> WhisperAsr:
        """The multilingual model, loaded (and warmed up) on first call. Blocking."""
        if self._multilingual is None:
            if self._load_multilingual is None:
                raise UnsupportedLanguage(
                    f"model {self.asr.name!r} is English-only and no multilingual model is configured"
                )
            with self._load_lock:
                if self._multilingual is None:
                    model = self._load_multilingual()
                    _warm_up(model)
                    self._multilingual = model
        return self._multilingual

    async def prepare(self, language: str | None) -> None:
        """Load the model a session in ``language`` needs, off the event loop."""
        if self._needs_multilingual(DecodeOptions(language=language)) and self._multilingual is None:
            await asyncio.to_thread(self.multilingual)

    # --- decoding

    async def transcribe(
        self, audio: np.ndarray, options: DecodeOptions, priority: Priority, *, deadline: float | None = None
    ) -> Transcription | None:
        """Decode one utterance. With a ``deadline`` (monotonic), a job that cannot start by
        then is skipped and None returned: under overload stale drafts give way."""
        model = self.asr
        if self._needs_multilingual(options):
            model = self._multilingual or await asyncio.to_thread(self.multilingual)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Transcription | None] = loop.create_future()
        self._queue.put(int(priority), _Job(model, audio, options, fut, loop, priority.name.lower(), deadline))
        metrics.ASR_QUEUE.inc()
        return await fut

    def _work(self, most: int) -> None:
        while True:
            first = self._queue.get(most)
            if first is None:
                return
            batch = self._collect(first)
            metrics.ASR_QUEUE.dec(len(batch))
            now = time.monotonic()
            jobs = []
            for job in batch:
                metrics.ASR_WAIT_SECONDS.labels(job.kind).observe(now - job.queued)
                if job.deadline is not None and now > job.deadline:
                    metrics.ASR_SKIPPED.labels(job.kind).inc()
                    job.loop.call_soon_threadsafe(_set_result, job.future, None)
                elif not job.future.cancelled():
                    jobs.append(job)
            if not jobs:
                continue
            metrics.ASR_BATCH.observe(len(jobs))
            started = time.perf_counter()
            exclusive = self._finals_exclusive and most == Priority.FINAL
            if exclusive:
                self._queue.hold(True)
            try:
                results = jobs[0].model.transcribe_batch([(job.audio, job.options) for job in jobs])
            except Exception as e:  # delivered to the awaiting callers, which decide
                log.exception("ASR batch of %d failed", len(jobs))
                for job in jobs:
                    job.loop.call_soon_threadsafe(_set_exception, job.future, e)
                continue
            finally:
                if exclusive:
                    self._queue.hold(False)
            elapsed = time.perf_counter() - started
            for job, result in zip(jobs, results):
                metrics.ASR_DECODE_SECONDS.labels(job.kind).observe(elapsed)
                job.loop.call_soon_threadsafe(_set_result, job.future, result)

    def _collect(self, first: tuple[int, int, _Job]) -> list[_Job]:
        """The first job and every compatible one waiting now, of the same or a more urgent
        priority: a batch is as slow as its longest member, so a final-led batch takes finals
        only. A batch led by a draft waits up to ``batch_wait_ms`` for company."""
        lead_priority, _, lead = first
        batch = [lead]
        set_aside = []
        deadline = time.monotonic() + (self._batch_wait if lead_priority == Priority.DRAFT else 0.0)
        while len(batch) < self._max_batch:
            item = self._queue.get(lead_priority, timeout=max(0.0, deadline - time.monotonic()))
            if item is None:
                break
            if item[2].options.beam_size != lead.options.beam_size or item[2].model is not lead.model:
                set_aside.append(item)
                continue
            batch.append(item[2])
        self._queue.put_back(set_aside)
        return batch


def _warm_up(model: WhisperAsr) -> None:
    t = np.arange(16000, dtype=np.float32) / 16000
    model.transcribe(0.1 * np.sin(2 * np.pi * 220 * t).astype(np.float32), DecodeOptions(word_timestamps=True))


def _set_result(fut: asyncio.Future, value) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
