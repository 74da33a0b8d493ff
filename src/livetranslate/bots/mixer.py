"""The call's channels, mixed into one stream on the page's clock.

Meet sends the loudest speakers on a few rotating audio channels; the page script reads each
channel in one AudioContext and hands over 50 ms blocks stamped with that context's frame.
:class:`Mixer` sums the blocks frame by frame and lets a stretch out as soon as every channel
has delivered it, as one continuous 16 kHz stream: silence where no one spoke, so that the
stream's time is the call's time. A channel more than ``stall_s`` behind the newest frame
seen (its track ended, its worklet stalled) is not waited for; a block of it that comes
after its time was let out is dropped and counted.
"""

from __future__ import annotations

import numpy as np

RATE = 16000


class Mixer:
    def __init__(self, *, stall_s: float = 0.3) -> None:
        self._stall = int(stall_s * RATE)
        self._start: int | None = None  # the clock frame of the stream's first sample
        self._out = 0  # frames let out so far (the next starts at _start + _out)
        self._pending = np.zeros(0, np.int32)  # sums of frames from _start + _out on
        self._newest = 0
        self._ends: dict[int, int] = {}  # channel → the clock frame its blocks reach
        self.dropped = 0
        """Samples that arrived after their time was let out."""

    @property
    def started(self) -> bool:
        return self._start is not None

    def seconds(self, frame: int | None = None) -> float:
        """Seconds of stream at clock ``frame`` (default: what was let out so far)."""
        if frame is None or self._start is None:
            return self._out / RATE
        return max(0, frame - self._start) / RATE

    def add(self, channel: int, frame: int, pcm: np.ndarray) -> None:
        """One channel's block of int16 samples starting at clock ``frame``."""
        if self._start is None:
            self._start = min([frame, *self._ends.values()])  # a channel expected earlier is waited for
        self._ends[channel] = max(self._ends.get(channel, 0), frame + pcm.size)
        at = frame - self._start - self._out
        if at < 0:
            cut = min(-at, pcm.size)
            self.dropped += cut
            pcm, at = pcm[cut:], 0
        if pcm.size:
            end = at + pcm.size
            if end > self._pending.size:
                self._pending = np.concatenate([self._pending, np.zeros(end - self._pending.size, np.int32)])
            self._pending[at:end] += pcm.astype(np.int32)
        self.clock(frame + pcm.size)

    def clock(self, frame: int) -> None:
        """The page's clock has reached ``frame`` (time passes while no one speaks)."""
        self._newest = max(self._newest, frame)

    def expect(self, channel: int, frame: int) -> None:
        """A channel's capture began at clock ``frame``: its first block (50 ms on) is waited for."""
        if channel not in self._ends and (self._start is None or frame >= self._start + self._out):
            self._ends[channel] = frame

    def _ready_until(self) -> int:
        """The clock frame up to which every channel still delivering has delivered. Stalled is
        measured against the channels' newest block, not the page's clock: when the page's
        main thread was held up, every channel is late together and none is dropped."""
        if not self._ends:
            return self._newest - self._stall
        floor = max(self._ends.values()) - self._stall
        return min(end for end in self._ends.values() if end >= floor)

    def take(self) -> bytes:
        """The stretch ready to go out (s16le), possibly empty."""
        if self._start is None:
            return b""
        ready = self._ready_until() - self._start - self._out
        if ready <= 0:
            return b""
        if self._pending.size < ready:
            self._pending = np.concatenate([self._pending, np.zeros(ready - self._pending.size, np.int32)])
        out, self._pending = self._pending[:ready], self._pending[ready:]
        self._out += ready
        return np.clip(out, -32768, 32767).astype("<i2").tobytes()

    def drain(self) -> bytes:
        """Everything heard so far (the call is over: no channel will add to it)."""
        if self._start is None:
            return b""
        out, self._pending = self._pending, np.zeros(0, np.int32)
        self._out += out.size
        return np.clip(out, -32768, 32767).astype("<i2").tobytes()
