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
from livetranslate.api.deps import get_services
from livetranslate.bus import Gone, Lagging, Subscription
from livetranslate.errors import InvalidInput, LiveTranslateError, TooLarge
from livetranslate.audio import SAMPLE_RATE
from livetranslate.events import (
    ErrorMessage, InputMessage, ReadyMessage, SpeakersMessage, StartMessage, parse_client_message,
)
from livetranslate.runtime import Services
from livetranslate.session import Track, TrackSpec
from livetranslate.store import crud

log = logging.getLogger(__name__)
router = APIRouter(tags=["streaming"])

CLOSE_LAGGING = 4408


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
        self._stopped = False
        self._advanced = asyncio.Event()

    async def run(self) -> None:
        try:
            async for event in self._sub:
                await self._ws.send_text(event.to_json())
                self.last_sent = event.seq
                self._advanced.set()
        except Lagging as e:
            await _send_error(
                self._ws,
                InvalidInput(f"this socket fell behind at seq {e.last_seq}; read events from /events?after_seq={e.last_seq}"),
                close=False,
            )
        except Gone:
            pass  # the session was deleted: the socket is closed by whoever deleted it
        finally:
            self._stopped = True
            self._advanced.set()

    async def wait_sent(self, seq: int, timeout: float = 30.0) -> None:
        async def _wait():
            while self.last_sent < seq and not self._stopped:
                self._advanced.clear()
                await self._advanced.wait()

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_wait(), timeout)


@router.websocket("/v1/sessions/{session_id}/audio")
async def audio_socket(ws: WebSocket, session_id: str) -> None:
    services: Services = get_services(ws)
    max_frame = services.settings.max_frame_bytes
    await ws.accept()
    metrics.CONNECTIONS.labels("audio").inc()
    sub = services.bus.subscribe(session_id, None)  # before going live: every event of this socket's time
    forwarder = _Forwarder(ws, sub)
    forward_task: asyncio.Task | None = None
    track: Track | None = None

    async def terminate(reason: str) -> None:
        await _close(ws, 1001, reason)

    try:
        async with _errors_close(ws, f"audio socket of session {session_id}"):
            start = await _receive_start(ws)
            track = await services.live.open_track(session_id, _spec(start), terminate)
            forward_task = asyncio.create_task(forwarder.run(), name=f"forward-audio-{session_id}")
            known = track.input
            await ws.send_text(
                ReadyMessage(
                    session_id=session_id,
                    format=start.format,
                    sample_rate=SAMPLE_RATE,
                    input_sample_rate=known.sample_rate if known else None,
                    input_channels=known.channels if known else None,
                    audio_offset=round(track.offset, 3),
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
                    await track.feed(data)
                    if known is None and track.input is not None:  # a container's header was read
                        known = track.input
                        message = InputMessage(format=start.format, sample_rate=known.sample_rate, channels=known.channels)
                        await ws.send_text(message.to_json())
                    continue
                control = parse_client_message(msg.get("text") or "")
                if isinstance(control, StartMessage):
                    raise InvalidInput("this socket has already started; send audio frames or {\"type\":\"stop\"}")
                if isinstance(control, SpeakersMessage):
                    try:
                        await services.speakers.add_events(session_id, control.events)
                    except InvalidInput as e:  # bad events are refused; the audio goes on
                        await _send_error(ws, e, close=False)
                    continue
                break  # stop
            ended = await track.stop()
            if ended is not None:
                await forwarder.wait_sent(ended.seq)
            await _close(ws, 1000, "session ended" if ended is not None else "track ended; the session goes on")
    finally:
        if track is not None:  # socket gone or bad input: keep what was accepted, the session pauses
            try:
                await track.abort()
            except Exception:
                log.exception("session %s: finishing the audio of a closed socket failed", session_id)
        if forward_task is not None:
            forward_task.cancel()
            await asyncio.gather(forward_task, return_exceptions=True)
        sub.close()
        metrics.CONNECTIONS.labels("audio").dec()


def _spec(start: StartMessage) -> TrackSpec:
    return TrackSpec(format=start.format, sample_rate=start.sample_rate, channels=start.channels,
                     name=start.track_key, participant=start.participant)


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
    receiver = asyncio.create_task(_drain_client(ws), name=f"events-recv-{session_id}")
    try:
        async with _errors_close(ws, f"events socket of session {session_id}"):
            raw = ws.query_params.get("after_seq", "0")
            if not raw.isdigit():
                raise InvalidInput(f"after_seq must be a non-negative integer, not {raw!r}")
            await asyncio.to_thread(services.db.call, crud.get_session, session_id=session_id)
            async with services.bus.subscribe(session_id, int(raw)) as sub:
                await _follow(ws, sub, receiver)
    finally:
        receiver.cancel()
        metrics.CONNECTIONS.labels("events").dec()


async def _follow(ws: WebSocket, sub: Subscription, receiver: asyncio.Task) -> None:
    """Send the subscription's events until the session ends, the reader lags or leaves."""
    while True:
        getter = asyncio.ensure_future(anext(sub))
        done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if getter not in done:
            getter.cancel()
            return  # the client went away
        try:
            event = getter.result()
        except StopAsyncIteration:
            await _close(ws, 1000, "session ended")
            return
        except Lagging as e:
            await _send_error(ws, InvalidInput(f"subscriber too slow; reconnect with after_seq={e.last_seq}"), close=False)
            await _close(ws, CLOSE_LAGGING, f"lagging; reconnect with after_seq={e.last_seq}")
            return
        except Gone as e:
            await _close(ws, 1001, e.reason)
            return
        await ws.send_text(event.to_json())


async def _drain_client(ws: WebSocket) -> None:
    """The events socket needs nothing from the client; read until it goes away."""
    with contextlib.suppress(Exception):
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
