"""The utterance segmenter: drafts while speaking, one final per utterance, nothing from noise."""

from __future__ import annotations

import numpy as np
import pytest

from livetranslate.asr import SegmenterOptions, UtteranceSegmenter
from livetranslate.vad import SileroVad
from tests.conftest import conversation


@pytest.fixture(scope="module")
def vad():
    return SileroVad()


def _run(vad, audio, options=SegmenterOptions(), chunk=1600, offset_s=0.0):
    seg = UtteranceSegmenter(vad.stream(), options, offset_s=offset_s)
    out = []
    for i in range(0, audio.size, chunk):
        out += seg.push(audio[i : i + chunk], float(i))
    return out + seg.flush(), seg


def test_one_final_per_utterance_with_drafts_before_it(vad, librivox):
    audio, _ = conversation(librivox)
    out, seg = _run(vad, audio)
    finals = [u for u in out if u.final]
    assert len(finals) == 5 and all(u.speech for u in finals)
    assert seg.session_seconds == pytest.approx(audio.size / 16000)
    for f, clip in zip(finals, librivox):
        assert f.end - f.start == pytest.approx(clip.audio.size / 16000, abs=0.6)
    for d in (u for u in out if not u.final):
        final = next(f for f in finals if f.segment_id == d.segment_id)
        assert final.start == d.start and d.end <= final.end + 0.5


def test_utterance_times_follow_the_session_offset(vad, librivox):
    audio, _ = conversation(librivox[:1])
    out, _ = _run(vad, audio, offset_s=100.0)
    final = next(u for u in out if u.final)
    assert 100.0 <= final.start < 101.0


def test_silence_and_noise_open_no_utterance(vad):
    rng = np.random.default_rng(3)
    for audio in (np.zeros(16000 * 5, np.float32), rng.normal(0, 0.1, 16000 * 5).astype(np.float32)):
        out, _ = _run(vad, audio)
        assert out == []


def test_long_speech_is_cut_at_a_pause_below_the_maximum(vad, librivox):
    # four recordings back to back with short (0.25 s) gaps: too short to end an utterance
    audio, _ = conversation(librivox[:4], gap_s=0.25)
    opts = SegmenterOptions(max_utterance_s=8.0, min_silence_ms=600)
    out, _ = _run(vad, audio, opts)
    finals = [u for u in out if u.final]
    assert len(finals) >= 3
    assert all(u.end - u.start <= 8.0 + 0.05 for u in finals)
    # consecutive pieces touch: nothing is lost at the cuts
    for a, b in zip(finals, finals[1:]):
        assert b.start <= a.end + 1.0


def test_drafts_can_be_turned_off(vad, librivox):
    out, _ = _run(vad, librivox[0].audio, SegmenterOptions(drafts=False))
    assert [u.final for u in out] == [True]


def test_continuous_speech_is_captioned_phrase_by_phrase(vad, librivox):
    """Read speech with no gap between recordings: past long_utterance_s a short pause ends
    the utterance, so finals come every few seconds instead of at max_utterance_s."""
    audio = np.concatenate([clip.audio for clip in librivox])
    options = SegmenterOptions(max_utterance_s=15.0, long_utterance_s=4.0, pause_ms=120, drafts=False)
    out, _ = _run(vad, audio, options)
    finals = [u for u in out if u.final]
    lengths = [u.end - u.start for u in finals]
    assert max(lengths) < 15.0 - 1 and np.median(lengths) < 8.0, lengths
    probs = vad.stream()(audio)
    for a, b in zip(finals, finals[1:]):
        assert b.start == pytest.approx(a.end, abs=0.5)  # nothing lost between pieces
        # each cut is in a pause: the VAD heard no speech around it
        w = int(a.end * 16000) // 512
        assert probs[max(w - 2, 0) : w + 1].min() < 0.5
    # without the rule the same speech waits for the deepest pause before max_utterance_s
    out, _ = _run(vad, audio, SegmenterOptions(max_utterance_s=15.0, long_utterance_s=28.0, drafts=False))
    assert len([u for u in out if u.final]) < len(finals)
