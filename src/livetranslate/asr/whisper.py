"""The Whisper model (faster-whisper / CTranslate2): loaded once, called from worker threads.

Each item is one utterance (shorter than Whisper's 30 s window), so the loop is simple and
bounded: encode (by default only the utterances' own frames, several times cheaper than the
padded 30 s window), generate without timestamps with a bounded token count, align words,
and reject what looks like a hallucination. Utterances of different sessions are decoded
together in one batch.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from livetranslate.asr.guard import looks_broken, rejection
from livetranslate.asr.models import BUNDLED, model_path
from livetranslate.errors import UnsupportedLanguage

log = logging.getLogger(__name__)

_MARGIN_FRAMES = 100  # 1 s of padding after the utterance when encoding its own frames
_MIN_FRAMES = 1000  # never encode less than 10 s: shorter windows lost accuracy on short utterances


@dataclass(frozen=True)
class DecodeOptions:
    language: str | None = "en"
    """Spoken language; None detects it per utterance (multilingual models)."""
    candidates: tuple[str, ...] | None = None
    """When detecting: only these languages (the ones a meeting is expected to use)."""
    prior: str | None = None
    """When detecting: the language of the previous utterance, kept when detection is unsure."""
    task: str = "transcribe"
    """``transcribe``, or ``translate``: Whisper's own speech-to-English translation."""
    beam_size: int = 1
    word_timestamps: bool = True
    fallback: bool = True
    """Retry once with sampling when greedy output repeats itself (finals only)."""


@dataclass
class WordTiming:
    word: str
    start: float
    end: float
    probability: float


@dataclass
class Transcription:
    text: str
    language: str | None
    words: list[WordTiming] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    rejected: str | None = None
    """Why the guard dropped the text (hallucination), or None when it is kept."""


class WhisperAsr:
    def __init__(
        self,
        model: str = "tiny.en",
        *,
        models_dir: Path = Path("data/models"),
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        workers: int = 1,
        encoder_window: str = "audio",
    ) -> None:
        from faster_whisper import WhisperModel

        self.path = model_path(model, models_dir)
        self.name = model if model in BUNDLED else self.path.name
        self._model = WhisperModel(
            str(self.path), device=device, compute_type=compute_type, cpu_threads=cpu_threads, num_workers=workers
        )
        self._encoder_window = encoder_window
        self._tokenizers: dict[tuple[str | None, str], object] = {}
        self._lock = threading.Lock()
        self.multilingual = self._model.model.is_multilingual
        self.languages: tuple[str, ...] = tuple(self._model.supported_languages) if self.multilingual else ("en",)

    def check_language(self, language: str | None) -> None:
        if language is not None and language not in self.languages:
            raise UnsupportedLanguage(
                f"language {language!r} is not supported by model {self.name!r}; supported: {', '.join(self.languages)}"
            )

    def _tokenizer(self, language: str | None, task: str = "transcribe"):
        from faster_whisper.tokenizer import Tokenizer

        with self._lock:
            tok = self._tokenizers.get((language, task))
            if tok is None:
                tok = Tokenizer(self._model.hf_tokenizer, self.multilingual, task=task, language=language)
                self._tokenizers[(language, task)] = tok
            return tok

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> Transcription:
        return self.transcribe_batch([(audio, options)])[0]

    def transcribe_batch(self, items: list[tuple[np.ndarray, DecodeOptions]]) -> list[Transcription]:
        """Decode several utterances (of any sessions) in one encoder pass and one decoder
        batch. On this CPU the decoder's cost per item falls from 0.12 s alone to 0.04 s in
        a batch of four; the encoder's does not change. Items must share ``beam_size``."""
        from faster_whisper.audio import pad_or_trim

        beam_size = items[0][1].beam_size
        if any(o.beam_size != beam_size for _, o in items):
            raise ValueError("a batch must share beam_size")
        fe = self._model.feature_extractor
        features = [fe(audio) for audio, _ in items]
        n_frames = [f.shape[-1] - 1 for f in features]
        window = fe.nb_max_frames
        if self._encoder_window == "audio":
            window = min(window, max(max(n_frames) + _MARGIN_FRAMES, _MIN_FRAMES))
        short = window < fe.nb_max_frames
        batch = np.stack([pad_or_trim(f[:, :n], window) for f, n in zip(features, n_frames)])
        encoded = self._model.encode(batch)

        languages = [o.language if self.multilingual else "en" for _, o in items]
        if None in languages:
            detected = self._model.model.detect_language(encoded)
            languages = [lang or _pick_language(detected[i], o) for i, (lang, (_, o)) in enumerate(zip(languages, items))]
        tokenizers = [self._tokenizer(lang, o.task) for lang, (_, o) in zip(languages, items)]
        prompts = [list(tok.sot_sequence) + [tok.no_timestamps] for tok in tokenizers]
        longest = max(audio.size for audio, _ in items) / 16000
        results = self._model.model.generate(
            encoded, prompts, beam_size=beam_size, **_generate_kwargs(tokenizers[0], len(prompts[0]), longest)
        )
        out: list[Transcription | None] = [None] * len(items)
        aligned: list[tuple[int, list[int]]] = []  # (item, text tokens) whose words are found in one batch
        for i, ((audio, options), tok, result) in enumerate(zip(items, tokenizers, results)):
            tokens, text = _decode(tok, result.sequences_ids[0])
            if looks_broken(text) and (short or options.fallback):
                # the short window can derail, and greedy decoding can loop: decode this one
                # again alone, with the padded window and, for finals, sampling
                out[i] = self._retry(audio, options, languages[i], features[i], n_frames[i], short)
                continue
            out[i] = _transcription(tokens, text, result, languages[i])
            if _wants_words(out[i], options, tokens):
                aligned.append((i, tokens))
        self._align(aligned, out, tokenizers, encoded, n_frames, len(items))
        return out

    def _retry(self, audio, options, language, features, n_frames, short) -> Transcription:
        from faster_whisper.audio import pad_or_trim

        tok = self._tokenizer(language, options.task)
        prompt = list(tok.sot_sequence) + [tok.no_timestamps]
        encoded = self._model.encode(pad_or_trim(features[:, :n_frames]))
        kwargs = _generate_kwargs(tok, len(prompt), audio.size / 16000)
        result = self._model.model.generate(encoded, [prompt], beam_size=options.beam_size, **kwargs)[0]
        tokens, text = _decode(tok, result.sequences_ids[0])
        if options.fallback and looks_broken(text):
            result = self._model.model.generate(
                encoded, [prompt], beam_size=1, sampling_temperature=0.5, sampling_topk=0, **kwargs
            )[0]
            tokens, text = _decode(tok, result.sequences_ids[0])
        out = _transcription(tokens, text, result, language)
        if _wants_words(out, options, tokens):
            self._align([(0, tokens)], [out], [tok], encoded, [n_frames], 1)
        return out

    def _align(self, todo, out, tokenizers, encoded, n_frames, batch_size) -> None:
        """Word timings of the items ``todo`` (index, text tokens) from one alignment pass per
        tokenizer over their rows of ``encoded`` (one pass for a batch costs about what one item alone does)."""
        groups: dict[int, list[tuple[int, list[int]]]] = {}
        for i, tokens in todo:
            groups.setdefault(id(tokenizers[i]), []).append((i, tokens))
        encoded_np = None
        for group in groups.values():
            rows = [i for i, _ in group]
            if len(rows) == batch_size:
                view = encoded
            else:
                encoded_np = np.asarray(encoded) if encoded_np is None else encoded_np
                view = _rows(encoded_np, rows)
            tok = tokenizers[rows[0]]
            alignments = self._model.find_alignment(tok, [t for _, t in group], view, [n_frames[i] for i in rows])
            for i, words in zip(rows, alignments):
                out[i].words = [
                    WordTiming(
                        word=a["word"], start=round(float(a["start"]), 3), end=round(float(a["end"]), 3),
                        probability=round(float(a["probability"]), 4),
                    )
                    for a in words
                    if a["word"].strip()
                ]


