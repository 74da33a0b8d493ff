"""Conversations with known speakers, and how to score attribution against them.

* :func:`pyannote_call` — a real 30 s two-speaker telephone call with ground truth (who
  spoke when, and the words of each turn), from the ``pyannote-audio`` wheel: downloaded
  once with ``pip download --no-deps`` into ``data/test-corpora`` and only the sample
  files unzipped (the package is never installed).
* :func:`synthetic_conversation` — turns spoken by different espeak-ng voices, joined with
  short gaps (sometimes none: back-to-back turns inside one utterance), times known exactly.

Scoring: :func:`der` (diarization error rate, ``pyannote.metrics``, with the usual 0.25 s
collar and overlaps kept) and :func:`word_accuracy` (share of recognised words whose
speaker, under the best one-to-one mapping of hypothesis speakers onto true ones, is the
one who said them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "data" / "test-corpora"
SR = 16000


@dataclass(frozen=True)
class Turn:
    speaker: str
    start: float
    end: float
    text: str = ""


@dataclass
class Conversation:
    name: str
    audio: np.ndarray  # 16 kHz mono float32
    turns: list[Turn]

    @property
    def speakers(self) -> list[str]:
        return sorted({t.speaker for t in self.turns})

    def speaker_at(self, t: float) -> str | None:
        """Who speaks at ``t`` (the turn whose span is nearest, for times in gaps)."""
        inside = [turn for turn in self.turns if turn.start <= t <= turn.end]
        if len(inside) == 1:
            return inside[0].speaker
        if inside:  # overlap: nobody in particular
            return None
        nearest = min(self.turns, key=lambda turn: min(abs(turn.start - t), abs(turn.end - t)))
        return nearest.speaker if min(abs(nearest.start - t), abs(nearest.end - t)) < 0.5 else None


# --- the real call


def pyannote_call(cache: Path = CACHE) -> Conversation:
    """pyannote's sample call: two speakers (Diane, Sheila), 30 s, with an overlap."""
    from livetranslate.audio import decode_file

    folder = cache / "pyannote-sample"
    files = [folder / f"sample.{ext}" for ext in ("wav", "rttm", "stm")]
    if not all(f.is_file() for f in files):
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", tmp, "pyannote-audio>=3"],
                check=True,
            )
            wheel = next(Path(tmp).glob("pyannote_audio-*.whl"))
            with zipfile.ZipFile(wheel) as z:
                for f in files:
                    with z.open(f"pyannote/audio/sample/{f.name}") as src, f.open("wb") as dst:
                        shutil.copyfileobj(src, dst)
    # the stm has the words of each turn, with names; its turns are finer than the rttm's
    turns = []
    for line in (folder / "sample.stm").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6:
            turns.append(Turn(parts[2], float(parts[3]), float(parts[4]), parts[5]))
    return Conversation("pyannote-call", decode_file(folder / "sample.wav"), turns)


def rttm_turns(path: Path) -> list[Turn]:
    out = []
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            out.append(Turn(f[7], float(f[3]), float(f[3]) + float(f[4])))
    return out


# --- synthetic conversations

VOICES = ["en-us+m3", "en-gb-scotland+f4", "en-us+edward", "en-us+Andy", "en-us+belinda", "en-us+klatt"]
"""espeak-ng voices chosen to sound apart to the voice encoder (mean cosine between two of
them 0.58–0.76; between two lines of one voice 0.91–0.94)."""
LINES = [
    "Good morning everyone, let's start with the quarterly numbers.",
    "Sales are up eight percent, mostly from the new contracts in the north.",
    "That's great news. What about the costs on the warehouse project?",
    "They went over budget by about twelve thousand dollars last month.",
    "Can we move the deadline for the report to next Friday?",
    "I think that works, as long as legal has signed off by then.",
    "Who is going to present the results to the board?",
    "I can do it, but I will need the slides by Wednesday morning.",
    "Let's also schedule a follow up call with the design team.",
    "Sounds good. I will send the invitation after this meeting.",
    "One more thing, the customer survey closes on Thursday.",
    "Thanks everyone, that's all for today.",
]


def _speak(text: str, voice: str, out: Path) -> np.ndarray:
    from livetranslate.audio import decode_file

    subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(out), text], check=True)
    audio = decode_file(out)
    voiced = np.flatnonzero(np.abs(audio) > 0.01)  # espeak pads with silence: keep the speech
    return audio[max(voiced[0] - 800, 0) : voiced[-1] + 800] if voiced.size else audio


def synthetic_conversation(
    speakers: int, turns: int = 12, *, seed: int = 0, gaps: tuple[float, ...] = (0.15, 0.4, 1.0)
) -> Conversation:
    """``turns`` lines, spoken in turn by ``speakers`` espeak-ng voices (never the same voice
    twice in a row), separated by gaps drawn from ``gaps`` (short ones keep two speakers
    inside one VAD utterance)."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is missing: run `make test` (it installs the test packages)")
    rng = np.random.default_rng(seed)
    voices = VOICES[:speakers]
    order, last = [], None
    for _ in range(turns):
        who = int(rng.choice([v for v in range(speakers) if v != last]))
        order.append(who)
        last = who
    parts = [np.zeros(SR // 2, np.float32)]
    t = 0.5
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, who in enumerate(order):
            text = LINES[(i + seed) % len(LINES)]
            audio = _speak(text, voices[who], Path(tmp) / f"{i}.wav")
            out.append(Turn(f"voice{who + 1}", round(t, 3), round(t + audio.size / SR, 3), text))
            gap = float(rng.choice(gaps))
            parts += [audio, np.zeros(int(gap * SR), np.float32)]
            t += audio.size / SR + gap
    parts.append(np.zeros(SR, np.float32))
    return Conversation(f"espeak-{speakers}spk-{seed}", np.concatenate(parts), out)


# --- scoring


@dataclass
class HypWord:
    word: str
    start: float
    end: float
    speaker: str | None


def der(reference: list[Turn], hypothesis: list[Turn], collar: float = 0.25) -> float:
    """Diarization error rate (missed speech + false alarm + confusion) / reference speech."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for i, t in enumerate(reference):
        ref[Segment(t.start, t.end), i] = t.speaker
    for i, t in enumerate(hypothesis):
        if t.end > t.start:
            hyp[Segment(t.start, t.end), i] = t.speaker or "unknown"
    return float(DiarizationErrorRate(collar=collar, skip_overlap=False)(ref, hyp))


def word_accuracy(conversation: Conversation, words: list[HypWord]) -> tuple[float, dict[str, str]]:
    """Share of words attributed to the right person under the best one-to-one mapping of
    hypothesis speakers onto true ones (words in overlaps are not counted). Returns the
    accuracy and the mapping."""
    from scipy.optimize import linear_sum_assignment

    pairs = []
    for w in words:
        truth = conversation.speaker_at((w.start + w.end) / 2)
        if truth is not None:
            pairs.append((truth, w.speaker or "?"))
    if not pairs:
        return 0.0, {}
    true_ids = sorted({p[0] for p in pairs})
    hyp_ids = sorted({p[1] for p in pairs})
    counts = np.zeros((len(hyp_ids), len(true_ids)))
    for truth, hyp in pairs:
        counts[hyp_ids.index(hyp), true_ids.index(truth)] += 1
    rows, cols = linear_sum_assignment(-counts)
    mapping = {hyp_ids[r]: true_ids[c] for r, c in zip(rows, cols)}
    right = sum(counts[r, c] for r, c in zip(rows, cols))
    return float(right / len(pairs)), mapping


def normalize_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())
