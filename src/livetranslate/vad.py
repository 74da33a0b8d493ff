"""Voice activity detection: Silero VAD v6 (the ONNX file faster-whisper ships), streamed.

One :class:`SileroVad` (the ONNX session) is shared by the process; each audio stream has a
:class:`VadStream` holding its recurrent state, so 32 ms windows are scored as they arrive.
"""

from __future__ import annotations

import os
import threading

import numpy as np

WINDOW = 512  # samples at 16 kHz = 32 ms
_CONTEXT = 64


class SileroVad:
    def __init__(self, path: str | None = None) -> None:
        import onnxruntime
        from faster_whisper.utils import get_assets_path

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            path or os.path.join(get_assets_path(), "silero_vad_v6.onnx"),
            providers=["CPUExecutionProvider"],
            sess_options=opts,
        )
        self._lock = threading.Lock()

    def stream(self) -> "VadStream":
        return VadStream(self)

    def _run(self, windows: np.ndarray, h: np.ndarray, c: np.ndarray):
        with self._lock:  # one ONNX run at a time: it is tiny, and this keeps threads predictable
            return self._session.run(None, {"input": windows, "h": h, "c": c})


class VadStream:
    """Speech probability per 32 ms window of one stream; keeps the leftover samples."""

    def __init__(self, model: SileroVad) -> None:
        self._model = model
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._rest = np.zeros(0, dtype=np.float32)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """Return one probability per complete window now available."""
        audio = np.concatenate([self._rest, audio]) if self._rest.size else audio
        n = audio.size // WINDOW
        self._rest = audio[n * WINDOW :].copy()
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        windows = audio[: n * WINDOW].reshape(n, WINDOW)
        contexts = np.concatenate([self._context[None, :], windows[:-1, -_CONTEXT:]], axis=0)
        self._context = windows[-1, -_CONTEXT:].copy()
        batch = np.ascontiguousarray(np.concatenate([contexts, windows], axis=1), dtype=np.float32)
        probs, self._h, self._c = self._model._run(batch, self._h, self._c)
        return np.asarray(probs, dtype=np.float32).reshape(-1)
