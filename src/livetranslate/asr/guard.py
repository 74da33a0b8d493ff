"""The hallucination guard: Whisper invents text for silence and noise, and derails into loops.

Loops are caught in any script. Spaced scripts loop over words (``the the the the``); scripts
written without spaces (Thai, Chinese, Japanese, Lao, Khmer, Myanmar) loop over syllables, so
those checks look at letters, not words: one letter six times or a unit of 2–8 letters four
times back to back, a loop the decoder stopped in (``ぷりぷりぷりぷ``: a unit repeated, then
part of it), or a few syllables that make up most of the text (``บุษอุธบุษบุษอุธบุษอ``).
The compression ratio is measured per character, not per UTF-8 byte: Thai's three bytes a
letter made real 200-letter sentences compress like a loop.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livetranslate.asr.whisper import Transcription

__all__ = ["looks_broken", "rejection"]

# Phrases Whisper emits on silence, music or noise (it was trained on subtitles).
_HALLUCINATIONS = {
    "", "you", "thank you", "thank you.", "thanks for watching", "thanks for watching!",
    "thank you for watching", "thank you for watching.", "bye", "bye.", "so", "okay", "oh",
    "subtitles by the amara.org community", "please subscribe", "i'm sorry", ".", "...",
}
_WORD_LOOP = re.compile(r"(\b[\w']{1,6}\b[\s,.-]*)\1{3,}")
_LETTER_LOOP = re.compile(r"(.)\1{5,}|(.{2,8}?)\2{3,}")  # ぷぷぷぷぷぷ, おうおうおうおう
_MAX_COMPRESSION = 2.4  # Whisper's own threshold
_UNIT_MIN_COUNT = 4
_UNIT_MAX_SHARE = 0.5
"""Real sentences measured 0.13 at most (the commonest 2–8 letter unit's share of the
letters); loops 0.6 and more."""


def rejection(t: Transcription) -> str | None:
    """Why ``t`` looks invented (``empty``, ``no_speech``, ``repetition``, ``low_confidence``,
    ``known_hallucination``), or None to keep it."""
    normalized = t.text.lower().strip(" .,!?")
    if not normalized:
        return "empty"
    if t.no_speech_prob > 0.6 and t.avg_logprob < -1.0:
        return "no_speech"
    if looks_broken(t.text):
        return "repetition"
    if t.avg_logprob < -1.5:
        return "low_confidence"
    if normalized in _HALLUCINATIONS or t.text.lower().strip() in _HALLUCINATIONS:
        if t.no_speech_prob > 0.2 or t.avg_logprob < -0.6:
            return "known_hallucination"
    return None


def looks_broken(text: str) -> bool:
    """Whisper's failure modes: a loop of a short word or syllable, or highly repetitive text."""
    if not text:
        return False
    letters = _letters(text)
    return (
        _WORD_LOOP.search(text) is not None
        or _LETTER_LOOP.search(letters) is not None
        or _few_units(letters)
        or _ends_in_loop(letters)
        or _compression_ratio(text) > _MAX_COMPRESSION
    )


def _compression_ratio(text: str) -> float:
    """How much zlib shrinks the text, each character counted as one byte (Whisper counts
    UTF-8 bytes, which makes every Thai or Hindi text look repetitive)."""
    ids: dict[str, int] = {}
    data = bytes(ids.setdefault(c, len(ids)) % 256 for c in text)
    return len(data) / len(zlib.compress(data))


def _letters(text: str) -> str:
    """The letters and marks of ``text``: no spaces, punctuation or digits ("1000" is no loop)."""
    return "".join(c for c in text if unicodedata.category(c)[0] in "LM")


def _ends_in_loop(letters: str) -> bool:
    """Whether ``letters`` end in a unit of 2–8 letters repeated back to back (3 times for
    units of 2–3 letters, twice for longer ones) and then a part of it: the decoder looped
    and stopped inside the loop (measured: ``不如阿肚子,我如你不如阿肚子,我如你不如阿``)."""
    for n in range(2, 9):
        for cut in range(1, n):
            unit = letters[-cut - n : -cut]
            if len(unit) < n or not unit.startswith(letters[-cut:]):
                continue
            repeats = 1
            while letters[-cut - (repeats + 1) * n : -cut - repeats * n] == unit:
                repeats += 1
            if repeats >= (3 if n <= 3 else 2):
                return True
    return False


def _few_units(letters: str) -> bool:
    """Whether one unit of 2–8 letters, seen at least 4 times, makes up most of the text."""
    for n in range(2, 9):
        for unit, _ in Counter(letters[i : i + n] for i in range(len(letters) - n + 1)).most_common(3):
            count = letters.count(unit)
            if count >= _UNIT_MIN_COUNT and count * n > _UNIT_MAX_SHARE * len(letters):
                return True
    return False
