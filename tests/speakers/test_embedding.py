"""The voice encoder: Resemblyzer's model in ONNX gives Resemblyzer's embeddings on real speech."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from livetranslate.audio import decode_file
from livetranslate.speakers import VoiceEncoder
from tests.conftest import LIBRIVOX

REFERENCE = Path(__file__).parent / "data" / "resemblyzer_reference.npz"


@pytest.fixture(scope="module")
def encoder():
    return VoiceEncoder()


def test_matches_the_original_torch_implementation():
    original = VoiceEncoder(raise_only=True)  # Resemblyzer's level step: the graph is what is compared
    reference = np.load(REFERENCE)
    for name in reference.files:
        embedding = original.embed(decode_file(LIBRIVOX / f"{name}.wav"))
        assert embedding.shape == (256,) and abs(np.linalg.norm(embedding) - 1) < 1e-5
        assert float(embedding @ reference[name]) > 0.9999, name


def test_one_reader_is_closer_to_herself_than_to_synthetic_voices(encoder, tmp_path, librivox):
    reader = np.array([encoder.embed(c.audio) for c in librivox])
    voices = []
    for voice in ("en-us", "en-us+f3", "en-gb+m3"):
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(tmp_path / "v.wav"),
                        "Good morning everyone, let's start with the quarterly numbers."], check=True)
        voices.append(encoder.embed(decode_file(tmp_path / "v.wav")))
    same = reader @ reader.T
    same = same[np.triu_indices(len(reader), 1)]
    cross = (reader @ np.array(voices).T).ravel()
    assert same.min() > cross.max(), (same.min(), cross.max())
    assert same.mean() - cross.mean() > 0.2


def test_short_and_quiet_audio_still_embeds(encoder, librivox):
    clip = librivox[0].audio
    short = encoder.embed(clip[8000:16000])  # 0.5 s: one zero-padded partial
    assert short.shape == (256,) and np.isfinite(short).all()
    # quiet audio is raised to -30 dBFS first, as Resemblyzer does: the level does not matter
    assert float(encoder.embed(clip * 0.01) @ encoder.embed(clip * 0.03)) > 0.999


def test_loud_audio_embeds_as_at_any_other_gain(encoder, librivox):
    """A browser's automatic gain (or a speaker leaning in) makes speech louder: every 1.6 s
    window must stay the same voice. Resemblyzer's raise-only level step does not: the same
    clip 12 dB up moves its windows far apart (issue 13)."""
    clip = librivox[0].audio  # about -24 dBFS: above the -30 dBFS target
    same = encoder.windows(clip)[0]
    for gain in (0.5, 2.0, 4.0):
        louder = encoder.windows(clip * gain)[0]
        assert float((same * louder).sum(axis=1).min()) > 0.999, gain
    original = VoiceEncoder(raise_only=True)
    moved = (original.windows(clip)[0] * original.windows(clip * 4.0)[0]).sum(axis=1)
    assert moved.mean() < 0.95
