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

from livetranslate import executors
from livetranslate.api import sockets
from livetranslate.api.deps import get_services, socket_caller, subprotocol
from livetranslate.audio import SAMPLE_RATE
from livetranslate.bus import Gone, Lagging, Subscription
from livetranslate.errors import Idle, InvalidInput, LiveTranslateError, SlowReader, TooLarge
from livetranslate.events import InputMessage, ReadyMessage, SpeakersMessage, StartMessage, parse_client_message
from livetranslate.runtime import Services
from livetranslate.session import Track, TrackSpec
from livetranslate.store import crud

log = logging.getLogger(__name__)
router = APIRouter(tags=["streaming"])


@router.websocket("/v1/sessions/{session_id}/audio")
async def audio_socket(ws: WebSocket, session_id: str) -> None:
    await ws.accept(subprotocol=subprotocol(ws))
    with sockets.counted("audio"):
        await _audio(ws, session_id, get_services(ws))


async def _audio(ws: WebSocket, session_id: str, services: Services) -> None:
    settings = services.settings
    max_frame, idle_s = settings.max_frame_bytes, settings.audio_idle_timeout_s
    outbox: sockets.Outbox | None = None
    track: Track | None = None

    async def terminate(reason: str) -> None:
        if outbox is not None:
            await outbox.finish()
        await sockets.close(ws, 1001, reason)

    async def quiet() -> None:
        if outbox is not None:
            await outbox.aclose()

    try:
        async with sockets.errors_close(ws, f"audio socket of session {session_id}", quiet):
            await socket_caller(ws, session_id, "member")
            sockets.check_room(settings.max_sockets)
            start = await _receive_start(ws, idle_s)
            # subscribed before going live, after what is stored: every event of this socket's time
            after = (await executors.run("store", services.db.call, crud.get_session, session_id=session_id)).last_seq
            sub = services.bus.subscribe(session_id, after) if start.events == "all" else None
            outbox = sockets.Outbox(ws, sub, session_id, after_seq=after, timeout=settings.send_timeout_s,
                                    limit=settings.subscriber_queue_size)
            track = await services.live.open_track(session_id, _spec(start), terminate)
            known = track.input
            # a client gone already is no reason to drop the frames it sent before it went: they
            # are read below like any other, then its close
            with contextlib.suppress(WebSocketDisconnect):
                await ws.send_text(ReadyMessage(
                    session_id=session_id,
                    format=start.format,
                    sample_rate=SAMPLE_RATE,
                    input_sample_rate=known.sample_rate if known else None,
                    input_channels=known.channels if known else None,
                    audio_offset=round(track.offset, 3),
                ).to_json())
            outbox.start()
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
                        outbox.notify(InputMessage(format=start.format, sample_rate=known.sample_rate,
                                                   channels=known.channels))
                    continue
                if not await _control(msg.get("text") or "", session_id, services, outbox):
                    break  # stop
            ended = await track.stop()
            if ended is not None and sub is not None:
                await outbox.wait_sent(ended.seq)
            await outbox.finish()
            await sockets.close(ws, 1000, "session ended" if ended is not None else "track ended; the session goes on")
    finally:
        if track is not None:  # socket gone or bad input: keep what was accepted, the session pauses
            try:
                await track.abort()
            except LiveTranslateError as e:  # the client's audio (already said to it), not the server's fault
                log.info("session %s: the audio of a closed socket: %s", session_id, e.message)
            except Exception:
                log.exception("session %s: finishing the audio of a closed socket failed", session_id)
        if outbox is not None:
            await outbox.aclose()


async def _control(text: str, session_id: str, services: Services, outbox: sockets.Outbox) -> bool:
    """Handle a text frame after ``start``; False for ``stop``. Bad meeting events are refused
    with a notice and the audio goes on (one bad event from a bot must not stop a meeting)."""
    try:
        control = parse_client_message(text)
    except InvalidInput as e:
        if _type_of(text) != "speakers":
            raise
        outbox.notify_error(e)
        return True
    if isinstance(control, StartMessage):
        raise InvalidInput("this socket has already started; send audio frames or {\"type\":\"stop\"}")
    if isinstance(control, SpeakersMessage):
        try:
            await services.speakers.add_events(session_id, control.events)
        except InvalidInput as e:
            outbox.notify_error(e)
        return True
    return False


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
    await ws.accept(subprotocol=subprotocol(ws))
    with sockets.counted("events"):
        await _events(ws, session_id, get_services(ws))


async def _events(ws: WebSocket, session_id: str, services: Services) -> None:
    receiver = asyncio.create_task(_drain_client(ws), name=f"events-recv-{session_id}")
    try:
        async with sockets.errors_close(ws, f"events socket of session {session_id}"):
            await socket_caller(ws, session_id, "viewer")
            sockets.check_room(services.settings.max_sockets)
            raw = ws.query_params.get("after_seq", "0")
            if not re.fullmatch(r"[0-9]{1,18}", raw):  # ASCII digits, within a 64-bit seq
                raise InvalidInput(f"after_seq must be a non-negative integer below 10^18, not {raw[:40]!r}")
            await executors.run("store", services.db.call, crud.get_session, session_id=session_id)
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
            await sockets.close(ws, 1000, "session ended")
            return
        except Lagging as e:
            raise SlowReader(
                f"reconnect with after_seq={e.last_seq}: this socket fell more than "
                f"{settings.subscriber_queue_size} events behind", e.last_seq,
            ) from None
        except Gone as e:
            await sockets.close(ws, 1001, e.reason)
            return
        await sockets.send(ws, event, settings.send_timeout_s, last_sent)
        last_sent = event.seq


async def _drain_client(ws: WebSocket) -> None:
    """The events socket needs nothing from the client; read until it goes away."""
    with contextlib.suppress(Exception):
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
