"""The browser harness: Debian's Chromium driven by Playwright, the portal served over TCP on
loopback, every request to another host recorded (and so failing the test), axe on each page,
screenshots at two sizes saved under `.artifacts/screenshots/` (gitignored)."""

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from axe_playwright_python.async_playwright import Axe
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

from keel.embedded.ports import free_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
ARTIFACTS = Path(__file__).resolve().parents[3] / ".artifacts" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost"}


def ensure_chromium() -> str:
    """Installs Debian's Chromium when it is missing (as `make browser` does): never
    `playwright install`, whose browser download cannot work here."""
    if not Path(CHROMIUM).exists():
        apt = shutil.which("apt-get") or "apt-get"
        subprocess.run([apt, "update", "-qq"], check=True)
        subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=True)
    return CHROMIUM


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app (its lifespan already run by the caller) on a loopback port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no event to await  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Browsing:
    browser: Browser
    base: str
    context: BrowserContext = field(init=False)  # the main one, opened by `browsing`
    outside: list[str] = field(default_factory=list)
    axe: Axe = field(default_factory=Axe)

    async def check(self, page: Page, name: str) -> None:
        """Zero axe violations, and a screenshot at each size."""
        results = await self.axe.run(page)
        assert results.violations_count == 0, results.generate_report()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for size, viewport in SIZES.items():
            await page.set_viewport_size(viewport)
            await page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=True)
        await page.set_viewport_size(SIZES["desktop"])

    async def open_context(self, **options: Any) -> BrowserContext:
        """A browser context (its own cookies) whose requests may reach loopback only."""
        context = await self.browser.new_context(
            viewport=SIZES["desktop"], base_url=self.base, **options
        )

        async def loopback_only(route: Route) -> None:
            if urlsplit(route.request.url).hostname in LOOPBACK:
                await route.continue_()
            else:
                self.outside.append(route.request.url)
                await route.abort()

        await context.route("**/*", loopback_only)
        return context

    async def sign_in(self, token: str, context: BrowserContext | None = None) -> Page:
        """A page signed in by pasting the token, as a partner does."""
        page = await (context or self.context).new_page()
        await page.goto("/sign-in")
        await page.get_by_label("Your access token").fill(token)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(lambda url: not url.endswith("/sign-in"))
        return page


@asynccontextmanager
async def browsing(base: str) -> AsyncIterator[Browsing]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=ensure_chromium(), args=FLAGS)
        session = Browsing(browser, base)
        session.context = await session.open_context()
        try:
            yield session
        finally:
            await browser.close()
        assert not session.outside, f"the pages asked hosts other than loopback: {session.outside}"
