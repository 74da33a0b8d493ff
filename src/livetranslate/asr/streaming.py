"""Streaming ASR, first half: cut a live stream into utterances using the VAD.

Audio goes in as it arrives; out come :class:`Utterance` requests: a *draft* of the open
utterance every ``draft_interval_s`` of new speech, and one *final* when the speech ends
(``min_silence_ms`` of silence), when an utterance longer than ``long_utterance_s`` reaches a
short pause (``pause_ms``: continuous speech is captioned phrase by phrase; waiting for
``max_utterance_s`` held a reader's captions back 7 s at p95), or when it reaches
``max_utterance_s`` (then it is cut at its deepest pause and the rest goes on as a new
utterance). Pure silence and noise never open an utterance, so nothing reaches Whisper to
hallucinate on.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass

import numpy as np

from livetranslate.audio import SAMPLE_RATE
from livetranslate.vad import WINDOW, VadStream


@dataclass(frozen=True)
class SegmenterOptions:
    threshold: float = 0.5
    min_silence_ms: int = 400
    speech_pad_ms: int = 400
    min_utterance_ms: int = 250
    max_utterance_s: float = 15.0
    long_utterance_s: float = 4.0
    pause_ms: int = 120
    draft_interval_s: float = 0.7
    drafts: bool = True

    @classmethod
    def from_settings(cls, s) -> "SegmenterOptions":
        return cls(
            threshold=s.vad_threshold,
            min_silence_ms=s.vad_min_silence_ms,
            speech_pad_ms=s.vad_speech_pad_ms,
            min_utterance_ms=s.min_utterance_ms,
            max_utterance_s=s.max_utterance_s,
            long_utterance_s=s.long_utterance_s,
            pause_ms=s.vad_pause_ms,
            draft_interval_s=s.draft_interval_s,
            drafts=s.drafts,
        )


@dataclass
class Utterance:
    segment_id: str
    final: bool
    audio: np.ndarray
    start: float
    """Session time (s) of the first sample."""
    end: float
    heard_at: float
    """Monotonic time at which the newest speech in this utterance arrived."""
    speech: bool = True
    """False for a final whose burst was too short to be speech (retracts its drafts)."""


class UtteranceSegmenter:
    def __init__(self, vad: VadStream, options: SegmenterOptions, *, offset_s: float = 0.0) -> None:
        self._vad = vad
        self._o = options
        self._offset = int(round(offset_s * SAMPLE_RATE))
        ms = SAMPLE_RATE // 1000
        self._pad = options.speech_pad_ms * ms
        self._min_silence = options.min_silence_ms * ms
        self._min_speech = options.min_utterance_ms * ms
        self._max_len = int(options.max_utterance_s * SAMPLE_RATE)
        self._long = int(options.long_utterance_s * SAMPLE_RATE)
        self._pause = options.pause_ms * ms
        self._draft_every = int(options.draft_interval_s * SAMPLE_RATE)

        self._buf = np.zeros(0, dtype=np.float32)
        self._buf_start = 0  # stream sample index of self._buf[0]
        self._received = 0
        self._scored = 0  # stream samples already scored by the VAD
        self._arrivals: deque[tuple[int, float]] = deque()  # (stream sample end, monotonic arrival)

        self._speech = False
        self._last_final_end = 0  # the next utterance's pre-roll never reaches into the previous one
        self._segment_id = ""
        self._utt_start = 0
        self._voice_start = 0
        self._voice_end = 0
        self._silence = 0
        self._last_draft = 0
        self._probs: list[tuple[int, float]] = []  # (window start, prob) inside the open utterance

    @property
    def session_seconds(self) -> float:
        """Session time at the end of the audio received so far."""
        return (self._offset + self._received) / SAMPLE_RATE

    def push(self, audio: np.ndarray, arrived_at: float) -> list[Utterance]:
        if audio.size == 0:
            return []
        self._buf = np.concatenate([self._buf, audio])
        self._received += audio.size
        self._arrivals.append((self._received, arrived_at))
        out: list[Utterance] = []
        for p in self._vad(audio):
            start = self._scored
            self._scored += WINDOW
            self._step(start, float(p), out)
        self._trim()
        return _coalesce(out)

    def flush(self) -> list[Utterance]:
        """The stream ended: finalize the open utterance."""
        out: list[Utterance] = []
        if self._speech:
            out.append(self._final(min(self._voice_end + self._pad, self._received)))
            self._speech = False
        return out

    # --- internals

    def _step(self, start: int, p: float, out: list[Utterance]) -> None:
        o = self._o
        end = start + WINDOW
        if not self._speech:
            if p < o.threshold:
                return
            self._speech = True
            self._segment_id = uuid.uuid4().hex
            self._utt_start = max(self._buf_start, start - self._pad, self._last_final_end)
            self._voice_start = start
            self._voice_end = end
            self._silence = 0
            self._last_draft = self._utt_start
            self._probs = [(start, p)]
            return
        self._probs.append((start, p))
        if p >= o.threshold - 0.15:
            self._voice_end = end
            self._silence = 0
        else:
            self._silence += WINDOW
        if self._silence >= (self._min_silence if end - self._utt_start < self._long else self._pause):
            out.append(self._final(min(self._voice_end + self._pad, end)))
            self._speech = False
        elif end - self._utt_start >= self._max_len:
            cut = self._deepest_pause(end)
            out.append(self._final(cut))
            self._speech = True
            self._segment_id = uuid.uuid4().hex
            self._utt_start = self._voice_start = self._last_draft = cut
            self._voice_end = max(self._voice_end, cut)
            self._probs = [(s, q) for s, q in self._probs if s >= cut]
        elif (
            o.drafts
            and end - self._last_draft >= self._draft_every
            and self._voice_end - self._voice_start >= self._min_speech
        ):
            out.append(self._make(False, self._utt_start, end, self._heard_at(end)))
            self._last_draft = end

    def _deepest_pause(self, end: int) -> int:
        """Cut point in the second half of the utterance where the VAD is least sure of speech."""
        lo = self._utt_start + self._max_len // 2
        hi = end - SAMPLE_RATE // 2
        candidates = [(s, p) for s, p in self._probs if lo <= s <= hi] or self._probs[-1:]
        probs = np.array([p for _, p in candidates])
        smooth = np.convolve(probs, np.ones(5) / 5, mode="same") if probs.size >= 5 else probs
        s, _ = candidates[int(np.argmin(smooth))]
        return s + WINDOW // 2

    def _final(self, end: int) -> Utterance:
        self._last_final_end = end
        speech = self._voice_end - self._voice_start >= self._min_speech
        utt = self._make(True, self._utt_start, end, self._heard_at(min(self._voice_end, end)))
        utt.speech = speech
        return utt

    def _make(self, final: bool, start: int, end: int, heard_at: float) -> Utterance:
        a = start - self._buf_start
        b = end - self._buf_start
        return Utterance(
            segment_id=self._segment_id,
            final=final,
            audio=self._buf[a:b].copy(),
            start=(self._offset + start) / SAMPLE_RATE,
            end=(self._offset + end) / SAMPLE_RATE,
            heard_at=heard_at,
        )

    def _heard_at(self, sample: int) -> float:
        for sample_end, at in self._arrivals:
            if sample_end >= sample:
                return at
        return self._arrivals[-1][1]

    def _trim(self) -> None:
        keep_from = self._utt_start if self._speech else max(0, self._scored - self._pad)
        keep_from = min(keep_from, self._scored)
        if keep_from > self._buf_start:
            self._buf = self._buf[keep_from - self._buf_start :]
            self._buf_start = keep_from
        while len(self._arrivals) > 1 and self._arrivals[1][0] <= keep_from:
            self._arrivals.popleft()

def _coalesce(out: list[Utterance]) -> list[Utterance]:
    """Within one push only the newest draft of a segment matters, and none after its final."""
    finals = {u.segment_id for u in out if u.final}
    kept: list[Utterance] = []
    for i, u in enumerate(out):
        if not u.final:
            if u.segment_id in finals:
                continue
            if any(not v.final and v.segment_id == u.segment_id for v in out[i + 1 :]):
                continue
        kept.append(u)
    return kept
