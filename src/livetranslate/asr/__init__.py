"""Streaming ASR: utterances from the VAD, decoded by the shared Whisper engine."""

from livetranslate.asr.engine import AsrEngine, Priority
from livetranslate.asr.streaming import SegmenterOptions, Utterance, UtteranceSegmenter
from livetranslate.asr.whisper import DecodeOptions, Transcription, WhisperAsr, WordTiming

__all__ = [
    "AsrEngine",
    "DecodeOptions",
    "Priority",
    "SegmenterOptions",
    "Transcription",
    "Utterance",
    "UtteranceSegmenter",
    "WhisperAsr",
    "WordTiming",
]
