"""Speakers: who said what — tracks and meeting events name speakers, voice clusters tell
them apart when nothing names them, voiceprints recognise enrolled voices across sessions."""

from livetranslate.speakers.clustering import VoiceClusters
from livetranslate.speakers.embedding import VoiceEncoder
from livetranslate.speakers.stage import SessionSpeakers, Speaker, Turn
from livetranslate.speakers.timeline import Timeline
from livetranslate.speakers.voiceprints import Voiceprint, VoiceprintBook

__all__ = [
    "SessionSpeakers", "Speaker", "Timeline", "Turn", "VoiceClusters", "VoiceEncoder", "Voiceprint", "VoiceprintBook",
]
