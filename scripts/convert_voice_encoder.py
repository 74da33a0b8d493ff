"""Convert Resemblyzer's pretrained voice encoder (Apache-2.0, PyPI `resemblyzer`) to ONNX, so
LiveTranslate runs it with onnxruntime and needs no torch.

The ONNX graph takes the *power spectrogram* of 1.6 s partial utterances, shape (batch, 160,
201) (16 kHz, 25 ms Hann window, 10 ms hop: the STFT is done in numpy), applies Resemblyzer's
40-channel mel filterbank (librosa's, stored in the graph), its 3-layer LSTM and projection,
and returns L2-normed 256-d embeddings. It also writes reference embeddings computed by the
original (torch + librosa) implementation, which the tests compare against.

Reproduce (once; the outputs are committed):

    python3 -m venv /tmp/convvenv
    /tmp/convvenv/bin/pip install torch==2.13.0 numpy onnx librosa
    /tmp/convvenv/bin/pip download --no-deps resemblyzer -d /tmp/rz && (cd /tmp/rz && unzip -o *.whl)
    /tmp/convvenv/bin/python scripts/convert_voice_encoder.py /tmp/rz/resemblyzer/pretrained.pt
"""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import librosa
import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "livetranslate" / "speakers" / "voice_encoder.onnx"
REFERENCE = ROOT / "tests" / "speakers" / "data" / "resemblyzer_reference.npz"
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
CLIPS = ["sense_and_sensibility_01_austen_64kb-0870", "sense_and_sensibility_01_austen_64kb-0880"]


class Encoder(nn.Module):
    def __init__(self, filterbank: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mel_t", torch.from_numpy(filterbank.T.astype(np.float32)))  # (201, 40)
        self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        mels = power @ self.mel_t
        _, (hidden, _) = self.lstm(mels)
        raw = torch.relu(self.linear(hidden[-1]))
        return raw / torch.norm(raw, dim=1, keepdim=True)


def main(weights: str) -> None:
    filterbank = librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)
    model = Encoder(filterbank)
    state = torch.load(weights, map_location="cpu")["model_state"]
    missing = model.load_state_dict({k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}, strict=False)
    assert missing.missing_keys == ["mel_t"] and not missing.unexpected_keys, missing
    model.eval()
    torch.onnx.export(
        model,
        torch.zeros(2, 160, 201),
        str(OUT),
        input_names=["power"],
        output_names=["embedding"],
        dynamic_axes={"power": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")

    # reference: the original pipeline (librosa mel + torch model) on real speech
    sys.path.insert(0, str(Path(weights).parent.parent))
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import normalize_volume

    encoder = VoiceEncoder("cpu", verbose=False, weights_fpath=weights)
    refs = {}
    for name in CLIPS:
        with wave.open(str(LIBRIVOX / f"{name}.wav")) as w:
            wav = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
        refs[name] = encoder.embed_utterance(normalize_volume(wav, -30, increase_only=True))
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(REFERENCE, **refs)
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main(sys.argv[1])
