"""Does one tenant's flood slow another's captions? A quiet tenant streams the standard corpus
at real-time pace; its final-caption latency is measured alone, then while a second tenant on
the same server floods it — as many live sessions as it can open (each streaming the corpus,
a refused one tried again every 0.5 s, ignoring Retry-After) and REST calls from several
connections as fast as they go — first with the tenant limits on, then with them off.

    .venv/bin/python bench/noisy_neighbour_bench.py                     # limits: 3 live sessions
    .venv/bin/python bench/noisy_neighbour_bench.py --write BENCHMARKS.md

Target: the quiet tenant's final latency under the flood, limits on, within 20 % of its idle
run (p50 and p95).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from corpus import build_corpus  # noqa: E402
from stream_bench import machine, run_stream, start_server, write_section  # noqa: E402

HEADING = "## One tenant's flood, another's captions"
LIMITS = {"LIVETRANSLATE_TENANT_LIVE_SESSIONS": "3"}  # the request limits are the defaults (50/s a key, 100/s a tenant)
UNLIMITED = {"LIVETRANSLATE_KEY_REQUESTS_PER_S": "1000000", "LIVETRANSLATE_TENANT_REQUESTS_PER_S": "1000000"}


def _key(data: str, tenant: str) -> str:
    env = {**os.environ, "LIVETRANSLATE_DATA_DIR": data}
    return subprocess.run([sys.executable, "-m", "livetranslate", "keys", "create", "--tenant", tenant, "--role",
                           "member"], env=env, capture_output=True, text=True, check=True).stdout.strip()


async def _flood_streams(ws_base: str, http, corpus, sessions: int, stop: asyncio.Event, tally: dict) -> None:
    """Keep trying to hold ``sessions`` live sessions, each streaming the corpus."""
    import websockets

    async def one(i: int) -> None:
        await asyncio.sleep(i * 0.2)
        while not stop.is_set():
            try:
                stats = await run_stream(ws_base, http, corpus, 0.0, headers=http.headers)
            except (websockets.ConnectionClosed, OSError, KeyError) as e:  # KeyError: its session was not made (429)
                tally["refused" if "4429" in str(e) or isinstance(e, KeyError) else "stream_errors"] += 1
                await asyncio.sleep(0.5)
                continue
            if stats.errors:  # refused (4429) or cut: tried again
                tally["refused"] += 1
                await asyncio.sleep(0.5)
            else:
                tally["streamed"] += 1

    await asyncio.gather(*(one(i) for i in range(sessions)))


async def _flood_requests(http, stop: asyncio.Event, tally: dict) -> None:
    while not stop.is_set():
        r = await http.get("/v1/sessions", params={"q": "meeting", "limit": 50})
        tally[str(r.status_code)] = tally.get(str(r.status_code), 0) + 1


async def _run(base: str, quiet_key: str, flood_key: str | None, corpus, args) -> dict:
    import httpx
    import psutil

    ws_base = base.replace("http://", "ws://")
    stop = asyncio.Event()
    tally = {"streamed": 0, "refused": 0, "stream_errors": 0}
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {quiet_key}"}, timeout=120) as quiet, \
            httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {flood_key or quiet_key}"},
                              timeout=120, limits=httpx.Limits(max_connections=args.connections + args.sessions)) as flood:
        floods = []
        if flood_key:
            floods = [asyncio.create_task(_flood_streams(ws_base, flood, corpus, args.sessions, stop, tally))]
            floods += [asyncio.create_task(_flood_requests(flood, stop, tally)) for _ in range(args.connections)]
            await asyncio.sleep(3)  # the flood is on before the quiet tenant speaks
        cpu = psutil.cpu_times_percent(interval=None)
        runs = [await run_stream(ws_base, quiet, corpus, 0.0, headers=quiet.headers) for _ in range(args.repeat)]
        cpu = psutil.cpu_times_percent(interval=None)
        stop.set()
        for task in floods:
            task.cancel()
        await asyncio.gather(*floods, return_exceptions=True)
    finals = [x for r in runs for x in r.final_latency]
    return {
        "p50": float(np.percentile(finals, 50)), "p95": float(np.percentile(finals, 95)), "max": max(finals),
        "finals": len(finals), "missing": sum(r.late_or_missing for r in runs),
        "errors": sum(len(r.errors) for r in runs), "flood": tally, "cpu_busy": 100 - cpu.idle,
    }


def _serve(data: str, env: dict) -> tuple[subprocess.Popen, str]:
    return start_server(Path(data), env={"LIVETRANSLATE_AUTH": "keys", **env})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=12, help="live sessions the flooding tenant tries to hold")
    ap.add_argument("--connections", type=int, default=4, help="its connections calling REST as fast as they go")
    ap.add_argument("--repeat", type=int, default=2, help="corpus passes of the quiet tenant per run")
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    corpus = build_corpus(False)
    rows = {}
    for name, env, flood in (("idle", LIMITS, False), ("flood, limits on", LIMITS, True),
                             ("flood, limits off", UNLIMITED, True)):
        with tempfile.TemporaryDirectory(prefix="noisy-bench-") as data:
            quiet_key, flood_key = _key(data, "quiet"), _key(data, "flood")
            proc, base = _serve(data, env)
            try:
                rows[name] = asyncio.run(_run(base, quiet_key, flood_key if flood else None, corpus, args))
            finally:
                proc.terminate()
                proc.wait(60)
        print(name, json.dumps(rows[name]), flush=True)
    idle = rows["idle"]
    lines = [
        HEADING, "",
        f"`python bench/noisy_neighbour_bench.py {' '.join(sys.argv[1:])}`".replace(" `", "`") + f" — {machine()}. "
        f"Tenant *quiet* streams the standard corpus ({corpus.audio.size / 16000:.0f} s, {len(corpus.utts)} "
        f"utterances) {args.repeat}× at real-time pace; tenant *flood* tries to hold {args.sessions} live sessions "
        f"streaming the same corpus (a refused socket tried again every 0.5 s, ignoring `Retry-After`) and calls "
        f"`GET /v1/sessions?q=…` from {args.connections} connections as fast as they answer. Limits on: "
        "`tenant_live_sessions=3` and the default 50 requests/s a key, 100 a tenant; off: none of them.", "",
        "| run | quiet final p50 / p95 / max (s) | vs idle p50 / p95 | flood: corpus passes streamed / sockets refused "
        "| flood: REST 200 / 429 | CPU busy |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        f = r["flood"]
        lines.append(
            f"| {name} | {r['p50']:.2f} / {r['p95']:.2f} / {r['max']:.2f} | "
            f"{r['p50'] / idle['p50'] - 1:+.0%} / {r['p95'] / idle['p95'] - 1:+.0%} | "
            + (f"{f['streamed']} / {f['refused']} | {f.get('200', 0)} / {f.get('429', 0)}" if name != "idle" else "— | —")
            + f" | {r['cpu_busy']:.0f} % |"
        )
    lines += ["", f"Quiet finals per run: {idle['finals']}; missing: "
              + ", ".join(f"{n} {r['missing']}" for n, r in rows.items()) + "."]
    text = "\n".join(lines)
    print()
    print(text)
    if args.write:
        write_section(args.write, HEADING, text)


if __name__ == "__main__":
    main()
