"""Voiceprints: enrolled voices that name clusters in later sessions, and voice verification.

Enrolling keeps one embedding per name (the speech-weighted mean of every sample enrolled
under it), never the audio. Only speech counts: the VAD keeps the windows it hears as
speech, and a sample needs ``min_speech_s`` of them. A cluster is named after a voiceprint
when its voice matches one at ``threshold`` or more *and* beats every other voiceprint by
``margin``: two enrolled people with similar voices name nobody. A voice is a tenant's: only
that tenant's sessions are named after it (:meth:`VoiceprintBook.of_tenant`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livetranslate.audio import SAMPLE_RATE
from livetranslate.errors import InvalidInput
from livetranslate.speakers.embedding import VoiceEncoder
from livetranslate.vad import WINDOW, SileroVad


@dataclass(frozen=True)
class Voiceprint:
    id: str
    tenant: str
    name: str
    embedding: np.ndarray

    @classmethod
    def of(cls, row) -> "Voiceprint":
        """From a stored voiceprint (its embedding is a list of floats)."""
        return cls(row.id, row.tenant_id, row.name, np.asarray(row.embedding, np.float32))


@dataclass(frozen=True)
class Found:
    id: str
    name: str
    score: float


class VoiceprintBook:
    """The enrolled voices of every tenant of this server, in memory (loaded from and kept in
    step with the store)."""

    def __init__(self, encoder: VoiceEncoder, vad: SileroVad, *, threshold: float, margin: float, min_speech_s: float) -> None:
        self._encoder = encoder
        self._vad = vad
        self.threshold = threshold
        self.margin = margin
        self.min_speech_s = min_speech_s
        self._prints: dict[str, Voiceprint] = {}

    def of_tenant(self, tenant: str) -> "TenantVoices":
        return TenantVoices(self, tenant)

    def load(self, prints: list[Voiceprint]) -> None:
        self._prints = {p.id: p for p in prints}

    def put(self, p: Voiceprint) -> None:
        self._prints[p.id] = p

    def remove(self, voiceprint_id: str) -> None:
        self._prints.pop(voiceprint_id, None)

    def embed_speech(self, audio: np.ndarray) -> tuple[np.ndarray, float]:
        """The embedding of a sample's speech and how many seconds of speech it had.

        Raises InvalidInput when the sample has too little speech to stand for a voice."""
        speech = speech_only(self._vad, audio)
        seconds = speech.size / SAMPLE_RATE
        if seconds < self.min_speech_s:
            raise InvalidInput(
                f"the sample has {seconds:.1f} s of speech; a voiceprint needs at least {self.min_speech_s:g} s"
            )
        return self._encoder.embed(speech), seconds

    def enrolled(self, tenant: str) -> bool:
        return any(p.tenant == tenant for p in self._prints.values())

    def match(self, embedding: np.ndarray, tenant: str) -> Found | None:
        """The voice enrolled by ``tenant`` this one clearly is, or None."""
        scored = sorted(
            ((float(p.embedding @ embedding), p) for p in self._prints.values() if p.tenant == tenant),
            key=lambda sp: -sp[0],
        )
        if not scored or scored[0][0] < self.threshold:
            return None
        if len(scored) > 1 and scored[0][0] - scored[1][0] < self.margin:
            return None
        score, p = scored[0]
        return Found(p.id, p.name, round(score, 3))


@dataclass(frozen=True)
class TenantVoices:
    """The voices one tenant enrolled: all its sessions may be named after."""

    book: VoiceprintBook
    tenant: str

    @property
    def enrolled(self) -> bool:
        return self.book.enrolled(self.tenant)

    def match(self, embedding: np.ndarray) -> Found | None:
        return self.book.match(embedding, self.tenant)


def speech_only(vad: SileroVad, audio: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """The windows of ``audio`` the VAD hears as speech, joined."""
    probs = vad.stream()(audio.astype(np.float32))
    keep = [audio[i * WINDOW : (i + 1) * WINDOW] for i, p in enumerate(probs) if p >= threshold]
    return np.concatenate(keep) if keep else np.zeros(0, np.float32)
