"""Who said what, on real and synthetic conversations with known speakers: voice clusters
alone, and meeting timelines that are right, late, shifted, partial or contradictory.

Each conversation is segmented, transcribed (tiny.en) and embedded once; the speakers stage
is then replayed with each timeline. Bounds are set a little under what was measured
(BENCHMARKS.md, "Speakers") so a regression fails and noise does not."""

from __future__ import annotations

import pytest

from livetranslate.events import Participant, SpeakerTimelineEvent
from livetranslate.speakers import Timeline
from tests.speakers import corpus, harness

NAMES = {"voice1": "Alice", "voice2": "Bob", "voice3": "Carol", "voice4": "Dan", "Diane": "Diane", "Sheila": "Sheila"}


@pytest.fixture(scope="module")
def models():
    from livetranslate.asr import AsrEngine
    from livetranslate.settings import Settings
    from livetranslate.speakers import VoiceEncoder
    from livetranslate.vad import SileroVad

    return AsrEngine.from_settings(Settings()).asr, SileroVad(), VoiceEncoder()


@pytest.fixture(scope="module")
def conversations(models, librivox):
    import numpy as np

    convs = [
        corpus.pyannote_call(),
        corpus.synthetic_conversation(2, seed=0),
        corpus.synthetic_conversation(3, seed=1),
        corpus.synthetic_conversation(4, seed=0),
    ]
    # one reader, five recordings: must stay one speaker
    parts, turns, t = [np.zeros(8000, np.float32)], [], 0.5
    for clip in librivox:
        turns.append(corpus.Turn("reader", t, t + clip.audio.size / 16000, clip.text))
        parts += [clip.audio, np.zeros(19200, np.float32)]
        t += clip.audio.size / 16000 + 1.2
    convs.append(corpus.Conversation("librivox", np.concatenate(parts), turns))
    return {c.name: (c, harness.prepare(c, *models)) for c in convs}


def events(conv: corpus.Conversation, shift: float = 0.0, only: set[str] | None = None) -> list[SpeakerTimelineEvent]:
    """The meeting's active-speaker indicator from the true turns, ``shift`` s late."""
    out = []
    for t in conv.turns:
        if only is None or t.speaker in only:
            p = Participant(id=t.speaker, name=NAMES[t.speaker])
            out += [
                SpeakerTimelineEvent(kind="on", participant=p, time=max(t.start + shift, 0.0)),
                SpeakerTimelineEvent(kind="off", participant=p, time=max(t.end + shift, 0.0)),
            ]
    return out


# --- voices alone

# (conversation, speakers, min word accuracy, max DER); measured: 0.76/0.34, 0.98/0.19
# (10 finals with the soft cut, 8 without), 0.96/0.08, 1.00/0.09, 1.00/0.01
VOICE_BOUNDS = [
    ("pyannote-call", 2, 0.72, 0.35),
    ("espeak-2spk-0", 2, 0.93, 0.22),
    ("espeak-3spk-1", 3, 0.92, 0.25),
    ("espeak-4spk-0", 4, 0.85, 0.25),
    ("librivox", 1, 0.99, 0.08),
]


@pytest.mark.parametrize("name,speakers,accuracy,der", VOICE_BOUNDS)
def test_voice_clusters_tell_speakers_apart(conversations, name, speakers, accuracy, der):
    conv, finals = conversations[name]
    result = harness.replay(finals)
    got_accuracy, got_der, found = result.score(conv)
    assert found == speakers
    assert got_accuracy >= accuracy
    assert got_der <= der
    # nothing named them: every speaker is "Speaker N", source cluster
    assert set(result.names.values()) == {None}


# --- meeting timelines

