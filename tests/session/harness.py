"""Run a session in-process, the way Pipecat's ``run_test`` runs a pipeline: the real
composition root (store, tiny.en, VAD, voice encoder, translation, the in-memory bus), one
or more tracks fed with real audio, commands sent through the bus as the REST facade sends
them, and every event the session published, read back from the bus.

    events = asyncio.run(run_session(settings, feeds=[Feed(audio)], commands=[(2.0, cmd)]))
"""

from __future__ import annotations

from livetranslate.session.service import EVERYONE

import asyncio
from dataclasses import dataclass, field

import numpy as np

from livetranslate.audio import to_pcm16
from livetranslate.runtime import Services, running
from livetranslate.session import TrackSpec
from livetranslate.settings import Settings


@dataclass
class Feed:
    """One track's audio (16 kHz mono float32), sent in ``chunk_s`` pieces from ``at`` s on."""

    audio: np.ndarray
    spec: TrackSpec = field(default_factory=lambda: TrackSpec(format="pcm_s16le", sample_rate=16000))
    chunk_s: float = 0.1
    pace: float = 0.0
    """Seconds of wall time per second of audio (0: as fast as the pipeline takes it)."""
    stop: bool = True
    """Send stop at the end (False: the source goes away; the session pauses)."""


@dataclass
class Outcome:
    session_id: str
    events: list
    closed: list[str]
    """Why the session asked each track's source to stop (``terminate``), in order."""
    replies: list


def settings_for(tmp_path, **overrides) -> Settings:
    return Settings(data_dir=tmp_path / "data", **overrides)


async def run_session(
    settings: Settings, feeds: list[Feed], commands: list[tuple[float, object]] = (), *,
    create: dict | None = None, before_start=None, services_hook=None,
) -> Outcome:
    """Create a session, feed its tracks concurrently, send ``commands`` (``(seconds after the
    start, command)``; a callable gets the services and the session id) and return what was
    published once every track is done. ``before_start(services)``: a fault to inject."""
    async with running(settings) as services:
        if before_start is not None:
            await before_start(services)
        row = await services.sessions.create(scope=EVERYONE, title="harness", language="en", targets=[], **(create or {}))
        closed: list[str] = []
        replies: list = []
        async with services.bus.subscribe(row.id, 0) as sub:
            tasks = [asyncio.create_task(_feed(services, row.id, f, closed)) for f in feeds]
            tasks += [asyncio.create_task(_command(services, row.id, at, c, replies)) for at, c in commands]
            await asyncio.gather(*tasks)
            if services_hook is not None:
                await services_hook(services, row.id)
            events = []
            last = (await services.sessions.get(row.id)).last_seq
            while sub.last_seq is None or sub.last_seq < last:
                events.append(await asyncio.wait_for(anext(sub), 10))
        return Outcome(row.id, events, closed, replies)


async def _feed(services: Services, session_id: str, feed: Feed, closed: list[str]) -> None:
    gone = asyncio.Event()

    async def terminate(reason: str) -> None:
        closed.append(reason)
        gone.set()

    pcm = to_pcm16(feed.audio)
    step = int(feed.chunk_s * 16000) * 2
    track = await services.live.open_track(session_id, feed.spec, terminate)
    async with track:
        for i in range(0, len(pcm), step):
            if gone.is_set():
                return
            await track.feed(pcm[i : i + step])
            if feed.pace:
                await asyncio.sleep(feed.chunk_s * feed.pace)
        if feed.stop:
            await track.stop()


async def _command(services: Services, session_id: str, at: float, command, replies: list) -> None:
    await asyncio.sleep(at)
    if callable(command):
        replies.append(await command(services, session_id))
    else:
        replies.append(await services.bus.send(session_id, command))
