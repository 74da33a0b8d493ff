"""The bus inside one process: readers' queues and the owner's command queue in memory.

A reader that falls more than ``queue_size`` events behind is cut off (:class:`Lagging`)
rather than letting memory grow; it resumes from the store.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

from livetranslate.bus.base import Bus, Delivery, Gone, Lagging, Subscription
from livetranslate.events import SessionCommand, SessionEventT
from livetranslate.store import Database


class _MemorySubscription(Subscription):
    def __init__(self, bus: "MemoryBus", session_id: str, after_seq: int | None, queue_size: int) -> None:
        super().__init__(bus, session_id, after_seq)
        self.queue: asyncio.Queue[SessionEventT] = asyncio.Queue(queue_size)
        self.overflowed_at: int | None = None
        """The seq of the first event that did not fit."""
        self.gone: str | None = None
        self.wakeup = asyncio.Event()
        self._subs = bus._subs
        self._subs[session_id].add(self)

    def put(self, event: SessionEventT) -> None:
        if self.overflowed_at is None:
            try:
                self.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.overflowed_at = event.seq
        self.wakeup.set()

    async def _live(self) -> SessionEventT:
        while self.queue.empty():
            if self.overflowed_at is not None:
                last = self.last_seq if self.last_seq is not None else self.overflowed_at - 1
                raise Lagging(last)
            if self.gone is not None:
                raise Gone(self.gone)
            self.wakeup.clear()
            await self.wakeup.wait()
        return self.queue.get_nowait()

    def close(self) -> None:
        subs = self._subs.get(self.session_id)
        if subs is not None:
            subs.discard(self)
            if not subs:
                del self._subs[self.session_id]


class MemoryBus(Bus):
    def __init__(self, db: Database, queue_size: int) -> None:
        super().__init__(db)
        self._queue_size = queue_size
        self._subs: defaultdict[str, set[_MemorySubscription]] = defaultdict(set)
        self._owners: dict[str, asyncio.Queue[Delivery | None]] = {}

    def subscribe(self, session_id: str, after_seq: int | None = 0) -> Subscription:
        return _MemorySubscription(self, session_id, after_seq, self._queue_size)

    async def _deliver(self, session_id: str, event: SessionEventT) -> None:
        for sub in list(self._subs.get(session_id, ())):
            sub.put(event)

    async def send(self, session_id: str, command: SessionCommand) -> bool:
        queue = self._owners.get(session_id)
        if queue is None:
            return False
        delivery = Delivery(command)
        queue.put_nowait(delivery)
        return await delivery.reply

    def commands(self, session_id: str) -> AsyncIterator[Delivery]:
        if session_id in self._owners:
            raise RuntimeError(f"session {session_id!r} already has an owner in this process")
        queue: asyncio.Queue[Delivery | None] = asyncio.Queue()
        self._owners[session_id] = queue
        return self._serve(session_id, queue)

    async def _serve(self, session_id: str, queue: asyncio.Queue[Delivery | None]) -> AsyncIterator[Delivery]:
        try:
            while (delivery := await queue.get()) is not None:
                yield delivery
        finally:
            if self._owners.get(session_id) is queue:
                del self._owners[session_id]
            while not queue.empty():
                if (left := queue.get_nowait()) is not None:
                    left.dropped()

    def release(self, session_id: str) -> None:
        """The owner stops taking the session's commands (its iterator ends)."""
        queue = self._owners.pop(session_id, None)
        if queue is not None:
            while not queue.empty():
                if (left := queue.get_nowait()) is not None:
                    left.dropped()
            queue.put_nowait(None)

    async def _close(self, session_id: str, reason: str) -> None:
        for sub in list(self._subs.get(session_id, ())):
            sub.gone = reason
            sub.wakeup.set()
