"""Publish: store each session event (the database assigns its gap-free ``seq``), then fan it
out to live subscribers through the bus. Stored before sent, so a subscriber that resumes
with ``after_seq`` finds in the store everything it did not get live."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from livetranslate import metrics
from livetranslate.events import SegmentEvent, SessionEventT, TranslationEvent
from livetranslate.store import Database
from livetranslate.store import crud


@dataclass(eq=False)
class Subscription:
    session_id: str
    queue: asyncio.Queue[tuple[int, str]]
    overflowed: bool = field(default=False)
    closed: str | None = field(default=None)
    """Why the session went away (deleted); the reader closes its socket with this reason."""
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    async def get(self) -> tuple[int, str] | None:
        """The next event, or None once the subscription overflowed or was closed."""
        while self.queue.empty():
            if self.overflowed or self.closed:
                return None
            self.wakeup.clear()
            await self.wakeup.wait()
        return self.queue.get_nowait()


class InProcessBus:
    """Fan-out inside one process. A subscriber that falls more than its queue behind is cut
    off (``overflowed``) rather than letting memory grow; it resumes from the store."""

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._subs: dict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, session_id: str) -> Subscription:
        sub = Subscription(session_id, asyncio.Queue(self._queue_size))
        self._subs[session_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.session_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.session_id]

    def publish(self, session_id: str, seq: int, payload: str) -> None:
        for sub in list(self._subs.get(session_id, ())):
            if sub.overflowed:
                continue
            try:
                sub.queue.put_nowait((seq, payload))
            except asyncio.QueueFull:
                sub.overflowed = True  # the reader sees the flag and closes with 'resume'
            sub.wakeup.set()

    def close_session(self, session_id: str, reason: str) -> None:
        """The session is gone: every subscriber stops after what it has queued."""
        for sub in list(self._subs.get(session_id, ())):
            sub.closed = reason
            sub.wakeup.set()


class Publisher:
    def __init__(self, db: Database, bus: InProcessBus) -> None:
        self._db = db
        self._bus = bus
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def publish(self, session_id: str, event: SessionEventT) -> SessionEventT:
        async with self._locks[session_id]:
            await asyncio.to_thread(self._store, session_id, event)
            self._bus.publish(session_id, event.seq, event.to_json())
        if isinstance(event, SegmentEvent):
            metrics.SEGMENTS.labels(event.status).inc()
        elif isinstance(event, TranslationEvent):
            metrics.TRANSLATIONS.labels(event.engine, event.status).inc()
        return event

    def _store(self, session_id: str, event: SessionEventT) -> None:
        with self._db.session() as db:
            crud.append_event(db, session_id=session_id, event=event)

    def forget(self, session_id: str) -> None:
        lock = self._locks.get(session_id)
        if lock is not None and not lock.locked():
            del self._locks[session_id]
