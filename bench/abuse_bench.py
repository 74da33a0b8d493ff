"""What a dropped, frozen or killed client or server costs: the figures of issue 15.

    .venv/bin/python bench/abuse_bench.py [--drops 10] [--kills 6] [--write]

* **Re-attach**: a client streams speech, its connection vanishes (no close, no stop), and it
  connects again at once: seconds until its new socket is `ready`.
* **Takeover**: the old connection froze instead (TCP open, nothing sent): seconds until the
  new socket is `ready`.
* **SIGKILL**: the server is killed at a random point while speech arrives, then restarted:
  speech (Silero VAD on what was sent) that no stored final covers afterwards, and how far the
  session's audio is from what was sent.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import LIBRIVOX, ROOT, _librivox  # noqa: E402
from stream_bench import machine, start_server, write_section  # noqa: E402

from livetranslate.audio import to_pcm16  # noqa: E402

HEADING = "## Dropped, frozen and killed: what it costs"
START = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}
GIVE_UP_S = 30.0  # a socket still refused after this long counts as never (inf)


def _connect(base: str, sid: str):
    from websockets.sync.client import connect

    ws = connect(f"{base.replace('http', 'ws')}/v1/sessions/{sid}/audio", max_size=None)
    ws.send(json.dumps(START))
    assert json.loads(ws.recv(timeout=60))["type"] == "ready"
    return ws


def _send(ws, pcm: bytes, pace: float) -> None:
    for i in range(0, len(pcm), 3200):
        ws.send(pcm[i : i + 3200])
        time.sleep(pace)


def _ready_after(base: str, sid: str) -> tuple[float, int]:
    """Seconds until a new socket is ready (a refused one is tried again at once), and the tries."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    started, tries = time.monotonic(), 0
    while True:
        if time.monotonic() - started > GIVE_UP_S:
            return float("inf"), tries
        tries += 1
        ws = connect(f"{base.replace('http', 'ws')}/v1/sessions/{sid}/audio", max_size=None)
        ws.send(json.dumps(START))
        try:
            if json.loads(ws.recv(timeout=60))["type"] == "ready":
                break
        except ConnectionClosed:
            pass
        ws.close()
    took = time.monotonic() - started
    ws.send(json.dumps({"type": "stop"}))
    for _ in ws:
        pass
    return took, tries


def reattach(base: str, pcm: bytes, n: int, frozen: bool) -> list[tuple[float, int]]:
    import httpx

    out = []
    for _ in range(n):
        sid = httpx.post(base + "/v1/sessions", json={"title": "abuse"}).json()["id"]
        ws = _connect(base, sid)
        _send(ws, pcm[: 3 * 32000], 0.1)  # 3 s at real time
        if not frozen:
            ws.socket.shutdown(socket.SHUT_RDWR)
            ws.socket.close()
        out.append(_ready_after(base, sid))
        if frozen:
            ws.socket.close()
    return out


def _uncovered(audio: np.ndarray, segments: list[dict]) -> float:
    """Seconds of speech (Silero VAD) that no final covers (±0.2 s)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    lost = 0.0
    for ts in get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300)):
        for t in np.arange(ts["start"], ts["end"], 160) / 16000:  # 10 ms steps
            if not any(s["start"] - 0.2 <= t <= s["end"] + 0.2 for s in segments):
                lost += 0.01
    return lost


def kills(n: int, seed: int = 0) -> list[dict]:
    import httpx

    clips = [a for a, _ in _librivox()]
    speech = np.concatenate([x for c in clips for x in (c, np.zeros(8000, np.float32))])
    rng = random.Random(seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(n):
            proc, base = start_server(Path(tmp))
            sid = httpx.post(base + "/v1/sessions", json={"title": f"kill {k}"}).json()["id"]
            cut = rng.uniform(4.0, speech.size / 16000 - 1.0)  # seconds sent before the kill
            sent = speech[: int(cut * 16000)]
            ws = _connect(base, sid)
            _send(ws, to_pcm16(sent), 0.05)  # 2x real time
            time.sleep(rng.uniform(0.05, 1.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            ws.socket.close()
            proc, base = start_server(Path(tmp))
            try:
                row = httpx.get(f"{base}/v1/sessions/{sid}").json()
                segments = httpx.get(f"{base}/v1/sessions/{sid}/transcript").json()["segments"]
            finally:
                proc.terminate()
                proc.wait(30)
            rows.append({"sent_s": round(sent.size / 16000, 2), "lost_speech_s": round(_uncovered(sent, segments), 2),
                         "audio_gap_ms": round(1000 * (sent.size / 16000 - row["audio_seconds"]), 1)})
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drops", type=int, default=10)
    ap.add_argument("--kills", type=int, default=6)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    pcm = to_pcm16(np.concatenate([a for a, _ in _librivox()]))
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(Path(tmp))
        try:
            dropped_runs = reattach(base, pcm, args.drops, frozen=False)
            print("re-attach after a drop (s, tries)", dropped_runs, flush=True)
            frozen_runs = reattach(base, pcm, max(3, args.drops // 3), frozen=True)
            print("takeover of a frozen client (s, tries)", frozen_runs, flush=True)
        finally:
            proc.terminate()
            proc.wait(30)
    dropped, frozen = [t for t, _ in dropped_runs], [t for t, _ in frozen_runs]
    first_try = sum(tries == 1 for _, tries in dropped_runs)
    killed = kills(args.kills)
    lost = [r["lost_speech_s"] for r in killed]
    gaps = [abs(r["audio_gap_ms"]) for r in killed]
    lines = [
        "| what | median | worst | runs | target |", "|---|---|---|---|---|",
        f"| re-attach after a drop: until `ready` ({first_try}/{len(dropped)} on the first try) | {statistics.median(dropped):.3f} s | {max(dropped):.3f} s | {len(dropped)} | ≤ 0.5 s, first try |",
        f"| takeover of a frozen client: until `ready` | {statistics.median(frozen):.2f} s | {max(frozen):.2f} s | {len(frozen)} | ≤ 10 s |",
        f"| SIGKILL: speech no final covers | {statistics.median(lost):.2f} s | {max(lost):.2f} s | {len(lost)} | ≤ 0.5 s |",
        f"| SIGKILL: session audio vs what was sent | {statistics.median(gaps):.1f} ms | {max(gaps):.1f} ms | {len(gaps)} | ≤ 20 ms |",
    ]
    print("\n".join(lines))
    if args.write:
        command = "python bench/abuse_bench.py " + " ".join(a for a in sys.argv[1:] if a != "--write")
        write_section(ROOT / "BENCHMARKS.md", HEADING, f"{HEADING}\n\nCommand: `{command.strip()}`  \nMachine: {machine()}  \n"
                      f"Speech: the {len(_librivox())} LibriVox recordings ({LIBRIVOX}).\n\n" + "\n".join(lines) + "\n\n"
                      "SIGKILL runs: " + "; ".join(f"{r['sent_s']} s sent, {r['lost_speech_s']} s lost, "
                                                  f"{r['audio_gap_ms']} ms short" for r in killed) + ".\n")


if __name__ == "__main__":
    main()
