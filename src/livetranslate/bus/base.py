"""The bus contract, in the spirit of httpx's ``AsyncBaseTransport``: a few operations every
implementation provides with the same guarantees, checked by the same tests (``tests/bus``).

Events (out of a session, to every reader):

* :meth:`Bus.publish` stores the event first — the store assigns its gap-free ``seq`` — then
  delivers it live. Stored before sent: a reader that resumes finds in the store what it missed.
* :meth:`Bus.subscribe` gives the stored events after ``after_seq``, then live ones, with no
  gap and no duplicate, and ends after ``session.ended``. A reader that falls too far behind
  gets :class:`Lagging` (with the last seq it was given, to resume from); a deleted session
  :class:`Gone`.

Commands (to whoever runs the live session):

* :meth:`Bus.send` hands a command to the live session's owner and returns once it has been
  handled (True), or False at once when no one runs the session; an error the owner raised
  while handling it is raised here.
* :meth:`Bus.commands` is the owner's side: the session's commands in the order sent, each a
  :class:`Delivery` to answer with :meth:`Delivery.done`; :meth:`Bus.release` ends it.
"""

from __future__ import annotations

import abc
import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from livetranslate import executors, metrics
from livetranslate.events import (
    SegmentEvent, SessionCommand, SessionEndedEvent, SessionEventT, TranslationEvent, parse_session_event,
)
from livetranslate.store import Database, crud

_REPLAY_PAGE = 500


class Lagging(Exception):
    """The reader fell behind the live events; resume with ``after_seq=last_seq``."""

    def __init__(self, last_seq: int) -> None:
        super().__init__(f"fell behind after seq {last_seq}")
        self.last_seq = last_seq


class Gone(Exception):
    """The session went away (deleted): ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False)
class Delivery:
    """One command for the owner of a live session."""

    command: SessionCommand
    reply: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    """True once handled, False when the owner stopped before handling it; or the owner's error."""

    def done(self, error: BaseException | None = None) -> None:
        """Handled (or refused with ``error``, which the sender then raises)."""
        if not self.reply.done():
            if error is None:
                self.reply.set_result(True)
            else:
                self.reply.set_exception(error)

    def dropped(self) -> None:
        """The owner stopped before handling it: the sender hears that no one ran the session."""
        if not self.reply.done():
            self.reply.set_result(False)


class Subscription(abc.ABC):
    """One reader of one session's events: ``async with`` it, then ``async for`` its events.
    Registered when created, so nothing published after that is missed."""

    def __init__(self, bus: "Bus", session_id: str, after_seq: int | None) -> None:
        self._bus = bus
        self.session_id = session_id
        self.last_seq = after_seq
        """The seq of the last event given (``after_seq`` until one is; None: from now on)."""
        self._replayed = after_seq is None
        self._ended = False
        self._page: deque[SessionEventT] = deque()

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> SessionEventT:
        if self._ended:
            raise StopAsyncIteration
        while True:
            if not self._replayed:
                event = await self._from_store()
                if event is None:
                    self._replayed = True
                    continue
            else:
                event = await self._live()
                if self.last_seq is not None:
                    if event.seq <= self.last_seq:
                        continue  # already given from the store
                    if event.seq > self.last_seq + 1:  # a gap: heal it from the store (it is stored)
                        self._replayed = False
                        continue
            self.last_seq = event.seq
            self._ended = isinstance(event, SessionEndedEvent)
            return event

    async def _from_store(self) -> SessionEventT | None:
        if not self._page:
            rows = await executors.run(
                "store", self._bus.db.call, crud.events_after, session_id=self.session_id, after_seq=self.last_seq or 0,
                limit=_REPLAY_PAGE,
            )
            self._page.extend(parse_session_event(payload) for _, payload in rows)
            if not self._page:
                return None
        return self._page.popleft()

    @abc.abstractmethod
    async def _live(self) -> SessionEventT:
        """The next live event; raises :class:`Lagging` or :class:`Gone`."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop receiving (idempotent)."""

    async def __aenter__(self) -> "Subscription":
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()


class Bus(abc.ABC):
    """See the module's docstring. Implementations provide delivery; storing is shared."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def publish(self, session_id: str, event: SessionEventT) -> SessionEventT:
        """Store ``event`` (its ``seq`` is set), then deliver it to the session's readers."""
        async with self._locks[session_id]:
            await executors.run("store", self.db.call, crud.append_event, session_id=session_id, event=event)
            await self._deliver(session_id, event)
        if isinstance(event, SessionEndedEvent):
            self._forget(session_id)
        elif isinstance(event, SegmentEvent):
            metrics.SEGMENTS.labels(event.status).inc()
        elif isinstance(event, TranslationEvent):
            metrics.TRANSLATIONS.labels(event.engine, event.status).inc()
        return event

    @abc.abstractmethod
    def subscribe(self, session_id: str, after_seq: int | None = 0) -> Subscription:
        """The session's events after ``after_seq`` (None: only those published from now on)."""

    @abc.abstractmethod
    async def send(self, session_id: str, command: SessionCommand) -> bool:
        """Hand ``command`` to the live session's owner (see the module's docstring)."""

    @abc.abstractmethod
    def commands(self, session_id: str) -> AsyncIterator[Delivery]:
        """The owner's side of :meth:`send`, registered when called; it ends after
        :meth:`release` (commands not yet handled are answered False)."""

    @abc.abstractmethod
    def release(self, session_id: str) -> None:
        """The owner stops running the session: its :meth:`commands` iterator ends."""

    async def close(self, session_id: str, reason: str) -> None:
        """The session is gone: its readers stop with :class:`Gone` after what they were given."""
        self._forget(session_id)
        await self._close(session_id, reason)

    @abc.abstractmethod
    async def _deliver(self, session_id: str, event: SessionEventT) -> None: ...

    @abc.abstractmethod
    async def _close(self, session_id: str, reason: str) -> None: ...

    def _forget(self, session_id: str) -> None:
        lock = self._locks.get(session_id)
        if lock is not None and not lock.locked():
            del self._locks[session_id]
