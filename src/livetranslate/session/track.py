"""The track handle: one audio source feeding a live session, whatever the source is (a
socket, a stream URL, a meeting bot).

    async with await live.open_track(session_id, spec, terminate) as track:
        await track.feed(data)          # as the bytes arrive
        ended = await track.stop()      # the source is done: its finals are published

Leaving the ``async with`` without :meth:`Track.stop` aborts the track: the source went away,
what it sent is kept and the session pauses (a new track may resume it).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livetranslate.audio import StreamInput
from livetranslate.errors import Conflict
from livetranslate.events import Participant, SessionEndedEvent
from livetranslate.session.pipeline import SessionPipeline

if TYPE_CHECKING:
    from livetranslate.session.live import LiveSession


@dataclass(frozen=True)
class TrackSpec:
    """What a source sends: its format (``pcm_s16le``, ``pcm_f32le``, a container or ``auto``),
    the rate and channels of raw PCM, the track's name among the session's tracks ("" for the
    session's only one) and the participant it is, if known."""

    format: str = "pcm_s16le"
    sample_rate: int | None = None
    channels: int = 1
    name: str = ""
    participant: Participant | None = None
    record: bool = True
    """Append the unnamed track's audio to the session's recording (not for audio it already has)."""


class TrackState(enum.Enum):
    live = "live"
    stopping = "stopping"
    stopped = "stopped"
    """Its source said it was done: every final published."""
    aborted = "aborted"
    """Its source went away: what it sent is kept, the session pauses."""
    cancelled = "cancelled"
    """The session was deleted under it."""


_NEXT = {
    TrackState.live: {TrackState.stopping, TrackState.aborted, TrackState.cancelled},
    TrackState.stopping: {TrackState.stopped, TrackState.aborted, TrackState.cancelled},
}


class Track:
    def __init__(
        self, session: "LiveSession", spec: TrackSpec, pipeline: SessionPipeline, offset: float,
        terminate: Callable[[str], Awaitable[None]],
    ) -> None:
        self.session = session
        self.spec = spec
        self.pipeline = pipeline
        self.offset = offset
        """Session time (s) at which this track's audio begins."""
        self.state = TrackState.live
        self.terminate = terminate
        """Asks the source to stop feeding (its socket closes with the reason)."""
        self._fed_at = time.monotonic()
        self._counted = offset
        """Session time up to which its audio was counted against the tenant's day."""
        self._feeding = False
        self._feed_lock = asyncio.Lock()
        self.draining = False
        """Being let go (stop, abort, takeover, shutdown): the audio its source still sends is not taken."""

    @property
    def input(self) -> StreamInput | None:
        """The source's own rate and channels (None for a container until its header is read)."""
        return self.pipeline.input

    async def feed(self, data: bytes) -> None:
        """Decode, store and segment one piece of the source. Raises UnsupportedMedia."""
        if self.state is not TrackState.live:
            raise Conflict(f"track {self.spec.name!r} is {self.state.value}; it takes no more audio")
        if self.draining:
            return  # its finals are being published; its source is about to be closed
        async with self._feed_lock:
            self._feeding = True
            try:
                await self.pipeline.feed(data)  # may wait while Whisper catches up: the source is not quiet
            finally:
                self._feeding, self._fed_at = False, time.monotonic()
        await self._count()

    async def _count(self) -> None:
        """Count the audio taken, in whole seconds: RateLimited when the tenant's day is used up
        (this piece was taken; its source is closed)."""
        whole = int(self.pipeline.audio_seconds - self._counted)
        if self.session.quotas is None or whole < 1:
            return
        self._counted += whole
        await self.session.quotas.audio(tenant=self.session.tenant, seconds=whole)

    async def drain(self) -> None:
        """Take no more audio, and wait for the piece being taken in (before its finals)."""
        self.draining = True
        async with self._feed_lock:
            pass

    @property
    def quiet_s(self) -> float:
        """Seconds since its source last gave it audio (or opened it); 0 while a piece is taken in."""
        return 0.0 if self._feeding else time.monotonic() - self._fed_at

    async def stop(self) -> SessionEndedEvent | None:
        """The source is done: publish its finals. Returns the session's ``session.ended`` when
        this was its last track (the session ends)."""
        return await self.session.finish_track(self, end=True)

    async def abort(self) -> None:
        """The source went away: publish the finals of what it sent; the session pauses when no
        other track is live."""
        if self.state in (TrackState.live, TrackState.stopping):
            await self.session.finish_track(self, end=False)

    async def take_over(self, reason: str) -> None:
        """Another connection is this track's source now: close the old one, keep what it sent."""
        with contextlib.suppress(TimeoutError):  # a socket that reads nothing cannot hold up its successor
            await asyncio.wait_for(self.terminate(reason), 2.0)
        await self.abort()

    def move(self, to: TrackState) -> None:
        if to not in _NEXT.get(self.state, set()):
            raise Conflict(f"track {self.spec.name!r} cannot go from {self.state.value} to {to.value}")
        self.state = to

    async def __aenter__(self) -> "Track":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.abort()
