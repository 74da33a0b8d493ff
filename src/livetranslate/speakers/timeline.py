"""The meeting's timeline: who the meeting says is speaking, and when.

Active-speaker indicators (``on``/``off``) and named caption lines arrive as
:class:`~livetranslate.events.SpeakerTimelineEvent` in session media time; ``delay_s`` is
added to each (a meeting whose indicator runs ahead of the audio has a positive delay).
They become intervals per participant, kept in a bounded list (the oldest go first), and a
stretch of speech is matched to the participant whose intervals (widened by
``tolerance_s``) overlap it most, **only if** that overlap covers at least
``min_coverage`` of the stretch and is at least ``dominance`` times the next participant's.
Otherwise the meeting says nothing about it: crosstalk stays unnamed rather than wrong.
A caption whose words match the segment's counts double.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from livetranslate.errors import InvalidInput
from livetranslate.events import Participant, SpeakerTimelineEvent

_MAX_OPEN_S = 120.0  # an "on" never followed by "off" stops counting after this long


@dataclass
class Interval:
    participant: Participant
    start: float
    end: float | None  # None: still speaking
    text: str | None = None
    exact: bool = False  # both edges measured on the audio (see SpeakerTimelineEvent.exact)


@dataclass(frozen=True)
class Match:
    participant: Participant
    confidence: float
    """Share of the stretch the participant's intervals cover, discounted by the runner-up."""
    exact: bool = False
    """Every interval of the participant's that overlaps the stretch has exact edges."""


def _words(text: str | None) -> set[str]:
    return set(re.findall(r"\w+", (text or "").lower()))


class Timeline:
    def __init__(
        self,
        *,
        tolerance_s: float = 0.3,
        delay_s: float = 0.0,
        dominance: float = 2.0,
        min_coverage: float = 0.5,
        max_intervals: int = 2000,
    ) -> None:
        self.tolerance = tolerance_s
        self.delay = delay_s
        self.dominance = dominance
        self.min_coverage = min_coverage
        self.intervals: deque[Interval] = deque(maxlen=max_intervals)
        self._open: dict[str, Interval] = {}
        self.names: dict[str, str] = {}  # participant id → the latest name the meeting gave

    @classmethod
    def from_settings(cls, s) -> "Timeline":
        return cls(
            tolerance_s=s.speaker_event_tolerance_s, delay_s=s.speaker_event_delay_s,
            dominance=s.speaker_event_dominance, min_coverage=s.speaker_event_min_coverage,
            max_intervals=s.speaker_timeline_max_events,
        )

    def add(self, event: SpeakerTimelineEvent) -> Interval | None:
        """Add one event; returns the interval it opened, closed or added (None for a stray ``off``)."""
        p = event.participant
        if p.name:
            self.names[p.id] = p.name
        t = event.time + self.delay
        if event.kind == "caption":
            iv = Interval(p, t, event.end + self.delay, event.text, event.exact)
            self.intervals.append(iv)
            return iv
        if event.kind == "on":
            if p.id in self._open:  # repeated "on": still the same turn
                return self._open[p.id]
            iv = Interval(p, t, None, exact=event.exact)
            self._open[p.id] = iv
            self.intervals.append(iv)
            return iv
        iv = self._open.pop(p.id, None)
        if iv is not None:
            iv.end, iv.exact = max(t, iv.start), iv.exact and event.exact
        return iv

    def match(self, start: float, end: float, text: str = "") -> Match | None:
        """The participant the meeting says spoke ``start``–``end``, if it clearly says so."""
        length = max(end - start, 1e-3)
        words = _words(text)
        overlap: dict[str, float] = {}
        who: dict[str, Participant] = {}
        exact: dict[str, bool] = {}
        for iv in self.intervals:
            iv_end = iv.end if iv.end is not None else min(end, iv.start + _MAX_OPEN_S)
            a, b = max(start, iv.start - self.tolerance), min(end, iv_end + self.tolerance)
            if b <= a:
                continue
            share = b - a
            if iv.text is not None and words:
                share *= 1 + len(words & _words(iv.text)) / len(words)
            overlap[iv.participant.id] = overlap.get(iv.participant.id, 0.0) + share
            who[iv.participant.id] = iv.participant
            exact[iv.participant.id] = exact.get(iv.participant.id, True) and iv.exact
        if not overlap:
            return None
        ranked = sorted(overlap.items(), key=lambda kv: kv[1], reverse=True)
        best_id, best = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        coverage = min(best / length, 1.0)
        if coverage < self.min_coverage or best < self.dominance * second:
            return None
        participant = Participant(id=best_id, name=self.names.get(best_id, who[best_id].name))
        return Match(participant, round(coverage * (1 - second / best), 3), exact[best_id])


def check_timeline(events: list[SpeakerTimelineEvent], heard: float, lead: float) -> None:
    """Meeting events must fall inside the audio heard so far (plus the lead allowed)."""
    for e in events:
        latest = max(e.time, e.end or 0.0)
        if latest > heard + lead:
            raise InvalidInput(
                f"a {e.kind!r} event at {latest:.2f} s is outside the session: audio so far ends at "
                f"{heard:.2f} s (events may lead it by {lead:g} s)"
            )
