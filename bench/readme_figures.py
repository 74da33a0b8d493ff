"""The README's headline figures, taken from BENCHMARKS.md (the one place figures live).

    .venv/bin/python bench/readme_figures.py          # rewrite the block in README.md
    .venv/bin/python bench/readme_figures.py --check  # exit 1 when README.md disagrees

The block sits between ``<!-- figures -->`` and ``<!-- /figures -->``; every benchmark that
writes BENCHMARKS.md runs this afterwards, and a test checks the two never drift apart.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- figures -->", "<!-- /figures -->"


def tables(markdown: str) -> dict[str, list[dict[str, str]]]:
    """Each markdown table of the text, keyed by the heading (##) it sits under plus its first
    header cell: rows as {header: cell}."""
    out: dict[str, list[dict[str, str]]] = {}
    heading, header = "", None
    for line in markdown.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            key = f"{heading}/{header[0]}"
            out[key] = []
        elif not set("".join(cells)) <= set("-: "):
            out[key].append(dict(zip(header, cells)))
    return out


def _row(rows: list[dict[str, str]], **match) -> dict[str, str]:
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    raise KeyError(f"no row {match} in BENCHMARKS.md")


def figures(benchmarks: str) -> str:
    t = tables(benchmarks)
    stream = t["Streaming (issue: core)/system"]
    one = _row(stream, system="livetranslate", streams="1")
    sustained = re.search(r"livetranslate: sustains \*\*(\d+)\*\*", benchmarks).group(1)
    peer = re.search(r"whisperlive: sustains \*\*(\d+)\*\*", benchmarks).group(1)
    peer_one = _row(stream, system="whisperlive", streams="1")
    engines = t["Translation (issue: translation)/engine"]
    en_es = _row(engines, engine="apertium en→es")
    en_fr = _row(engines, engine="apertium en→fr (via es)")
    live = [r for r in t["Translation (issue: translation)/pair"] if r["engine"] == "apertium"]
    p50s = sorted(int(r["p50 ms"]) for r in live)
    speakers = t["Speakers (issues 5, 13)/recording"]
    call = _row(speakers, recording="pyannote-call")
    held = _row(speakers, recording="**held out 2**")
    return "\n".join([
        "| what (2-core CPU, tiny.en int8; from [BENCHMARKS.md](BENCHMARKS.md)) | figure |",
        "|---|---|",
        f"| caption final after speech ends, one stream (p50 / p95) | {one['final p50 (s)']} s / {one['final p95 (s)']} s "
        f"(WhisperLive: {peer_one['final p50 (s)']} s / {peer_one['final p95 (s)']} s) |",
        f"| word error rate, streamed | {one['WER']} |",
        f"| concurrent real-time streams sustained (final p95 ≤ 2 s, no final lost; one quiet run, spread in BENCHMARKS.md) | {sustained} (WhisperLive: {peer}) |",
        f"| Apertium per caption, en→es / en→fr via Spanish (p50) | {en_es['p50 ms / sentence']} ms / "
        f"{en_fr['p50 ms / sentence']} ms (chrF en→es {en_es['chrF']}) |",
        f"| a final's translations arrive after it, live (p50, {len(live)} targets) | {p50s[0]}–{p50s[-1]} ms |",
        f"| speakers: real two-speaker call / held-out synthetic meetings (DER) | {call['DER']} / "
        f"{next(v for v in held.values() if '(meetings)' in v).replace(' (meetings)', '')} |",  # its DER cell
    ])


def render(readme: str, benchmarks: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{figures(benchmarks)}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether README.md is up to date")
    args = parser.parse_args()
    readme_path = ROOT / "README.md"
    readme, benchmarks = readme_path.read_text(), (ROOT / "BENCHMARKS.md").read_text()
    wanted = render(readme, benchmarks)
    if args.check:
        if wanted != readme:
            print("README.md's figures differ from BENCHMARKS.md: run bench/readme_figures.py", file=sys.stderr)
            return 1
        return 0
    readme_path.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
