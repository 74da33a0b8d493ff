"""What both WebSockets share: counting them, sending with a deadline, turning what goes wrong
into an error message and a close code, and the audio socket's outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from fastapi import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from livetranslate import metrics
from livetranslate.bus import Gone, Lagging, Subscription
from livetranslate.errors import LiveTranslateError, Overloaded, SlowReader
from livetranslate.events import ErrorMessage

log = logging.getLogger(__name__)

LAST_WORDS_S = 60.0
"""How long an error message or a close may wait for a client that reads nothing (the keepalive
usually ends such a connection sooner)."""

_open = 0  # both kinds, this process: at most settings.max_sockets


@contextlib.contextmanager
def counted(kind: str):
    global _open
    _open += 1
    metrics.CONNECTIONS.labels(kind).inc()
    try:
        yield
    finally:
        _open -= 1
        metrics.CONNECTIONS.labels(kind).dec()


def check_room(max_sockets: int) -> None:
    if _open > max_sockets:
        raise Overloaded(f"this server holds its most WebSockets ({max_sockets}); try again later")


async def close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state == WebSocketState.CONNECTED and ws.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code, reason.encode()[:120].decode(errors="ignore")), LAST_WORDS_S)


def error_message(exc: LiveTranslateError, close: bool) -> ErrorMessage:
    metrics.ERRORS.labels(exc.code).inc()
    return ErrorMessage(code=exc.code, message=exc.message, close_code=exc.close_code if close else None,
                        retry_after=getattr(exc, "retry_after", None))


async def send_error(ws: WebSocket, exc: LiveTranslateError) -> None:
    """The error, then the close it names."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.send_text(error_message(exc, close=True).to_json()), LAST_WORDS_S)
    await close(ws, exc.close_code, exc.message)


async def send(ws: WebSocket, message, timeout: float, last_sent: int) -> None:
    """Send one message; SlowReader when it could not go out within ``timeout`` (the client is
    not reading: nothing of it was written, so ``last_sent`` is where the client resumes)."""
    try:
        await asyncio.wait_for(ws.send_text(message.to_json()), timeout)
    except TimeoutError:
        raise SlowReader(
            f"reconnect with after_seq={last_sent}: this socket was not read for {timeout:g} s", last_sent,
        ) from None


@contextlib.asynccontextmanager
async def errors_close(ws: WebSocket, what: str, quiet: Callable[[], Awaitable[None]] | None = None):
    """Turn what goes wrong on a socket into an error message and a close code (after
    ``quiet``, which stops whatever else sends on the socket: the error is the last word)."""
    try:
        yield
    except WebSocketDisconnect:
        pass
    except LiveTranslateError as e:
        if quiet is not None:
            await quiet()
        await send_error(ws, e)
    except Exception:
        log.exception("%s failed", what)
        if quiet is not None:
            await quiet()
        await close(ws, 1011, "internal error; what was accepted is kept")


_WAKE = object()
"""Queued to wake the outbox's sender: by :meth:`Outbox.finish` (send what came before, then
stop) or when it was cut off (send the error saying so, then stop)."""