def _transcription(tokens: list[int], text: str, result, language: str | None) -> Transcription:
    from faster_whisper.transcribe import get_compression_ratio

    out = Transcription(
        text=text,
        language=language,
        avg_logprob=float(result.scores[0] * len(tokens) / (len(tokens) + 1)) if tokens else -10.0,
        no_speech_prob=float(result.no_speech_prob),
        compression_ratio=float(get_compression_ratio(text)) if text else 0.0,
    )
    out.rejected = rejection(out)
    return out


def _wants_words(out: Transcription, options: DecodeOptions, tokens: list[int]) -> bool:
    return bool(tokens) and not out.rejected and options.word_timestamps and options.task == "transcribe"


_UNSURE = 0.5


def _pick_language(probabilities: list[tuple[str, float]], options: DecodeOptions) -> str:
    """The most probable language among the candidates; the previous utterance's language
    when that is below ``_UNSURE`` (a short "okay" should not switch a Spanish speaker to
    English), and the candidates' first when none of them was ranked at all."""
    ranked = [(token[2:-2], p) for token, p in probabilities]
    if options.candidates:
        ranked = [(lang, p) for lang, p in ranked if lang in options.candidates] or [(options.candidates[0], 0.0)]
    lang, p = ranked[0]
    if p < _UNSURE and options.prior is not None and (not options.candidates or options.prior in options.candidates):
        return options.prior
    return lang


def _generate_kwargs(tok, prompt_len: int, audio_s: float) -> dict:
    """Greedy-decode options: no timestamps, scores for the guard, and a token bound (fast
    speech is ~4 tokens/s) so a derailed decode never stalls for tens of seconds."""
    from faster_whisper.transcribe import get_suppressed_tokens

    return dict(
        max_length=min(448, prompt_len + int(12 + audio_s * 8)),
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tok, [-1]),
    )


def _decode(tok, ids: list[int]) -> tuple[list[int], str]:
    """The text tokens of a decode's ``ids`` and their text. The token bound can stop a decode inside a
    character whose UTF-8 bytes span several tokens: those trailing tokens are dropped, so
    no U+FFFD (the tokenizer's stand-in for incomplete bytes) is ever published."""
    tokens = [t for t in ids if t < tok.eot]
    text = tok.decode(tokens)
    while tokens and text.endswith("\ufffd"):
        tokens.pop()
        text = tok.decode(tokens)
    return tokens, text.strip()


def _rows(encoded: np.ndarray, rows: list[int]):
    import ctranslate2

    return ctranslate2.StorageView.from_array(np.ascontiguousarray(encoded[rows]))
