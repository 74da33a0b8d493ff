"""Streaming benchmark: real speech at real-time pace through the WebSocket contract.

For each number of concurrent streams it reports final-caption latency after the end of
speech (p50/p95), draft latency (p50), word error rate of the streamed transcript against
the reference and against the same model transcribing the files offline, the server's
real-time factor (CPU seconds per audio second) and its resident memory.

    .venv/bin/python bench/stream_bench.py                 # N = 1, 2, 4
    .venv/bin/python bench/stream_bench.py --streams 1 8   # chosen N
    .venv/bin/python bench/stream_bench.py --quick         # CI-sized (~1 min), prints only
    .venv/bin/python bench/stream_bench.py --write BENCHMARKS.md
    .venv/bin/python bench/stream_bench.py --peer          # side by side with WhisperLive
    .venv/bin/python bench/stream_bench.py --corpus long   # ~2 min continuous speech at 48 kHz
    .venv/bin/python bench/stream_bench.py --corpus large --streams 8 --repeat 3
                                              # 258 utterances over 8 streams, run-to-run spread
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from corpus import PARAGRAPHS, Corpus, build_corpus, build_large_corpus, build_long_corpus, jiwer_wer  # noqa: E402

PEER_VENV = ROOT / "bench" / ".venv-whisperlive"
WHISPERLIVE_MODEL = ""  # set in main: the tiny.en directory both systems load
CHUNK_S = 0.1


@dataclass
class StreamStats:
    final_latency: list[float] = field(default_factory=list)
    final_lag: list[float] = field(default_factory=list)  # each final's arrival after its utterance was cut
    draft_latency: list[float] = field(default_factory=list)
    text: str = ""
    late_or_missing: int = 0
    errors: list[str] = field(default_factory=list)


async def run_stream(ws_base: str, http, corpus: Corpus, delay: float, create: dict | None = None,
                     headers=None) -> StreamStats:
    """Stream ``corpus`` at real-time pace into a new session (``create``: its body) and score its
    finals; ``headers``: the socket's (an API key)."""
    import websockets

    await asyncio.sleep(delay)
    r = await http.post("/v1/sessions", json={"title": "bench", **(create or {})})
    sid = r.json()["id"]
    stats = StreamStats()
    finals: list[tuple[float, dict]] = []
    pcm = corpus.pcm
    step = int(CHUNK_S * corpus.rate) * 2
    async with websockets.connect(f"{ws_base}/v1/sessions/{sid}/audio", max_size=None,
                                  additional_headers=dict(headers or {})) as ws:
        await ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": corpus.rate, "channels": 1}))
        t0 = time.monotonic()

        async def sender():
            for k, i in enumerate(range(0, len(pcm), step)):
                # a chunk is sent once it has been "recorded": at t0 + its end time
                await asyncio.sleep(max(0.0, t0 + (k + 1) * CHUNK_S - time.monotonic()))
                await ws.send(pcm[i : i + step])
            await ws.send(json.dumps({"type": "stop"}))

        send_task = asyncio.create_task(sender())
        async for raw in ws:
            now = time.monotonic() - t0
            msg = json.loads(raw)
            if msg["type"] == "error":
                stats.errors.append(msg["message"])
            if msg["type"] != "segment":
                continue
            if msg["status"] == "draft":
                stats.draft_latency.append(now - msg["end"])
            elif msg["text"]:
                finals.append((now, msg))
        await send_task
    _score_finals(stats, corpus, [(t, m["start"], m["end"], m["text"]) for t, m in finals])
    return stats


def _score_finals(stats: StreamStats, corpus: Corpus, finals: list[tuple[float, float, float, str]]) -> None:
    """The same rule for every system: an utterance's final latency is the arrival of the first
    final segment that covers its end of speech (within 0.5 s), counted from that end."""
    for utt in corpus.utts:
        times = [t for t, start, end, _ in finals if start - 0.5 <= utt.end <= end + 0.5]
        if times:
            stats.final_latency.append(min(times) - utt.end)
        else:
            stats.late_or_missing += 1
    stats.text = " ".join(text for _, _, _, text in sorted(finals, key=lambda f: f[1]))
    # the finals of one utterance arrive together: their latest end is where the server cut it
    stats.final_lag = [t - max(e for t2, _, e, _ in finals if abs(t2 - t) <= 0.1) for t, _, _, _ in finals]


