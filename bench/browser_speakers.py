"""Speakers through the browser (issue 13): one reader through Chromium's microphone processing.

The five LibriVox clips of one reader, joined with 0.9 s gaps, play through Chromium's fake
microphone into the Live page, once per microphone setting (each switch alone, all three,
none) and CPU load (busy loops at normal priority). For each run it reports what the
dashboard showed — every speaker label a final ever had, utterances cut into speaker
turns — and what the server received (the session's stored audio) against the source:

* **glitches**: audio inserted (silence) or dropped, from the lag between source and received
  audio in 0.25 s blocks of speech;
* **level**: spread (sd, dB) of the received level relative to the source, per 0.1 s of speech;
* **windows vs source**: cosine of each 1.6 s voice window (Resemblyzer, as the speakers stage
  embeds it) with the same window of the source: mean / lowest;
* **clips**: the lowest cosine between two clips' mean embeddings (the source: the reader's
  own spread), and clip 1 against the rest (mean).

    .venv/bin/python bench/browser_speakers.py --runs 2      # prints and writes BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import wave
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("LIVETRANSLATE_MODELS_DIR", str(ROOT / "data" / "test-models"))

from stream_bench import machine, write_section  # noqa: E402

from livetranslate.audio import decode_file  # noqa: E402
from livetranslate.speakers import VoiceEncoder  # noqa: E402
from tests.conftest import pcm16, start_server, stop_server  # noqa: E402
from tests.speakers import corpus  # noqa: E402
from tests.web.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.web.test_live_speakers import LABELS_SEEN, busy_cpu  # noqa: E402

SR = 16000
MODES = {"none": (), "echo": ("echo_cancellation",), "gain": ("auto_gain",), "noise": ("noise_suppression",),
         "echo+gain": ("echo_cancellation", "auto_gain"),
         "all (default)": ("echo_cancellation", "noise_suppression", "auto_gain")}
SWITCHES = ("echo_cancellation", "noise_suppression", "auto_gain")


def capture(srv, wav: Path, seconds: float, switches: tuple[str, ...], load: int) -> dict:
    """One run of the Live page; returns what it showed and the audio the server stored."""
    from playwright.sync_api import sync_playwright

    with httpx.Client(base_url=srv.base, timeout=60) as c:
        c.patch("/v1/settings", json={s: s in switches for s in SWITCHES}).raise_for_status()
    with sync_playwright() as p, busy_cpu(load):
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}"])
        page = browser.new_page()
        page.add_init_script(LABELS_SEEN)
        page.goto(srv.base + "/")
        page.click("#start")
        page.wait_for_selector("#links a")
        page.wait_for_timeout(seconds * 1000)
        page.click("#stop")
        page.wait_for_function("() => document.querySelector('#state')?.textContent === 'Session ended'",
                               timeout=120_000)
        seen = page.evaluate("() => [...window.__labels]")
        sid = page.get_attribute("#links a", "href").rsplit("/", 1)[1]
        browser.close()
    with httpx.Client(base_url=srv.base, timeout=60) as c:
        segments = c.get(f"/v1/sessions/{sid}/transcript").json()["segments"]
        audio = c.get(f"/v1/sessions/{sid}/audio").content
    path = Path(tempfile.mkstemp(suffix=".wav")[1])
    path.write_bytes(audio)
    received = decode_file(path)
    path.unlink()
    return {"seen": seen, "segments": segments, "audio": received}


def align(received: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, int]:
    """The received audio shifted onto the source (cross-correlation), and the shift."""
    n = 1 << int(np.ceil(np.log2(received.size + source.size)))
    c = np.fft.irfft(np.fft.rfft(received, n) * np.conj(np.fft.rfft(source, n)), n)
    d = int(np.argmax(c))
    d = d if d < n // 2 else d - n
    y = received[d:] if d >= 0 else np.pad(received, (-d, 0))
    return np.pad(y[: source.size], (0, max(0, source.size - y.size))), d


def glitches(received: np.ndarray, source: np.ndarray, shift: int, block: int = 4000,
             search: int = 8000) -> tuple[float, float]:
    """(ms inserted, ms dropped): how the source→received lag moves across blocks of speech."""
    lags = []
    for i in range(0, source.size - block, block):
        b = source[i : i + block]
        if np.sqrt(np.mean(b**2)) < 0.02:
            continue
        lo = max(0, i + shift - search)
        seg = received[lo : i + shift + block + search]
        if seg.size < block:
            continue
        cc = np.correlate(seg, b, "valid")
        norm = np.sqrt(np.convolve(seg**2, np.ones(block), "valid")) * np.linalg.norm(b) + 1e-9
        k = int(np.argmax(cc / norm))
        if (cc / norm)[k] > 0.8:  # a clear match (processing may blur some blocks)
            lags.append(lo + k - i)
    steps = np.diff(lags) if len(lags) > 1 else np.zeros(0)
    steps = steps[np.abs(steps) > 160]  # beyond 10 ms: not the processing's own jitter
    return float(steps[steps > 0].sum() / SR * 1000), float(-steps[steps < 0].sum() / SR * 1000)


def level_spread(received: np.ndarray, source: np.ndarray, frame: int = 1600) -> float:
    m = source.size // frame
    db = lambda x: 20 * np.log10(np.sqrt((x[: m * frame].reshape(m, frame) ** 2).mean(1)) + 1e-6)  # noqa: E731
    s, r = db(source), db(received)
    speech = s > s.max() - 30
    return float(np.std(r[speech] - s[speech]))


def clip_means(encoder: VoiceEncoder, audio: np.ndarray, turns) -> np.ndarray:
    out = []
    for t in turns:
        e, _ = encoder.windows(audio[int(t.start * SR) : int(t.end * SR)])
        m = e.mean(axis=0)
        out.append(m / np.linalg.norm(m))
    return np.array(out)


def measure(encoder: VoiceEncoder, run: dict, source: np.ndarray, turns) -> dict:
    received, shift = align(run["audio"], source)
    inserted, dropped = glitches(run["audio"], source, shift)
    e0, _ = encoder.windows(source)
    e, _ = encoder.windows(received)
    n = min(len(e), len(e0))
    cos = (e[:n] * e0[:n]).sum(axis=1)
    clips = clip_means(encoder, received, turns)
    sim = clips @ clips.T
    segs = run["segments"]
    return {
        "labels": ", ".join(run["seen"]), "finals": len(segs),
        "cut": sum(1 for s in segs if s["id"][-4] == "-" and s["id"][-3:].isdigit()),
        "lost": max(0, -shift) / SR * 1000, "inserted": inserted, "dropped": dropped,
        "level": level_spread(received, source),
        "cos": (float(cos.mean()), float(cos.min())),
        "clips": (float(sim[np.triu_indices(len(clips), 1)].min()), float(sim[0, 1:].mean())),
    }


def source_row(encoder: VoiceEncoder, source: np.ndarray, turns) -> str:
    clips = clip_means(encoder, source, turns)
    sim = clips @ clips.T
    return (f"| source (the file) | – | – | – | – | – | – | – | 1.000 / 1.00 | "
            f"{sim[np.triu_indices(len(clips), 1)].min():.2f} / {sim[0, 1:].mean():.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="runs per setting and load")
    parser.add_argument("--loads", type=int, nargs="+", default=[0, 2], help="busy loops during a run")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()

    reader = corpus.librivox_reader(gap=0.9)
    source = reader.audio
    encoder = VoiceEncoder()
    rows = [source_row(encoder, source, reader.turns)]
    print(rows[0], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "reader.wav"
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes(pcm16(np.concatenate([source, np.zeros(3 * SR, np.float32)])))
        srv = start_server(Path(tmp))
        try:
            for mode in args.modes:
                for load in args.loads:
                    for _ in range(args.runs):
                        run = capture(srv, wav, source.size / SR + 0.5, MODES[mode], load)
                        m = measure(encoder, run, source, reader.turns)
                        rows.append(
                            f"| {mode} | {load} | {m['labels']} | {m['finals']} | {m['cut']} | "
                            f"{m['lost']:.0f} | {m['inserted']:.0f} / {m['dropped']:.0f} | {m['level']:.1f} | "
                            f"{m['cos'][0]:.3f} / {m['cos'][1]:.2f} | {m['clips'][0]:.2f} / {m['clips'][1]:.2f} |")
                        print(rows[-1], flush=True)
        finally:
            stop_server(srv)
    report = "\n".join([
        "## Speakers through the browser (issue 13)",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/browser_speakers.py --runs {args.runs}`"
        f" ({time.strftime('%Y-%m-%d')}). One LibriVox reader (five clips, 0.9 s gaps) through Chromium's fake"
        " microphone into the Live page; *load*: busy loops at normal priority beside the browser and server.",
        "*labels*: every speaker label a final ever showed (before later corrections); *cut*: finals that are a"
        " speaker turn of a longer utterance; *lost at start*: speech missing before the capture began;"
        " *glitches*: ms of audio inserted / dropped by the capture; *level sd*: dB spread of the received level"
        " against the source over speech; *windows vs source*:"
        " cosine of each 1.6 s voice window with the source's, mean / lowest; *clips*: lowest cosine between two"
        " clips' voices / clip 1 against the others (mean).",
        "",
        "| microphone processing | load | labels shown | finals | cut | lost at start ms | glitches ms (in / out) |"
        " level sd dB | windows vs source | clips (lowest / clip 1) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ])
    print(report)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", "## Speakers through the browser (issue 13)", report)


if __name__ == "__main__":
    main()