SCENARIOS = {
    # name: (events kwargs, delay_s given to the timeline, events arrive late)
    "exact": ({}, 0.0, False),
    "late (after the audio)": ({}, 0.0, True),
    "indicator 0.5 s behind": ({"shift": 0.5}, 0.0, False),
    "indicator 1 s behind, compensated": ({"shift": 1.0}, -1.0, False),
    "indicator 0.7 s ahead": ({"shift": -0.7}, 0.0, False),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("name", ["espeak-2spk-0", "espeak-3spk-1", "espeak-4spk-0"])
def test_meeting_events_name_every_voice(conversations, name, scenario):
    conv, finals = conversations[name]
    kwargs, delay, late = SCENARIOS[scenario]
    ev = events(conv, **kwargs)
    result = harness.replay(
        finals, harness.stage(timeline=Timeline(delay_s=delay)), events=None if late else ev,
        late_events=ev if late else None,
    )
    right, wrong, unnamed = result.named_words(conv, NAMES)
    total = right + wrong + unnamed
    assert right / total >= 0.93, (right, wrong, unnamed)
    # espeak-3spk-1 measures 6 of 146 (4.1 %) in every scenario: the segmenter's soft cut ends one
    # final 1.4 s into the next voice's turn ("I think that works."), 2 voice windows that no
    # clustering can stand on, and a published final cannot be split later (was 1 of 122 uncut)
    assert wrong / total <= (0.045 if name == "espeak-3spk-1" else 0.03)
    assert len(result.wrong_turns(conv, NAMES)) <= 1  # a one-word final at a turn change, at most
    assert {n for n in result.names.values() if n} == {NAMES[s] for s in conv.speakers}


@pytest.mark.parametrize("name", ["pyannote-call", "espeak-2spk-0", "espeak-3spk-1", "espeak-4spk-0"])
def test_missing_events_name_only_who_they_cover(conversations, name):
    """Only the first participant's indicator works: the others stay "Speaker N"."""
    conv, finals = conversations[name]
    first = conv.speakers[0]
    result = harness.replay(finals, events=events(conv, only={first}))
    assert {n for n in result.names.values() if n} == {NAMES[first]}
    assert result.wrong_turns(conv, NAMES) == []


@pytest.mark.parametrize("name", ["pyannote-call", "espeak-3spk-1"])
def test_crosstalk_names_nobody(conversations, name):
    """Everyone's indicator on the whole time: the meeting does not say who spoke."""
    conv, finals = conversations[name]
    end = conv.audio.size / 16000
    ev = [
        SpeakerTimelineEvent(kind=kind, participant=Participant(id=s, name=NAMES[s]), time=t)
        for s in conv.speakers
        for kind, t in (("on", 0.0), ("off", end))
    ]
    result = harness.replay(finals, events=ev)
    assert set(result.names.values()) == {None}


def test_real_call_with_exact_events_names_no_turn_wrongly(conversations):
    conv, finals = conversations["pyannote-call"]
    result = harness.replay(finals, events=events(conv))
    right, wrong, unnamed = result.named_words(conv, NAMES)
    assert result.wrong_turns(conv, NAMES) == []
    assert right >= 70 and wrong <= 0.15 * (right + wrong)  # measured: 77 right, 12 wrong (turn edges), 0 unnamed


def test_captions_with_names_count_like_the_indicator(conversations):
    conv, finals = conversations["espeak-2spk-0"]
    captions = [
        SpeakerTimelineEvent(
            kind="caption", participant=Participant(id=t.speaker, name=NAMES[t.speaker]), time=t.start, end=t.end,
            text=t.text,
        )
        for t in conv.turns
    ]
    result = harness.replay(finals, late_events=captions)
    right, wrong, unnamed = result.named_words(conv, NAMES)
    assert right / (right + wrong + unnamed) >= 0.93 and wrong <= 3


# --- the timeline itself


def _p(pid: str) -> Participant:
    return Participant(id=pid, name=pid.title())


def test_overlap_goes_to_the_clearly_longer_speaker_only():
    tl = Timeline(tolerance_s=0.0)
    tl.add(SpeakerTimelineEvent(kind="on", participant=_p("a"), time=0.0))
    tl.add(SpeakerTimelineEvent(kind="off", participant=_p("a"), time=4.0))
    tl.add(SpeakerTimelineEvent(kind="on", participant=_p("b"), time=3.0))
    tl.add(SpeakerTimelineEvent(kind="off", participant=_p("b"), time=6.0))
    assert tl.match(0.0, 3.5).participant.id == "a"  # 3.5 s against 0.5 s
    assert tl.match(2.5, 5.0) is None  # 1.5 s against 2 s: nobody clearly
    assert tl.match(7.0, 8.0) is None  # nobody on


def test_open_indicator_and_repeated_on_do_not_grow_without_bound():
    tl = Timeline(max_intervals=10)
    for i in range(100):
        tl.add(SpeakerTimelineEvent(kind="on", participant=_p(f"p{i % 20}"), time=float(i)))
    assert len(tl.intervals) == 10
    # an "on" never followed by "off" stops counting after two minutes
    tl2 = Timeline()
    tl2.add(SpeakerTimelineEvent(kind="on", participant=_p("a"), time=0.0))
    assert tl2.match(10.0, 12.0).participant.id == "a"
    assert tl2.match(300.0, 302.0) is None
    # "off" without "on" is ignored
    assert tl2.add(SpeakerTimelineEvent(kind="off", participant=_p("z"), time=1.0)) is None


@pytest.mark.parametrize("exact", [True, False])
def test_a_short_turn_is_cut_from_one_voice_only_where_the_meeting_measured_it(conversations, exact):
    """One voice throughout (the encoder cannot tell two people apart), and the meeting naming
    someone else for the last 1.5 s: a bot's edges, measured on the audio, cut that off as
    their turn; a lagging indicator's 1.5 s is no turn (it needs 2 s)."""
    _, finals = conversations["librivox"]
    final = next(f for f in finals if f.end - f.start > 5)
    cut = final.end - 1.5
    ana, bob = Participant(id="ana", name="Ana"), Participant(id="bob", name="Bob")
    events = [SpeakerTimelineEvent(kind=kind, participant=p, time=t, exact=exact) for kind, p, t in
              (("on", ana, max(0.0, final.start - 0.5)), ("off", ana, cut), ("on", bob, cut), ("off", bob, final.end + 0.5))]
    result = harness.replay([final], events=events)
    named = [(w, result.names.get(w.speaker)) for w in result.words]
    head = {name for w, name in named if w.end < cut - 0.4}
    tail = {name for w, name in named if w.start > cut + 0.4}
    assert head == {"Ana"}, named
    assert tail == ({"Bob"} if exact else {"Ana"}), named