async def run_stream_whisperlive(ws_base: str, _http, corpus: Corpus, delay: float) -> StreamStats:
    """The peer, through its own protocol: options JSON, float32 PCM frames, END_OF_AUDIO;
    it answers with the last segments, each ``completed`` or not."""
    import uuid

    import websockets

    await asyncio.sleep(delay)
    stats = StreamStats()
    completed: dict[str, tuple[float, float, float, str]] = {}  # start → (first seen, start, end, text)
    step = int(CHUNK_S * 16000)
    async with websockets.connect(ws_base, max_size=None) as ws:
        await ws.send(json.dumps({
            "uid": uuid.uuid4().hex, "language": "en", "task": "transcribe", "model": WHISPERLIVE_MODEL,
            "use_vad": True, "send_last_n_segments": 10, "no_speech_thresh": 0.45, "clip_audio": False,
            "same_output_threshold": 10,
        }))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if msg.get("message") == "SERVER_READY":
                break
            if msg.get("status") in ("WAIT", "ERROR"):
                stats.errors.append(str(msg))
                return stats
        t0 = time.monotonic()
        done_sending = asyncio.Event()

        async def sender():
            for k, i in enumerate(range(0, corpus.audio.size, step)):
                await asyncio.sleep(max(0.0, t0 + (k + 1) * CHUNK_S - time.monotonic()))
                await ws.send(corpus.audio[i : i + step].astype(np.float32).tobytes())
            await ws.send(b"END_OF_AUDIO")
            done_sending.set()

        send_task = asyncio.create_task(sender())
        last_partial: tuple[float, float, float, str] | None = None
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), 5.0 if done_sending.is_set() else 120)
            except (asyncio.TimeoutError, websockets.ConnectionClosed):
                break
            now = time.monotonic() - t0
            msg = json.loads(raw)
            if msg.get("message") == "DISCONNECT":
                break
            for seg in msg.get("segments", []):
                start, end, text = float(seg["start"]), float(seg["end"]), seg["text"].strip()
                if seg.get("completed"):
                    first = completed.get(seg["start"], (now,))[0]
                    completed[seg["start"]] = (first, start, end, text)
                else:
                    stats.draft_latency.append(now - end)
                    last_partial = (now, start, end, text)
        await send_task
    finals = list(completed.values())
    if last_partial and all(abs(f[1] - last_partial[1]) > 0.01 for f in finals):
        finals.append(last_partial)  # never completed before the end: its text still counts for WER
    _score_finals(stats, corpus, finals)
    return stats


_OFFLINE: dict[int, str] = {}


def offline_transcript(corpus: Corpus) -> str:
    """The same model, run offline over each recording (faster-whisper's own transcribe); once per corpus."""
    if id(corpus) not in _OFFLINE:
        _OFFLINE[id(corpus)] = _offline(corpus)
    return _OFFLINE[id(corpus)]


