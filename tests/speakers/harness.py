"""Run the speakers stage over a whole conversation the way a live session does — the same
VAD segmenter, Whisper (with word timings) and voice windows per final utterance, one
utterance after another — and score what it says against the truth."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from livetranslate.asr import SegmenterOptions, UtteranceSegmenter
from livetranslate.asr.whisper import DecodeOptions, WhisperAsr
from livetranslate.events import Word
from livetranslate.settings import Settings
from livetranslate.speakers import SessionSpeakers, Timeline, VoiceEncoder
from livetranslate.vad import SileroVad
from tests.speakers.corpus import Conversation, HypWord, Turn, der, word_accuracy


@dataclass
class Attribution:
    turns: list[Turn]  # hypothesis turns (speaker ids), after every update
    words: list[HypWord]
    utterances: int
    seconds_per_utterance: list[float] = field(default_factory=list)
    """Added cost of the stage per final: voice windows + attribution."""
    names: dict[str, str | None] = field(default_factory=dict)
    """Each speaker id's name as the last event about it said."""
    turn_words: list[list[Word]] = field(default_factory=list)

    def named_words(self, conversation: Conversation, participants: dict[str, str]) -> tuple[int, int, int]:
        """(words named right, words named wrong, words unnamed); ``participants``: true
        speaker → the name the meeting uses for them."""
        right = wrong = unnamed = 0
        for w in self.words:
            truth = conversation.speaker_at((w.start + w.end) / 2)
            name = self.names.get(w.speaker)
            if truth is None:
                continue
            if name is None:
                unnamed += 1
            elif name == participants.get(truth):
                right += 1
            else:
                wrong += 1
        return right, wrong, unnamed

    def wrong_turns(self, conversation: Conversation, participants: dict[str, str]) -> list[str]:
        """Published finals whose name is not the person who said most of their words."""
        out = []
        for turn, words in zip(self.turns, self.turn_words):
            name = self.names.get(turn.speaker)
            truths = [conversation.speaker_at((w.start + w.end) / 2) for w in words]
            truths = [t for t in truths if t is not None]
            if name is None or not truths:
                continue
            majority = max(set(truths), key=truths.count)
            if participants.get(majority) != name:
                out.append(f"{turn.start:.1f}-{turn.end:.1f} {name}≠{majority}: {turn.text}")
        return out

    def score(self, conversation: Conversation) -> tuple[float, float, int]:
        """(word accuracy, DER, number of speakers found)."""
        accuracy, _ = word_accuracy(conversation, self.words)
        return accuracy, der(conversation.turns, self.turns), len({t.speaker for t in self.turns})


def stage(settings: Settings | None = None, timeline: Timeline | None = None, voiceprints=None) -> SessionSpeakers:
    return SessionSpeakers.from_settings(settings or Settings(), timeline=timeline, voiceprints=voiceprints)


def utterances(vad: SileroVad, audio, settings: Settings | None = None):
    options = replace(SegmenterOptions.from_settings(settings or Settings()), drafts=False)
    seg = UtteranceSegmenter(vad.stream(), options)
    out = []
    for i in range(0, audio.size, 1600):  # 100 ms frames, as a client sends them
        out += seg.push(audio[i : i + 1600], 0.0)
    out += seg.flush()
    return [u for u in out if u.final and u.speech]


@dataclass
class Final:
    """One final utterance as the speakers stage receives it."""

    segment_id: str
    start: float
    end: float
    text: str
    words: list[Word]
    windows: tuple
    seconds: float  # what embedding its voice windows cost


def prepare(conversation: Conversation, asr: WhisperAsr, vad: SileroVad, encoder: VoiceEncoder) -> list[Final]:
    """Segment, transcribe and embed a conversation once (replayed into many stages)."""
    out = []
    for u in utterances(vad, conversation.audio):
        result = asr.transcribe(u.audio, DecodeOptions(language="en"))
        if not result.text.strip():
            continue
        words = [
            Word(word=w.word, start=round(u.start + w.start, 3), end=round(u.start + w.end, 3),
                 probability=w.probability)
            for w in result.words
        ]
        started = time.perf_counter()
        windows = encoder.windows(u.audio)
        out.append(Final(u.segment_id, round(u.start, 3), round(u.end, 3), result.text, words, windows,
                         time.perf_counter() - started))
    return out


def replay(finals: list[Final], speakers: SessionSpeakers | None = None, *, events=None,
           late_events=None) -> Attribution:
    """Feed the finals to a speakers stage as a session would; ``events`` (meeting timeline
    events) are given just before the first final that starts after them, ``late_events``
    after the last final. Speaker updates are applied to what was published."""
    speakers = speakers or stage()
    pending = sorted(events or [], key=lambda e: e.time)
    published: dict[str, tuple[Turn, list[Word], str | None]] = {}
    names: dict[str, str | None] = {}
    costs = []

    def apply_updates():
        for update in speakers.take_updates():
            names[update.speaker] = update.name
            for sid in update.segment_ids:
                if sid in published:
                    old, ws, _ = published[sid]
                    published[sid] = (Turn(update.speaker, old.start, old.end, old.text), ws, None)
            for merged in update.merged:
                for sid, (old, ws, _) in list(published.items()):
                    if old.speaker == merged:
                        published[sid] = (Turn(update.speaker, old.start, old.end, old.text), ws, None)

    for f in finals:
        due = [e for e in pending if e.time <= f.end]
        if due:
            pending = pending[len(due):]
            speakers.add_timeline(due)
            apply_updates()
        started = time.perf_counter()
        turns = speakers.attribute(
            segment_id=f.segment_id, start=f.start, end=f.end, text=f.text, words=f.words, windows=f.windows,
        )
        costs.append(f.seconds + time.perf_counter() - started)
        for t in turns:
            published[t.segment_id] = (Turn(t.speaker.id, t.start, t.end, t.text), t.words, None)
            names[t.speaker.id] = t.speaker.name
        apply_updates()
    if pending or late_events:
        speakers.add_timeline(pending + list(late_events or []))
        apply_updates()
    turns = [t for t, _, _ in published.values()]
    words = [HypWord(w.word, w.start, w.end, t.speaker) for t, ws, _ in published.values() for w in ws]
    return Attribution(turns, words, len(finals), costs, names, [ws for _, ws, _ in published.values()])


def attribute(conversation: Conversation, asr: WhisperAsr, vad: SileroVad, encoder: VoiceEncoder,
              speakers: SessionSpeakers | None = None) -> Attribution:
    return replay(prepare(conversation, asr, vad, encoder), speakers)
