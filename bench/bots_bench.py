"""Meeting bots in the stand-in Meet: how fast one joins, how late its captions come beside
the same audio streamed straight to the server, who it names, and what a bot costs.

    .venv/bin/python bench/bots_bench.py                       # 1 bot, then 2 at once
    .venv/bin/python bench/bots_bench.py --bots 1 2 3 --write BENCHMARKS.md
    .venv/bin/python bench/bots_bench.py --bots 1 --crosstalk 5   # and 5 calls where two talk at once

Each bot joins its own meeting (a waiting room, let in after 1 s) where three participants
(two LibriVox readers and an espeak voice) take turns through a scripted call; its tiles'
speaking rings lag the speech by 0.3 s on and 0.8 s off. Reported per run: time from
``POST /v1/bots`` to ``in_call_recording`` and to the first final caption; final-caption
latency after the end of each line (p50, p95, worst) for the bot and for the same call's mix
streamed straight into a session at real-time pace; words named right / wrong / unnamed
against the script; WER; and the bot's CPU (browser and worker, cores) and memory (RSS of
its process tree), sampled every second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stream_bench import machine, start_server, write_section  # noqa: E402

HEADING = "## Meeting bots"


def _clips():
    import subprocess

    from livetranslate.audio import decode_file
    from tests.conftest import SENTENCES, Clip, librivox_clips

    clips = librivox_clips()
    out = Path(tempfile.mkdtemp(prefix="bots-bench-"))
    synth = []
    for i, text in enumerate(SENTENCES[:4]):
        path = out / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), text], check=True)
        synth.append(Clip(f"s{i}", decode_file(path), text))
    return clips, synth, out


def _turns(clips, synth):
    people = [("ana", "Ana Lima"), ("bob", "Bob Stone"), ("eve", "Eve Park")]
    turns = []
    for i in range(min(len(clips), 5)):
        who, name = people[i % 2]
        turns.append((who, name, clips[i]))
        if i < len(synth):
            turns.append(("eve", "Eve Park", synth[i]))
    return turns


def _crosstalk(clips, synth, tmp: Path):
    """Bob starts 1 s before Ana ends (the scenario of tests/bots/test_meet_scenarios.py)."""
    from tests.bots.conftest import script

    a = clips[0].audio.size / 16000
    return script(tmp, [
        ("ana", "Ana Lima", clips[0], 2.0), ("bob", "Bob Stone", synth[1], 2.0 + a - 1.0),
        ("eve", "Eve Park", clips[3], 2.0 + a + 5.0),
        ("ana", "Ana Lima", synth[2], 2.0 + a + 5.0 + clips[3].audio.size / 16000 + 1.0),
    ])


def _mix(call) -> np.ndarray:
    """The call as one track (what the bot hears), from the participants' WAVs."""
    from livetranslate.audio import decode_file

    tracks = [decode_file(p.wav) for p in call.participants]
    n = max(t.size for t in tracks)
    return sum(np.pad(t, (0, n - t.size)) for t in tracks).clip(-1, 1).astype(np.float32)


