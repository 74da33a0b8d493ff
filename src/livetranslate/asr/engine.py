"""The shared ASR engine: the only place that touches the model.

All sessions of a process submit work here. Worker threads (started by :meth:`start`, not
by the constructor) take jobs from one priority queue — finals before drafts before file
work — so a long upload or a chatty session never holds back another session's final.
A worker takes every compatible job already waiting (up to ``max_batch``) and decodes them
as one batch: under load, sessions share the decoder's passes (its cost per item fell from
0.12 s alone to 0.04 s at four here). A batch that starts with a draft waits up to
``batch_wait_ms`` for company; a final never waits. With ``final_lane`` one more worker
takes finals only, so a final never waits for a batch of drafts to finish. Callers await
a future; inference never runs on the event loop.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from livetranslate import metrics
from livetranslate.asr.whisper import DecodeOptions, Transcription, WhisperAsr

log = logging.getLogger(__name__)


class Priority(enum.IntEnum):
    FINAL = 0
    DRAFT = 1
    BATCH = 2


@dataclass
class _Job:
    audio: np.ndarray
    options: DecodeOptions
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    kind: str
    deadline: float | None = None
    """Monotonic time after which the result is worthless (a stale draft): skipped, not decoded."""


class _JobQueue:
    """A priority heap a worker can take from up to a priority: the finals lane takes finals only."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, _Job]] = []
        self._cond = threading.Condition()
        self._order = itertools.count()
        self.closed = False

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
                if self._heap and self._heap[0][0] <= most:
                    return heapq.heappop(self._heap)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return None

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
        final_lane: bool = False,
        max_batch: int = 8,
        batch_wait_ms: int = 10,
    ) -> None:
        self.asr = asr
        self._lanes = [Priority.BATCH] * workers + ([Priority.FINAL] if final_lane else [])
        self._max_batch = max_batch
        self._batch_wait = batch_wait_ms / 1000
        self._queue = _JobQueue()
        self._threads: list[threading.Thread] = []

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
        """One decode of silence-plus-tone so the first real request pays no start-up cost."""
        t = np.arange(16000, dtype=np.float32) / 16000
        self.asr.transcribe(0.1 * np.sin(2 * np.pi * 220 * t).astype(np.float32), DecodeOptions(word_timestamps=True))

    async def transcribe(
        self, audio: np.ndarray, options: DecodeOptions, priority: Priority, *, deadline: float | None = None
    ) -> Transcription | None:
        """Decode one utterance. With a ``deadline`` (monotonic), a job that cannot start by
        then is skipped and None returned: under overload stale drafts give way."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Transcription | None] = loop.create_future()
        self._queue.put(int(priority), _Job(audio, options, fut, loop, priority.name.lower(), deadline))
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
                if job.deadline is not None and now > job.deadline:
                    metrics.ASR_SKIPPED.labels(job.kind).inc()
                    job.loop.call_soon_threadsafe(_set_result, job.future, None)
                elif not job.future.cancelled():
                    jobs.append(job)
            if not jobs:
                continue
            metrics.ASR_BATCH.observe(len(jobs))
            started = time.perf_counter()
            try:
                results = self.asr.transcribe_batch([(job.audio, job.options) for job in jobs])
            except Exception as e:  # delivered to the awaiting callers, which decide
                log.exception("ASR batch of %d failed", len(jobs))
                for job in jobs:
                    job.loop.call_soon_threadsafe(_set_exception, job.future, e)
                continue
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
            if item[2].options.beam_size != lead.options.beam_size:
                set_aside.append(item)
                continue
            batch.append(item[2])
        self._queue.put_back(set_aside)
        return batch


def _set_result(fut: asyncio.Future, value) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
