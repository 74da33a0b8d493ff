"""``livetranslate serve`` refuses, before loading any model, what would break a running one:
a second server on the same data directory, or on a port already taken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from websockets.sync.client import connect

from tests.conftest import start_server, stop_server


def _serve(data_dir, port: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "LIVETRANSLATE_DATA_DIR": str(data_dir), "LIVETRANSLATE_PORT": str(port)}
    return subprocess.run([sys.executable, "-m", "livetranslate", "serve"], env=env, capture_output=True, text=True,
                          timeout=60)


def test_a_second_server_on_the_same_data_directory_is_refused_and_the_first_keeps_its_session(tmp_path):
    (tmp_path / "data").mkdir()
    first = start_server(tmp_path / "data")
    try:
        session = first.create_session(title="standup")
        with connect(f"{first.ws}/v1/sessions/{session['id']}/audio") as ws:
            ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
            ws.send(b"\0" * 32000)
            ws.recv(timeout=30)  # ready: the session is live
            started = time.monotonic()
            r = _serve(tmp_path / "data", first.port + 1 if first.port < 65535 else first.port - 1)
            assert r.returncode == 2 and time.monotonic() - started < 20
            assert f"another server (pid {first.process.pid}) is using" in r.stderr, r.stderr
            assert str((tmp_path / "data").resolve()) in r.stderr
            with first.client() as c:  # recovery did not run: the session is still live
                assert c.get(f"/v1/sessions/{session['id']}").json()["status"] == "live"
    finally:
        stop_server(first)


def test_a_busy_port_is_refused_before_models_load(tmp_path):
    (tmp_path / "a").mkdir()
    first = start_server(tmp_path / "a")
    try:
        started = time.monotonic()
        r = _serve(tmp_path / "b", first.port)
        assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{first.port}" in r.stderr, r.stderr
        assert time.monotonic() - started < 20 and "--port" in r.stderr
        assert not (tmp_path / "b" / "livetranslate.db").exists()  # nothing was set up
    finally:
        stop_server(first)
