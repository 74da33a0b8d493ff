"""When a speaking ring's change really happened, from the call's audio channels.

A meeting's speaking indicator lags the voice (Meet's ring comes on ~0.3 s after the voice
and goes off ~0.8 s after it stops), and in crosstalk that lag names the first words of one
person, or the last of another, after the wrong one. The channels are exact but anonymous
(they rotate between people). :class:`Edges` keeps each channel's loudness for the last few
seconds and moves a ring's ``on`` to the moment one channel, and only one, began to sound
just before it, and an ``off`` to the moment one channel, and only one, fell silent just
before it. The channel that explained a person's ``on`` is theirs until their ``off``
(Meet keeps a speaker on one channel while they speak): when several channels fell silent
before the ``off`` (another voice paused), theirs decides. When no channel or several fit,
the ring's own time stands: it is never made more precise than the audio can say.
"""

from __future__ import annotations

from collections import deque

import numpy as np

RATE = 16000
_LOUD = 0.01  # RMS of a 50 ms block (-40 dBFS): someone is speaking on the channel
_KEEP_S = 5.0
_QUIET_BEFORE_S = 0.3  # a start counts after this much quiet on the channel
_ON_WINDOW_S = (0.05, 1.0)  # how long before the ring's "on" the voice may have begun
_OFF_WINDOW_S = (0.15, 1.5)  # ... and before its "off" the voice may have stopped


class Edges:
    def __init__(self) -> None:
        self._blocks: dict[int, deque[tuple[int, int, bool]]] = {}  # channel → (start, end, loud)
        self._channel_of: dict[str, int] = {}  # person → the channel that explained their ring's "on"

    def add(self, channel: int, frame: int, pcm: np.ndarray) -> None:
        if pcm.size == 0:
            return
        rms = float(np.sqrt(np.mean((pcm.astype(np.float32) / 32768.0) ** 2)))
        blocks = self._blocks.setdefault(channel, deque())
        blocks.append((frame, frame + pcm.size, rms > _LOUD))
        while blocks and blocks[0][1] < frame - _KEEP_S * RATE:
            blocks.popleft()

    def refine(self, kind: str, frame: int, who: str | None = None) -> tuple[int, bool]:
        """The frame at which the voice behind ``who``'s ring ``on``/``off`` at ``frame`` began
        or ended and True, if exactly one channel says so (or, for an ``off``, the channel of
        their ``on`` among those that do); else ``frame`` and False."""
        find = _start if kind == "on" else _end
        found = {ch: t for ch, blocks in self._blocks.items() if (t := find(blocks, frame)) is not None}
        mine = self._channel_of.pop(who, None)  # an "on" binds afresh; an "off" ends the binding
        if kind == "on" and len(found) == 1 and who is not None:
            channel = next(iter(found))
            self._channel_of = {p: c for p, c in self._channel_of.items() if c != channel}  # Meet moved it
            self._channel_of[who] = channel
        if mine is not None and kind == "off":
            # their channel decides; one that did not fall silent means their voice did not stop there
            return (found[mine], True) if mine in found else (frame, False)
        if len(found) == 1:
            return next(iter(found.values())), True
        return frame, False


def _start(blocks, frame: int) -> int | None:
    """Where this channel began to sound (after quiet) shortly before ``frame``, if it did."""
    lo, hi = frame - _ON_WINDOW_S[1] * RATE, frame - _ON_WINDOW_S[0] * RATE
    quiet_from = None
    for start, end, loud in blocks:
        if end > frame:
            break
        if not loud:
            quiet_from = start if quiet_from is None else quiet_from
            continue
        if quiet_from is not None and start - quiet_from >= _QUIET_BEFORE_S * RATE and lo <= start <= hi:
            return start
        quiet_from = None
    return None


def _end(blocks, frame: int) -> int | None:
    """Where this channel fell silent shortly before ``frame`` (and stayed so), if it did."""
    last_loud = None
    for start, end, loud in blocks:
        if start >= frame:
            break
        if loud:
            last_loud = end
    if last_loud is None:
        return None
    lo, hi = frame - _OFF_WINDOW_S[1] * RATE, frame - _OFF_WINDOW_S[0] * RATE
    return last_loud if lo <= last_loud <= hi else None
