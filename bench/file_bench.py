"""File transcription: how fast `livetranslate transcribe` gets through a long recording, how
right it is, and how much memory it takes.

    .venv/bin/python bench/file_bench.py [--repeat 2] [--no-speakers] [--write]

The file is the large corpus (bench/corpus.py) as one WAV: every real recording here and 240
synthetic readings, ~21 min, utterances 0.6–1.5 s apart. Each run is a fresh CLI process (model
load included, as a user runs it); the figures are wall time, real-time factor (audio seconds
per wall second), WER against the references, the number of segments and speakers, and the
process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import ROOT, build_large_corpus, jiwer_wer  # noqa: E402
from stream_bench import machine, write_section  # noqa: E402

from livetranslate.audio import to_pcm16  # noqa: E402

HEADING = "## File transcription (`livetranslate transcribe`)"


def write_wav(path: Path, audio) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(to_pcm16(audio))


def run_once(wav: Path, speakers: bool) -> dict:
    import psutil

    out = wav.with_suffix(".json")
    cmd = [sys.executable, "-m", "livetranslate", "transcribe", str(wav), "-f", "json", "-o", str(out),
           "--language", "en", "--speakers" if speakers else "--no-speakers"]
    started = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"transcribe failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
    return {"wall_s": wall, "peak_rss_mb": peak / 2**20, "result": json.loads(out.read_text())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-speakers", action="store_true")
    ap.add_argument("--write", action="store_true", help="write the figures into BENCHMARKS.md")
    args = ap.parse_args()

    corpus = build_large_corpus(1)[0]
    duration = corpus.audio.size / 16000
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "large.wav"
        write_wav(wav, corpus.audio)
        for i in range(args.repeat):
            r = run_once(wav, not args.no_speakers)
            segments = r["result"]["segments"]
            hyp = " ".join(s["text"] for s in segments)
            runs.append({
                "wall_s": round(r["wall_s"], 1),
                "rtf": round(duration / r["wall_s"], 1),
                "wer": round(100 * jiwer_wer([corpus.reference], [hyp]), 1),
                "segments": len(segments),
                "speakers": len({s.get("speaker") for s in segments if s.get("speaker")}),
                "peak_rss_mb": round(r["peak_rss_mb"]),
            })
            print(json.dumps(runs[-1]), flush=True)
    walls = [r["wall_s"] for r in runs]
    summary = (f"audio {duration / 60:.1f} min; wall median {statistics.median(walls):.1f} s, worst {max(walls):.1f} s; "
               f"WER {runs[0]['wer']} %; peak RSS worst {max(r['peak_rss_mb'] for r in runs)} MB")
    print(summary)
    if args.write:
        write(args, runs, summary)


def write(args, runs: list[dict], summary: str) -> None:
    command = "python bench/file_bench.py " + " ".join(a for a in sys.argv[1:] if a != "--write")
    rows = "\n".join(
        f"| {i + 1} | {r['wall_s']} | {r['rtf']}× | {r['wer']} % | {r['segments']} | {r['speakers']} | {r['peak_rss_mb']} |"
        for i, r in enumerate(runs)
    )
    section = (
        f"{HEADING}\n\nCommand: `{command.strip()}`  \nMachine: {machine()}  \n"
        f"Model: `{os.environ.get('LIVETRANSLATE_MODEL', 'tiny.en')}` (`--language en`); one fresh CLI process per run "
        "(model load included).\n\n"
        "| run | wall s | real-time factor | WER | segments | speakers | peak RSS MB |\n|---|---|---|---|---|---|---|\n"
        f"{rows}\n\n{summary}\n"
    )
    write_section(ROOT / "BENCHMARKS.md", HEADING, section)

if __name__ == "__main__":
    main()
