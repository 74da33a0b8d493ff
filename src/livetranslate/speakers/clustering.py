"""Voice clusters of one session: who speaks when, without names.

Each final utterance adds the embeddings of its 1.6 s windows (every 0.4 s), and the recent
windows (at most ``max_windows``) are clustered again:

1. **Spectral clustering** as Wang et al. (ICASSP 2018) do for these d-vectors, with the
   authors' ``spectralcluster`` (Gaussian blur along time, row-wise thresholding,
   symmetrisation, diffusion, row-max normalisation; the largest eigen-gap picks the number
   of clusters), asked for two clusters at least: it proposes, step 2 decides. The proposal
   is refined as k-means would (each window to its nearest cluster mean, a few rounds):
   the blurred affinity leaves windows on the wrong side where two voices are close (the
   man/woman case of issue 13 found one speaker without this, two with it).
2. **Merging by this session's own evidence.** Two clusters stay apart only if their voices
   are apart *relative to how much each voice varies in this session*: for each window,
   ``own`` is its mean cosine with its cluster's windows and ``other`` with the other
   cluster's (windows sharing audio with it left out, as they are alike whoever speaks);
   the pair's separation is ``mean(own - other) / mean(1 - own)``, the gap between the
   voices in units of a voice's spread. No absolute cosine: a quiet telephone line, a loud
   headset or a processed browser microphone move both terms together. The least separated
   pair merges first, until every pair is at least ``separation`` apart; a cluster with
   fewer than ``_MIN_CLUSTER`` windows joins its nearest.
3. **Stable numbers.** Clusters take the speaker number most of their already-labelled
   windows had (one-to-one, Hungarian; speakers the session named weigh more and two of
   them are never merged); a cluster of new windows takes an earlier speaker it is not
   separated from (the same measure against that speaker's windows, kept as sums once
   they leave the buffer), else a new number. Speakers are re-decided at every final: a
   split or merge reaches what was already published through ``speaker.update`` (stage).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from spectralcluster import ICASSP2018_REFINEMENT_SEQUENCE, RefinementOptions, SpectralClusterer, ThresholdType

_MIN_SPECTRAL = 8  # windows (~4 s of speech) before anything can be split
_MIN_CLUSTER = 8  # windows a cluster needs to stand alone (~4.4 s of speech; fewer: one utterance's split is noise)
_SHARED_S = 1.6  # windows closer than this share audio: never compared with each other
_NAMED_WEIGHT = 4.0  # a named speaker's windows count this much more when clusters take numbers


@dataclass
class Window:
    segment_id: str
    time: float
    """Session time (s) of the window's centre."""
    embedding: np.ndarray | None
    """None once the window left the buffer: its voice is then in its speaker's sum, and the
    turns that keep it (for re-attribution) read only its time and label (1 KB a window)."""
    speaker: int = 0


def _clusterer(max_speakers: int) -> SpectralClusterer:
    return SpectralClusterer(
        min_clusters=2,
        max_clusters=max(2, max_speakers),
        refinement_options=RefinementOptions(
            gaussian_blur_sigma=1,
            p_percentile=0.93,
            thresholding_soft_multiplier=0.01,
            thresholding_type=ThresholdType.RowMax,
            refinement_sequence=ICASSP2018_REFINEMENT_SEQUENCE,
        ),
    )


