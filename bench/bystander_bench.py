"""Does one session's heavy configuration hurt everyone else? Session A translates into
Spanish with the largest glossary allowed; session B, the bystander, streams the same speech
with none; `/health/live` is polled every 50 ms meanwhile. Then the same without A's glossary.

    .venv/bin/python bench/bystander_bench.py [--terms 2000] [--write]

Figures: `/health/live` p50 / p99 / max, and each session's final latency (end of speech to
its final) p50 / p95 / max.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import ROOT, build_corpus  # noqa: E402
from stream_bench import machine, run_stream, start_server, write_section  # noqa: E402

HEADING = "## One session's glossary and its bystanders"


def glossary(terms: int, corpus_text: str) -> dict:
    """``terms`` entries, the corpus's own words among them (so they are found and protected)."""
    words = sorted({w.strip(".,?!'").lower() for w in corpus_text.split() if len(w) > 5})[:50]
    entries = {w: {"es": w.upper()} for w in words}
    entries.update({f"t{i} w{i}": {"es": f"x{i}"} for i in range(terms - len(entries))})
    return {"terms": entries}


def q(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


async def one(base: str, corpus, create_a: dict) -> dict:
    import httpx

    ws_base = base.replace("http", "ws")
    health: list[float] = []
    done = asyncio.Event()

    async def poll(http):
        while not done.is_set():
            started = time.perf_counter()
            await http.get("/health/live")
            health.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)

    async with httpx.AsyncClient(base_url=base, timeout=60) as http, httpx.AsyncClient(base_url=base) as probe:
        poller = asyncio.create_task(poll(probe))
        a, b = await asyncio.gather(run_stream(ws_base, http, corpus, 0.0, create_a), run_stream(ws_base, http, corpus, 0.0))
        done.set()
        await poller
    return {
        "health_p50_ms": 1000 * statistics.median(health), "health_p99_ms": 1000 * q(health, 0.99),
        "health_max_ms": 1000 * max(health),
        **{f"{name}_{k}": v for name, s in (("a", a), ("b", b)) for k, v in (
            ("p50", statistics.median(s.final_latency)), ("p95", q(s.final_latency, 0.95)), ("max", max(s.final_latency)),
        )},
        "errors": a.errors + b.errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--terms", type=int, default=2000)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    corpus = build_corpus(quick=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(Path(tmp))
        try:
            for label, create in ((f"A with a {args.terms}-term glossary", {"targets": ["es"], "glossary": glossary(args.terms, corpus.reference)}),
                                  ("A without a glossary", {"targets": ["es"]})):
                row = {"run": label, **asyncio.run(one(base, corpus, create))}
                rows.append(row)
                print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
        finally:
            proc.terminate()
            proc.wait(30)
    if args.write:
        lines = ["| run | /health/live p50 / p99 / max ms | A final p50 / p95 / max s | bystander B final p50 / p95 / max s |",
                 "|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r['run']} | {r['health_p50_ms']:.1f} / {r['health_p99_ms']:.1f} / {r['health_max_ms']:.1f} | "
                         f"{r['a_p50']:.2f} / {r['a_p95']:.2f} / {r['a_max']:.2f} | {r['b_p50']:.2f} / {r['b_p95']:.2f} / {r['b_max']:.2f} |")
        command = "python bench/bystander_bench.py " + " ".join(a for a in sys.argv[1:] if a != "--write")
        write_section(ROOT / "BENCHMARKS.md", HEADING,
                      f"{HEADING}\n\nCommand: `{command.strip()}`  \nMachine: {machine()}  \n"
                      f"Corpus: the short corpus (13 utterances, ~1 min), both sessions at real-time pace.\n\n"
                      + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
