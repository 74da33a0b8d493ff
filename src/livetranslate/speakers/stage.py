"""The speakers stage of one session: who said each final, from the strongest evidence there is.

1. **track** — audio from a participant's own track is theirs.
2. **meeting** — the meeting's active-speaker events or named captions (:mod:`.timeline`)
   name a turn when they clearly point at one participant. A voice cluster takes a
   participant's name once the meeting has named at least ``_BIND_S`` seconds of its turns
   and ``_BIND_SHARE`` of what it named in the cluster was that participant: one stray
   match never names a voice.
3. **voiceprint** — an unnamed cluster whose voice clearly matches an enrolled voiceprint.
4. **cluster** — otherwise "Speaker N": a stable id from online voice clustering
   (:mod:`.clustering`), no name.

A final utterance is cut into speaker turns: each word takes the voice cluster of the
windows around it, and runs shorter than ``_MIN_TURN_S`` join their neighbour; inside one
voice turn, a stretch of ``_MEETING_SPLIT_S`` or more that the meeting (already heard)
gives someone else is cut off as their turn (``_EXACT_SPLIT_S`` where the meeting's edges were
measured on the audio: a lagging indicator's edges make short false turns, exact ones do not). When later
evidence changes who said an earlier turn (clusters refined, a late meeting event, a
voiceprint match), the stage emits :class:`~livetranslate.events.SpeakerUpdateEvent`.
Names come only from tracks, the meeting, voiceprints and people: never from a guess.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from livetranslate.events import Participant, SpeakerTimelineEvent, SpeakerUpdateEvent, Word
from livetranslate.speakers.clustering import VoiceClusters, Window
from livetranslate.speakers.embedding import WINDOW_S
from livetranslate.speakers.timeline import Match, Timeline
from livetranslate.speakers.voiceprints import TenantVoices

_MIN_TURN_S = 1.0  # a speaker turn shorter than this (and under 3 words) joins its neighbour
_MIN_TURN_WORDS = 3
_MEETING_SPLIT_S = 2.0  # the meeting cuts a voice turn only where it names someone else this long
_EXACT_SPLIT_S = 0.6  # ... this long where its turns' edges were measured on the audio (a meeting bot's)
_VOICEPRINT_MIN_WINDOWS = 8  # ~4 s of a cluster's speech before it is compared with voiceprints
_BIND_S = 2.0  # seconds of a cluster's speech the meeting must name before the cluster takes the name
_BIND_SHARE = 0.75  # ... and the share of them that must name the same participant
_RECENT_TURNS = 400  # turns kept for re-attribution (older ones keep what they were published with)


@dataclass
class Speaker:
    id: str
    name: str | None = None
    source: str = "cluster"
    confidence: float = 1.0
    participant_id: str | None = None
    voiceprint_id: str | None = None
    cluster: int | None = None
    merged_into: str | None = None


@dataclass
class Turn:
    """One speaker's stretch of a final utterance: published as one final segment."""

    segment_id: str
    start: float
    end: float
    text: str
    words: list[Word]
    speaker: Speaker
    windows: list[Window] = field(default_factory=list)
    cluster: int | None = None
    """The voice cluster most of the turn's windows are in."""
    match: Match | None = None
    """What the meeting says about this turn."""
    evidence: str = "cluster"
    """What decided this turn's speaker: ``track``, ``meeting`` or ``cluster`` (its voice)."""

    @property
    def spoken(self) -> tuple[float, float]:
        """From its first word to its last (the turn itself may include silence around them)."""
        if self.words:
            return self.words[0].start, max(self.words[-1].end, self.words[0].start + 0.05)
        return self.start, self.end


