"""The webhooks stage: a live session's final captions and translations, as ``transcript.final``
and ``translation.final`` webhooks of the bot that feeds the session (none for other sessions)."""

from __future__ import annotations

import asyncio
import logging

from livetranslate.events import SegmentEvent, SessionEventT, TranslationEvent

log = logging.getLogger(__name__)


class WebhookStage:
    name = "webhooks"

    def __init__(self, *, session_id: str, webhooks, bot_of) -> None:
        """``bot_of(session_id)``: the id of the bot feeding the session, or None (async)."""
        self._session_id = session_id
        self._webhooks = webhooks
        self._bot_of = bot_of
        self._bot: str | None | bool = False  # False: not looked up yet
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"webhooks-{self._session_id}")

    def handle(self, event: SessionEventT, emit, *, audio=None) -> None:
        if isinstance(event, SegmentEvent) and event.status == "final" and event.text:
            self._queue.put_nowait(("transcript.final", {"segment": event.model_dump(exclude={"type", "words"})}))
        elif isinstance(event, TranslationEvent) and event.status == "final":
            self._queue.put_nowait(("translation.final", {"translation": event.model_dump(exclude={"type"})}))

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            try:
                if self._bot is False:
                    self._bot = await self._bot_of(self._session_id)
                if self._bot:
                    kind, data = item
                    await self._webhooks.enqueue(self._bot, kind, {"bot_id": self._bot, "session_id": self._session_id,
                                                                   **data})
            except Exception:
                log.exception("session %s: a webhook could not be stored", self._session_id)

    async def finish(self) -> None:
        """What is queued is stored (the outbox sends it)."""
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task

    async def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
