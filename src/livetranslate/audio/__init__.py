"""Audio in: decode and resample every accepted input to 16 kHz mono float32."""

from livetranslate.audio.decode import (
    SAMPLE_RATE, Decoder, Resampler, StreamInput, decode_file, make_decoder, to_pcm16,
)

__all__ = ["SAMPLE_RATE", "Decoder", "Resampler", "StreamInput", "decode_file", "make_decoder", "to_pcm16"]