class Outbox:
    """Everything the audio socket sends after ``ready``, in order, from tasks of its own: the
    session's events (``sub``; None when the client asked for none) and notices (an error that
    leaves the audio going, the input's format). The receive loop only hands notices over, so a
    client that does not read never stalls its audio. One that falls ``limit`` messages behind,
    or whose send is blocked ``timeout`` seconds, is sent nothing more but an error saying
    where to read the events from; its audio goes on."""

    def __init__(self, ws: WebSocket, sub: Subscription | None, session_id: str, *, after_seq: int,
                 timeout: float, limit: int) -> None:
        self._ws = ws
        self._sub = sub
        self._session_id = session_id
        self._timeout = timeout
        self._queue: asyncio.Queue = asyncio.Queue(limit)
        self.last_sent = after_seq
        """The seq of the last event sent (the session's last seq when the socket started)."""
        self._cut, self._why = False, ""
        self._done = False
        self._closed = False
        """Set by :meth:`aclose`: the sender stops even if its cancellation is lost (Python 3.11's
        ``wait_for`` drops a cancellation that arrives as the send completes)."""
        self._advanced = asyncio.Event()
        self._sender: asyncio.Task | None = None
        self._pumper: asyncio.Task | None = None
        """Moves the subscription's events into the queue."""

    def start(self) -> None:
        self._sender = asyncio.create_task(self._send_all(), name=f"outbox-{self._session_id}")
        if self._sub is not None:
            self._pumper = asyncio.create_task(self._pump(), name=f"outbox-events-{self._session_id}")

    def notify(self, message) -> None:
        """Queue ``message`` (an ErrorMessage or another of the protocol's messages) for sending."""
        if self._cut or self._done:
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self._stop_sending("fell behind")

    def notify_error(self, exc: LiveTranslateError) -> None:
        self.notify(error_message(exc, close=False))

    async def _pump(self) -> None:
        try:
            async for event in self._sub:
                await self._queue.put(event)  # when full, the subscription's own queue fills: Lagging
        except Lagging:
            self._stop_sending("fell behind")
        except Gone:
            pass  # the session was deleted: the socket is closed by whoever deleted it

    async def _send_all(self) -> None:
        try:
            while not self._closed and (message := await self._queue.get()) is not _WAKE and not self._cut:
                try:
                    await send(self._ws, message, self._timeout, self.last_sent)
                except SlowReader:
                    self._stop_sending("was not read")
                    break
                if getattr(message, "seq", 0):
                    self.last_sent = message.seq
                    self._advanced.set()
            if self._cut and not self._closed:
                exc = SlowReader(
                    f"this socket {self._why} after seq {self.last_sent}: it gets no more events (the audio goes on); "
                    f"read them from /v1/sessions/{self._session_id}/events?after_seq={self.last_sent}", self.last_sent,
                )
                await asyncio.wait_for(self._ws.send_text(error_message(exc, close=False).to_json()), LAST_WORDS_S)
        except (WebSocketDisconnect, OSError, RuntimeError):  # the socket is gone: the receive loop hears of it
            pass
        except Exception:
            log.exception("session %s: sending on the audio socket failed", self._session_id)
        finally:
            self._done = True
            self._advanced.set()

    def _stop_sending(self, why: str) -> None:
        if self._cut:
            return
        self._cut, self._why = True, why
        self._advanced.set()
        with contextlib.suppress(asyncio.QueueFull):  # full: the sender is blocked in a send, and wakes from it
            self._queue.put_nowait(_WAKE)
        if self._pumper is not None and self._pumper is not asyncio.current_task():
            self._pumper.cancel()

    async def wait_sent(self, seq: int, timeout: float = 30.0) -> None:
        """Until the event ``seq`` was sent, the outbox stopped sending, or ``timeout``."""
        async def _wait():
            while self.last_sent < seq and not self._cut and not self._done:
                self._advanced.clear()
                await self._advanced.wait()

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_wait(), timeout)

    async def finish(self, timeout: float = LAST_WORDS_S) -> None:
        """Send what is queued (after a cut: the error saying so), then stop: the socket's close
        comes after the outbox's last message."""
        if self._sender is not None and not self._done:
            if not self._cut:
                try:
                    self._queue.put_nowait(_WAKE)
                except asyncio.QueueFull:
                    self._stop_sending("fell behind")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._sender), timeout)
        await self.aclose()

    async def aclose(self) -> None:
        """Stop at once (what is queued is dropped)."""
        self._closed = True
        with contextlib.suppress(asyncio.QueueFull):  # full: the sender is in a send, and checks on its return
            self._queue.put_nowait(_WAKE)
        tasks = [t for t in (self._sender, self._pumper) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._sub is not None:
            self._sub.close()
