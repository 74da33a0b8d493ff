"""The two WebSockets of a session (protocol: livetranslate/web/protocol.md, served at /docs/protocol).

``/v1/sessions/{id}/audio``  audio in (``start``, binary frames, ``stop``); the session's
                             events out on the same socket, then ``session.ended``.
``/v1/sessions/{id}/events`` events out: every stored event after ``after_seq``, then live
                             ones, with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from livetranslate import metrics
from livetranslate.api.app import Services
from livetranslate.api.deps import get_services
from livetranslate.errors import InvalidInput, LiveTranslateError, TooLarge
from livetranslate.audio import SAMPLE_RATE
from livetranslate.events import (
    ErrorMessage, InputMessage, ReadyMessage, SpeakersMessage, StartMessage, parse_client_message,
)
from livetranslate.publish import Subscription
from livetranslate.store import crud

log = logging.getLogger(__name__)
router = APIRouter(tags=["streaming"])

CLOSE_LAGGING = 4408
_REPLAY_PAGE = 500


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state == WebSocketState.CONNECTED and ws.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await ws.close(code, reason.encode()[:120].decode(errors="ignore"))


async def _send_error(ws: WebSocket, exc: LiveTranslateError, close: bool = True) -> None:
    metrics.ERRORS.labels(exc.code).inc()
    msg = ErrorMessage(code=exc.code, message=exc.message, close_code=exc.close_code if close else None)
    with contextlib.suppress(Exception):
        await ws.send_text(msg.to_json())
    if close:
        await _close(ws, exc.close_code, exc.message)


@contextlib.asynccontextmanager
async def _errors_close(ws: WebSocket, what: str):
    """Turn what goes wrong on a socket into an error message and a close code."""
    try:
        yield
    except WebSocketDisconnect:
        pass
    except LiveTranslateError as e:
        await _send_error(ws, e)
    except Exception:
        log.exception("%s failed", what)
        await _close(ws, 1011, "internal error; what was accepted is kept")


class _Forwarder:
    """Sends a subscription's events to one socket and remembers the last seq sent."""

    def __init__(self, ws: WebSocket, sub: Subscription) -> None:
        self._ws = ws
        self._sub = sub
        self.last_sent = 0
        self._advanced = asyncio.Event()

    async def run(self) -> None:
        while True:
            if self._sub.overflowed:
                await _send_error(
                    self._ws,
                    InvalidInput(
                        f"this socket fell behind at seq {self.last_sent}; "
                        f"read events from /events?after_seq={self.last_sent}"
                    ),
                    close=False,
                )
                return
            item = await self._sub.get()
            if item is None:
                return
            seq, payload = item
            await self._ws.send_text(payload)
            self.last_sent = seq
            self._advanced.set()

    async def wait_sent(self, seq: int, timeout: float = 30.0) -> None:
        async def _wait():
            while self.last_sent < seq and not self._sub.overflowed:
                self._advanced.clear()
                await self._advanced.wait()

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_wait(), timeout)


@router.websocket("/v1/sessions/{session_id}/audio")
async def audio_socket(ws: WebSocket, session_id: str) -> None:
    services: Services = get_services(ws)
    sessions = services.sessions
    max_frame = services.settings.max_frame_bytes
    await ws.accept()
    metrics.CONNECTIONS.labels("audio").inc()
    sub = services.bus.subscribe(session_id)
    forwarder = _Forwarder(ws, sub)
    forward_task: asyncio.Task | None = None
    live = False

    async def terminate(reason: str) -> None:
        await _close(ws, 1001, reason)

    try:
        async with _errors_close(ws, f"audio socket of session {session_id}"):
            start = await _receive_start(ws)
            pipeline, offset = await sessions.go_live(session_id, start, terminate)
            live = True
            forward_task = asyncio.create_task(forwarder.run(), name=f"forward-audio-{session_id}")
            known = pipeline.input
            await ws.send_text(
                ReadyMessage(
                    session_id=session_id,
                    format=start.format,
                    sample_rate=SAMPLE_RATE,
                    input_sample_rate=known.sample_rate if known else None,
                    input_channels=known.channels if known else None,
                    audio_offset=round(offset, 3),
                ).to_json()
            )
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    raise WebSocketDisconnect(msg.get("code", 1000))
                data = msg.get("bytes")
                if data is not None:
                    if len(data) > max_frame:
                        raise TooLarge(f"binary frame of {len(data)} bytes is over the limit of {max_frame} bytes")
                    await pipeline.feed(data)
                    if known is None and pipeline.input is not None:  # a container's header was read
                        known = pipeline.input
                        message = InputMessage(format=start.format, sample_rate=known.sample_rate, channels=known.channels)
                        await ws.send_text(message.to_json())
                    continue
                control = parse_client_message(msg.get("text") or "")
                if isinstance(control, StartMessage):
                    raise InvalidInput("this socket has already started; send audio frames or {\"type\":\"stop\"}")
                if isinstance(control, SpeakersMessage):
                    try:
                        await sessions.speaker_events(session_id, control.events)
                    except InvalidInput as e:  # bad events are refused; the audio goes on
                        await _send_error(ws, e, close=False)
                    continue
                break  # stop
            live = False
            ended = await sessions.finish(session_id, end=True, track=start.track_key)
            if ended is not None:
                await forwarder.wait_sent(ended.seq)
            await _close(ws, 1000, "session ended" if ended is not None else "track ended; the session goes on")
    finally:
        if live:  # socket gone or bad input: keep what was accepted, the session pauses
            try:
                await sessions.finish(session_id, end=False, track=start.track_key)
            except Exception:
                log.exception("session %s: finishing the audio of a closed socket failed", session_id)
        if forward_task is not None:
            forward_task.cancel()
            await asyncio.gather(forward_task, return_exceptions=True)
        services.bus.unsubscribe(sub)
        metrics.CONNECTIONS.labels("audio").dec()


