"""A local stand-in for an LLM server that speaks the real OpenAI chat-completions wire format
(JSON and server-sent-event streaming), started by the tests on 127.0.0.1.

No language model runs here, so its "model" is a phrase book for the sentences the tests
use, backed by Apertium for other text in the pairs Apertium has; it applies the glossary lines it finds in the system prompt (so a test can tell
whether the prompt carried them), and records every request. ``mode`` makes it misbehave
the ways real endpoints do.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from livetranslate.translation import ApertiumTranslator

PHRASES = {
    ("es", "We need to review the budget before Friday."): "Necesitamos revisar el presupuesto antes del viernes.",
    ("es", "Let's move the standup to ten o'clock."): "Pasemos la reunión diaria a las diez.",
    ("es", "Alice will send the report tomorrow morning."): "Alice enviará el informe mañana por la mañana.",
    ("fr", "We need to review the budget before Friday."): "Nous devons revoir le budget avant vendredi.",
    ("de", "We need to review the budget before Friday."): "Wir müssen das Budget vor Freitag überprüfen.",
}
_GLOSSARY_LINE = re.compile(r'^- "(.+)" → "(.+)"', re.M)
_TARGET = re.compile(r"from \w+ to (\w+)\.")
_NAMES = {"Spanish": "es", "French": "fr", "German": "de", "English": "en"}


@dataclass
class Behaviour:
    mode: str = "ok"
    """ok | commentary | echo | wrong_language | prompt_echo | slow | error500_once | down | empty | glossary_ignored"""
    delay: float = 0.0
    requests: list[dict] = field(default_factory=list)
    failures_left: int = 1


_APERTIUM = ApertiumTranslator()


def _answer(body: dict, b: Behaviour) -> str:
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    target = _NAMES.get(_TARGET.search(system).group(1), "es")
    text = PHRASES.get((target, user))
    if text is None:
        text = _APERTIUM.translate_sync(user, "en", target) if _APERTIUM.supports("en", target) else f"[{target}] {user}"
    if b.mode != "glossary_ignored":
        for found, fixed in _GLOSSARY_LINE.findall(system):
            text = re.sub(re.escape(found), fixed, text, flags=re.I) if fixed.lower() not in text.lower() else text
    if b.mode == "commentary":
        return f"Here is the translation: {text}"
    if b.mode == "echo":
        return user
    if b.mode == "wrong_language":
        return "Wir müssen das Budget vor Freitag überprüfen, sagte sie."
    if b.mode == "prompt_echo":
        return system
    if b.mode == "empty":
        return ""
    return text


def make_app(b: Behaviour) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request):
        body = await request.json()
        b.requests.append(body)
        if b.mode == "error500_once" and b.failures_left > 0:
            b.failures_left -= 1
            return JSONResponse({"error": {"message": "overloaded", "type": "server_error"}}, status_code=500)
        if b.mode == "slow" or b.delay:
            await asyncio.sleep(b.delay or 30)
        content = _answer(body, b)
        created = int(time.time())
        if not body.get("stream"):
            return {
                "id": "chatcmpl-test", "object": "chat.completion", "created": created, "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }

        async def sse():
            pieces = [content[i : i + 7] for i in range(0, len(content), 7)] or [""]
            for i, piece in enumerate(pieces):
                delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                chunk = {
                    "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": created,
                    "model": body["model"], "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
                yield f"data: {json.dumps(chunk)}\n\n"
            end = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": created, "model": body["model"],
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            yield f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n"

        return StreamingResponse(sse(), media_type="text/event-stream")

    return app


class LlmServer:
    def __init__(self) -> None:
        self.behaviour = Behaviour()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._server = uvicorn.Server(
            uvicorn.Config(
                make_app(self.behaviour), host="127.0.0.1", port=self.port, log_level="warning",
                timeout_graceful_shutdown=1,
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self, mode: str = "ok", delay: float = 0.0) -> Behaviour:
        self.behaviour.mode, self.behaviour.delay, self.behaviour.failures_left = mode, delay, 1
        self.behaviour.requests.clear()
        return self.behaviour

    def __enter__(self) -> "LlmServer":
        self._thread.start()
        while not self._server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(10)