class SessionSpeakers:
    """Shared by every audio track of a session; thread-safe (attribution runs in threads)."""

    def __init__(
        self,
        *,
        clusters: VoiceClusters,
        timeline: Timeline,
        voiceprints: TenantVoices | None = None,
        known: list[Speaker] | None = None,
        centroids: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.clusters = clusters
        self.timeline = timeline
        self._voiceprints = voiceprints
        self._lock = threading.Lock()
        self._speakers: dict[str, Speaker] = {}
        self._by_cluster: dict[int, Speaker] = {}
        self._turns: deque[Turn] = deque(maxlen=_RECENT_TURNS)
        self._pending: list[SpeakerUpdateEvent] = []
        for sp in known or []:
            self._speakers[sp.id] = sp
            vector = (centroids or {}).get(sp.id)
            if vector is not None and sp.merged_into is None:
                sp.cluster = clusters.seed(vector)
                self._by_cluster[sp.cluster] = sp

    @classmethod
    def from_settings(cls, s, *, timeline: Timeline | None = None, **kw) -> "SessionSpeakers":
        clusters = VoiceClusters(
            max_windows=s.speaker_max_windows, separation=s.speaker_separation,
            max_speakers=s.speaker_max_speakers,
        )
        return cls(clusters=clusters, timeline=timeline or Timeline.from_settings(s), **kw)

    # --- attribution (in a thread)

    def attribute(
        self,
        *,
        segment_id: str,
        start: float,
        end: float,
        text: str,
        words: list[Word],
        windows: tuple[np.ndarray, np.ndarray] | None,
        participant: Participant | None = None,
    ) -> list[Turn]:
        """Cut one final utterance into speaker turns and say who spoke each. ``windows``
        (from :meth:`VoiceEncoder.windows`) is needed unless ``participant`` (a named track) says who."""
        with self._lock:
            if participant is not None:
                sp = self._participant(participant, "track", 1.0)
                return self._remember([Turn(segment_id, start, end, text, words, sp, evidence="track")])
            embeddings, offsets = windows
            self.clusters.named = {sp.cluster for sp in self._speakers.values()
                                   if sp.cluster is not None and sp.source != "cluster" and sp.merged_into is None}
            new = self.clusters.add(segment_id, embeddings, start + offsets + WINDOW_S / 2)
            turns = self._split(segment_id, start, end, text, words, new)
            for turn in turns:
                turn.match = self.timeline.match(*turn.spoken, turn.text)
            self._remember(turns)
            self._refresh(new=turns)
            self._name_by_voiceprint({t.speaker.id for t in turns})
            return turns

    def add_timeline(self, events: list[SpeakerTimelineEvent]) -> None:
        """Meeting events, possibly late: turns already published that they now name are updated."""
        with self._lock:
            for event in events:
                self.timeline.add(event)
                sp = self._by_participant(event.participant.id)
                if sp is not None and event.participant.name and sp.name != event.participant.name and sp.source in (
                    "meeting", "track"
                ):
                    sp.name = event.participant.name
                    self._announce(sp)
            lo = min(e.time for e in events) + self.timeline.delay - self.timeline.tolerance
            for turn in self._turns:
                if turn.evidence != "track" and turn.end >= lo:
                    turn.match = self.timeline.match(*turn.spoken, turn.text)
            self._refresh()

    def take_updates(self) -> list[SpeakerUpdateEvent]:
        with self._lock:
            out, self._pending = self._pending, []
        return out

    def apply(self, event: SpeakerUpdateEvent) -> None:
        """A rename or merge made through the API (already stored): follow it."""
        with self._lock:
            sp = self._speakers.get(event.speaker)
            if sp is None:
                return
            sp.name, sp.source, sp.confidence = event.name, event.source, event.confidence
            sp.participant_id, sp.voiceprint_id = event.participant_id, event.voiceprint_id
            for old_id in event.merged:
                old = self._speakers.get(old_id)
                if old is None:
                    continue
                old.merged_into = sp.id
                if old.cluster is not None:
                    if sp.cluster is None:
                        sp.cluster = old.cluster
                    else:
                        self.clusters.relabel(old.cluster, sp.cluster)
                    self._by_cluster[old.cluster] = sp
                for turn in self._turns:
                    if turn.speaker is old:
                        turn.speaker = sp

    def centroids(self) -> dict[str, list[float]]:
        """Each cluster speaker's voice, to store for when the session resumes."""
        with self._lock:
            out = {}
            for sp in self._speakers.values():
                if sp.cluster is not None and sp.merged_into is None:
                    c = self.clusters.centroid(sp.cluster)
                    if c is not None:
                        out[sp.id] = [round(float(x), 6) for x in c]
            return out

    # --- internals

    def _remember(self, turns: list[Turn]) -> list[Turn]:
        self._turns.extend(turns)
        return turns

    def _new_speaker(self, **kw) -> Speaker:
        sp = Speaker(id=f"S{len(self._speakers) + 1}", **kw)
        self._speakers[sp.id] = sp
        return sp

    def _by_participant(self, participant_id: str) -> Speaker | None:
        for sp in self._speakers.values():
            if sp.participant_id == participant_id and sp.merged_into is None:
                return sp
        return None

    def _participant(self, p: Participant, source: str, confidence: float) -> Speaker:
        sp = self._by_participant(p.id)
        if sp is None:
            sp = self._new_speaker(name=p.name or self.timeline.names.get(p.id), source=source,
                                   confidence=confidence, participant_id=p.id)
            self._announce(sp)  # who the new speaker is (the store keeps the participant)
        return sp

    def _cluster_speaker(self, cluster: int) -> Speaker:
        sp = self._by_cluster.get(cluster)
        if sp is None or sp.merged_into is not None:
            sp = self._new_speaker(cluster=cluster)
            self._by_cluster[cluster] = sp
        return sp

    def _split(
        self, segment_id: str, start: float, end: float, text: str, words: list[Word], windows: list[Window]
    ) -> list[Turn]:
        if not words:
            cluster = _majority(windows)
            return [Turn(segment_id, start, end, text, words, self._cluster_speaker(cluster), windows, cluster)]
        voices = [_word_cluster(w, windows) for w in words]
        people, exact = self._word_participants(words)

        def split_s(run: list[int]) -> float:
            """Exact only where the meeting itself (not words carried over) measured this long."""
            said = [i for i in run if exact[i] is not None]
            if not said or not all(exact[i] for i in said):
                return _MEETING_SPLIT_S
            return _EXACT_SPLIT_S if words[said[-1]].end - words[said[0]].start >= _EXACT_SPLIT_S else _MEETING_SPLIT_S

        # voice turns first; inside one voice, a long enough stretch the meeting gives someone else
        runs = [sub for run in _merge_short(_runs(voices, range(len(words))), words)
                for sub in _merge_short(_runs(people, run), words, min_s=split_s)]
        spans = []  # (first word, last word, cluster, participant), neighbours alike joined
        for run in runs:
            t0, t1 = words[run[0]].start, words[run[-1]].end
            cluster = _majority(_near(windows, t0, t1), [voices[i] for i in run])
            person = max(set(people[i] for i in run), key=[people[i] for i in run].count)
            if spans and spans[-1][2:] == (cluster, person):
                spans[-1] = (spans[-1][0], run[-1], cluster, person)
            else:
                spans.append((run[0], run[-1], cluster, person))
        turns = []
        for k, (first, last, cluster, _) in enumerate(spans):
            t0 = start if k == 0 else words[first].start
            t1 = end if k == len(spans) - 1 else words[last].end
            ws = words[first : last + 1]
            turns.append(
                Turn(
                    segment_id if k == 0 else f"{segment_id[:28]}-{k:03d}",
                    round(t0, 3), round(t1, 3), "".join(w.word for w in ws).strip(), ws,
                    self._cluster_speaker(cluster), _near(windows, ws[0].start, ws[-1].end), cluster,
                )
            )
        return turns

    def _word_participants(self, words: list[Word]) -> tuple[list[str | None], list[bool | None]]:
        """Who the meeting says spoke each word (None: it says nothing), and whether it
        measured that on the audio; a word it is unclear about goes with the word before it
        (and its exactness is None: the meeting did not say).
        One voice cluster can hold two people the encoder cannot tell apart (the real call's
        first final held three of one speaker's turns inside the other's): the meeting's own
        turns then still cut it."""
        if not self.timeline.intervals:
            return [None] * len(words), [None] * len(words)
        matches = [self.timeline.match(w.start, w.end) for w in words]
        ids, last = [], next((m.participant.id for m in matches if m), None)
        for m in matches:
            last = m.participant.id if m else last
            ids.append(last)
        return ids, [m.exact if m else None for m in matches]

    def _refresh(self, new: list[Turn] = ()) -> None:
        """Say again who spoke each recent turn: clusters may have been refined, the meeting
        may have said more. Turns already published that change speaker are announced."""
        for turn in self._turns:
            if turn.windows:
                turn.cluster = _majority(turn.windows)
        self._bind_clusters()
        moved: dict[str, list[str]] = {}
        for turn in self._turns:
            if turn.evidence == "track":
                continue
            before = turn.speaker
            if turn.match is not None:
                m = turn.match
                turn.speaker = self._by_participant(m.participant.id) or self._participant(
                    m.participant, "meeting", m.confidence
                )
                turn.evidence = "meeting"
            elif turn.cluster is not None:
                turn.speaker, turn.evidence = self._cluster_speaker(turn.cluster), "cluster"
            if turn.speaker is not before and not any(turn is t for t in new):
                moved.setdefault(turn.speaker.id, []).append(turn.segment_id)
        for sp_id, ids in moved.items():
            self._announce(self._speakers[sp_id], ids)

    def _bind_clusters(self) -> None:
        """A voice the meeting has named often and consistently enough carries the name."""
        votes: dict[int, dict[str, float]] = {}
        who: dict[str, Participant] = {}
        for turn in self._turns:
            if turn.match is not None and turn.cluster is not None and turn.evidence != "track":
                pid = turn.match.participant.id
                who[pid] = turn.match.participant
                per = votes.setdefault(turn.cluster, {})
                per[pid] = per.get(pid, 0.0) + (turn.end - turn.start) * turn.match.confidence
        # strongest evidence first, one participant per voice and one voice per participant
        candidates = []
        for cluster, per in votes.items():
            pid, best = max(per.items(), key=lambda kv: kv[1])
            share = best / sum(per.values())
            if best >= _BIND_S and share >= _BIND_SHARE:
                candidates.append((best, cluster, pid, share))
        for _, cluster, pid, share in sorted(candidates, reverse=True):
            sp = self._cluster_speaker(cluster)
            bound = self._by_participant(pid)
            if sp.participant_id is not None or sp.source not in ("cluster", "voiceprint"):
                continue  # this voice already has an identity (a participant, or a person named it)
            if bound is not None and bound.cluster is not None:
                if best > 2 * votes.get(bound.cluster, {}).get(pid, 0.0) and bound.source == "meeting":
                    # re-clustering split the voice the meeting named: the name follows the turns it named
                    self._by_cluster.pop(bound.cluster, None)
                    bound.cluster = cluster
                    self._by_cluster[cluster] = bound
                continue  # the participant is already another voice
            sp.participant_id, sp.name = pid, self.timeline.names.get(pid, who[pid].name)
            sp.source, sp.confidence, sp.voiceprint_id = "meeting", share, None
            merged = []
            if bound is not None:  # turns the meeting named before the voice was known join it
                bound.merged_into, bound.participant_id = sp.id, None
                merged.append(bound.id)
                for turn in self._turns:
                    if turn.speaker is bound:
                        turn.speaker = sp
            self._announce(sp, merged=merged)

    def _name_by_voiceprint(self, speaker_ids: set[str]) -> None:
        if self._voiceprints is None or not self._voiceprints.enrolled:
            return
        for sp_id in speaker_ids:
            sp = self._speakers[sp_id]
            if sp.source != "cluster" or sp.cluster is None:
                continue
            if sum(1 for w in self.clusters.windows if w.speaker == sp.cluster) < _VOICEPRINT_MIN_WINDOWS:
                continue
            centroid = self.clusters.centroid(sp.cluster)
            found = self._voiceprints.match(centroid) if centroid is not None else None
            if found is None or any(s.name == found.name for s in self._speakers.values() if s is not sp):
                continue
            sp.name, sp.source, sp.confidence, sp.voiceprint_id = found.name, "voiceprint", found.score, found.id
            self._announce(sp)

    def _announce(self, sp: Speaker, segment_ids: list[str] | None = None, merged: list[str] | None = None) -> None:
        self._pending.append(
            SpeakerUpdateEvent(
                speaker=sp.id, name=sp.name, source=sp.source, confidence=round(sp.confidence, 3),
                participant_id=sp.participant_id, voiceprint_id=sp.voiceprint_id,
                segment_ids=segment_ids or [], merged=merged or [],
            )
        )


def _word_cluster(word: Word, windows: list[Window]) -> int:
    """The cluster of the windows around a word, nearer windows weighing more."""
    mid = (word.start + word.end) / 2
    votes: dict[int, float] = {}
    half = WINDOW_S / 2
    for w in windows:
        d = abs(w.time - mid)
        if d < half:
            votes[w.speaker] = votes.get(w.speaker, 0.0) + 1 - d / half
    if not votes:
        return min(windows, key=lambda w: abs(w.time - mid)).speaker
    return max(votes.items(), key=lambda kv: kv[1])[0]


def _near(windows: list[Window], t0: float, t1: float) -> list[Window]:
    """The windows centred on the words from ``t0`` to ``t1`` (all of them if none is): a
    turn's voice is where its words are, not the silence or untranscribed speech beside
    them (a final whose last seconds Whisper dropped took the voice of those seconds)."""
    return [w for w in windows if t0 - 0.2 <= w.time <= t1 + 0.2] or windows


def _majority(windows: list[Window], extra: list[int] | None = None) -> int:
    counts: dict[int, int] = {}
    for label in [w.speaker for w in windows] + (extra or []):
        counts[label] = counts.get(label, 0) + 1
    return max(counts.items(), key=lambda kv: kv[1])[0]


def _runs(labels: list, indices) -> list[list[int]]:
    """``indices`` cut where their label changes."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and labels[runs[-1][0]] == labels[i]:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _merge_short(runs: list[list[int]], words: list[Word], min_s=None) -> list[list[int]]:
    """Runs too short to be a turn of their own join a neighbour (the longer one): under
    ``_MIN_TURN_WORDS`` words and ``_MIN_TURN_S``, or with ``min_s(run)`` under that many seconds."""
    def short(run: list[int]) -> bool:
        duration = words[run[-1]].end - words[run[0]].start
        if min_s is not None:
            return duration < min_s(run)
        return len(run) < _MIN_TURN_WORDS and duration < _MIN_TURN_S

    runs = [list(r) for r in runs]
    while len(runs) > 1:
        too_short = [i for i in range(len(runs)) if short(runs[i])]  # each run by its own measure
        if not too_short:
            break
        i = min(too_short, key=lambda k: words[runs[k][-1]].end - words[runs[k][0]].start)
        if i == 0:
            j = 1
        elif i == len(runs) - 1:
            j = i - 1
        else:
            j = i - 1 if len(runs[i - 1]) >= len(runs[i + 1]) else i + 1
        lo, hi = min(i, j), max(i, j)
        runs[lo:hi + 1] = [runs[lo] + runs[hi]]
        # neighbours that now share a label are one run (labels are re-read by the caller)
    return runs
