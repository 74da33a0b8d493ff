"""The stage contract: what runs on the events a live session publishes — translation today;
spoken translations and webhooks later — each added to a session by configuration
(``Settings.session_stages``, built by ``LiveSessions._stages``).

    stage.start()
    stage.handle(event, emit, audio=audio)   # every event the session publishes; never blocks
    await stage.finish()                     # the audio is over: finish what is queued
    await stage.cancel()                     # the session was deleted: drop what is queued

``emit(event)`` publishes an event of the stage's own: it is stored, delivered to the
session's readers and handed to every stage in turn. ``audio`` comes with a final segment:
its 16 kHz samples (for engines that translate speech).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import numpy as np

from livetranslate.events import SessionEventT

Emit = Callable[[SessionEventT], Awaitable[SessionEventT]]
Publish = Callable[..., Awaitable[SessionEventT]]
"""``publish(event, audio=None)``: a live session's own publish (stores, then runs the stages)."""


class Stage(Protocol):
    name: str

    def start(self) -> None: ...

    def handle(self, event: SessionEventT, emit: Emit, *, audio: np.ndarray | None = None) -> None: ...

    async def finish(self) -> None: ...

    async def cancel(self) -> None: ...
