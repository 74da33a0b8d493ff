"""Transcript exports: JSON, SRT (the ``srt`` library), WebVTT (``webvtt-py``) and plain text;
in the original language, in one translation, or bilingual (original line, then translation).

Subtitle cues follow the usual guidelines (Netflix/BBC): at most two lines of 42 characters
and 7 seconds; a longer segment is cut at word boundaries (at its words' times when they are
known, else in proportion to the characters). A line that was not translated into the
requested language is shown in its own language and marked ``[de] …``, never passed off as
a translation; the JSON says ``translation: null`` and why.

Whatever a stored text holds (a speaker renamed ``Ana --> Bob``, a meeting participant's name
with a newline, control characters from an engine), a caption line is rendered as one line of
plain text (:func:`one_line`): no stored text can break a cue's timing line or an export."""

from __future__ import annotations

import json
import math
import re
import textwrap
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Literal

import srt
import webvtt

ExportFormat = Literal["json", "srt", "vtt", "txt"]
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


@dataclass
class TranscriptSegment:
    id: str
    start: float
    end: float
    text: str
    language: str | None = None
    speaker: str | None = None
    speaker_name: str | None = None
    words: list[dict] = field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    translation: str | None = None
    translation_engine: str | None = None
    translation_error: str | None = None
    """Why there is no translation (with ``translation`` None in a translated export)."""


MAX_LINE_CHARS = 42
MAX_CUE_LINES = 2
MAX_CUE_S = 7.0


View = Literal["original", "translation", "bilingual"]


def _translated(seg: TranscriptSegment) -> str:
    """The translation, or the original marked with its language when there is none."""
    if seg.translation is not None:
        return seg.translation
    return f"[{seg.language or '?'}] {seg.text}"


_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\s]+")


def one_line(text: str) -> str:
    """``text`` as one line of caption text: line breaks and control characters become single
    spaces, and ``-->`` (the cue timing arrow of SRT and WebVTT) becomes ``→``."""
    return _BREAKS.sub(" ", text).replace("-->", "→").strip()


def _parts(seg: TranscriptSegment, view: View) -> list[str]:
    """The texts a caption shows, one per block (bilingual: the original, then the translation)."""
    if view == "translation":
        return [one_line(_translated(seg))]
    if view == "bilingual" and seg.translation is not None:
        return [one_line(seg.text), one_line(seg.translation)]
    return [one_line(seg.text)]


def _label(seg: TranscriptSegment, view: View = "original", speakers: bool = True) -> str:
    who = speaker_label(seg.speaker, seg.speaker_name) if speakers else None
    text = "\n".join(_parts(seg, view))
    return f"{who}: {text}" if who else text


def _show_speakers(segments: list[TranscriptSegment]) -> bool:
    """Caption lines say who speaks once there is more than one speaker, or a name."""
    return len({s.speaker for s in segments if s.speaker}) > 1 or any(s.speaker_name for s in segments)


def speaker_label(speaker: str | None, name: str | None) -> str | None:
    """What a transcript shows for a speaker: the name, else "Speaker N" for id ``SN``."""
    if name and one_line(name):
        return one_line(name)
    if speaker and speaker[:1] == "S" and speaker[1:].isdigit():
        return f"Speaker {speaker[1:]}"
    return speaker


@dataclass
class Cue:
    start: float
    end: float
    text: str


def cues(segments: list[TranscriptSegment], view: View = "original") -> list[Cue]:
    """Subtitle cues: each segment cut so that no cue runs past two lines of 42 characters
    (per language, in a bilingual cue) or 7 seconds."""
    who = _show_speakers(segments)
    out: list[Cue] = []
    for seg in segments:
        name = speaker_label(seg.speaker, seg.speaker_name) if who else None
        prefix = f"{name}: " if name else ""
        parts = _parts(seg, view)
        n = max(math.ceil((seg.end - seg.start) / MAX_CUE_S), *(_pieces_needed(prefix + p) for p in parts), 1)
        n = max(1, min(n, *(len(p.split()) for p in parts)))  # never a cue without words
        times = _cut_times(seg, n, parts[0] if view == "original" else None)
        pieces = [_split_words(p, n) for p in parts]
        for i, (start, end) in enumerate(times):
            lines = [_wrap(prefix + pieces[0][i])] + [_wrap(p[i]) for p in pieces[1:]]
            out.append(Cue(start, end, "\n".join(line for line in lines if line)))
    return out


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, MAX_LINE_CHARS, break_long_words=False)) if text else ""


def _fits(text: str) -> bool:
    return len(textwrap.wrap(text, MAX_LINE_CHARS, break_long_words=False)) <= MAX_CUE_LINES


