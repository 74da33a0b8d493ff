"""LiveTranslate: real-time speech transcription for meetings and live voice, offline first."""

__version__ = "0.1.0"

__all__ = ["__version__"]