def _offline(corpus: Corpus) -> str:
    from faster_whisper import WhisperModel

    from livetranslate.asr.models import model_path

    model = WhisperModel(str(model_path("tiny.en", ROOT / "data" / "models")), device="cpu", compute_type="int8", cpu_threads=2)
    spans = [(0.0, corpus.audio.size / 16000)] if corpus.continuous else [(u.start - 0.3, u.end + 0.3) for u in corpus.utts]
    texts = []
    for start, end in spans:
        a = corpus.audio[int(start * 16000) : int(end * 16000)]
        segs, _ = model.transcribe(a, language="en", beam_size=1, condition_on_previous_text=False)
        texts.append(" ".join(s.text.strip() for s in segs))
    return " ".join(texts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, env: dict | None = None, cmd: list[str] | None = None,
                 log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """``livetranslate serve`` (or ``cmd``, which runs it) on a free port, once it is ready;
    its output goes to ``log`` (default: nowhere)."""
    import httpx

    port = _free_port()
    env = {**os.environ, "LIVETRANSLATE_DATA_DIR": str(data_dir), "LIVETRANSLATE_PORT": str(port),
           "LIVETRANSLATE_LOG_LEVEL": "warning", **(env or {})}
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - the server's, for its life
    proc = subprocess.Popen(cmd or [sys.executable, "-m", "livetranslate", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=out)
    base = f"http://127.0.0.1:{port}"
    for _ in range(900):
        try:
            if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"server exited{f': see {log}' if log else ''}")
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def start_whisperlive() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(PEER_VENV / "bin" / "python"), str(ROOT / "bench" / "peer" / "whisperlive_server.py"), str(port),
         WHISPERLIVE_MODEL],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"ws://127.0.0.1:{port}"
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("WhisperLive did not start")


async def measure(system: str, base: str, pid: int, corpora: list[Corpus], n: int) -> dict:
    """``n`` streams at once, stream ``i`` sending ``corpora[i % len(corpora)]``."""
    import httpx
    import psutil

    proc = psutil.Process(pid)
    cpu0 = sum(proc.cpu_times()[:2])
    peak_rss = proc.memory_info().rss
    done = asyncio.Event()

    async def sample_rss():
        nonlocal peak_rss
        while not done.is_set():
            peak_rss = max(peak_rss, proc.memory_info().rss)
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample_rss())
    runner = run_stream if system == "livetranslate" else run_stream_whisperlive
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=60) as http:
        ws_base = base.replace("http://", "ws://")
        # staggered starts, as real meetings do not all begin on the same 100 ms
        mine = [corpora[i % len(corpora)] for i in range(n)]
        results = await asyncio.gather(*(runner(ws_base, http, c, i * 0.37) for i, c in enumerate(mine)))
        stages = await server_stages(http) if system == "livetranslate" else {}
    done.set()
    await sampler
    cpu = sum(proc.cpu_times()[:2]) - cpu0
    finals = [x for r in results for x in r.final_latency]
    drafts = [x for r in results for x in r.draft_latency]
    audio_s = sum(c.audio.size for c in mine) / 16000
    return {
        "system": system,
        "streams": n,
        "final_p50": float(np.percentile(finals, 50)) if finals else float("nan"),
        "final_p95": float(np.percentile(finals, 95)) if finals else float("nan"),
        "draft_p50": float(np.percentile(drafts, 50)) if drafts else float("nan"),
        "wer": jiwer_wer([c.reference for c in mine], [r.text for r in results]),
        "texts": [r.text for r in results],
        "per_stream": {"worst": [r.final_latency for r in results], "lag_worst": [r.final_lag for r in results]},
        "missing": sum(r.late_or_missing for r in results),
        "errors": sum(len(r.errors) for r in results),
        "rtf": cpu / audio_s,
        "rss_mb": peak_rss / 2**20,
        "stages": stages,
    }


STAGES = {  # where a final's time goes on the server: metric (and label) → name in the report
    ("livetranslate_asr_wait_seconds", "final"): "waits for a worker",
    ("livetranslate_asr_decode_seconds", "final"): "decode (its batch)",
    ("livetranslate_voice_wait_seconds", None): "then waits for its voice windows",
    ("livetranslate_speaker_attribution_seconds", None): "speaker attribution",
    ("livetranslate_final_latency_seconds", None): "end of speech heard → published",
    ("livetranslate_asr_batch_size", None): "batch size (all decodes)",
}


