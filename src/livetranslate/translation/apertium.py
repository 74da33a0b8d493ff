"""Apertium: rule-based, offline machine translation (Debian's ``apertium`` and its pairs).

Running ``apertium eng-spa`` per sentence costs ~0.13 s of process start-up. Instead each
language pair runs as one long-lived chain of its stage processes (read from the pair's
``.mode`` file) in *null-flush* mode: a sentence followed by ``\\0`` goes in, its
translation followed by ``\\0`` comes out, in a few milliseconds. Pairs without a direct
mode go through Spanish (or another pivot both sides share): fr/pt/it ← es ← en.
A chain holds ~110 MB (PSS); one idle for 10 minutes is stopped and restarts on next use.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import select
import shlex
import subprocess
import threading
import time
from pathlib import Path

from livetranslate import executors
from livetranslate.errors import TranslationFailed
from livetranslate.translation.base import TranslationRequest
from livetranslate.translation.glossary import protect

log = logging.getLogger(__name__)

# Apertium names languages with ISO 639-3 (newer pairs) or 639-1 (older ones).
_ISO1 = {
    "eng": "en", "spa": "es", "cat": "ca", "ita": "it", "por": "pt", "fra": "fr", "glg": "gl", "epo": "eo",
    "oci": "oc", "arg": "an", "ast": "ast", "eus": "eu", "srd": "sc", "ron": "ro", "nld": "nl", "afr": "af",
    "dan": "da", "nob": "nb", "nno": "nn", "swe": "sv", "isl": "is", "rus": "ru", "ukr": "uk", "bel": "be",
    "pol": "pl", "mkd": "mk", "bul": "bg", "hbs": "sh", "slv": "sl", "ind": "id", "zlm": "ms", "hin": "hi",
    "urd": "ur",
}
_MODE_NAME = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})$")
_SPECIAL = re.compile(r"([\\\[\]^$/@<>{}*#~])")
_UNESCAPE = re.compile(r"\\(.)")
_MARKS = re.compile(r"(?<![\\\w])[@#](?=\w)")
PIVOTS = ("es", "en", "ca")


def iso1(code: str) -> str:
    return _ISO1.get(code, code)


class _Chain:
    """One pair's stage processes, started on first use, restarted if they die. Blocking;
    one sentence at a time (callers hold the lock)."""

    def __init__(self, mode_file: Path, timeout: float) -> None:
        self.mode_file = mode_file
        self._timeout = timeout
        self._procs: list[subprocess.Popen] = []
        self.lock = threading.Lock()
        self.last_used = time.monotonic()

    def _commands(self) -> list[list[str]]:
        # $1 = generator option (-n: no unknown-word marks), $2 = tagger option (none)
        text = self.mode_file.read_text().strip().replace("$1", "-n").replace("$2", "")
        commands = []
        for part in text.split("|"):
            argv = shlex.split(part)
            commands.append([argv[0], "-z", *argv[1:]])
        return commands

    def _start(self) -> None:
        self.close()
        previous = None
        try:
            for argv in self._commands():
                proc = subprocess.Popen(
                    argv,
                    stdin=previous.stdout if previous else subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
                if previous is not None:
                    previous.stdout.close()  # the next stage owns it now
                self._procs.append(proc)
                previous = proc
        except OSError as e:
            self.close()
            raise TranslationFailed(f"apertium mode {self.mode_file.name}: cannot start {e.filename}: {e}") from e

    def translate(self, text: str) -> str:
        self.last_used = time.monotonic()
        fresh = not self._procs or any(p.poll() is not None for p in self._procs)
        if fresh:
            self._start()
        # a blank before the null: lt-proc -b waits forever on "$\0" (lttoolbox 3.7)
        payload = _SPECIAL.sub(r"\\\1", " ".join(text.split())).encode() + b"\n\0"
        try:
            try:
                out = self._exchange(payload)
            except BrokenPipeError:
                if fresh:
                    raise
                # it died since the last call (poll() had not seen it yet): once more, from a new start
                self._start()
                out = self._exchange(payload)
        except (OSError, TimeoutError) as e:
            self.close()  # restarted on the next call
            raise TranslationFailed(f"apertium {self.mode_file.stem}: {e}") from e
        result = out.rstrip(b"\0").decode("utf-8", errors="replace")
        return " ".join(_UNESCAPE.sub(r"\1", _MARKS.sub("", result)).split())

    def _exchange(self, payload: bytes) -> bytes:
        first, last = self._procs[0], self._procs[-1]
        first.stdin.write(payload)
        first.stdin.flush()
        out = b""
        fd = last.stdout.fileno()
        while not out.endswith(b"\0"):
            ready, _, _ = select.select([fd], [], [], self._timeout)
            if not ready:
                raise TimeoutError(f"no reply in {self._timeout} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise BrokenPipeError("the pipeline exited")
            out += chunk
        return out

    def close(self) -> None:
        for proc in self._procs:
            if proc.stdin:
                proc.stdin.close()
            proc.kill()
            proc.wait()
            if proc.stdout:
                proc.stdout.close()
        self._procs = []


class ApertiumTranslator:
    name = "apertium"

    def __init__(
        self, data_dir: Path = Path("/usr/share/apertium"), timeout: float = 10.0, idle_s: float = 600.0
    ) -> None:
        self._modes = data_dir / "modes"
        self._timeout = timeout
        self._idle_s = idle_s
        self._direct: dict[tuple[str, str], Path] = {}
        if self._modes.is_dir():
            for f in sorted(self._modes.glob("*.mode")):
                m = _MODE_NAME.match(f.stem)
                if m:
                    self._direct.setdefault((iso1(m.group(1)), iso1(m.group(2))), f)
        self._chains: dict[Path, _Chain] = {}
        self._chains_lock = threading.Lock()

    @property
    def available(self) -> bool:
        return bool(self._direct)

    def route(self, source: str, target: str) -> list[tuple[str, str]] | None:
        """The pairs to chain: direct, or through one pivot language."""
        if (source, target) in self._direct:
            return [(source, target)]
        pivots = sorted(
            {b for (a, b) in self._direct if a == source} & {a for (a, b) in self._direct if b == target},
            key=lambda p: (PIVOTS.index(p) if p in PIVOTS else len(PIVOTS), p),
        )
        return [(source, pivots[0]), (pivots[0], target)] if pivots else None

    def supports(self, source: str, target: str) -> bool:
        return source != target and self.route(source, target) is not None

    def pairs(self) -> list[dict]:
        languages = {lang for pair in self._direct for lang in pair}
        out = []
        for s in sorted(languages):
            for t in sorted(languages):
                route = self.route(s, t) if s != t else None
                if route:
                    out.append({"source": s, "target": t, "via": route[0][1] if len(route) > 1 else None})
        return out

    def describe(self) -> dict:
        return {"available": self.available, "offline": True, "pairs": self.pairs()}

    def translate_sync(self, text: str, source: str, target: str) -> str:
        route = self.route(source, target)
        if route is None:
            raise TranslationFailed(f"apertium has no {source}→{target} pair")
        for pair in route:
            chain = self._chain(self._direct[pair])
            with chain.lock:
                text = chain.translate(text)
        return text

    def _chain(self, mode_file: Path) -> _Chain:
        """The pair's chain; chains idle for ``idle_s`` are stopped (each holds ~110 MB)."""
        now = time.monotonic()
        with self._chains_lock:
            for path, chain in list(self._chains.items()):
                if path != mode_file and now - chain.last_used > self._idle_s and chain.lock.acquire(blocking=False):
                    try:
                        chain.close()
                        del self._chains[path]
                    finally:
                        chain.lock.release()
            chain = self._chains.get(mode_file)
            if chain is None:
                chain = self._chains[mode_file] = _Chain(mode_file, self._timeout)
            chain.last_used = now  # handed out: not idle, so no sweep closes it under its user
            return chain

    async def translate(self, request: TranslationRequest) -> str:
        return await executors.run("translation", self._translate_protected, request)

    def _translate_protected(self, request: TranslationRequest) -> str:
        """The glossary's entries protected, translated, restored (blocking; its matching too)."""
        protected = protect(request.text, request.glossary, request.target)
        return protected.restore(self.translate_sync(protected.text, request.source, request.target))

    async def warm(self, source: str, target: str) -> None:
        """Start the pair's processes now (~0.2-0.4 s) rather than on the first caption."""
        if self.supports(source, target):
            await executors.run("translation", self.translate_sync, "Hello.", source, target)

    async def aclose(self) -> None:
        with self._chains_lock:
            chains, self._chains = list(self._chains.values()), {}
        for chain in chains:
            await asyncio.to_thread(chain.close)
