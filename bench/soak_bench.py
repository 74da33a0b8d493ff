"""Soak: live sessions streaming real speech at real time for an hour — does the server's
memory stay flat and its caption latency stay where it started?

    .venv/bin/python bench/soak_bench.py                          # 60 min, 4 streams
    .venv/bin/python bench/soak_bench.py --minutes 15 --tracemalloc   # where the memory goes
    .venv/bin/python bench/soak_bench.py --write BENCHMARKS.md

Each stream is one session for the whole run (a long meeting): its shard of the large corpus
(real recordings and synthetic voices) played in a loop at real-time pace, every event read.
The server runs under bench/soak_probe.py, which logs from inside the process the RSS and
glibc's heap (in use vs freed-but-kept) and, with --tracemalloc, Python's own allocations.

Reported: RSS slope after the warm-up (least squares, MB/min) and the heap's in-use slope
beside it, OS threads at start and end, RSS idle after the sessions ended, final-caption
latency (p50 of the first and of the last 5 minutes, p95 and worst over the run), and with
--tracemalloc the call sites whose Python memory grew most between the first snapshot after
the warm-up and the last.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import Corpus, build_corpus, build_large_corpus  # noqa: E402
import stream_bench  # noqa: E402
from stream_bench import machine, write_section  # noqa: E402

CHUNK_S = 0.1
HEADING = "## Soak"


def start_server(data_dir: Path, probe_dir: Path, trace: bool) -> tuple[subprocess.Popen, str]:
    """The server under bench/soak_probe.py."""
    cmd = [sys.executable, str(HERE / "soak_probe.py"), str(probe_dir), *(["--tracemalloc"] if trace else [])]
    return stream_bench.start_server(data_dir, cmd=cmd, log=probe_dir / "server.log")


async def stream(base: str, http, corpus: Corpus, seconds: float, delay: float) -> dict:
    """One session: ``corpus`` looped at real-time pace for ``seconds``; every final's arrival."""
    import websockets

    await asyncio.sleep(delay)
    sid = (await http.post("/v1/sessions", json={"title": "soak"})).json()["id"]
    pcm, step = corpus.pcm, int(CHUNK_S * 16000) * 2
    loop_s = len(pcm) / 32000
    finals, errors = [], []
    async with websockets.connect(f"{base.replace('http', 'ws')}/v1/sessions/{sid}/audio", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
        t0 = time.monotonic()

        async def sender():
            k = 0
            while (k + 1) * CHUNK_S <= seconds:
                await asyncio.sleep(max(0.0, t0 + (k + 1) * CHUNK_S - time.monotonic()))
                i = (k * step) % len(pcm)
                await ws.send(pcm[i : i + step])
                k += 1
            await ws.send(json.dumps({"type": "stop"}))

        task = asyncio.create_task(sender())
        async for raw in ws:
            msg = json.loads(raw)
            if msg["type"] == "error":
                errors.append(msg["message"])
            elif msg["type"] == "segment" and msg["status"] == "final" and msg["text"]:
                finals.append((time.monotonic() - t0, msg["start"], msg["end"]))
        await task
    return {"id": sid, "latency": _latencies(corpus, loop_s, seconds, finals), "finals": len(finals), "errors": errors}


def _latencies(corpus: Corpus, loop_s: float, seconds: float, finals: list) -> list[tuple[float, float | None]]:
    """(speech end, latency) for every utterance sent: the first final covering its end of
    speech (within 0.5 s), counted from that end; None when no final covered it."""
    finals = sorted(finals, key=lambda f: f[2])
    ends = [f[2] for f in finals]
    out = []
    for k in range(int(seconds // loop_s) + 1):
        for utt in corpus.utts:
            end = k * loop_s + utt.end
            if end > seconds - 1:
                break
            lo = bisect.bisect_left(ends, end - 0.5)
            times = []
            for t, start, e in finals[lo:]:
                if e > end + 30:  # no segment is longer than 30 s
                    break
                if start - 0.5 <= end <= e + 0.5:
                    times.append(t)
            out.append((end, min(times) - end if times else None))
    return out


async def sample(proc, samples: list, stop: asyncio.Event) -> None:
    import psutil

    p, t0 = psutil.Process(proc.pid), time.monotonic()
    while not stop.is_set():
        with p.oneshot():
            samples.append({"t": time.monotonic() - t0, "wall": time.time(), "rss": p.memory_info().rss, "threads": p.num_threads(),
                            "fds": p.num_fds(), "cpu": sum(p.cpu_times()[:2])})
        try:
            await asyncio.wait_for(stop.wait(), 10)
        except asyncio.TimeoutError:
            pass


async def run(base: str, proc, corpora: list[Corpus], seconds: float) -> tuple[list[dict], list[dict], float]:
    import httpx

    samples, stop = [], asyncio.Event()
    sampler = asyncio.create_task(sample(proc, samples, stop))
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        results = await asyncio.gather(*(stream(base, http, c, seconds, i * 1.3) for i, c in enumerate(corpora)))
    await asyncio.sleep(30)  # idle: what the server gives back once the sessions ended
    import psutil

    idle = psutil.Process(proc.pid).memory_info().rss
    stop.set()
    await sampler
    return results, samples, idle


def slope(ts: list[float], ys: list[float]) -> float:
    """Least-squares slope of ``ys`` (bytes) over ``ts`` (s), in MB per minute."""
    if len(ts) < 3:
        return float("nan")
    return float(np.polyfit(np.asarray(ts) / 60, np.asarray(ys) / 2**20, 1)[0])


def summarize(results: list[dict], samples: list[dict], probe: list[dict], idle: float, warmup: float,
              seconds: float) -> dict:
    lat = [(e, v) for r in results for e, v in r["latency"]]
    got = [v for _, v in lat if v is not None]
    first = [v for e, v in lat if v is not None and e < 300]
    last = [v for e, v in lat if v is not None and e >= seconds - 300]
    after = [s for s in samples if s["t"] >= warmup]
    warm_wall = samples[0]["wall"] + warmup  # the probe's clock started with the server, before the streams
    probe = [r | {"t": r["wall"] - samples[0]["wall"]} for r in probe if r["wall"] >= warm_wall]
    heap = [r for r in probe if "heap_in_use" in r]
    mb = lambda b: round(b / 2**20, 1)  # noqa: E731
    cpu_s = samples[-1]["cpu"] - samples[0]["cpu"]
    out = {
        "streams": len(results), "minutes": round(seconds / 60, 1), "utterances": len(lat),
        "missed": len(lat) - len(got), "errors": sum(len(r["errors"]) for r in results),
        "p50_first5": float(np.median(first)), "p50_last5": float(np.median(last)),
        "p95": float(np.percentile(got, 95)), "worst": max(got),
        "rss_start_mb": mb(samples[0]["rss"]), "rss_warm_mb": mb(after[0]["rss"]),
        "rss_end_mb": mb(samples[-1]["rss"]), "rss_max_mb": mb(max(s["rss"] for s in samples)),
        "rss_idle_mb": mb(idle), "rss_slope_mb_min": slope([s["t"] for s in after], [s["rss"] for s in after]),
        "threads_start": samples[0]["threads"], "threads_warm": after[0]["threads"], "threads_end": samples[-1]["threads"],
        "threads_max": max(s["threads"] for s in samples), "fds_start": samples[0]["fds"], "fds_end": samples[-1]["fds"],
        "cpu_per_audio_s": cpu_s / (seconds * len(results)),
    }
    if heap:
        out |= {"heap_in_use_slope_mb_min": slope([r["t"] for r in heap], [r["heap_in_use"] for r in heap]),
                "heap_free_slope_mb_min": slope([r["t"] for r in heap], [r["heap_free"] for r in heap]),
                "heap_in_use_mb": [mb(heap[0]["heap_in_use"]), mb(heap[-1]["heap_in_use"])],
                "heap_free_mb": [mb(heap[0]["heap_free"]), mb(heap[-1]["heap_free"])],
                "mmapped_mb": [mb(heap[0]["mmapped"]), mb(heap[-1]["mmapped"])]}
    traced = [r for r in probe if "python_traced" in r]
    if traced:
        out["python_traced_mb"] = [mb(traced[0]["python_traced"]), mb(traced[-1]["python_traced"])]
        out["python_traced_slope_mb_min"] = slope([r["t"] for r in traced], [r["python_traced"] for r in traced])
    return out


def growth(probe_dir: Path, after_wall: float, top: int = 15) -> list[str]:
    """The call sites whose traced Python memory grew most from the first snapshot after the
    warm-up to the last."""
    import tracemalloc

    snaps = sorted(probe_dir.glob("snapshot-*.pickle"))
    later = [s for s in snaps if s.stat().st_mtime >= after_wall]
    if len(later) < 2:
        return []
    a, b = tracemalloc.Snapshot.load(str(later[0])), tracemalloc.Snapshot.load(str(later[-1]))
    filters = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
    stats = b.filter_traces(filters).compare_to(a.filter_traces(filters), "traceback")
    lines = [f"from {later[0].stem} to {later[-1].stem}:"]
    for st in stats[:top]:
        frames = [f"{Path(f.filename).name}:{f.lineno}" for f in st.traceback if "site-packages/" not in f.filename
                  or "livetranslate" in f.filename][-4:] or [str(st.traceback[-1])]
        lines.append(f"{st.size_diff / 2**20:+8.2f} MB {st.count_diff:+7d} blocks  " + " < ".join(reversed(frames)))
    return lines


def report(s: dict, command: str, notes: list[str]) -> str:
    f = lambda v: f"{v:.2f}"  # noqa: E731
    lines = [
        HEADING, "",
        f"`{command}` — {s['streams']} sessions, each streaming {s['corpus']} in a loop at real-time "
        f"pace for {s['minutes']:g} min, every event read. Machine: {machine()}.", "",
        "| | |", "|---|---|",
        f"| RSS slope after the warm-up | **{s['rss_slope_mb_min']:+.2f} MB/min** |",
        f"| RSS start → warm → end (max) | {s['rss_start_mb']} → {s['rss_warm_mb']} → {s['rss_end_mb']} MB ({s['rss_max_mb']}) |",
        f"| RSS idle 30 s after the sessions ended | {s['rss_idle_mb']} MB |",
    ]
    if "heap_in_use_slope_mb_min" in s:
        lines += [f"| glibc heap in use, slope | {s['heap_in_use_slope_mb_min']:+.2f} MB/min "
                  f"({s['heap_in_use_mb'][0]} → {s['heap_in_use_mb'][1]} MB) |",
                  f"| glibc heap freed but kept, slope | {s['heap_free_slope_mb_min']:+.2f} MB/min "
                  f"({s['heap_free_mb'][0]} → {s['heap_free_mb'][1]} MB) |"]
    if "python_traced_slope_mb_min" in s:
        lines.append(f"| Python allocations (tracemalloc), slope | {s['python_traced_slope_mb_min']:+.2f} MB/min "
                     f"({s['python_traced_mb'][0]} → {s['python_traced_mb'][1]} MB) |")
    lines += [
        f"| OS threads start → warm → end (max) | {s['threads_start']} → {s['threads_warm']} → {s['threads_end']} ({s['threads_max']}) |",
        f"| open files start → end | {s['fds_start']} → {s['fds_end']} |",
        f"| final latency p50, first 5 min → last 5 min | **{f(s['p50_first5'])} → {f(s['p50_last5'])} s** "
        f"({(s['p50_last5'] / s['p50_first5'] - 1) * 100:+.0f} %) |",
        f"| final latency p95 / worst, whole run | **{f(s['p95'])}** / {f(s['worst'])} s |",
        f"| utterances sent / without a final / error events | {s['utterances']} / {s['missed']} / {s['errors']} |",
        f"| server CPU per audio second | {s['cpu_per_audio_s']:.3f} |",
    ]
    return "\n".join(lines + [""] + notes) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--streams", type=int, default=4)
    ap.add_argument("--warmup", type=float, default=5, help="minutes left out of the slopes")
    ap.add_argument("--corpus", choices=["large", "short"], default="large")
    ap.add_argument("--tracemalloc", action="store_true", help="trace Python's allocations (slows the server)")
    ap.add_argument("--keep", type=Path, help="keep the probe's log and snapshots here")
    ap.add_argument("--write", type=Path, help="write the section into this markdown file")
    args = ap.parse_args()
    corpora = build_large_corpus(args.streams) if args.corpus == "large" else [build_corpus(False)] * args.streams
    seconds, warmup = args.minutes * 60, args.warmup * 60
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        probe_dir = args.keep or Path(tmp) / "probe"
        probe_dir.mkdir(parents=True, exist_ok=True)
        proc, base = start_server(Path(tmp) / "data", probe_dir, args.tracemalloc)
        try:
            results, samples, idle = asyncio.run(run(base, proc, corpora, seconds))
        finally:
            proc.terminate()
            proc.wait(60)
        probe = [json.loads(line) for line in (probe_dir / "probe.jsonl").read_text().splitlines()]
        summary = summarize(results, samples, probe, idle, warmup, seconds)
        summary["corpus"] = "its shard of the large corpus" if args.corpus == "large" else "the short corpus"
        notes = growth(probe_dir, samples[0]["wall"] + warmup) if args.tracemalloc else []
        (probe_dir / "samples.json").write_text(json.dumps({"summary": summary, "samples": samples}, indent=1))
    print(json.dumps(summary, indent=1))
    print("\n".join(notes))
    command = "python bench/soak_bench.py " + " ".join(sys.argv[1:])
    text = report(summary, command.strip(), ["```", *notes, "```"] if notes else [])
    print(text)
    if args.write:
        write_section(args.write, HEADING, text)


if __name__ == "__main__":
    main()