def _pieces_needed(text: str) -> int:
    """How many cues ``text`` needs at two lines of 42 characters each."""
    n = 1
    while not all(_fits(p) for p in _split_words(text, n)) and n < len(text.split()):
        n += 1
    return n


def _split_words(text: str, n: int) -> list[str]:
    """``text`` cut at word boundaries into ``n`` pieces of about equal length; none is empty
    unless there are fewer words than pieces (a long word beside short ones would otherwise
    leave a piece without words: an empty cue, and no word to take its time from)."""
    words = text.split()
    total = sum(len(w) + 1 for w in words) or 1
    pieces: list[list[str]] = [[] for _ in range(n)]
    done, last = 0, -1
    for k, w in enumerate(words):
        i = min(n - 1, int(n * (done + (len(w) + 1) / 2) / total))
        if len(words) >= n:  # skip no piece, and leave a word for each piece still to come
            i = max(min(i, last + 1), n - (len(words) - k))
        pieces[i].append(w)
        done, last = done + len(w) + 1, i
    return [" ".join(p) for p in pieces]


def _cut_times(seg: TranscriptSegment, n: int, original: str | None) -> list[tuple[float, float]]:
    """``n`` consecutive time spans covering the segment: at the word times of the words that
    start each piece when the words are known and match the text, else by characters."""
    if n == 1:
        return [(seg.start, seg.end)]
    words = seg.words or []
    if original is not None and len(words) == len(original.split()):
        bounds = [seg.start]
        for piece_start in _piece_starts(original, n)[1:]:
            bounds.append(max(bounds[-1], min(seg.end, float(words[piece_start]["start"]))))
        bounds.append(seg.end)
    else:
        text = original or seg.text
        chars = [len(p) for p in _split_words(text, n)]
        total = sum(chars) or 1
        bounds, done = [seg.start], 0
        for c in chars[:-1]:
            done += c
            bounds.append(seg.start + (seg.end - seg.start) * done / total)
        bounds.append(seg.end)
    return [(round(a, 3), round(b, 3)) for a, b in zip(bounds, bounds[1:])]


def _piece_starts(text: str, n: int) -> list[int]:
    """Index of the first word of each piece of ``_split_words(text, n)``."""
    starts, i = [], 0
    for piece in _split_words(text, n):
        starts.append(i)
        i += len(piece.split())
    return starts


def to_srt(segments: list[TranscriptSegment], view: View = "original") -> str:
    return srt.compose(
        [
            srt.Subtitle(index=i, start=timedelta(seconds=c.start), end=timedelta(seconds=c.end), content=c.text)
            for i, c in enumerate(cues(segments, view), 1)
        ]
    )


def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def to_vtt(segments: list[TranscriptSegment], view: View = "original") -> str:
    vtt = webvtt.WebVTT()
    for c in cues(segments, view):
        vtt.captions.append(webvtt.Caption(start=_vtt_time(c.start), end=_vtt_time(c.end), text=c.text))
    return vtt.content


def to_txt(segments: list[TranscriptSegment], view: View = "original") -> str:
    who = _show_speakers(segments)
    return "".join(_label(s, view, who) + ("\n\n" if view == "bilingual" else "\n") for s in segments)


def to_json(segments: list[TranscriptSegment], **meta) -> str:
    translated = bool(meta.get("lang"))
    body = {**meta, "text": " ".join(s.text for s in segments), "segments": [_plain(s, translated) for s in segments]}
    if translated:
        body["translation"] = " ".join(s.translation for s in segments if s.translation)
        body["untranslated"] = sum(s.translation is None for s in segments)
    return json.dumps(body, ensure_ascii=False, default=str)


def _plain(seg: TranscriptSegment, translated: bool = False) -> dict:
    keep = ("language", "speaker", "speaker_name") + (("translation",) if translated else ())
    return {k: v for k, v in asdict(seg).items() if v is not None or k in keep}


def render(
    segments: list[TranscriptSegment], fmt: ExportFormat, *, lang: str | None = None, bilingual: bool = False, **meta
) -> str:
    """``lang``: show each segment's translation into it; ``bilingual``: the original and the translation."""
    view: View = "bilingual" if bilingual and lang else "translation" if lang else "original"
    if fmt == "srt":
        return to_srt(segments, view)
    if fmt == "vtt":
        return to_vtt(segments, view)
    if fmt == "txt":
        return to_txt(segments, view)
    if lang:
        meta = {**meta, "lang": lang, "bilingual": bilingual}
    return to_json(segments, **meta)
