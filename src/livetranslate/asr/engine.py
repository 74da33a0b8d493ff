"""The shared ASR engine: the only place that touches the model.

All sessions of a process submit work here. Worker threads (started by :meth:`start`, not
by the constructor) take jobs from one priority queue — finals before drafts before batch
file work — so a long upload or a chatty session never holds back another session's final.
Callers await a future; inference never runs on the event loop.
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
    def __init__(self, asr: WhisperAsr, workers: int = 1) -> None:
        self.asr = asr
        self._workers = workers
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
            _, _, job = self._queue.get()
            if job is None:
                return
            metrics.ASR_QUEUE.dec()
            if job.future.cancelled():
                continue
            started = time.perf_counter()
            try:
                result = self.asr.transcribe(job.audio, job.options)
            except Exception as e:  # delivered to the awaiting caller, which decides
                log.exception("ASR job failed")
                job.loop.call_soon_threadsafe(_set_exception, job.future, e)
                continue
            metrics.ASR_DECODE_SECONDS.labels(job.kind).observe(time.perf_counter() - started)
            job.loop.call_soon_threadsafe(_set_result, job.future, result)


def _set_result(fut: asyncio.Future, value) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
