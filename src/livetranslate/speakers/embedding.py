"""Voice embeddings: Resemblyzer's pretrained speaker encoder (GE2E, 256-d), run with
onnxruntime from ``voice_encoder.onnx`` (converted once from the PyPI package's
``pretrained.pt`` by ``scripts/convert_voice_encoder.py``; no torch at run time).

An utterance is cut into 1.6 s partials (1.3 per second), each embedded, and the mean is
L2-normed, as Resemblyzer's ``embed_utterance`` does; the STFT is numpy, the mel filterbank,
LSTM and projection are in the graph. Cosine similarity of two embeddings is their dot product.

One difference from Resemblyzer: audio is brought to -30 dBFS both ways, where Resemblyzer
only raises quiet audio. The encoder's input is mel *power* (no log), so loud speech embeds
differently at another gain: LibriVox at -24 dBFS played 6 dB louder gave 1.6 s windows at
cosine 0.95 (lowest 0.92) to the original's, 12 dB louder 0.84 (lowest 0.74) — a browser's
automatic gain or a speaker leaning in is enough to look like someone else (issue 13).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

MODEL = Path(__file__).resolve().parent / "voice_encoder.onnx"
SAMPLE_RATE = 16000
_N_FFT = 400  # 25 ms
_HOP = 160  # 10 ms
_PARTIAL = 160  # frames: 1.6 s
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_N_FFT) / _N_FFT)).astype(np.float32)  # periodic Hann


WINDOW_S = _PARTIAL * _HOP / SAMPLE_RATE  # 1.6 s


class VoiceEncoder:
    def __init__(self, threads: int = 1, *, raise_only: bool = False) -> None:
        """``raise_only``: Resemblyzer's own level step (quiet audio raised, loud audio kept),
        for comparing with the original; the default makes the level not matter."""
        import onnxruntime as ort

        self._raise_only = raise_only
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # ONNX Runtime's arena keeps the memory of the largest batch it ran, for good: windows
        # of 2-30 s utterances grew the process by 124 MB with it, 6 MB without, 6 % slower
        # (a small part of a final's cost)
        options.enable_cpu_mem_arena = False
        self._session = ort.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def embed(self, audio: np.ndarray, rate: float = 1.3, min_coverage: float = 0.75) -> np.ndarray:
        """The 256-d, L2-normed embedding of one speaker's 16 kHz mono float32 audio."""
        audio = _normalize_volume(audio.astype(np.float32), raise_only=self._raise_only)
        wav_slices, mel_slices = _partial_slices(audio.size, rate, min_coverage)
        if wav_slices[-1].stop > audio.size:
            audio = np.pad(audio, (0, wav_slices[-1].stop - audio.size))
        power = power_spectrogram(audio)
        batch = np.stack([power[s] for s in mel_slices])
        with self._lock:  # one inference at a time per encoder; callers run it in a thread
            partials = self._session.run(None, {"power": batch})[0]
        mean = partials.mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)

    def windows(self, audio: np.ndarray, hop_s: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of 1.6 s windows every ``hop_s`` across ``audio`` (one window if it is
        shorter), for finding who speaks when inside an utterance.

        Returns (embeddings (n, 256) L2-normed, window start times in seconds from the audio start)."""
        power = power_spectrogram(_normalize_volume(audio.astype(np.float32), raise_only=self._raise_only))
        hop = max(1, int(round(hop_s * SAMPLE_RATE / _HOP)))
        if power.shape[0] < _PARTIAL:
            power = np.pad(power, ((0, _PARTIAL - power.shape[0]), (0, 0)))
        starts = np.arange(0, power.shape[0] - _PARTIAL + 1, hop)
        batch = np.stack([power[i : i + _PARTIAL] for i in starts])
        with self._lock:
            out = self._session.run(None, {"power": batch})[0]
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out.astype(np.float32), starts * (_HOP / SAMPLE_RATE)


def power_spectrogram(audio: np.ndarray) -> np.ndarray:
    """|STFT|² as librosa computes it (centred, zero-padded): shape (frames, 201)."""
    padded = np.pad(audio, (_N_FFT // 2, _N_FFT // 2))
    n = 1 + (padded.size - _N_FFT) // _HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n, _N_FFT), strides=(padded.strides[0] * _HOP, padded.strides[0])
    )
    spectrum = np.fft.rfft(frames * _WINDOW, axis=1)
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32)


def _partial_slices(n_samples: int, rate: float, min_coverage: float) -> tuple[list[slice], list[slice]]:
    n_frames = int(np.ceil((n_samples + 1) / _HOP))
    step = int(np.round((SAMPLE_RATE / rate) / _HOP))
    wav_slices, mel_slices = [], []
    for i in range(0, max(1, n_frames - _PARTIAL + step + 1), step):
        mel_slices.append(slice(i, i + _PARTIAL))
        wav_slices.append(slice(i * _HOP, (i + _PARTIAL) * _HOP))
    coverage = (n_samples - wav_slices[-1].start) / (wav_slices[-1].stop - wav_slices[-1].start)
    if coverage < min_coverage and len(mel_slices) > 1:
        wav_slices, mel_slices = wav_slices[:-1], mel_slices[:-1]
    return wav_slices, mel_slices


def _normalize_volume(audio: np.ndarray, target_dbfs: float = -30.0, *, raise_only: bool = False) -> np.ndarray:
    """Bring audio to -30 dBFS; ``raise_only``: never lower it, as Resemblyzer's preprocessing does."""
    rms = float(np.sqrt(np.mean(audio**2))) if audio.size else 0.0
    if rms <= 0:
        return audio
    change = target_dbfs - 20 * np.log10(rms)
    return audio * (10 ** (change / 20)) if change > 0 or not raise_only else audio
