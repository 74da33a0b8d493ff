"""Decoding: raw PCM at any rate and layout, and containers streamed in small pieces."""

from __future__ import annotations

import numpy as np
import pytest

from livetranslate.audio import StreamInput, decode_file, make_decoder
from livetranslate.errors import UnsupportedMedia
from tests.conftest import encode, wer


def _feed_all(decoder, data: bytes, piece: int) -> np.ndarray:
    out = [decoder.feed(data[i : i + piece]) for i in range(0, len(data), piece)]
    return np.concatenate(out + [decoder.finish()])


def test_pcm_s16le_at_16k_passes_through_with_odd_frame_sizes():
    audio = (np.sin(np.arange(16000) / 10) * 0.5).astype(np.float32)
    data = (audio * 32767).astype("<i2").tobytes()
    out = _feed_all(make_decoder("pcm_s16le", 16000, 1), data, 333)  # odd sizes split samples
    assert out.size == 16000
    assert np.max(np.abs(out - audio)) < 1e-3


def test_pcm_stereo_44k_is_downmixed_and_resampled():
    t = np.arange(44100) / 44100
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([tone, tone], axis=1).astype("<f4").tobytes()
    decoder = make_decoder("pcm_f32le", 44100, 2)
    assert decoder.input == StreamInput(44100, 2)
    out = _feed_all(decoder, stereo, 4096)
    assert abs(out.size - 16000) <= 64
    spectrum = np.abs(np.fft.rfft(out[:16000]))
    assert abs(np.argmax(spectrum) * 16000 / 16000 - 440) < 3  # still a 440 Hz tone


@pytest.mark.parametrize("fmt", ["webm", "ogg", "mp3", "wav", "flac"])
def test_container_streams_decode_in_small_pieces(fmt, librivox):
    clip = librivox[1]
    data = encode(clip.audio, fmt)
    decoder = make_decoder(fmt, None, 1)
    assert decoder.input is None  # not known before the header
    out = _feed_all(decoder, data, 4000)
    assert decoder.input == StreamInput(48000, 2)  # what encode() wrote
    assert abs(out.size / 16000 - clip.audio.size / 16000) < 0.15  # codec padding only
    corr = np.corrcoef(out[: clip.audio.size // 2 * 2][:32000], clip.audio[:32000])[0, 1] if fmt in ("wav", "flac") else 1
    assert corr > 0.99


def test_decode_file_reads_any_container(tmp_path, librivox):
    path = tmp_path / "clip.ogg"
    path.write_bytes(encode(librivox[1].audio, "ogg"))
    out = decode_file(path)
    assert abs(out.size - librivox[1].audio.size) < 16000 * 0.1


def test_decode_file_rejects_what_is_not_audio(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("meeting notes, not audio\n" * 100)
    with pytest.raises(UnsupportedMedia, match="no audio track|not audio"):
        decode_file(path)


def test_unknown_format_lists_the_supported_ones():
    with pytest.raises(UnsupportedMedia, match="supported: wav, webm"):
        make_decoder("aiff", None, 1)


def test_streamed_opus_transcribes_like_the_original(server, librivox):
    from tests.conftest import stream

    clip = librivox[0]
    session = server.create_session()
    result = stream(server, session["id"], encode(clip.audio, "webm"), start={"type": "start", "format": "webm"})
    assert result.close_code == 1000
    assert wer(clip.text, result.text) <= 0.15, result.text
    ready, told = result.messages[0], [m for m in result.messages if m["type"] == "input"]
    assert ready["type"] == "ready" and (ready["sample_rate"], ready["channels"]) == (16000, 1)
    assert (ready["input_sample_rate"], ready["input_channels"]) == (None, None)  # not known before the header
    assert told == [{"type": "input", "format": "webm", "sample_rate": 48000, "channels": 2}]


def test_ready_says_the_pcm_rate_and_what_it_is_resampled_to(server):
    from tests.conftest import stream

    session = server.create_session()
    start = {"type": "start", "format": "pcm_s16le", "sample_rate": 44100, "channels": 2}
    result = stream(server, session["id"], bytes(44100 * 2 * 2), start=start)  # 1 s of stereo silence
    ready = result.messages[0]
    assert (ready["sample_rate"], ready["channels"]) == (16000, 1)
    assert (ready["input_sample_rate"], ready["input_channels"]) == (44100, 2)
    assert not [m for m in result.messages if m["type"] == "input"]  # nothing more to tell
