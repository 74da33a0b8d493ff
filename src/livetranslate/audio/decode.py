"""Decode and resample: any accepted input → 16 kHz mono float32 (PyAV does the work).

Raw PCM is converted directly; containers and codecs (wav, webm/opus, ogg/opus, mp3, ...)
are demuxed by PyAV in a thread of their own that reads from a blocking pipe, so a stream
can be decoded while its bytes still arrive.
"""

from __future__ import annotations

import io
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import av
import numpy as np

from livetranslate.errors import UnsupportedMedia

SAMPLE_RATE = 16_000
HEADER_LIMIT = 256 * 1024  # a stream whose container does not open within this many bytes is not that format
# FFmpeg probes 5 MB / 5 s of a stream by default before it returns: far too late for live
# audio (and past HEADER_LIMIT). The headers of audio containers say all we need.
_LIVE_PROBE = {"probesize": "32768", "analyzeduration": "0"}

# our format name → FFmpeg demuxer name (None: let FFmpeg probe)
_DEMUXERS: dict[str, str | None] = {
    "wav": "wav",
    "webm": "matroska",
    "ogg": "ogg",
    "mp3": "mp3",
    "mp4": "mov",
    "flac": "flac",
    "auto": None,
}


@dataclass(frozen=True)
class StreamInput:
    """What a client's audio is: its own rate and channels, before the resampling to 16 kHz mono."""

    sample_rate: int
    channels: int


class Decoder(Protocol):
    input: StreamInput | None
    """Raw PCM: as announced; a container: None until its header has been read."""

    def feed(self, data: bytes) -> np.ndarray:
        """Take more input bytes; return the audio decoded so far (may be empty)."""

    def finish(self) -> np.ndarray:
        """No more input: return what is left. May block (call it from a thread)."""

    def close(self) -> None:
        """Give up on the stream (what is left is not wanted): frees what it holds, never blocks."""


class Resampler:
    """PyAV's resampler to 16 kHz mono float, fed with frames."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)

    def __call__(self, frame: av.AudioFrame | None) -> np.ndarray:
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(out).astype(np.float32, copy=False) if out else _EMPTY


_EMPTY = np.zeros(0, dtype=np.float32)


class PcmDecoder:
    """Raw interleaved PCM (``pcm_s16le`` or ``pcm_f32le``) at any rate and channel count."""

    def __init__(self, fmt: str, sample_rate: int, channels: int) -> None:
        self._dtype = np.dtype("<i2") if fmt == "pcm_s16le" else np.dtype("<f4")
        self._frame_bytes = self._dtype.itemsize * channels
        self._channels = channels
        self._rate = sample_rate
        self.input: StreamInput | None = StreamInput(sample_rate, channels)
        self._rest = b""
        self._resample = Resampler() if sample_rate != SAMPLE_RATE else None

    def feed(self, data: bytes) -> np.ndarray:
        data = self._rest + data
        usable = len(data) - len(data) % self._frame_bytes
        self._rest = data[usable:]
        if not usable:
            return _EMPTY
        samples = np.frombuffer(data[:usable], dtype=self._dtype).reshape(-1, self._channels)
        mono = samples.astype(np.float32).mean(axis=1)
        if self._dtype.kind == "i":
            mono /= 32768.0
        if not np.all(np.isfinite(mono)):
            raise UnsupportedMedia("pcm_f32le audio contains NaN or infinite samples")
        if self._resample is None:
            return mono
        frame = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = self._rate
        return self._resample(frame)

    def finish(self) -> np.ndarray:
        self._rest = b""
        return self._resample(None) if self._resample else _EMPTY

    def close(self) -> None:
        self._rest = b""


class _Pipe(io.RawIOBase):
    """A blocking byte pipe: the socket side writes, the PyAV thread reads.

    Until ``opened`` is set it reads at most ``HEADER_LIMIT`` bytes, then reports EOF, so a
    stream that is not of the announced format fails instead of being searched forever."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self.consumed = 0
        self.opened = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def put(self, data: bytes) -> None:
        with self._cond:
            self._buf += data
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def wait_drained(self, timeout: float) -> None:
        """Wait until the reader has taken everything (it then waits for more) or stopped."""
        with self._cond:
            self._cond.wait_for(lambda: not self._buf or self._eof, timeout)

    def readinto(self, b) -> int:  # type: ignore[override]
        with self._cond:
            while not self._buf and not self._eof:
                self._cond.wait()
            if not self.opened and self.consumed >= HEADER_LIMIT:
                return 0
            n = min(len(b), len(self._buf))
            b[:n] = self._buf[:n]
            del self._buf[:n]
            self.consumed += n
            self._cond.notify_all()
            return n