def separation(similarity: np.ndarray, far: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """How far apart the windows ``a`` and ``b`` (boolean masks) are, in units of their own
    spread: ``mean(own - other) / mean(1 - own)`` over the windows of both, comparing only
    windows that share no audio (``far``). 0 when either side has nothing to compare."""
    own, other = [], []
    for mine, theirs in ((a, b), (b, a)):
        for i in np.flatnonzero(mine):
            o, t = mine & far[i], theirs & far[i]
            if o.any() and t.any():
                own.append(similarity[i, o].mean())
                other.append(similarity[i, t].mean())
    if not own:
        return 0.0
    own, other = np.array(own), np.array(other)
    return float((own - other).mean() / max((1 - own).mean(), 1e-6))


class VoiceClusters:
    def __init__(self, *, max_windows: int = 150, separation: float = 0.25, max_speakers: int = 8) -> None:
        self.windows: deque[Window] = deque()
        self.named: set[int] = set()
        """Speakers the session has named (meeting, person, voiceprint): kept apart, and
        their number stays with the voice through re-clustering."""
        self._max_windows = max_windows
        self._separation = separation
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
        self._recluster({id(w) for w in new})
        return new

    def seed(self, centroid: np.ndarray, weight: int = 10) -> int:
        """A speaker known from before (a resumed session): a new number with this voice."""
        speaker = self._new_speaker()
        self._archived[speaker] = (np.asarray(centroid, np.float32) * weight, weight)
        return speaker

    def centroid(self, speaker: int) -> np.ndarray | None:
        total, count = self._sum(speaker)
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

    def _sum(self, speaker: int) -> tuple[np.ndarray, int]:
        total, count = self._archived.get(speaker, (np.zeros(256, np.float32), 0))
        for w in self.windows:
            if w.speaker == speaker:
                total, count = total + w.embedding, count + 1
        return total, count

    def _archive(self, w: Window) -> None:
        total, count = self._archived.get(w.speaker, (np.zeros(256, np.float32), 0))
        self._archived[w.speaker] = (total + w.embedding, count + 1)
        w.embedding = None

    def _new_speaker(self) -> int:
        self._next += 1
        return self._next - 1

    def _recluster(self, new_ids: set[int]) -> None:
        windows = list(self.windows)
        x = np.stack([w.embedding for w in windows])
        times = np.array([w.time for w in windows])
        old = np.array([0 if id(w) in new_ids else w.speaker for w in windows])
        labels = np.zeros(len(windows), int)
        if len(windows) >= _MIN_SPECTRAL:
            labels = self._merge(x, times, _refine(x, self._clusterer.predict(x)), old)
        mapping = self._numbers(x, times, labels, old)
        for w, c in zip(windows, labels):
            w.speaker = mapping[c]

    def _merge(self, x: np.ndarray, times: np.ndarray, labels: np.ndarray, old: np.ndarray) -> np.ndarray:
        """Merge clusters until every pair is ``separation`` apart and none is too small;
        two clusters held mostly by different named speakers are never merged."""
        similarity = x @ x.T
        far = np.abs(times[:, None] - times[None, :]) >= _SHARED_S
        while True:
            clusters = sorted(set(labels.tolist()))
            if len(clusters) < 2:
                return labels
            owner = {c: _owner(old[labels == c], self.named) for c in clusters}
            candidates = []
            for i, a in enumerate(clusters):
                for b in clusters[i + 1:]:
                    if owner[a] is not None and owner[b] is not None and owner[a] != owner[b]:
                        continue
                    small = min((labels == a).sum(), (labels == b).sum()) < _MIN_CLUSTER
                    score = separation(similarity, far, labels == a, labels == b)
                    if small or score < self._separation:
                        candidates.append((not small, score, a, b))
            if not candidates:
                return labels
            _, _, a, b = min(candidates)  # too small first, then the least separated
            labels = np.where(labels == b, a, labels)

    def _numbers(self, x: np.ndarray, times: np.ndarray, labels: np.ndarray, old: np.ndarray) -> dict[int, int]:
        """Each cluster's speaker number (see the module's docstring, step 3)."""
        clusters = sorted(set(labels.tolist()))
        known = sorted(set(old.tolist()) - {0})
        mapping: dict[int, int] = {}
        if known:
            overlap = np.zeros((len(clusters), len(known)))
            for c, sp in zip(labels, old):
                if sp:
                    overlap[clusters.index(c), known.index(sp)] += _NAMED_WEIGHT if sp in self.named else 1.0
            rows, cols = linear_sum_assignment(-overlap)
            mapping = {clusters[r]: known[k] for r, k in zip(rows, cols) if overlap[r, k] > 0}
        far = np.abs(times[:, None] - times[None, :]) >= _SHARED_S
        for c in clusters:
            if c not in mapping:
                mapping[c] = self._returning(x, far, labels == c, set(mapping.values())) or self._new_speaker()
        return mapping

    def _returning(self, x: np.ndarray, far: np.ndarray, mine: np.ndarray, taken: set[int]) -> int | None:
        """An earlier speaker (not in the buffer's clusters now) that these windows are not
        separated from, the least separated first."""
        own = np.array([x[i] @ x[mine & far[i]].mean(0) if (mine & far[i]).any() else 1.0
                        for i in np.flatnonzero(mine)])
        best, best_score = None, self._separation
        for sp in self.speakers() - taken - {0}:
            total, count = self._archived.get(sp, (None, 0))
            if not count:
                continue
            other = x[mine] @ (total / count)
            score = float((own - other).mean() / max((1 - own).mean(), 1e-6))
            if score < best_score:
                best, best_score = sp, score
        return best


def _refine(x: np.ndarray, labels: np.ndarray, rounds: int = 5) -> np.ndarray:
    """Each window to the cluster whose mean it is nearest, until nothing moves."""
    for _ in range(rounds):
        clusters = np.array(sorted(set(labels.tolist())))
        means = np.stack([x[labels == c].mean(0) for c in clusters])
        moved = clusters[np.argmax(x @ means.T, axis=1)]
        if (moved == labels).all():
            break
        labels = moved
    return labels


def _owner(speakers: np.ndarray, named: set[int]) -> int | None:
    """The named speaker most of these windows had, if most had one."""
    ids, counts = np.unique(speakers[np.isin(speakers, list(named))], return_counts=True)
    if not ids.size or counts.max() * 2 < speakers.size:
        return None
    return int(ids[counts.argmax()])
