"""A bot's browser: Debian's Chromium driven by Playwright, never a downloaded one.

    async with Browser(spec, init_script, bindings) as b:
        await b.page.goto(url)
        await b.input.click(locator)

``input_mode`` ``synthetic`` runs it headless and clicks with page events; ``x11`` runs it
headed on its own virtual display (Xvfb) and clicks and types through XTEST (xdotool), as a
person's hand would: the real Google Meet ignores events a script made (``isTrusted``).
The adapter's page script and its bindings are installed before any script of the page runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from pathlib import Path

ARGS = [
    "--no-sandbox",  # no user namespaces in containers
    "--disable-gpu", "--in-process-gpu",  # SwiftShader's GPU process cost Vexa 3.5 cores
    "--disable-dev-shm-usage",  # a small /dev/shm crashes renderers
    "--use-fake-ui-for-media-stream",  # permission prompts answered yes
    "--use-fake-device-for-media-stream",  # a silent microphone and a blank camera for the preview
    "--autoplay-policy=no-user-gesture-required",  # remote audio plays (and is heard) without a click
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--disable-blink-features=AutomationControlled",
    "--lang=en-US", "--accept-lang=en-US,en",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-quic", "--mute-audio",
]
WINDOW = (1280, 720)
_STEPS = 12


class Browser:
    def __init__(self, spec: dict, init_script: str, bindings: dict) -> None:
        self._spec = spec
        self._script = init_script
        self._bindings = bindings
        self._stack = contextlib.AsyncExitStack()
        self.page = None
        self.input = None

    async def __aenter__(self) -> "Browser":
        from playwright.async_api import async_playwright

        try:
            pw = await self._stack.enter_async_context(async_playwright())
            x11 = self._spec.get("input_mode") == "x11"
            env = dict(os.environ)
            if x11:
                display = self._stack.enter_context(_virtual_display())
                env["DISPLAY"] = display
            profile = Path(self._spec["directory"]) / "profile"  # the server sweeps it if this process is killed
            shutil.rmtree(profile, ignore_errors=True)  # a failed try's
            profile.mkdir(parents=True, exist_ok=True)  # what a failed try's exiting Chromium still held
            self._stack.callback(shutil.rmtree, profile, True)
            context = await pw.chromium.launch_persistent_context(
                profile, executable_path=self._spec["browser_path"], headless=not x11, env=env,
                args=[*ARGS, *([f"--window-size={WINDOW[0]},{WINDOW[1]}", "--window-position=0,0"] if x11 else [])],
                locale="en-US", viewport={"width": WINDOW[0], "height": WINDOW[1]} if not x11 else None,
                no_viewport=x11, permissions=["microphone", "camera"], ignore_default_args=["--enable-automation"],
            )
            self._stack.push_async_callback(context.close)
            for name, fn in self._bindings.items():
                await context.expose_function(name, fn)
            await context.add_init_script(self._script)
            self.page = context.pages[0] if context.pages else await context.new_page()
            self.input = X11Input(self.page, env["DISPLAY"]) if x11 else SyntheticInput(self.page)
            return self
        except BaseException:
            await self._stack.aclose()
            raise

    async def __aexit__(self, *exc) -> None:
        await self._stack.aclose()


class SyntheticInput:
    """Clicks and keys as page events (``isTrusted`` false)."""

    def __init__(self, page) -> None:
        self.page = page

    async def click(self, locator) -> None:
        await locator.click(timeout=5_000)

    async def type_into(self, locator, text: str) -> None:
        """Fill the field; filled again if it does not hold the text afterwards."""
        for _ in range(3):
            await locator.fill(text, timeout=5_000)
            if await locator.input_value() == text:
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the field did not take the text {text!r}")

    async def wake(self) -> None:
        await self.page.mouse.move(WINDOW[0] / 2, WINDOW[1] / 2)
        await self.page.mouse.move(WINDOW[0] / 2 + 40, WINDOW[1] / 2 + 20)


class X11Input:
    """Clicks and keys through the X server (XTEST): trusted events, as a person's."""

    def __init__(self, page, display: str) -> None:
        self.page = page
        self.env = {**os.environ, "DISPLAY": display}
        self._at = (WINDOW[0] // 2, WINDOW[1] // 2)

    async def _xdotool(self, *args: str) -> None:
        proc = await asyncio.create_subprocess_exec("xdotool", *args, env=self.env)
        await proc.wait()

    async def _screen_point(self, locator) -> tuple[int, int]:
        await locator.scroll_into_view_if_needed(timeout=5_000)
        box = await locator.bounding_box()
        if box is None:
            raise RuntimeError("the element has no box on screen")
        # the viewport's place on the screen: the window's, below its own bars
        dx, dy = await self.page.evaluate(
            "[window.screenX + (window.outerWidth - window.innerWidth) / 2, "
            "window.screenY + (window.outerHeight - window.innerHeight)]"
        )
        return round(dx + box["x"] + box["width"] / 2), round(dy + box["y"] + box["height"] / 2)

    async def click(self, locator) -> None:
        """The pointer travels to the element in a few steps, as a hand moves it, then clicks."""
        x, y = await self._screen_point(locator)
        start_x, start_y = self._at
        for i in range(1, _STEPS + 1):
            f = i / _STEPS
            ease = f * f * (3 - 2 * f)
            await self._xdotool("mousemove", "--sync", str(round(start_x + (x - start_x) * ease)),
                                str(round(start_y + (y - start_y) * ease + 6 * (1 - f) * f)))
            await asyncio.sleep(0.015)
        self._at = (x, y)
        await self._xdotool("click", "1")

    async def type_into(self, locator, text: str) -> None:
        """Click the field and type; typed again if the field did not get it all (a window
        that had no keyboard focus yet drops the first keys)."""
        for _ in range(3):
            await self.click(locator)
            await self._xdotool("key", "ctrl+a", "BackSpace")
            await self._xdotool("type", "--delay", "30", text)
            if await locator.input_value() == text:
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the field did not take the typed text {text!r}")

    async def wake(self) -> None:
        await self._xdotool("mousemove", str(WINDOW[0] // 2), str(WINDOW[1] // 2))
        await self._xdotool("mousemove_relative", "40", "20")


@contextlib.contextmanager
def _virtual_display():
    """An Xvfb display of its own (the number Xvfb picks), stopped afterwards."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        raise RuntimeError("input_mode x11 needs Xvfb and xdotool (Debian: apt-get install xvfb xdotool)")
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{WINDOW[0]}x{WINDOW[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
