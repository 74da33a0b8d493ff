"""A server that asks for keys, shared by the modules that test keys and tenants: tenant acme's
admin key made before it starts, and globex's (another tenant on the same server)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import wave

import numpy as np
import pytest

from tests.conftest import pcm16, start_server, stop_server
from tests.speakers import corpus

LT = [sys.executable, "-m", "livetranslate"]


def _cli(data_dir, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LIVETRANSLATE_DATA_DIR": str(data_dir)}
    return subprocess.run([*LT, *args], env=env, capture_output=True, text=True, timeout=120)


def _as(key: str | None) -> dict:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _wav(audio: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm16(audio))
    return buf.getvalue()


@pytest.fixture(scope="package")
def two_voices() -> corpus.Conversation:
    return corpus.synthetic_conversation(2, seed=0)


def _speech_of(conv: corpus.Conversation, speaker: str) -> bytes:
    turns = [t for t in conv.turns if t.speaker == speaker][:3]
    return _wav(np.concatenate([conv.audio[int(t.start * 16000) : int(t.end * 16000)] for t in turns]))


@pytest.fixture(scope="package")
def keyed(tmp_path_factory):
    data = tmp_path_factory.mktemp("keyed-server")
    made = {tenant: _cli(data, "keys", "create", "--tenant", tenant, "--role", "admin", "--name", "ops")
            for tenant in ("acme", "globex")}
    assert all(m.returncode == 0 for m in made.values()), [m.stderr for m in made.values()]
    srv = start_server(data, LIVETRANSLATE_AUTH="keys", LIVETRANSLATE_LOG_LEVEL="debug",
                       LIVETRANSLATE_PRIVATE_URLS_ALLOWED='["127.0.0.1:9"]',  # the tests' webhook endpoint
                       # the tests sweep every route in a loop; test_limits gives its tenants their own limits
                       LIVETRANSLATE_KEY_REQUESTS_PER_S="1000", LIVETRANSLATE_TENANT_REQUESTS_PER_S="2000")
    srv.env["admin"] = made["acme"].stdout.strip()
    srv.env["globex"] = made["globex"].stdout.strip()
    srv.env["keys"] = [m.stdout.strip() for m in made.values()]  # every key made: none may be in the log
    yield srv
    stop_server(srv)
    log = (data / "server.log").read_text(errors="replace")
    assert "Bearer lt_" not in log
    leaked = [k for k in srv.env["keys"] if k in log or k[3:] in log]
    assert not leaked, "a key is in the server's log"
