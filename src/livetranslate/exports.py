"""Transcript exports: JSON, SRT (the ``srt`` library), WebVTT (``webvtt-py``) and plain text."""

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
    words: list[dict] = field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None


def _label(seg: TranscriptSegment) -> str:
    return f"{seg.speaker}: {seg.text}" if seg.speaker else seg.text


def to_srt(segments: list[TranscriptSegment]) -> str:
    return srt.compose(
        [
            srt.Subtitle(index=i, start=timedelta(seconds=s.start), end=timedelta(seconds=s.end), content=_label(s))
            for i, s in enumerate(segments, 1)
        ]
    )


def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def to_vtt(segments: list[TranscriptSegment]) -> str:
    vtt = webvtt.WebVTT()
    for s in segments:
        vtt.captions.append(webvtt.Caption(start=_vtt_time(s.start), end=_vtt_time(s.end), text=_label(s)))
    return vtt.content


def to_txt(segments: list[TranscriptSegment]) -> str:
    return "".join(_label(s) + "\n" for s in segments)


def to_json(segments: list[TranscriptSegment], **meta) -> str:
    return json.dumps(
        {**meta, "text": " ".join(s.text for s in segments), "segments": [_plain(s) for s in segments]},
        ensure_ascii=False,
        default=str,
    )


def _plain(seg: TranscriptSegment) -> dict:
    return {k: v for k, v in asdict(seg).items() if v is not None or k in ("language", "speaker")}


def render(segments: list[TranscriptSegment], fmt: ExportFormat, **meta) -> str:
    if fmt == "srt":
        return to_srt(segments)
    if fmt == "vtt":
        return to_vtt(segments)
    if fmt == "txt":
        return to_txt(segments)
    return to_json(segments, **meta)