async def server_stages(http) -> dict[str, float]:
    """Mean of each stage histogram in the server's /metrics after a run."""
    from prometheus_client.parser import text_string_to_metric_families

    sums: dict[tuple, float] = {}
    for family in text_string_to_metric_families((await http.get("/metrics")).text):
        for sample in family.samples:
            for (name, kind), label in STAGES.items():
                if sample.name in (name + "_sum", name + "_count") and sample.labels.get("kind") == kind:
                    key = (label, sample.name.endswith("_count"))
                    sums[key] = sums.get(key, 0.0) + sample.value
    return {label: sums[(label, False)] / sums[(label, True)] for label in STAGES.values()
            if sums.get((label, True))}


def stages_line(rows: list[dict]) -> str:
    """The server-side breakdown of a final, per number of streams."""
    lines = []
    for r in rows:
        if r.get("stages"):
            parts = ", ".join(f"{k} {v:.2f}" + ("" if k.startswith("batch") else " s") for k, v in r["stages"].items())
            lines.append(f"- {r['system']}, {r['streams']} streams (means): {parts}")
    return ("\n\n**Where a final's time goes** (server metrics):\n" + "\n".join(lines)) if lines else ""


def write_section(path: Path, heading: str, report: str, before: str | None = None) -> None:
    """Replace the section of a markdown file that starts with ``heading`` (up to the next
    ``## ``) by ``report``; a missing section goes before the ``before`` heading, or at the end."""
    doc = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = doc.find(heading)
    if start >= 0:
        end = doc.find("\n## ", start + 1)
        doc = doc[:start] + (report.rstrip("\n") + "\n\n" + doc[end + 1 :] if end >= 0 else report)
    else:
        end = doc.find(f"\n{before}") if before else -1
        doc = doc[: end + 1] + report + "\n" + doc[end + 1 :] if end >= 0 else doc.rstrip() + "\n\n" + report
    path.write_text(doc)
    print(f"wrote {path}")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, {platform.system()}"


