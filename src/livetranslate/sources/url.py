"""Stream URLs as an audio source: HTTP(S) files and live streams (HLS, Icecast MP3/AAC) and
whatever else FFmpeg reads through PyAV (RTSP, RTMP, SRT), decoded as they arrive and fed to
a track of a live session.

A reader thread per source opens the URL with PyAV (open and read timeouts), resamples to
16 kHz mono and hands the audio to the source's task, which feeds the track. A file (its
duration known) is read at real-time pace for a live session and ends the track when it
ends; a live stream that drops or stalls is reconnected with backoff — its track aborted
meanwhile, so the session pauses and resumes on the same timeline. Each state is published
as a ``source.status`` event: connecting, live, reconnecting, ended, failed (with why).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import av
from livetranslate.audio import Resampler
from livetranslate.errors import LiveTranslateError, UnsupportedUrl
from livetranslate.session import LiveSessions, Track, TrackSpec
from livetranslate.settings import Settings

log = logging.getLogger(__name__)

SCHEMES = ("http", "https", "rtsp", "rtmp", "rtmps", "srt")
_STEADY_S = 5.0  # audio a reconnected stream must deliver before its retries count from zero again
_REPORTED = ("ended", "the stream ended")  # what _read says when it has reported the end itself


def check_url(url: str, *, allow_files: bool = False) -> str:
    """The URL if this source can read it; UnsupportedUrl (422) listing what it can read otherwise."""
    allowed = SCHEMES + (("file",) if allow_files else ())
    try:
        parts = urlsplit(url)
    except ValueError as e:  # e.g. an unclosed IPv6 bracket
        raise UnsupportedUrl(f"{url!r} is not a URL: {e}") from e
    if parts.scheme.lower() not in allowed:
        hint = "" if allow_files or parts.scheme != "file" else " (file:// only when LIVETRANSLATE_ALLOW_FILE_URLS is set)"
        raise UnsupportedUrl(
            f"cannot read {parts.scheme or 'a URL without a scheme'!r}{hint}; "
            f"stream URLs may be {', '.join(s + '://' for s in allowed)}"
        )
    if parts.scheme != "file" and not parts.netloc:
        raise UnsupportedUrl(f"{url!r} names no host")
    return url


class StreamFailed(Exception):
    """The URL cannot be read; ``permanent``: trying again will not help (404, not audio)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Opened:
    live: bool
    """A live stream (no known duration): it is reconnected when it drops."""
    codec: str
    sample_rate: int
    channels: int