async def _receive_start(ws: WebSocket) -> StartMessage:
    msg = await ws.receive()
    if msg["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(msg.get("code", 1000))
    if msg.get("bytes") is not None:
        raise InvalidInput(
            'binary audio before the start message; send {"type":"start","format":"pcm_s16le",'
            '"sample_rate":16000,"channels":1} first'
        )
    control = parse_client_message(msg.get("text") or "")
    if not isinstance(control, StartMessage):
        raise InvalidInput(f'the first message must be {{"type":"start",...}}, not {control.type!r}')
    return control


@router.websocket("/v1/sessions/{session_id}/events")
async def events_socket(ws: WebSocket, session_id: str) -> None:
    services: Services = get_services(ws)
    await ws.accept()
    metrics.CONNECTIONS.labels("events").inc()
    sub: Subscription | None = None
    receiver = asyncio.create_task(_drain_client(ws), name=f"events-recv-{session_id}")
    try:
        async with _errors_close(ws, f"events socket of session {session_id}"):
            raw = ws.query_params.get("after_seq", "0")
            if not raw.isdigit():
                raise InvalidInput(f"after_seq must be a non-negative integer, not {raw!r}")
            last = int(raw)
            await asyncio.to_thread(services.db.call, crud.get_session, session_id=session_id)
            sub = services.bus.subscribe(session_id)  # before the replay: nothing falls between
            ended, last = await _replay(ws, services, session_id, last)
            while not ended:
                if sub.overflowed:
                    await _send_error(
                        ws,
                        InvalidInput(f"subscriber too slow; reconnect with after_seq={last}"),
                        close=False,
                    )
                    await _close(ws, CLOSE_LAGGING, f"lagging; reconnect with after_seq={last}")
                    return
                getter = asyncio.ensure_future(sub.get())
                done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    return  # the client went away
                item = getter.result()
                if item is None:
                    if sub.closed:
                        await _close(ws, 1001, sub.closed)
                        return
                    continue  # overflowed: handled at the top of the loop
                seq, payload = item
                if seq <= last:
                    continue
                if seq > last + 1:  # cannot happen with an in-order bus; heal from the store if it does
                    ended, last = await _replay(ws, services, session_id, last)
                    continue
                await ws.send_text(payload)
                last = seq
                ended = '"type":"session.ended"' in payload
            await _close(ws, 1000, "session ended")
    finally:
        receiver.cancel()
        if sub is not None:
            services.bus.unsubscribe(sub)
        metrics.CONNECTIONS.labels("events").dec()


async def _replay(ws: WebSocket, services: Services, session_id: str, last: int) -> tuple[bool, int]:
    """Send every stored event after ``last``; return (session ended, last seq sent)."""
    ended = False
    while True:
        page = await asyncio.to_thread(
            services.db.call, crud.events_after, session_id=session_id, after_seq=last, limit=_REPLAY_PAGE
        )
        for seq, payload in page:
            await ws.send_text(payload)
            last = seq
            ended = ended or '"type":"session.ended"' in payload
        if len(page) < _REPLAY_PAGE:
            return ended, last


async def _drain_client(ws: WebSocket) -> None:
    """The events socket needs nothing from the client; read until it goes away."""
    with contextlib.suppress(Exception):
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