def table(rows: list[dict], offline_wer: float) -> str:
    lines = [
        "| system | streams | final p50 (s) | final p95 (s) | draft p50 (s) | WER | streamed vs offline | missing finals | server CPU / audio s | server RSS peak (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['system']} | {r['streams']} | {r['final_p50']:.2f} | {r['final_p95']:.2f} | {r['draft_p50']:.2f} | "
            f"{r['wer'] * 100:.1f} % | {r['wer_vs_offline'] * 100:.1f} % | "
            f"{r['missing']} | {r['rtf']:.3f} | {r['rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def sustained(rows: list[dict], system: str) -> int:
    """Largest N with final p95 <= 2 s, no missing final and WER within 2 points of its N=1 figure."""
    mine = sorted((r for r in rows if r["system"] == system), key=lambda r: r["streams"])
    if not mine:
        return 0
    base = mine[0]["wer"]
    best = 0
    for r in mine:
        if r["final_p95"] <= 2.0 and r["missing"] == 0 and r["wer"] <= base + 0.02:
            best = r["streams"]
        else:
            break
    return best


def worst_stream(per_stream: list[list[float]], name: str) -> dict:
    """The stream with the highest p95 (1-based), and its p50."""
    p95 = [float(np.percentile(x, 95)) if x else float("inf") for x in per_stream]
    k = int(np.argmax(p95))
    p50 = float(np.percentile(per_stream[k], 50)) if per_stream[k] else float("nan")
    return {f"{name}_stream": k + 1, f"{name}_p50": p50, f"{name}_p95": p95[k]}


def _pooled(per_stream: list[list[float]], name: str) -> dict:
    pooled = [x for s in per_stream for x in s]
    return {f"{name}_p50": float(np.percentile(pooled, 50)), f"{name}_p95": float(np.percentile(pooled, 95))}


def long_table(rows: list[dict]) -> str:
    lines = [
        "| system | streams | final after the cut p50 / p95 (s) | worst stream: after the cut p50 / p95 (s) | after sentence end p50 / p95 (s) | worst stream: after sentence end p50 / p95 (s) | draft p50 (s) | WER | streamed vs offline | missing finals | server CPU / audio s | server RSS peak (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['system']} | {r['streams']} | {r['lag_p50']:.2f} / {_range(r, 'lag_p95')} | "
            f"{r['lag_worst_p50']:.2f} / {_range(r, 'lag_worst_p95')} | "
            f"{r['final_p50']:.2f} / {_range(r, 'final_p95')} | {r['worst_p50']:.2f} / {_range(r, 'worst_p95')} | "
            f"{r['draft_p50']:.2f} | {_range(r, 'wer', '{:.1f}', 100)} % | {r['wer_vs_offline'] * 100:.1f} % | "
            f"{r['missing']} | {r['rtf']:.3f} | {_range(r, 'rss_mb', '{:.0f}')} |"
        )
    return "\n".join(lines)


def run_all(systems: list[str], streams: list[int], corpora_for, repeat: int = 1) -> list[dict]:
    """Each N (``repeat`` times), each system in a fresh server process; a row per run, printed
    as it comes. ``corpora_for(n)``: what the n streams send (one corpus each, or one for all)."""
    rows = []
    for n in streams:
        corpora = corpora_for(n)
        for run in range(repeat):
            for system in systems:  # alternating, so drift of the machine hits both alike
                with tempfile.TemporaryDirectory(prefix="bench-server-") as data_dir:
                    proc, base = start_server(Path(data_dir)) if system == "livetranslate" else start_whisperlive()
                    try:
                        row = asyncio.run(measure(system, base, proc.pid, corpora, n))
                    finally:
                        proc.terminate()
                        proc.wait(30)
                mine = [corpora[i % len(corpora)] for i in range(n)]
                row["wer_vs_offline"] = jiwer_wer([offline_transcript(c) for c in mine], row.pop("texts"))
                row["run"] = run + 1
                per_stream = row.pop("per_stream")
                row.update(_pooled(per_stream["lag_worst"], "lag"))
                for name, latencies in per_stream.items():
                    row.update(worst_stream(latencies, name))
                rows.append(row)
                print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    return rows


def spread(rows: list[dict]) -> list[dict]:
    """One row per (system, N): the median run's figures, with ``<figure>_range`` (min, max) over the runs."""
    out = []
    for key in dict.fromkeys((r["system"], r["streams"]) for r in rows):
        runs = [r for r in rows if (r["system"], r["streams"]) == key]
        row = dict(runs[0])
        for name, value in runs[0].items():
            if isinstance(value, float):
                values = [r[name] for r in runs]
                row[name] = float(np.median(values))
                row[name + "_range"] = (min(values), max(values))
        row["runs"] = len(runs)
        out.append(row)
    return out


METHOD = (
    "Final latency: from the end of speech (Silero VAD on the source file) to the arrival of the first "
    "final (WhisperLive: `completed`) segment covering it. Draft latency: from the end of the audio a draft "
    "covers to its arrival. WER is against the reference transcripts; *streamed vs offline* is the WER of the "
    "streamed transcript measured against faster-whisper's own offline transcription of the same recordings with "
    "the same model. Server CPU / audio s: CPU seconds the server spent per second of audio (real-time factor). "
    "Each system runs in a fresh server process for each N.\n"
)
CORE_HEADING = "## Streaming (issue: core)"
LONG_HEADING = "## Streaming, long-form continuous speech (issue 13)"
LARGE_HEADING = "## Streaming, large corpus (issue 13)"


def core_report(rows: list[dict], corpus: Corpus, offline_wer: float, systems: list[str], command: str) -> str:
    summary = "\n".join(
        f"- {system}: sustains **{sustained(rows, system)}** concurrent real-time streams "
        "(final p95 ≤ 2 s, no missing final, WER within 2 points of its single-stream figure)"
        for system in systems
    )
    return (
        f"{CORE_HEADING}\n\nCommand: `{command}`  \nMachine: {machine()}  \n"
        f"Model: tiny.en (CTranslate2 int8, bundled) for every system, default settings.  \n"
        f"Corpus per stream: {len(corpus.utts)} utterances (5 LibriVox recordings + espeak-ng meeting sentences), "
        f"{corpus.audio.size / 16000:.0f} s, sent in {CHUNK_S * 1000:.0f} ms chunks at real-time pace; "
        f"the same model offline scores {offline_wer * 100:.1f} % WER on it.\n\n"
        + table(rows, offline_wer)
        + "\n\n" + summary
        + "\n\n" + METHOD
    )


def long_report(rows: list[dict], corpus: Corpus, offline_wer: float, command: str) -> str:
    return (
        f"{LONG_HEADING}\n\nCommand: `{command}`  \nMachine: {machine()}  \n"
        f"Model: tiny.en (CTranslate2 int8, bundled), default settings.  \n"
        f"Corpus per stream: {corpus.audio.size / 16000:.0f} s of continuous speech, {len(corpus.utts)} utterances: "
        f"the 5 LibriVox recordings and {len(PARAGRAPHS)} espeak-ng paragraphs in {len(PARAGRAPHS)} voices, each cut to "
        f"its speech and joined back to back with no gap (the only pauses are the readers' own), resampled to "
        f"{corpus.rate // 1000} kHz (PyAV) and sent as `pcm_s16le` at {corpus.rate} Hz in {CHUNK_S * 1000:.0f} ms chunks "
        f"at real-time pace; the same model offline (one pass over the whole recording) scores {offline_wer * 100:.1f} % WER on it.\n\n"
        + long_table(rows)
        + stages_line(rows)
        + "\n\n*After the cut*: each final segment's arrival after the end (in the stream) of the utterance it belongs to "
        "(the latest end among the finals arriving within 0.1 s of it). An utterance that reaches `max_utterance_s` is "
        "cut at the deepest pause of its second half, so this holds the wait from that cut to the decision (up to half "
        "of `max_utterance_s`) as well as the server's own delay. *After sentence end*: the core section's rule "
        "below, with an utterance ending where the next one begins; in continuous speech a sentence's final comes only "
        "when the server cuts the utterance (at a pause or `max_utterance_s`), so this counts that wait too, and a final "
        "ending up to 0.5 s before a sentence's end counts for it. p50/p95 pool every stream; *worst stream* is the "
        "stream with the highest p95, with its own p50. With several runs (`--repeat`) each figure is the median "
        "run's, the lowest and highest run in parentheses. " + METHOD
    )


def main() -> None:
    global WHISPERLIVE_MODEL
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=int, nargs="+", default=None, help="concurrent streams to measure")
    ap.add_argument("--quick", action="store_true", help="small corpus, N=1: a CI-sized check")
    ap.add_argument("--corpus", choices=["short", "long", "large"], default="short",
                    help="short: utterances with gaps, 16 kHz (default); long: ~2 min continuous speech at 48 kHz; "
                    "large: 258 utterances (16 min) split over the streams")
    ap.add_argument("--repeat", type=int, default=1, help="runs per N (the report gives the spread)")
    ap.add_argument("--peer", action="store_true", help="also run WhisperLive (bench/peer/setup-whisperlive.sh)")
    ap.add_argument("--write", type=Path, help="replace this corpus's streaming section of this markdown file")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here (input of bench/plot.py)")
    ap.add_argument("--plot", type=Path, help="also draw latency against streams to this PNG (needs matplotlib)")
    args = ap.parse_args()
    streams = args.streams or ([1] if args.quick else [1, 2, 4])
    from livetranslate.asr.models import model_path

    WHISPERLIVE_MODEL = str(model_path("tiny.en", ROOT / "data" / "models"))
    systems = ["livetranslate"] + (["whisperlive"] if args.peer else [])
    if args.peer and not (PEER_VENV / "bin" / "python").exists():
        raise SystemExit("run bench/peer/setup-whisperlive.sh first")

    if args.corpus == "large":
        corpora_for = _large_corpora
        first = corpora_for(streams[0])
    else:
        first = [build_long_corpus() if args.corpus == "long" else build_corpus(args.quick)]
        corpora_for = lambda n: first  # noqa: E731  (every stream sends the same)
    corpus = first[0]
    print(f"corpus: {sum(len(c.utts) for c in first)} utterances, {corpus.audio.size / 16000:.1f} s per stream", flush=True)
    rows = run_all(systems, streams, corpora_for, args.repeat)
    offline_wer = jiwer_wer([c.reference for c in first], [offline_transcript(c) for c in first])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    rows = spread(rows)
    if args.plot:
        from plot import plot

        plot(rows, args.plot)
    command = ("python bench/stream_bench.py " + " ".join(sys.argv[1:])).strip()
    if args.corpus == "large":
        report, heading = large_report(rows, _large_corpora(max(streams)), offline_wer, command), LARGE_HEADING
    elif corpus.continuous:
        report, heading = long_report(rows, corpus, offline_wer, command), LONG_HEADING
    else:
        report, heading = core_report(rows, corpus, offline_wer, systems, command), CORE_HEADING
    print()
    print(report)
    if args.write:
        write_section(args.write, heading, report, before=None if heading == CORE_HEADING else "## Translation")


