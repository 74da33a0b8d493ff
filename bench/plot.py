"""Plot final-caption latency against concurrent streams, one line per system.

    .venv/bin/python bench/plot.py docs/bench/streaming.json docs/bench/streaming-latency.png
The JSON is what `bench/stream_bench.py --json` writes (one object per system and N)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def plot(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for i, system in enumerate(sorted({r["system"] for r in rows})):
        mine = sorted((r for r in rows if r["system"] == system), key=lambda r: r["streams"])
        n = [r["streams"] for r in mine]
        color = f"C{i}"
        ax.plot(n, [r["final_p95"] for r in mine], marker="o", color=color, label=f"{system} final p95")
        ax.plot(n, [r["final_p50"] for r in mine], marker=".", linestyle="--", color=color, label=f"{system} final p50")
    ax.axhline(2.0, color="grey", linewidth=0.8, linestyle=":")
    ax.text(0.98, 2.0, "2 s target", transform=ax.get_yaxis_transform(), ha="right", va="bottom", color="grey")
    ax.set_yscale("log")
    ax.set_xlabel("concurrent real-time streams (2 CPU cores, tiny.en int8)")
    ax.set_ylabel("final caption latency after end of speech (s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)


if __name__ == "__main__":
    plot(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
