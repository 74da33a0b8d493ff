"""Memory per live session: the server's RSS with the model loaded, then with K live sessions.

    .venv/bin/python bench/memory_bench.py --sessions 40

Each session streams real-time audio on its own audio socket — silence by default (the
session's own cost), or with --speech a LibriVox recording first (then the decodes' batch
buffers count too); RSS is read while all of them are live, and again after they stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import LIBRIVOX  # noqa: E402
from stream_bench import start_server  # noqa: E402

from livetranslate.audio import decode_file, to_pcm16  # noqa: E402


async def live_session(base: str, http, pcm: bytes, seconds: float, live: asyncio.Event, ready: list) -> None:
    import websockets

    sid = (await http.post("/v1/sessions", json={"title": "memory"})).json()["id"]
    async with websockets.connect(f"{base.replace('http', 'ws')}/v1/sessions/{sid}/audio", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
        await ws.recv()
        ready.append(sid)
        t0 = time.monotonic()
        step = 3200
        k = 0
        while time.monotonic() - t0 < seconds:
            chunk = pcm[k * step : (k + 1) * step] or b"\0" * step
            await ws.send(chunk)
            k += 1
            await asyncio.sleep(max(0.0, t0 + k * 0.1 - time.monotonic()))
        await live.wait()
        await ws.send(json.dumps({"type": "stop"}))
        async for _ in ws:
            pass


async def measure(base: str, pid: int, sessions: int, seconds: float, speech: bool) -> dict:
    import httpx
    import psutil

    proc = psutil.Process(pid)
    pcm = to_pcm16(decode_file(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0870.wav"))
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        # one session first, so the first decodes' buffers are counted in the baseline
        warm, ready = asyncio.Event(), []
        warm.set()
        await live_session(base, http, pcm, 8, warm, ready)
        baseline = proc.memory_info().rss
        live, ready = asyncio.Event(), []
        audio = pcm if speech else b""
        tasks = [asyncio.create_task(live_session(base, http, audio, seconds, live, ready)) for _ in range(sessions)]
        while len(ready) < sessions:
            await asyncio.sleep(0.1)
        await asyncio.sleep(seconds)
        during = proc.memory_info().rss
        live.set()
        await asyncio.gather(*tasks)
        after = proc.memory_info().rss
    return {
        "sessions": sessions,
        "speech": speech,
        "rss_model_loaded_mb": round(baseline / 2**20, 1),
        "rss_live_mb": round(during / 2**20, 1),
        "per_session_mb": round((during - baseline) / sessions / 2**20, 2),
        "rss_after_mb": round(after / 2**20, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=12.0, help="how long every session is live before reading RSS")
    ap.add_argument("--speech", action="store_true", help="every session speaks a 7 s recording first")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as data_dir:
        proc, base = start_server(Path(data_dir))
        try:
            print(json.dumps(asyncio.run(measure(base, proc.pid, args.sessions, args.seconds, args.speech))))
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