class Sampler:
    """CPU (cores) and RSS of a process tree, every second."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.rss: list[float] = []

    def tree(self, root_pid: int):
        import psutil

        try:
            root = psutil.Process(root_pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    async def run(self, pids_of, stop: asyncio.Event) -> None:
        import psutil

        last: dict[int, float] = {}
        while not stop.is_set():
            total_rss, busy = 0, 0.0
            for pid in pids_of():
                for p in self.tree(pid):
                    try:
                        t = p.cpu_times()
                        spent = t.user + t.system
                        busy += spent - last.get(p.pid, spent)
                        last[p.pid] = spent
                        total_rss += p.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
            self.cpu.append(busy)
            self.rss.append(total_rss / 2**20)
            await asyncio.sleep(1.0)


async def one_bot(base: str, meet, code: str, call) -> dict:
    import httpx
    import websockets

    from tests.bots.conftest import attribution
    from tests.conftest import wer
    from tests.fakemeet import Scenario

    url = meet.open(code, Scenario(mode="knock", admit_after_s=1.0, participants=call.participants))
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        posted, posted_wall = time.monotonic(), time.time()
        r = await http.post("/v1/bots", json={"meeting_url": url})
        if r.status_code != 201:
            raise RuntimeError(f"POST /v1/bots: {r.status_code} {r.text}")
        bot = r.json()
        recording_at = None
        while recording_at is None:
            state = (await http.get(f"/v1/bots/{bot['id']}")).json()["status"]["code"]
            if state == "in_call_recording":
                recording_at = time.monotonic()
            elif state in ("fatal", "call_ended", "done"):
                raise RuntimeError(f"bot ended: {state}")
            await asyncio.sleep(0.1)
        while meet.meetings[code].media_t0 is None:
            await asyncio.sleep(0.05)
        t0 = meet.meetings[code].media_t0  # the page's wall clock: when the call's audio began
        finals: list[tuple[float, dict]] = []
        async with websockets.connect(f"{base.replace('http', 'ws')}/v1/sessions/{bot['session_id']}/events") as ws:
            end = t0 + call.lines[-1].end + 8
            while time.time() < end:
                try:
                    e = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, end - time.time())))
                except TimeoutError:
                    break
                if e.get("type") == "segment" and e["status"] == "final" and e["text"]:
                    finals.append((time.time(), e))
        await http.post(f"/v1/bots/{bot['id']}/leave")
        while (await http.get(f"/v1/bots/{bot['id']}")).json()["status"]["code"] not in ("done", "fatal"):
            await asyncio.sleep(0.2)  # its browser is gone before the next bot comes
        segments = (await http.get(f"/v1/sessions/{bot['session_id']}/transcript")).json()["segments"]
    score = attribution(call, segments)
    offset = score["offset_ms"] / 1000
    return {
        "join_s": recording_at - posted,
        "first_caption_s": finals[0][0] - posted_wall if finals else None,
        "latency": _latencies(call, finals, t0, offset),
        "wer": wer(call.text, " ".join(s["text"] for s in segments)),
        "attribution": score,
    }


def _latencies(call, finals, t0_wall: float, offset: float) -> list[float]:
    """Each line's final after the line's speech ended (the call's audio began at ``t0_wall``,
    on the clock the arrivals were taken on; a final's session time + offset is script time)."""
    out = []
    for line in call.lines:
        arrivals = [at for at, e in finals if line.start - 0.3 <= e["end"] + offset <= line.end + 0.6]
        if arrivals:
            out.append(max(arrivals) - (t0_wall + line.end))
    return out


async def direct(base: str, mix: np.ndarray, call) -> list[float]:
    """The call's mix streamed straight into a session at real-time pace: the baseline."""
    import httpx
    import websockets

    from livetranslate.audio import to_pcm16

    pcm, step = to_pcm16(mix), 3200
    async with httpx.AsyncClient(base_url=base) as http:
        sid = (await http.post("/v1/sessions", json={"title": "direct"})).json()["id"]
    finals = []
    async with websockets.connect(f"{base.replace('http', 'ws')}/v1/sessions/{sid}/audio", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
        await ws.recv()
        t0 = time.monotonic()

        async def send():
            for i in range(0, len(pcm), step):
                await ws.send(pcm[i : i + step])
                await asyncio.sleep(max(0.0, t0 + (i + step) / 32000 - time.monotonic()))
            await ws.send(json.dumps({"type": "stop"}))

        sender = asyncio.create_task(send())
        async for message in ws:
            e = json.loads(message)
            if e.get("type") == "segment" and e["status"] == "final" and e["text"]:
                finals.append((time.monotonic(), e))
        await sender
    return _latencies(call, finals, t0, 0.0)


def _pct(xs: list[float], q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 2) if xs else None


async def _direct_beside_a_bot(base: str, meet, code: str, call, mix) -> list[float]:
    """The direct stream while a bot sits in a call of its own: what sharing the cores with a
    browser costs the captions, apart from the bot's own audio path."""
    bot = asyncio.create_task(one_bot(base, meet, code, call))
    while meet.meetings.get(code) is None or meet.meetings[code].media_t0 is None:
        if bot.done():
            await bot  # it failed: say why
        await asyncio.sleep(0.1)
    latencies = await direct(base, mix, call)
    await bot
    return latencies


async def run(n: int, base: str, server_pid: int, meet, call, mix, beside_too: bool) -> dict:
    sampler, stop = Sampler(), asyncio.Event()

    def bot_pids():
        import psutil

        server = psutil.Process(server_pid)
        return [p.pid for p in server.children() if "worker" in " ".join(p.cmdline())]

    sampling = asyncio.create_task(sampler.run(bot_pids, stop))
    results = await asyncio.gather(*(one_bot(base, meet, f"ben-c{chr(97 + n)}{chr(97 + i)}b-xyz", call)
                                     for i in range(n)))
    stop.set()
    await sampling
    baseline = await direct(base, mix, call)
    beside = await _direct_beside_a_bot(base, meet, f"ben-z{chr(97 + n)}zz-xyz", call, mix) if beside_too else []
    latency = [x for r in results for x in r["latency"]]
    named = {k: sum(r["attribution"][k] for r in results) for k in ("right", "wrong", "unnamed")}
    busy = [c for c in sampler.cpu if c > 0]
    return {
        "bots": n,
        "join_s": [round(r["join_s"], 1) for r in results],
        "first_caption_s": [round(r["first_caption_s"], 1) if r["first_caption_s"] else None for r in results],
        "bot_p50": _pct(latency, 50), "bot_p95": _pct(latency, 95), "bot_worst": round(max(latency), 2) if latency else None,
        "direct_p50": _pct(baseline, 50), "direct_p95": _pct(baseline, 95),
        "beside_p50": _pct(beside, 50), "beside_p95": _pct(beside, 95),
        "wer": [round(r["wer"], 3) for r in results], "named": named,
        "cpu_cores_per_bot": round(float(np.mean(busy)) / n, 2) if busy else None,
        "rss_mb_per_bot": round(max(sampler.rss) / n) if sampler.rss else None,
    }


async def crosstalk(n: int, base: str, meet, call) -> list[dict]:
    return [(await one_bot(base, meet, f"xtk-xtk{chr(97 + i)}-xtk", call))["attribution"] for i in range(n)]


def report(rows: list[dict], command: str, overlap: list[dict]) -> str:
    out = [
        HEADING,
        "",
        f"`{command}` — {machine()}. Each bot in its own stand-in Meet (waiting room, let in after 1 s), three "
        "participants taking turns (two LibriVox readers, one espeak voice); speaking rings lag the speech by "
        "0.3 s on, 0.8 s off. Latency: from the end of a line's speech to its final caption; *direct*: the same "
        "call's mix streamed straight into a session at real-time pace, alone, after the bots; *direct beside a bot*: "
        "the same, while one bot sits in a call of its own (what sharing the cores with a browser costs).",
        "",
        "| bots | join (POST → recording) | first caption | final latency p50 / p95 / worst | direct p50 / p95 | "
        "direct beside a bot p50 / p95 | "
        "WER | words named right / wrong / unnamed | CPU per bot | RSS per bot |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        n = r["named"]
        total = max(1, n["right"] + n["wrong"] + n["unnamed"])
        beside = f"{r['beside_p50']} / {r['beside_p95']} s" if r["beside_p50"] is not None else "—"
        out.append(
            f"| {r['bots']} | {', '.join(f'{x:.1f} s' for x in r['join_s'])} | "
            f"{', '.join(f'{x:.1f} s' if x else '—' for x in r['first_caption_s'])} | "
            f"{r['bot_p50']} / {r['bot_p95']} / {r['bot_worst']} s | {r['direct_p50']} / {r['direct_p95']} s | "
            f"{beside} | "
            f"{', '.join(str(w) for w in r['wer'])} | {n['right'] / total:.0%} / {n['wrong'] / total:.1%} / "
            f"{n['unnamed'] / total:.0%} | {r['cpu_cores_per_bot']} cores | {r['rss_mb_per_bot']} MB |"
        )
    if overlap:
        total = {k: sum(r[k] for r in overlap) for k in ("right", "wrong", "unnamed")}
        n = max(1, sum(total.values()))
        out += [
            "",
            f"Crosstalk, {len(overlap)} calls (`--crosstalk`): Bob starts 1 s before Ana ends, then Eve and Ana take "
            f"turns. Words named right / wrong / unnamed: {total['right'] / n:.1%} / {total['wrong'] / n:.1%} / "
            f"{total['unnamed'] / n:.1%} (target: wrong ≤ 2 %); wrong per call: "
            + ", ".join(f"{r['wrong']} of {r['right'] + r['wrong'] + r['unnamed']}" for r in overlap) + ".",
        ]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bots", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--crosstalk", type=int, default=0, metavar="N", help="also N calls where two talk at once")
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    from tests.bots.conftest import script
    from tests.fakemeet import FakeMeet

    clips, synth, tmp = _clips()
    call = script(tmp, _turns(clips, synth))
    mix = _mix(call)
    rows = []
    with FakeMeet() as meet, tempfile.TemporaryDirectory(prefix="bots-bench-data-") as data:
        proc, base = start_server(Path(data), env={"LIVETRANSLATE_MEET_BASE_URL": meet.base,
                                                   "LIVETRANSLATE_MAX_CONCURRENT_BOTS": str(max(args.bots))})
        try:
            for n in args.bots:
                rows.append(asyncio.run(run(n, base, proc.pid, meet, call, mix, n == 1)))
                print(json.dumps(rows[-1]), flush=True)
            overlap = asyncio.run(crosstalk(args.crosstalk, base, meet, _crosstalk(clips, synth, tmp)))
            print(json.dumps(overlap), flush=True)
        finally:
            proc.terminate()
            proc.wait(60)
    text = report(rows, "python bench/bots_bench.py " + " ".join(sys.argv[1:]), overlap)
    print(text)
    if args.write:
        write_section(args.write, HEADING, text)


if __name__ == "__main__":
    main()