class Reader:
    """Reads one URL in a thread of its own; :meth:`items` yields :class:`Opened`, then audio
    chunks (16 kHz mono float32), and ends at the end of the stream; raises StreamFailed."""

    def __init__(self, url: str, *, pace: bool, open_timeout: float, read_timeout: float, queue_size: int = 50,
                 skip_s: float = 0.0) -> None:
        """``skip_s``: audio already taken from this file before it dropped (decoded, not given again)."""
        self.url = url
        self._pace = pace
        self._skip = skip_s
        self._timeouts = (open_timeout, read_timeout)
        self._stop = threading.Event()
        self._stopped: asyncio.Event | None = None  # the same, for the reading task
        self._queue_size = queue_size

    def stop(self) -> None:
        """From the event loop: the thread ends at its next step and :meth:`items` at once."""
        self._stop.set()
        if self._stopped is not None:
            self._stopped.set()

    async def items(self):
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue(self._queue_size)
        self._stopped = asyncio.Event()
        done = object()

        def put(item) -> bool:
            """From the thread: wait for room (back-pressure); False once stopped."""
            put_item = queue.put(item)
            try:
                future = asyncio.run_coroutine_threadsafe(put_item, loop)
            except RuntimeError:  # the loop is gone
                put_item.close()
                return False
            while True:  # the same put until it is done (never a second copy), or the source stops
                try:
                    future.result(timeout=0.5)
                    return True
                except TimeoutError:
                    if self._stop.is_set():
                        future.cancel()
                        return False

        def run() -> None:
            try:
                self._read(put)
            except StreamFailed as e:
                put(e)
            except Exception as e:  # an FFmpeg corner nobody foresaw: retried, and said
                log.exception("reading %s failed", self.url)
                put(StreamFailed(f"reading the stream failed: {e}", permanent=False))
            finally:
                put(done)

        thread = threading.Thread(target=run, name="source-url", daemon=True)
        thread.start()
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({getter, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    return  # stopped
                item = getter.result()
                if item is done:
                    return
                if isinstance(item, StreamFailed):
                    raise item
                yield item
        finally:
            stopped.cancel()
            self._stop.set()

    def _read(self, put: Callable[[object], bool]) -> None:
        try:
            container = av.open(self.url, mode="r", timeout=self._timeouts)
        except av.HTTPClientError as e:  # 4xx: the URL is wrong, not the network
            raise StreamFailed(f"the server answered {_http(e)}", permanent=True) from e
        except av.InvalidDataError as e:  # it answered, with something that is not a stream
            raise StreamFailed(_why(e), permanent=True) from e
        except av.FFmpegError as e:  # 5xx, refused, stalled: worth another try
            raise StreamFailed(_why(e), permanent=False) from e
        with container:
            if not container.streams.audio:
                raise StreamFailed("the stream has no audio", permanent=True)
            stream = container.streams.audio[0]
            live = container.duration is None
            if not put(Opened(live, stream.codec_context.name, stream.rate, stream.channels)):
                return
            resample = Resampler()
            started, sent, skip = time.monotonic(), 0.0, int(self._skip * 16000)
            try:
                for frame in container.decode(stream):
                    pcm = resample(frame)
                    if skip:  # given before the file dropped
                        cut = min(skip, pcm.size)
                        pcm, skip = pcm[cut:], skip - cut
                        started = time.monotonic()
                    if pcm.size and not put(pcm):
                        return
                    sent += pcm.size / 16000
                    if self._pace and not live:  # a file plays at real-time pace, a live stream paces itself
                        ahead = sent - (time.monotonic() - started)
                        if ahead > 0.25 and self._stop.wait(ahead - 0.1):
                            return
                    if self._stop.is_set():
                        return
            except av.FFmpegError as e:
                raise StreamFailed(_why(e), permanent=False) from e
            rest = resample(None)
            if rest.size:
                put(rest)


def _http(e: av.FFmpegError) -> str:
    return (e.strerror or str(e)).replace("Server returned ", "").rstrip(".")  # "404 Not Found"


def _why(e: av.FFmpegError) -> str:
    text = (e.strerror or str(e)).rstrip(".")
    if isinstance(e, av.ExitError) or "Immediate exit" in text:
        return "the stream stalled (nothing arrived within the read timeout)"
    if isinstance(e, av.InvalidDataError):
        return "the URL is not audio or video that can be decoded"
    return f"cannot read the stream: {text.lower()}"


def backoff(attempt: int, first: float, most: float) -> float:
    """Seconds before reconnect ``attempt`` (1, 2, ...): doubling from ``first`` up to ``most``."""
    return min(most, first * 2 ** (attempt - 1))



class UrlSource:
    """One stream URL feeding one track of a live session, reconnecting as needed."""

    def __init__(self, *, source_id: str, session_id: str, url: str, spec: TrackSpec, live: LiveSessions,
                 report: Callable[[str, str | None], Awaitable[None]], settings: Settings) -> None:
        self.id, self.session_id, self.url, self.spec = source_id, session_id, url, spec
        self._live = live
        self._report = report
        self._s = settings
        self._reader: Reader | None = None
        self._track: Track | None = None
        self._attempt = 0
        """Reconnects in a row (since the stream was last live)."""
        self._file_s = 0.0
        """Of a file (not a live stream): seconds already fed, not fed again after a reconnect."""
        self._stopping: str | None = None
        self._wake = asyncio.Event()

    def stop(self, reason: str) -> None:
        """End the source (removed, the session ended or was deleted, the server stops)."""
        self._stopping = self._stopping or reason
        if self._reader is not None:
            self._reader.stop()
        self._wake.set()

    async def _terminate(self, reason: str) -> None:  # the live session asks its source to stop
        self.stop(reason)

    async def run(self) -> None:
        await self._report("connecting", None)
        while True:
            outcome, reason = None, None
            try:
                outcome = await self._read()
            except StreamFailed as e:
                reason = e.reason
                if e.permanent:
                    outcome = ("failed", e.reason)
            except LiveTranslateError as e:  # the session ended, is gone, or the track is taken
                outcome = ("failed", e.message)
            except Exception as e:  # a bug or the store: said, and the track let go below
                log.exception("source %s of session %s failed", self.id, self.session_id)
                outcome = ("failed", f"internal error: {e}")
            if self._stopping:
                outcome = ("ended", self._stopping)
            if outcome is None:  # it dropped, stalled or ended though live: try again, a few times in a row
                reason = reason or "the stream ended"
                if self._attempt >= self._s.source_retries:
                    tried = f" (after {self._attempt} retries)" if self._attempt else ""
                    outcome = ("failed", reason + tried)
                else:
                    self._attempt += 1
            try:  # said before the track goes: the source's news first, then the session pauses or ends
                if outcome is not _REPORTED:
                    await self._report(*(outcome or ("reconnecting", reason)))
            finally:
                if self._track is not None:
                    await self._track.abort()
                    self._track = None
            if outcome is not None:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                wait = backoff(self._attempt, self._s.source_retry_s, self._s.source_retry_max_s)
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _read(self) -> object | None:
        """Read the stream once, feeding a track; ``_REPORTED`` when a file is over (it ended its track)."""
        self._reader = reader = Reader(self.url, pace=True, open_timeout=self._s.source_open_timeout_s,
                                       read_timeout=self._s.source_read_timeout_s, skip_s=self._file_s)
        if self._stopping:
            return None
        finite = False
        async with contextlib.aclosing(reader.items()) as items:  # its thread ends with it, whatever happens
            async for item in items:
                if isinstance(item, Opened):
                    self._track = await self._live.open_track(self.session_id, self.spec, self._terminate)
                    finite, heard = not item.live, 0.0
                    await self._report("live", None)
                elif self._track is not None:
                    await self._track.feed(item.astype("<f4").tobytes())
                    heard += item.size / 16000
                    if finite:
                        self._file_s += item.size / 16000  # a file that drops goes on from here
                    if heard >= _STEADY_S:  # it is back for real: the next drop has its retries again
                        self._attempt = 0
        if finite and self._track is not None and not self._stopping:
            await self._report("ended", "the stream ended")
            track, self._track = self._track, None
            await track.stop()
            return _REPORTED
        return None
