"""Runs ``livetranslate serve`` with a memory probe inside the server process (used by soak_bench.py).

    python bench/soak_probe.py OUT_DIR [--tracemalloc] -- [serve options]

Every ``--every`` seconds it appends one JSON line to OUT_DIR/probe.jsonl: the process's RSS,
glibc's heap as ``mallinfo2`` sees it (bytes in use by malloc'd blocks, bytes freed but kept,
bytes in mmapped blocks), and with ``--tracemalloc`` the bytes Python's own allocations hold,
plus a snapshot (OUT_DIR/snapshot-MIN.pickle) every ``--snapshot-every`` minutes. The question
it answers: when RSS grows, is something keeping objects (in use grows: a leak) or is the
allocator keeping what was freed (free grows: fragmentation)?
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _mallinfo():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        fn = libc.mallinfo2
    except (OSError, AttributeError):  # not glibc >= 2.33
        return None
    fn.restype = MallInfo2
    return fn


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def probe(out: Path, every: float, snapshot_every: float) -> None:
    mallinfo = _mallinfo()
    t0 = time.monotonic()
    next_snapshot = 0.0
    with (out / "probe.jsonl").open("a") as log:
        while True:
            t = time.monotonic() - t0
            row = {"t": round(t, 1), "wall": time.time(), "rss": _rss()}
            if mallinfo:
                m = mallinfo()
                row |= {"heap_in_use": m.uordblks, "heap_free": m.fordblks, "mmapped": m.hblkhd, "arena": m.arena}
            if tracemalloc.is_tracing():
                row["python_traced"] = tracemalloc.get_traced_memory()[0]
                if t >= next_snapshot:
                    tracemalloc.take_snapshot().dump(str(out / f"snapshot-{int(t // 60):03d}.pickle"))
                    next_snapshot += snapshot_every * 60
            log.write(json.dumps(row) + "\n")
            log.flush()
            time.sleep(every)


def main() -> None:
    argv = sys.argv[1:]
    serve_args = argv[argv.index("--") + 1:] if "--" in argv else []
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--tracemalloc", action="store_true", help="trace Python's allocations (slower)")
    ap.add_argument("--every", type=float, default=10.0)
    ap.add_argument("--snapshot-every", type=float, default=5.0, help="minutes")
    args = ap.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.tracemalloc:
        tracemalloc.start(15)
    threading.Thread(target=probe, args=(args.out, args.every, args.snapshot_every),
                     name="soak-probe", daemon=True).start()
    from livetranslate.cli import app

    app(["serve", *serve_args], prog_name="livetranslate")


if __name__ == "__main__":
    main()
