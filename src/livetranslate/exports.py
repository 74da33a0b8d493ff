"""Transcript exports: JSON, SRT (the ``srt`` library), WebVTT (``webvtt-py``) and plain text;
in the original language, in one translation, or bilingual (original line, then translation)."""

from __future__ import annotations

import json
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


View = Literal["original", "translation", "bilingual"]


def _label(seg: TranscriptSegment, view: View = "original", speakers: bool = True) -> str:
    text = seg.text
    if view == "translation" and seg.translation is not None:
        text = seg.translation
    elif view == "bilingual" and seg.translation is not None:
        text = f"{seg.text}\n{seg.translation}"
    who = speaker_label(seg.speaker, seg.speaker_name) if speakers else None
    return f"{who}: {text}" if who else text


def _show_speakers(segments: list[TranscriptSegment]) -> bool:
    """Caption lines say who speaks once there is more than one speaker, or a name."""
    return len({s.speaker for s in segments if s.speaker}) > 1 or any(s.speaker_name for s in segments)


def speaker_label(speaker: str | None, name: str | None) -> str | None:
    """What a transcript shows for a speaker: the name, else "Speaker N" for id ``SN``."""
    if name:
        return name
    if speaker and speaker[:1] == "S" and speaker[1:].isdigit():
        return f"Speaker {speaker[1:]}"
    return speaker


def to_srt(segments: list[TranscriptSegment], view: View = "original") -> str:
    who = _show_speakers(segments)
    return srt.compose(
        [
            srt.Subtitle(
                index=i, start=timedelta(seconds=s.start), end=timedelta(seconds=s.end),
                content=_label(s, view, who),
            )
            for i, s in enumerate(segments, 1)
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
    who = _show_speakers(segments)
    for s in segments:
        vtt.captions.append(webvtt.Caption(start=_vtt_time(s.start), end=_vtt_time(s.end), text=_label(s, view, who)))
    return vtt.content


def to_txt(segments: list[TranscriptSegment], view: View = "original") -> str:
    who = _show_speakers(segments)
    return "".join(_label(s, view, who) + ("\n\n" if view == "bilingual" else "\n") for s in segments)


def to_json(segments: list[TranscriptSegment], **meta) -> str:
    body = {**meta, "text": " ".join(s.text for s in segments), "segments": [_plain(s) for s in segments]}
    if meta.get("lang"):
        body["translation"] = " ".join(s.translation for s in segments if s.translation)
    return json.dumps(body, ensure_ascii=False, default=str)


def _plain(seg: TranscriptSegment) -> dict:
    return {k: v for k, v in asdict(seg).items() if v is not None or k in ("language", "speaker", "speaker_name")}


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
