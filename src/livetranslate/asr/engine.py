"""The shared ASR engine: the only place that touches the model.

All sessions of a process submit work here. Worker threads (started by :meth:`start`, not
by the constructor) take jobs from one priority queue — finals before drafts before file
work — so a long upload or a chatty session never holds back another session's final.
A worker takes every compatible job already waiting (up to ``max_batch``) and decodes them
as one batch: under load, sessions share the decoder's passes (its cost per item fell from
0.12 s alone to 0.04 s at four here). A batch that starts with a draft waits up to
``batch_wait_ms`` for company; a final never waits. Callers await a future; inference
never runs on the event loop.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
import queue
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


class AsrEngine:
    def __init__(self, asr: WhisperAsr, workers: int = 1, *, max_batch: int = 8, batch_wait_ms: int = 10) -> None:
        self.asr = asr
        self._workers = workers
        self._max_batch = max_batch
        self._batch_wait = batch_wait_ms / 1000
        self._queue: queue.PriorityQueue[tuple[int, int, _Job | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        for i in range(self._workers):
            t = threading.Thread(target=self._work, name=f"asr-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put((999, next(self._order), None))  # sentinel sorts last
        for t in self._threads:
            t.join(timeout=30)
        self._threads.clear()

    def warm_up(self) -> None:
        """One decode of silence-plus-tone so the first real request pays no start-up cost."""
        t = np.arange(16000, dtype=np.float32) / 16000
        self.asr.transcribe(0.1 * np.sin(2 * np.pi * 220 * t).astype(np.float32), DecodeOptions(word_timestamps=True))

    async def transcribe(self, audio: np.ndarray, options: DecodeOptions, priority: Priority) -> Transcription:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Transcription] = loop.create_future()
        job = _Job(audio, options, fut, loop, priority.name.lower())
        self._queue.put((int(priority), next(self._order), job))
        metrics.ASR_QUEUE.inc()
        return await fut

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first[2] is None:
                return
            batch = self._collect(first)
            metrics.ASR_QUEUE.dec(len(batch))
            jobs = [job for job in batch if not job.future.cancelled()]
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
        priority (a batch led by a draft waits a little for company)."""
        lead = first[2]
        batch = [lead]
        put_back = []
        deadline = time.monotonic() + (self._batch_wait if first[0] == Priority.DRAFT else 0.0)
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item[2] is None:  # stop() was called: finish this batch first
                put_back.append(item)
                break
            if item[0] > first[0]:  # a final-led batch takes finals only: a batch is as slow as its longest
                put_back.append(item)
                break  # the rest of the queue is less urgent still
            if item[2].options.beam_size != lead.options.beam_size:
                put_back.append(item)
                continue
            batch.append(item[2])
        for item in put_back:
            self._queue.put(item)
        return batch


def _set_result(fut: asyncio.Future, value) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