class ContainerDecoder:
    """A container or codec stream decoded by PyAV as it arrives."""

    def __init__(self, fmt: str) -> None:
        if fmt not in _DEMUXERS:
            raise UnsupportedMedia(f"unknown format {fmt!r}; supported: {', '.join(_DEMUXERS)}")
        self._fmt = fmt
        self.input: StreamInput | None = None
        self._pipe = _Pipe()
        self._out: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self._error: UnsupportedMedia | None = None
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        resample = Resampler()
        try:
            with av.open(self._pipe, mode="r", format=_DEMUXERS[self._fmt], options=_LIVE_PROBE) as container:
                self._pipe.opened = True
                if not container.streams.audio:
                    raise UnsupportedMedia(f"the {self._fmt} stream has no audio track")
                stream = container.streams.audio[0]
                self.input = StreamInput(stream.rate, stream.channels)
                decoded = 0
                for frame in container.decode(audio=0):
                    decoded += 1
                    self._out.put(resample(frame))
                if not decoded and self._pipe.consumed:  # e.g. random bytes the demuxer took for a stream
                    raise UnsupportedMedia(f"no {self._fmt} audio in the {self._pipe.consumed} bytes received")
                self._out.put(resample(None))
        except UnsupportedMedia as e:
            self._error = e
        except (av.FFmpegError, ValueError, UnicodeDecodeError) as e:
            where = "" if self._pipe.opened else f" (no {self._fmt} header in the first {self._pipe.consumed} bytes)"
            self._error = UnsupportedMedia(f"cannot decode the audio as {self._fmt}{where}: {e}")
        finally:
            self._pipe.end()

    def _drain(self) -> np.ndarray:
        chunks = []
        while True:
            try:
                chunks.append(self._out.get_nowait())
            except queue.Empty:
                break
        if self._error is not None and not chunks:
            raise self._error
        return np.concatenate(chunks) if chunks else _EMPTY

    def feed(self, data: bytes) -> np.ndarray:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"decode-{self._fmt}", daemon=True)
            self._thread.start()
        self._pipe.put(data)
        if not self._pipe.opened:
            # until the header is found, let the demuxer look at each piece: a stream of the
            # wrong format then fails on the frame that proves it
            self._pipe.wait_drained(timeout=2.0)
            if self._thread is not None:
                self._thread.join(timeout=0.05 if self._error is None and not self._pipe.opened else 0)
        return self._drain()

    def finish(self) -> np.ndarray:
        self._pipe.end()
        if self._thread is not None:
            self._thread.join()
        return self._drain()

    def close(self) -> None:
        self._pipe.end()  # the demuxer thread reads the end of the stream and returns


def make_decoder(fmt: str, sample_rate: int | None, channels: int) -> Decoder:
    if fmt in ("pcm_s16le", "pcm_f32le"):
        if not sample_rate:
            raise UnsupportedMedia(f"format {fmt!r} needs sample_rate")
        return PcmDecoder(fmt, sample_rate, channels)
    return ContainerDecoder(fmt)


def decode_file(source: str | Path | BinaryIO, *, timeout: float = 30.0) -> np.ndarray:
    """Decode a whole file (any container PyAV knows; a path, a file object, or a URL) to 16 kHz
    mono float32. ``timeout``: for a URL, the longest wait for it to answer and to send more."""
    url = isinstance(source, str) and "://" in source
    if not url and _size(source) == 0:
        raise UnsupportedMedia("the file is empty (0 bytes)")
    resample = Resampler()
    chunks: list[np.ndarray] = []
    try:
        with av.open(source if not isinstance(source, Path) else str(source), mode="r",
                     timeout=timeout if url else None) as container:
            if not container.streams.audio:
                raise UnsupportedMedia("the file has no audio track")
            for frame in container.decode(audio=0):
                chunks.append(resample(frame))
            chunks.append(resample(None))
    except UnsupportedMedia:
        raise
    except av.FFmpegError as e:  # FFmpeg's own words, without its errno and the '<none>' file name
        why = (e.strerror or "unknown error").rstrip(".").lower()
        raise UnsupportedMedia(f"the file is not audio or video in a format that can be decoded ({why})") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise UnsupportedMedia(f"the file is not audio or video in a format that can be decoded ({e})") from e
    return np.concatenate(chunks) if chunks else _EMPTY


def _size(source: str | Path | BinaryIO) -> int | None:
    """Bytes in a file or a seekable stream (None when it cannot tell)."""
    if isinstance(source, (str, Path)):
        return Path(source).stat().st_size
    try:
        here = source.tell()
        size = source.seek(0, 2)
        source.seek(here)
        return size - here
    except (AttributeError, OSError, ValueError):
        return None


def to_pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
