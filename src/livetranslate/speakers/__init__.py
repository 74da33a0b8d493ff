"""Speakers: who said what (voice embeddings so far; attribution arrives with issue 5)."""

from livetranslate.speakers.embedding import VoiceEncoder

__all__ = ["VoiceEncoder"]
