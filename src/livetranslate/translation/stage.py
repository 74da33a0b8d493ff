"""The translation stage of one session (:mod:`livetranslate.stages`): segment events
in, translation events out through ``emit``.

Finals are translated into every target (the targets translated concurrently, the segments
in order, so each LLM request sees the segments before it as context). Drafts, when enabled,
are translated by the cheap offline engine only, and a queued draft is dropped as soon as a
newer draft or the final of its segment arrives: translations never hold captions back.
Targets and glossary may change while the session is live.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from livetranslate import metrics
from livetranslate.errors import TranslationFailed
from livetranslate.events import SegmentEvent, SessionEventT, TranslationEvent, WarningEvent
from livetranslate.stages import Emit
from livetranslate.translation.base import TranslationRequest
from livetranslate.translation.glossary import Glossary
from livetranslate.translation.router import TranslationRouter

log = logging.getLogger(__name__)


@dataclass
class _Item:
    segment: SegmentEvent
    audio: np.ndarray | None
    targets: list[str]
    """The session's targets when the segment was published (a later PATCH applies to later segments)."""


class SessionTranslator:
    name = "translation"

    def __init__(
        self,
        *,
        session_id: str,
        router: TranslationRouter,
        targets: list[str],
        language: str | None,
        glossary: Glossary | None = None,
        engine: str | None = None,
        context_segments: int = 3,
        drafts: bool = True,
        draft_engine: str = "apertium",
    ) -> None:
        self.session_id = session_id
        self.targets = list(targets)
        self.glossary = glossary
        self.engine = engine
        self._router = router
        self._emit: Emit | None = None
        self._language = language
        self._context: deque[str] = deque(maxlen=context_segments)
        self._drafts = drafts
        self._draft_engine = draft_engine
        self._queue: deque[_Item] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._warned: set[tuple[str, str]] = set()
        self._drafted: set[tuple[str, str]] = set()  # (segment, lang) with a published draft translation
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"translate-{self.session_id}")

    def handle(self, event: SessionEventT, emit: Emit, *, audio: np.ndarray | None = None) -> None:
        """Queue a published segment (never blocks); other events are not translation's."""
        if not isinstance(event, SegmentEvent):
            return
        self._emit = emit
        segment = event
        if segment.status == "draft" and not self._drafts:
            return
        targets = list(self.targets)
        if segment.status == "final":  # a language dropped meanwhile still gets the final of what it drafted
            targets += [lang for sid, lang in self._drafted if sid == segment.segment_id and lang not in targets]
        if not targets:
            return
        # (an empty final is queued too: it retracts whatever draft translations were published)
        # a newer draft or the final supersedes the queued drafts of the same segment
        self._queue = deque(
            i for i in self._queue if not (i.segment.status == "draft" and i.segment.segment_id == segment.segment_id)
        )
        self._queue.append(_Item(segment, audio if segment.status == "final" else None, targets))
        self._wake.set()

    async def finish(self) -> None:
        """Translate what is queued, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        await self._router.warm(self._language, self.targets, self.engine)
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            item = self._queue.popleft()
            try:
                await self._translate(item)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # one segment's failure must not stop the session's translations
                log.exception("session %s: translating segment %s failed", self.session_id, item.segment.segment_id)
                metrics.TRANSLATION_FAILURES.labels("stage").inc()
                await self._emit(WarningEvent(
                    code="translation_failed", message=f"translating this segment failed: {e}",
                    segment_id=item.segment.segment_id,
                ))

    async def _translate(self, item: _Item) -> None:
        segment = item.segment
        source = segment.language or self._language or "en"
        context = tuple(self._context)
        if segment.status == "final" and segment.text:
            self._context.append(segment.text)
        await asyncio.gather(
            *(self._one(segment, source, target, context, item.audio) for target in item.targets)
        )

    async def _one(self, segment: SegmentEvent, source: str, target: str, context, audio) -> None:
        if not segment.text:  # the segment turned out to be noise: retract its drafts
            if (segment.segment_id, target) in self._drafted:
                await self._publish(segment, target, "", "none", source, 0.0)
            return
        if target == source:
            await self._publish(segment, target, segment.text, "none", source, 0.0)
            return
        request = TranslationRequest(
            text=segment.text, source=source, target=target, context=context, glossary=self.glossary, audio=audio
        )
        if segment.status == "draft":
            await self._draft(segment, request)
            return
        outcome = await self._router.translate(request, self.engine)
        if outcome.text is None and not outcome.failures:  # no engine was even able to try
            await self._warn_once(
                "unsupported_pair", source, target,
                f"no installed engine translates {source}→{target}; segments in {source} stay untranslated into {target}",
                segment.segment_id,
            )
            return
        for engine, why in outcome.failures:
            then = f"; translated by {outcome.engine} instead" if outcome.text is not None else "; left untranslated"
            await self._emit(
                WarningEvent(
                    code="translation_fallback" if outcome.text is not None else "translation_failed",
                    message=f"{engine} failed for {source}→{target}: {why}{then}",
                    segment_id=segment.segment_id,
                    lang=target,
                    engine=engine,
                ),
            )
        if outcome.text is not None:
            await self._publish(segment, target, outcome.text, outcome.engine, source, outcome.latency_ms)
        elif (segment.segment_id, target) in self._drafted:  # no final translation: retract the drafts
            await self._publish(segment, target, "", "none", source, 0.0)

    async def _draft(self, segment: SegmentEvent, request: TranslationRequest) -> None:
        """Drafts: the cheap offline engine or nothing (the final will come); a failure is
        counted, not announced."""
        engine = self._router.engines.get(self._draft_engine)
        if engine is None or not engine.supports(request.source, request.target):
            return
        started = time.perf_counter()
        try:
            text = await engine.translate(request)
        except TranslationFailed:
            metrics.TRANSLATION_FAILURES.labels(engine.name).inc()
            return
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        await self._publish(segment, request.target, text, engine.name, request.source, elapsed)

    async def _publish(self, segment: SegmentEvent, target: str, text: str, engine: str, source: str, latency_ms: float) -> None:
        if segment.status == "draft":
            self._drafted.add((segment.segment_id, target))
        else:
            self._drafted.discard((segment.segment_id, target))
        await self._emit(
            TranslationEvent(
                segment_id=segment.segment_id,
                lang=target,
                text=text,
                status=segment.status,
                engine=engine,
                source_language=source,
                latency_ms=latency_ms,
            ),
        )

    async def _warn_once(self, code: str, source: str, target: str, message: str, segment_id: str) -> None:
        if (source, target) in self._warned:
            return
        self._warned.add((source, target))
        await self._emit(WarningEvent(code=code, message=message, segment_id=segment_id, lang=target))
