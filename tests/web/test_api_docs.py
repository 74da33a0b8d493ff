"""/docs (Swagger UI), /redoc (ReDoc) and /docs/protocol render in Chromium with every request
that would leave the machine refused: their scripts and styles come from the server itself.
Screenshots go to test-artifacts/dashboard/api-*.png."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.web.conftest import SHOTS, browser_with

VIEWS = [("desktop", 1280, "light"), ("phone", 390, "dark")]


class OfflinePage:
    """A page whose requests may only go to the server under test: any other is aborted and kept."""

    def __init__(self, browser, base: str, width: int, scheme: str) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
        self.host = urlsplit(base).netloc
        self.left: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._only_local)

    def _only_local(self, route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self.host:
            route.continue_()
        else:
            self.left.append(url)
            route.abort("internetdisconnected")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.fixture(scope="module")
def browser(playwright):
    b = browser_with(playwright, None)
    yield b
    b.close()


@pytest.mark.parametrize(("view", "width", "scheme"), VIEWS)
def test_swagger_ui_lists_every_operation_offline(web, browser, view, width, scheme):
    p = OfflinePage(browser, web.base, width, scheme)
    p.page.goto(web.base + "/docs")
    p.page.wait_for_selector(".opblock-summary", timeout=30_000)
    operations = sum(len(ops) for ops in p.page.evaluate("fetch('/openapi.json').then(r => r.json())")["paths"].values())
    assert p.page.locator(".opblock").count() == operations
    assert p.page.get_by_text("Create a session", exact=True).is_visible()
    link = p.page.locator('.info a[href="/docs/protocol"]')
    assert link.count() == 1  # the WebSocket protocol, linked from the description
    p.page.click('.opblock-summary:has-text("Create a session")')  # an operation opens: its errors are ours
    p.page.wait_for_selector(".opblock.is-open .responses-table")
    p.shot(f"api-swagger-{view}-{scheme}")
    shown = p.page.inner_text(".opblock.is-open")
    assert '"invalid_request_error"' in shown and '"detail"' not in shown
    assert p.left == [] and p.errors == []


@pytest.mark.parametrize(("view", "width", "scheme"), VIEWS)
def test_redoc_shows_the_operations_offline(web, browser, view, width, scheme):
    p = OfflinePage(browser, web.base, width, scheme)
    p.page.goto(web.base + "/redoc")
    p.page.wait_for_selector("h2:has-text('Create a session')", timeout=60_000)
    titles = p.page.eval_on_selector_all("h2", "els => els.map(e => e.textContent.trim())")
    assert {"Create a session", "Transcribe a file (OpenAI-compatible)", "Enroll a voice"} <= set(titles)
    p.shot(f"api-redoc-{view}-{scheme}")
    assert p.left == [] and p.errors == []


@pytest.mark.parametrize(("view", "width", "scheme"), VIEWS)
def test_the_protocol_page_reads_offline_and_fits(web, browser, view, width, scheme):
    p = OfflinePage(browser, web.base, width, scheme)
    p.page.goto(web.base + "/docs")
    href = p.page.get_attribute('.info a:has-text("the streaming protocol")', "href", timeout=30_000)
    p.page.goto(web.base + href)  # (Swagger UI opens description links in a new tab)
    p.page.wait_for_selector("h2:has-text('Audio socket')")
    assert p.page.title() == "LiveTranslate — streaming protocol"
    # nothing wider than the screen but the tables and code blocks, which scroll on their own
    assert p.page.evaluate("document.documentElement.scrollWidth") <= width
    p.shot(f"api-protocol-{view}-{scheme}")
    assert p.left == [] and p.errors == []
