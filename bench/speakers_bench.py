"""Speakers benchmark: who said what, on a real call, one reader, single voices and
synthetic meetings — a tuning part and a held-out part (``corpus.cases``).

For each recording the session's own data path runs — VAD utterances, tiny.en with word
timings, voice windows, the speakers stage — and is scored against the truth:

* **speaker count right**: share of conversations where as many speakers were found as
  there are; **one voice, one speaker**: the same over single-speaker recordings;
* **word accuracy**: share of recognised words attributed to the person who said them,
  under the best one-to-one mapping of found speakers onto true ones;
* **DER**: diarization error rate (pyannote.metrics, 0.25 s collar, overlaps scored);
* **EER** of the voice encoder itself: true turns of the recordings embedded whole, every
  pair of turns of one recording scored by cosine, same speaker against different speakers;
* **with meeting events** (the real call and the tuning meetings): the meeting's
  active-speaker indicator — exact, 1 s late, only for one participant, or everyone on at
  once (crosstalk) — counting words named right, named wrong and left unnamed;
* **added cost** per final: embedding its voice windows plus attribution (the stage runs
  beside Whisper; this is CPU time the session spends on speakers).

    .venv/bin/python bench/speakers_bench.py            # prints and writes BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stream_bench import machine, write_section  # noqa: E402

from livetranslate.events import Participant, SpeakerTimelineEvent  # noqa: E402
from livetranslate.settings import Settings  # noqa: E402
from livetranslate.speakers import clustering  # noqa: E402
from livetranslate.speakers.embedding import WINDOW_S  # noqa: E402
from tests.speakers import corpus, harness  # noqa: E402

NAMES = {f"voice{i}": n for i, n in enumerate(["Alice", "Bob", "Carol", "Dan", "Eve"], 1)} | {
    "Diane": "Diane", "Sheila": "Sheila", "reader": "Reader"}


def indicator(conv: corpus.Conversation, shift: float = 0.0, only: str | None = None) -> list[SpeakerTimelineEvent]:
    out = []
    for t in conv.turns:
        if only is None or t.speaker == only:
            p = Participant(id=t.speaker, name=NAMES[t.speaker])
            out += [SpeakerTimelineEvent(kind="on", participant=p, time=max(t.start + shift, 0.0)),
                    SpeakerTimelineEvent(kind="off", participant=p, time=max(t.end + shift, 0.0))]
    return out


def crosstalk(conv: corpus.Conversation) -> list[SpeakerTimelineEvent]:
    end = conv.audio.size / 16000
    return [SpeakerTimelineEvent(kind=k, participant=Participant(id=s, name=NAMES[s]), time=t)
            for s in conv.speakers for k, t in (("on", 0.0), ("off", end))]


def eer(conversations: list[corpus.Conversation], encoder) -> tuple[float, int, int]:
    """Equal error rate of the voice encoder on pairs of true turns (at least 1 s long) of
    each recording: (EER, same-speaker pairs, different-speaker pairs)."""
    same, other = [], []
    for conv in conversations:
        turns = [t for t in conv.turns if t.end - t.start >= 1.0]
        vectors = [encoder.embed(conv.audio[int(t.start * 16000) : int(t.end * 16000)]) for t in turns]
        for i in range(len(turns)):
            for j in range(i + 1, len(turns)):
                (same if turns[i].speaker == turns[j].speaker else other).append(float(vectors[i] @ vectors[j]))
    same, other = np.array(same), np.array(other)
    best = min(np.unique(np.concatenate([same, other])),
               key=lambda t: abs((same < t).mean() - (other >= t).mean()))
    return float(((same < best).mean() + (other >= best).mean()) / 2), same.size, other.size


def voice_gap(conv: corpus.Conversation, finals: list[harness.Final]) -> float:
    """How far apart the recording's voices are, in the clustering's own measure
    (``clustering.separation``, units of a voice's spread), from its voice windows labelled
    with the truth: the closest pair of true speakers; for one speaker, the clusterer's own
    split of it in two (what one voice cut in two looks like). The clustering can tell
    speakers apart only where the first is above the second."""
    x = np.concatenate([f.windows[0] for f in finals])
    times = np.concatenate([f.start + f.windows[1] + WINDOW_S / 2 for f in finals])
    truth = np.array([conv.speaker_at(t) or "" for t in times])
    similarity = x @ x.T
    far = np.abs(times[:, None] - times[None, :]) >= clustering._SHARED_S
    voices = sorted(set(truth) - {""})
    if len(voices) == 1:
        split = clustering._refine(x, clustering._clusterer(2).predict(x))
        return clustering.separation(similarity, far, split == split[0], split != split[0])
    return min(clustering.separation(similarity, far, truth == a, truth == b)
               for i, a in enumerate(voices) for b in voices[i + 1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="tuning meetings per speaker count")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    from livetranslate.asr import AsrEngine
    from livetranslate.speakers import VoiceEncoder
    from livetranslate.vad import SileroVad

    s = Settings()
    asr, vad, encoder = AsrEngine.from_settings(s).asr, SileroVad(), VoiceEncoder()
    rows, meeting_rows, costs, convs = [], [], [], []
    for case in corpus.cases(args.seeds):
        started = time.perf_counter()
        conv = case.make()
        convs.append(conv)
        finals = harness.prepare(conv, asr, vad, encoder)
        result = harness.replay(finals)
        accuracy, der, found = result.score(conv)
        costs += result.seconds_per_utterance
        rows.append((case, conv, accuracy, der, found, len(finals), voice_gap(conv, finals)))
        print(f"{case.name}: {found}/{len(conv.speakers)} speakers, word accuracy {accuracy:.3f}, DER {der:.3f} "
              f"({time.perf_counter() - started:.1f} s)", flush=True)
        if case.held_out or not case.name.startswith(("pyannote", "espeak")):
            continue
        scenarios = {
            "exact": dict(events=indicator(conv)),
            "1 s late": dict(events=indicator(conv, 1.0)),
            "after the audio": dict(late_events=indicator(conv)),
            "one participant only": dict(events=indicator(conv, only=conv.speakers[0])),
            "crosstalk": dict(events=crosstalk(conv)),
        }
        for label, kw in scenarios.items():
            r = harness.replay(finals, **kw)
            right, wrong, unnamed = r.named_words(conv, NAMES)
            meeting_rows.append((conv.name, label, right, wrong, unnamed, len(r.wrong_turns(conv, NAMES))))
    rate, n_same, n_other = eer(convs, encoder)
    print(f"EER {rate:.3f} ({n_same} same, {n_other} different)")
    report = "\n".join(_report(rows, meeting_rows, costs, (rate, n_same, n_other)))
    print(report)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", "## Speakers", report, before="## Memory")


def _summary(label: str, rows: list) -> str:
    multi = [r for r in rows if len(r[1].speakers) > 1]
    single = [r for r in rows if len(r[1].speakers) == 1]
    right = sum(r[4] == len(r[1].speakers) for r in multi)
    alone = sum(r[4] == 1 for r in single)
    return (f"| **{label}** | {right}/{len(multi)} conversations right, {alone}/{len(single)} single voices one speaker | "
            f"{np.mean([r[2] for r in rows]) * 100:.1f} % | {np.mean([r[3] for r in multi]) * 100:.1f} % (meetings) | | |")


def _floor(rows) -> str:
    """Held-out conversations right, apart by whether their voices are further apart than a
    single voice's own split: what the clustering gets wrong against what the encoder cannot tell."""
    widest = max(r[6] for r in rows if len(r[1].speakers) == 1)
    held = [r for r in rows if r[0].held_out and len(r[1].speakers) > 1]
    apart = [r for r in held if r[6] > widest]
    close = [r for r in held if r[6] <= widest]

    def right(sel):
        return f"{sum(r[4] == len(r[1].speakers) for r in sel)}/{len(sel)}"

    return (f"**Where the floor is**: the widest split of a single voice is {widest:.2f}. Held-out conversations "
            f"whose closest two voices are further apart than that: {right(apart)} right; those whose closest "
            f"voices are not: {right(close)} — there the encoder puts two people as close as one voice is to "
            "itself, and no threshold on this measure tells them apart without splitting single voices.")


def _report(rows, meeting_rows, costs, eer_figures) -> list[str]:
    rate, n_same, n_other = eer_figures
    lines = [
        "## Speakers (issues 5, 13)",
        "",
        f"`bench/speakers_bench.py` on {machine()}; tiny.en int8, Resemblyzer voice encoder (ONNX), "
        "1.6 s windows every 0.4 s, spectral clustering (Wang et al. 2018, `spectralcluster`) proposing two "
        f"clusters or more, refined as k-means would, merged until every pair is {Settings().speaker_separation} "
        "apart in units of the session's own voice spread "
        "(`speakers/clustering.py`; no absolute cosine threshold). Recordings: the real call (pyannote), one "
        "LibriVox reader (5 clips, 0.9 s gaps), single espeak-ng voices reading a passage, the man/woman case "
        "of issue 13 (one Klatt voice at a man's and a woman's pitch, turns with pauses), and meetings of 2–5 "
        "espeak-ng voices with 0.15–1 s gaps (several speakers in one VAD utterance), long turns and overlaps. "
        "**Held out**: other voices and seeds than tuning (`corpus.cases`). Held out 1 was never run while "
        "the clustering was first tuned; its results and voice separations were seen when the k-means "
        "refinement was chosen (it raised both parts). Held out 2 (voices in neither list) was first run for "
        "these figures, after the last change.",
        "",
        f"**Voice encoder**: EER {rate * 100:.1f} % on pairs of true turns ({n_same} same-speaker, {n_other} "
        "different-speaker pairs). Resemblyzer stays: no stronger speaker-embedding model ships its weights in a "
        "package here (PyPI, npm, Debian searched for ECAPA-TDNN, WeSpeaker, CAM++, TitaNet, x-vector; every "
        "candidate downloads its weights at run time).",
        "",
        "*voices apart*: the closest two true speakers' separation, in the clustering's own measure (units of "
        "a voice's spread); for one voice, *split*: the clusterer's own cut of it in two. Two speakers can be "
        f"told apart only above the threshold ({Settings().speaker_separation}) and a single voice stays one "
        "only below it.",
        "",
        "| recording | part | speakers found / true | word accuracy | DER | finals | voices apart |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for case, conv, accuracy, der, found, n, gap in rows:
        part = case.part
        gap_text = f"split {gap:.2f}" if len(conv.speakers) == 1 else f"{gap:.2f}"
        lines.append(f"| {case.name} | {part} | {found} / {len(conv.speakers)} | {accuracy * 100:.1f} % | "
                     f"{der * 100:.1f} % | {n} | {gap_text} |")
    for part in ("tuning", "held out 1", "held out 2"):
        lines.append(_summary(part, [r for r in rows if r[0].part == part]))
    lines += ["", _floor(rows)]
    lines += [
        "",
        "**With the meeting's active-speaker indicator** (real call and tuning meetings; words named right / "
        "wrong / unnamed; finals whose name is not who said most of their words):",
        "",
        "| scenario | right | wrong | unnamed | wrong finals |",
        "|---|---:|---:|---:|---:|",
    ]
    for label in ("exact", "1 s late", "after the audio", "one participant only", "crosstalk"):
        sel = [r for r in meeting_rows if r[1] == label]
        right, wrong, unnamed, bad = (sum(r[i] for r in sel) for i in (2, 3, 4, 5))
        total = right + wrong + unnamed
        lines.append(f"| {label} | {right / total * 100:.1f} % | {wrong / total * 100:.1f} % | "
                     f"{unnamed / total * 100:.1f} % | {bad} |")
    call = [r for r in meeting_rows if r[0] == "pyannote-call"]
    lines += [
        "",
        "The real call with its exact indicator: " + ", ".join(
            f"{r[2]} words named right, {r[3]} wrong, {r[4]} unnamed" for r in call[:1]
        ) + " (its turns are short and overlapping: many finals mix both voices, and a final the "
        "indicator does not clearly give to one person keeps no name).",
        "",
        f"**Added cost per final** (voice windows + attribution, {len(costs)} finals): "
        f"mean {np.mean(costs) * 1000:.0f} ms, p95 {np.percentile(costs, 95) * 1000:.0f} ms — it runs while "
        "Whisper decodes the same utterance.",
        "",
    ]
    return lines


if __name__ == "__main__":
    main()
