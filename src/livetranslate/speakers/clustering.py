"""Voice clusters of one session: who speaks when, without names.

Each final utterance adds the embeddings of its 1.6 s windows (every 0.4 s). The recent
windows (at most ``max_windows``) are clustered again with spectral clustering as
Wang et al. (ICASSP 2018) do for these d-vectors, using the authors' ``spectralcluster``
library: Gaussian blur along time, row-wise thresholding, symmetrisation, diffusion and
row-max normalisation; the largest eigen-gap gives the number of speakers. On the real
two-speaker call (pyannote's sample) this finds two speakers; on one LibriVox reader, one.

Cluster labels are mapped onto stable speaker numbers: a cluster takes the number most of
its already-labelled windows had (one-to-one, Hungarian); a cluster of new windows takes an
earlier speaker whose centroid it matches (cosine ≥ ``match_threshold``), else a new number.
Until there are enough windows for the spectral step, windows join the best-matching
speaker unless they are clearly someone else.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from spectralcluster import (
    ICASSP2018_REFINEMENT_SEQUENCE,
    FallbackOptions,
    RefinementOptions,
    SingleClusterCondition,
    SpectralClusterer,
    ThresholdType,
)

log = logging.getLogger(__name__)

_MIN_SPECTRAL = 24  # windows (~10 s of speech): fewer and the eigen-gap is noise (measured: 6–8 "speakers" at 12)
_MIN_NEW_SPEAKER = 3  # windows a cluster needs to become a speaker of its own
_CLEARLY_OTHER = 0.6  # before the spectral step: a segment this far from everyone is someone new


@dataclass
class Window:
    segment_id: str
    time: float
    """Session time (s) of the window's centre."""
    embedding: np.ndarray
    speaker: int = 0


def _clusterer(max_speakers: int) -> SpectralClusterer:
    return SpectralClusterer(
        min_clusters=1,
        max_clusters=max_speakers,
        # one speaker or more: a 1-vs-2 component GMM over the affinities decides (BIC),
        # ignoring the 4 nearest neighbours (overlapping windows are alike whoever speaks)
        fallback_options=FallbackOptions(
            single_cluster_condition=SingleClusterCondition.AffinityGmmBic,
            single_cluster_affinity_diagonal_offset=4,
        ),
        refinement_options=RefinementOptions(
            gaussian_blur_sigma=1,
            p_percentile=0.93,
            thresholding_soft_multiplier=0.01,
            thresholding_type=ThresholdType.RowMax,
            refinement_sequence=ICASSP2018_REFINEMENT_SEQUENCE,
        ),
    )


class VoiceClusters:
    def __init__(self, *, max_windows: int = 150, match_threshold: float = 0.8, max_speakers: int = 8) -> None:
        self.windows: deque[Window] = deque()
        self._max_windows = max_windows
        self._match = match_threshold
        self._clusterer = _clusterer(max_speakers)
        self._archived: dict[int, tuple[np.ndarray, int]] = {}  # speaker → (sum, count) of windows gone from the buffer
        self._next = 1

    def add(self, segment_id: str, embeddings: np.ndarray, times: np.ndarray) -> list[Window]:
        """Add one utterance's windows and label every recent window again; returns the new windows."""
        new = [Window(segment_id, float(t), e) for e, t in zip(embeddings, times)]
        if not new:
            return []
        self.windows.extend(new)
        while len(self.windows) > self._max_windows:
            self._archive(self.windows.popleft())
        if len(self.windows) < _MIN_SPECTRAL:
            self._assign_greedy(new)
        else:
            self._recluster(set(map(id, new)))
        return new

    def seed(self, centroid: np.ndarray, weight: int = 10) -> int:
        """A speaker known from before (a resumed session): a new number with this voice."""
        speaker = self._new_speaker()
        self._archived[speaker] = (np.asarray(centroid, np.float32) * weight, weight)
        return speaker

    def centroid(self, speaker: int) -> np.ndarray | None:
        total, count = self._archived.get(speaker, (np.zeros(256, np.float32), 0))
        for w in self.windows:
            if w.speaker == speaker:
                total, count = total + w.embedding, count + 1
        if count == 0:
            return None
        return total / np.linalg.norm(total)

    def speakers(self) -> set[int]:
        return set(self._archived) | {w.speaker for w in self.windows}

    def relabel(self, old: int, new: int) -> None:
        """A merge: every window of ``old`` is ``new`` from now on."""
        for w in self.windows:
            if w.speaker == old:
                w.speaker = new
        if old in self._archived:
            total, count = self._archived.pop(old)
            t2, c2 = self._archived.get(new, (np.zeros(256, np.float32), 0))
            self._archived[new] = (total + t2, count + c2)

    # --- internals

    def _archive(self, w: Window) -> None:
        total, count = self._archived.get(w.speaker, (np.zeros(256, np.float32), 0))
        self._archived[w.speaker] = (total + w.embedding, count + 1)

    def _new_speaker(self) -> int:
        self._next += 1
        return self._next - 1

    def _best(self, embedding: np.ndarray, exclude: set[int] = frozenset()) -> tuple[int | None, float]:
        best, score = None, -1.0
        for sp in self.speakers() - exclude - {0}:
            c = self.centroid(sp)
            if c is not None and float(c @ embedding) > score:
                best, score = sp, float(c @ embedding)
        return best, score

    def _assign_greedy(self, new: list[Window]) -> None:
        mean = np.mean([w.embedding for w in new], axis=0)
        mean /= np.linalg.norm(mean)
        best, score = self._best(mean)
        speaker = best if best is not None and score >= _CLEARLY_OTHER else self._new_speaker()
        for w in new:
            w.speaker = speaker

    def _recluster(self, new_ids: set[int]) -> None:
        windows = list(self.windows)
        labels = self._clusterer.predict(np.stack([w.embedding for w in windows]))
        clusters = sorted(set(labels.tolist()))
        # clusters ↔ the speakers their already-labelled windows had
        known = sorted({w.speaker for w in windows if id(w) not in new_ids and w.speaker})
        mapping: dict[int, int] = {}
        if known:
            overlap = np.zeros((len(clusters), len(known)))
            for w, c in zip(windows, labels):
                if id(w) not in new_ids and w.speaker:
                    overlap[clusters.index(c), known.index(w.speaker)] += 1
            rows, cols = linear_sum_assignment(-overlap)
            mapping = {clusters[r]: known[k] for r, k in zip(rows, cols) if overlap[r, k] > 0}
        centroids = {}
        for c in clusters:
            members = np.stack([w.embedding for w, l in zip(windows, labels) if l == c])
            mean = members.sum(axis=0)
            centroids[c] = (mean / np.linalg.norm(mean), len(members))
        for c in clusters:
            if c in mapping:
                continue
            vector, size = centroids[c]
            best, score = self._best(vector, exclude=set(mapping.values()))
            if best is not None and score >= self._match:
                mapping[c] = best  # an earlier speaker back again
            elif size >= _MIN_NEW_SPEAKER:
                mapping[c] = self._new_speaker()
        for c in clusters:
            if c not in mapping:  # too few windows to be someone new: the nearest cluster's speaker
                named = [m for m in clusters if m in mapping]
                if not named:
                    mapping[c] = self._new_speaker()
                    continue
                nearest = max(named, key=lambda m: float(centroids[m][0] @ centroids[c][0]))
                mapping[c] = mapping[nearest]
        for w, c in zip(windows, labels):
            w.speaker = mapping[c]