_LARGE: dict[int, list[Corpus]] = {}


def _large_corpora(n: int) -> list[Corpus]:
    """The large corpus in n shards: n streams cover it once."""
    if n not in _LARGE:
        _LARGE[n] = build_large_corpus(n)
    return _LARGE[n]


def _range(r: dict, name: str, fmt: str = "{:.2f}", scale: float = 1.0) -> str:
    lo, hi = r.get(name + "_range", (r[name], r[name]))
    value = fmt.format(r[name] * scale)
    return value if r.get("runs", 1) == 1 else f"{value} ({fmt.format(lo * scale)}–{fmt.format(hi * scale)})"


def large_report(rows: list[dict], corpora: list[Corpus], offline_wer: float, command: str) -> str:
    from collections import Counter

    utts = [u for c in corpora for u in c.utts]
    sources = Counter("synthetic" if u.source.startswith(("espeak", "piper")) else u.source for u in utts)
    minutes = sum(c.audio.size for c in corpora) / 16000 / 60
    lines = [
        "| streams | runs | final after speech end p50 | p95 | worst stream p95 | draft p50 (s) | WER | streamed vs offline "
        "| missing finals | server CPU / audio s | server RSS peak (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['streams']} | {r['runs']} | {_range(r, 'final_p50')} | {_range(r, 'final_p95')} | "
            f"{_range(r, 'worst_p95')} | {_range(r, 'draft_p50')} | {_range(r, 'wer', '{:.1f}', 100)} % | "
            f"{_range(r, 'wer_vs_offline', '{:.1f}', 100)} % | {r['missing']} | {r['rtf']:.3f} | "
            f"{_range(r, 'rss_mb', '{:.0f}')} |"
        )
    return (
        f"{LARGE_HEADING}\n\nCommand: `{command}`  \nMachine: {machine()}  \n"
        "Model: tiny.en (CTranslate2 int8, bundled), default settings.  \n"
        f"Corpus: {len(utts)} utterances, {minutes:.0f} min of audio, split round-robin into one shard per stream so "
        f"that N streams at real-time pace cover it once: the real recordings there are here "
        f"({', '.join(f'{k} {v}' for k, v in sources.items() if k != 'synthetic')}) and {sources['synthetic']} "
        "synthetic ones (80 sentences, each read by 3 of 10 voices: 8 espeak-ng voices and Piper's neural `joe` at "
        "two speeds), 0.6–1.5 s apart. WER is over the whole corpus (all streams' words); the same model offline "
        f"(each shard in one pass) scores {offline_wer * 100:.1f} %. With several runs each figure is the median run's, "
        "with the lowest and highest in parentheses: the spread from run to run.\n\n"
        + "\n".join(lines) + stages_line(rows) + "\n\n" + METHOD
    )


if __name__ == "__main__":
    main()
