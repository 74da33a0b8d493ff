"""A whole file's segments into one target language (the CLI's ``transcribe --to``), in
order, each with the segments before it as context. A segment no engine translated keeps
``translation`` None and says why, so an export can mark it instead of passing it off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from livetranslate.exports import TranscriptSegment
from livetranslate.translation.base import TranslationRequest
from livetranslate.translation.glossary import Glossary
from livetranslate.translation.router import TranslationRouter


async def translate_segments(
    router: TranslationRouter,
    segments: list[TranscriptSegment],
    audio: np.ndarray,
    target: str,
    *,
    source_default: str,
    engine: str | None = None,
    glossary: Glossary | None = None,
    context_size: int = 0,
    on_progress: Callable[[float], None] | None = None,
) -> list[TranscriptSegment]:
    """``segments`` with their translation into ``target`` (a segment already in ``target``
    is its own translation); ``audio`` (16 kHz) for engines that translate speech."""
    out, context = [], []
    for seg in segments:
        source = seg.language or source_default
        done = replace(seg, translation=seg.text, translation_engine="none")
        if source != target:
            outcome = await router.translate(
                TranslationRequest(
                    seg.text, source, target, context=tuple(context[-context_size:]) if context_size else (),
                    glossary=glossary, audio=audio[int(seg.start * 16000) : int(seg.end * 16000)],
                ),
                engine,
            )
            why = "; ".join(f"{name} failed: {reason}" for name, reason in outcome.failures)
            done = replace(
                seg, translation=outcome.text, translation_engine=outcome.engine,
                translation_error=None if outcome.text is not None
                else why or f"no installed engine translates {source} into {target}",
            )
        context.append(seg.text)
        out.append(done)
        if on_progress is not None:
            on_progress(seg.end)
    return out
