"""A page as a real browser renders it: Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from stackgate.manifest import Manifest

CHROMIUM = os.environ.get("STACKGATE_CHROMIUM", "/usr/bin/chromium")  # Debian's; the environment may name another
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class RenderedPage:
    """What the browser saw: health rows rendered, console errors, failed requests, a screenshot."""

    available: bool
    rows: list[list[str]] = field(default_factory=list)  # the cells' text of each rendered row
    errors: list[str] = field(default_factory=list)
    screenshot: bytes = field(default=b"", repr=False)
    problem: str = ""


def render_page(url: str | Callable[[], str], ready: str = "body", rows: str = "", timeout_ms: int = 15000) -> RenderedPage:
    """Load url in headless Chromium, wait for the ready selector, count rows, collect console errors.

    url may be a callable that blocks until the page can be served: the browser starts meanwhile.
    """
    if not os.path.exists(CHROMIUM):
        return RenderedPage(False, problem=f"no browser can start: {CHROMIUM} is not installed "
                                           "(make setup installs Debian's chromium)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    page = RenderedPage(True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            try:
                tab = browser.new_page()
                tab.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
                tab.on("pageerror", lambda e: page.errors.append(str(e)))
                tab.on("requestfailed", lambda r: page.errors.append(f"request failed: {r.url}"))
                try:
                    target = url() if callable(url) else url
                except Exception as exc:  # noqa: BLE001 - the stack did not come up: nothing to render
                    page.problem = f"nothing to render: {str(exc).splitlines()[0] if str(exc) else exc!r}"
                    return page
                tab.goto(target, wait_until="load")
                tab.wait_for_selector(ready, timeout=timeout_ms)
                page.rows = [[cell.strip() for cell in row.locator("td").all_inner_texts()]
                             for row in tab.locator(rows).all()] if rows else []
                page.screenshot = tab.screenshot(full_page=True)
            finally:
                browser.close()
    except PlaywrightError as exc:
        page.problem = str(exc).splitlines()[0]
    return page


def frontend_url(manifest: Manifest) -> str:
    """The URL of the manifest's (first) frontend page."""
    front = manifest.frontends()[0]
    return manifest.url(front.name) + front.page.get("path", "/")


def browse(manifest: Manifest, url: str | Callable[[], str] | None = None) -> Future | None:
    """Render the manifest's (first) frontend page in the background (url: the page's, or a callable that blocks
    until it can be served); None when the stack has no frontend."""
    fronts = manifest.frontends()
    if not fronts:
        return None
    page = fronts[0].page
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser")
    future = pool.submit(render_page, url or frontend_url(manifest), page.get("ready", "body"), page.get("rows", ""))
    pool.shutdown(wait=False)
    return future
