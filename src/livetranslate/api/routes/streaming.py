"""The two WebSockets of a session (protocol: livetranslate/web/protocol.md, served at /docs/protocol).

``/v1/sessions/{id}/audio``  audio in (``start``, binary frames, ``stop``); the session's
                             events out on the same socket, then ``session.ended``.
``/v1/sessions/{id}/events`` events out: every stored event after ``after_seq``, then live
                             ones, with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from livetranslate import metrics
from livetranslate.api.deps import get_services
from livetranslate.bus import Gone, Lagging, Subscription
from livetranslate.errors import Idle, InvalidInput, LiveTranslateError, Overloaded, SlowReader, TooLarge
from livetranslate.audio import SAMPLE_RATE
from livetranslate.events import (
    ErrorMessage, InputMessage, ReadyMessage, SpeakersMessage, StartMessage, parse_client_message,
)
from livetranslate.runtime import Services
from livetranslate.session import Track, TrackSpec
from livetranslate.store import crud

log = logging.getLogger(__name__)
router = APIRouter(tags=["streaming"])

LAST_WORDS_S = 60.0
"""How long an error message or a close may wait for a client that reads nothing (the keepalive
usually ends such a connection sooner)."""


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state == WebSocketState.CONNECTED and ws.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code, reason.encode()[:120].decode(errors="ignore")), LAST_WORDS_S)


async def _send_error(ws: WebSocket, exc: LiveTranslateError, close: bool = True) -> None:
    metrics.ERRORS.labels(exc.code).inc()
    msg = ErrorMessage(code=exc.code, message=exc.message, close_code=exc.close_code if close else None)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.send_text(msg.to_json()), LAST_WORDS_S)
    if close:
        await _close(ws, exc.close_code, exc.message)


async def _send_event(ws: WebSocket, event, timeout: float, last_sent: int) -> None:
    """Send one event; SlowReader when it could not go out within ``timeout`` (the client is not
    reading: nothing of it was written, so ``last_sent`` is where the client resumes)."""
    try:
        await asyncio.wait_for(ws.send_text(event.to_json()), timeout)
    except TimeoutError:
        raise SlowReader(
            f"reconnect with after_seq={last_sent}: this socket was not read for {timeout:g} s", last_sent,
        ) from None


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
    """Sends a subscription's events to the audio socket and remembers the last seq sent. A
    client that falls behind or stops reading gets no more events, and an error saying where
    to read them from; its audio goes on."""

    def __init__(self, ws: WebSocket, sub: Subscription, session_id: str, send_timeout: float) -> None:
        self._ws = ws
        self._sub = sub
        self._session_id = session_id
        self._timeout = send_timeout
        self.last_sent = 0
        self._stopped = False
        self._advanced = asyncio.Event()

    async def run(self) -> None:
        try:
            async for event in self._sub:
                await _send_event(self._ws, event, self._timeout, self.last_sent)
                self.last_sent = event.seq
                self._advanced.set()
        except (Lagging, SlowReader) as e:
            why = "was not read" if isinstance(e, SlowReader) else "fell behind"
            await _send_error(self._ws, SlowReader(
                f"this socket {why} after seq {self.last_sent}: it gets no more events (the audio goes on); read them "
                f"from /v1/sessions/{self._session_id}/events?after_seq={self.last_sent}", self.last_sent,
            ), close=False)
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


_open_sockets = 0  # both kinds, this process: at most settings.max_sockets


@contextlib.contextmanager
def _counted(kind: str):
    global _open_sockets
    _open_sockets += 1
    metrics.CONNECTIONS.labels(kind).inc()
    try:
        yield
    finally:
        _open_sockets -= 1
        metrics.CONNECTIONS.labels(kind).dec()


def _check_room(services: Services) -> None:
    if _open_sockets > services.settings.max_sockets:
        raise Overloaded(f"this server holds its most WebSockets ({services.settings.max_sockets}); try again later")


@router.websocket("/v1/sessions/{session_id}/audio")
async def audio_socket(ws: WebSocket, session_id: str) -> None:
    await ws.accept()
    with _counted("audio"):
        await _audio(ws, session_id, get_services(ws))


async def _audio(ws: WebSocket, session_id: str, services: Services) -> None:
    max_frame, idle_s = services.settings.max_frame_bytes, services.settings.audio_idle_timeout_s
    sub = services.bus.subscribe(session_id, None)  # before going live: every event of this socket's time
    forwarder = _Forwarder(ws, sub, session_id, services.settings.send_timeout_s)
    forward_task: asyncio.Task | None = None
    track: Track | None = None

    async def terminate(reason: str) -> None:
        await _close(ws, 1001, reason)

    try:
        async with _errors_close(ws, f"audio socket of session {session_id}"):
            _check_room(services)
            start = await _receive_start(ws, idle_s)
            track = await services.live.open_track(session_id, _spec(start), terminate)
            if start.events == "all":
                forward_task = asyncio.create_task(forwarder.run(), name=f"forward-audio-{session_id}")
            else:  # a sender that reads nothing back
                sub.close()
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
                msg = await _receive(ws, idle_s)
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
                try:
                    control = parse_client_message(msg.get("text") or "")
                except InvalidInput as e:
                    if _type_of(msg.get("text") or "") != "speakers":
                        raise
                    await _send_error(ws, e, close=False)  # a bad meeting event must not stop the meeting's audio
                    continue
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
            if ended is not None and forward_task is not None:
                await forwarder.wait_sent(ended.seq)
            await _close(ws, 1000, "session ended" if ended is not None else "track ended; the session goes on")
    finally:
        if track is not None:  # socket gone or bad input: keep what was accepted, the session pauses
            try:
                await track.abort()
            except LiveTranslateError as e:  # the client's audio (already said to it), not the server's fault
                log.info("session %s: the audio of a closed socket: %s", session_id, e.message)
            except Exception:
                log.exception("session %s: finishing the audio of a closed socket failed", session_id)
        if forward_task is not None:
            forward_task.cancel()
            await asyncio.gather(forward_task, return_exceptions=True)
        sub.close()


def _type_of(text: str) -> object:
    """The ``type`` a text frame says it is (None when it is not a JSON object)."""
    with contextlib.suppress(ValueError, RecursionError):
        data = json.loads(text)
        return data.get("type") if isinstance(data, dict) else None
    return None


def _spec(start: StartMessage) -> TrackSpec:
    return TrackSpec(format=start.format, sample_rate=start.sample_rate, channels=start.channels,
                     name=start.track_key, participant=start.participant)


async def _receive(ws: WebSocket, idle_s: float) -> dict:
    """The client's next message; Idle when it sends nothing for ``idle_s`` (a half-open or
    frozen client: its session pauses instead of staying live forever)."""
    if not idle_s:
        return await ws.receive()
    try:
        return await asyncio.wait_for(ws.receive(), idle_s)
    except TimeoutError:
        raise Idle(
            f"nothing received for {idle_s:g} s; the session is paused (send audio without pauses, silence while "
            "muted, and stop when done)"
        ) from None


async def _receive_start(ws: WebSocket, idle_s: float) -> StartMessage:
    msg = await _receive(ws, idle_s)
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
    await ws.accept()
    with _counted("events"):
        await _events(ws, session_id, get_services(ws))


async def _events(ws: WebSocket, session_id: str, services: Services) -> None:
    receiver = asyncio.create_task(_drain_client(ws), name=f"events-recv-{session_id}")
    try:
        async with _errors_close(ws, f"events socket of session {session_id}"):
            _check_room(services)
            raw = ws.query_params.get("after_seq", "0")
            if not re.fullmatch(r"[0-9]{1,18}", raw):  # ASCII digits, within a 64-bit seq
                raise InvalidInput(f"after_seq must be a non-negative integer below 10^18, not {raw[:40]!r}")
            await asyncio.to_thread(services.db.call, crud.get_session, session_id=session_id)
            async with services.bus.subscribe(session_id, int(raw)) as sub:
                await _follow(ws, sub, receiver, int(raw), services.settings)
    finally:
        receiver.cancel()


async def _follow(ws: WebSocket, sub: Subscription, receiver: asyncio.Task, last_sent: int, settings) -> None:
    """Send the subscription's events until the session ends or the reader leaves; SlowReader
    (4408, with the seq to resume after) when it falls behind or stops reading."""
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
            raise SlowReader(
                f"reconnect with after_seq={e.last_seq}: this socket fell more than "
                f"{settings.subscriber_queue_size} events behind", e.last_seq,
            ) from None
        except Gone as e:
            await _close(ws, 1001, e.reason)
            return
        await _send_event(ws, event, settings.send_timeout_s, last_sent)
        last_sent = event.seq


async def _drain_client(ws: WebSocket) -> None:
    """The events socket needs nothing from the client; read until it goes away."""
    with contextlib.suppress(Exception):
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
