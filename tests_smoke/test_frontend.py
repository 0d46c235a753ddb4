"""The frontend loads: its page, every local asset, no external URL, and a real browser renders it."""

import base64
import re
import shutil
from urllib.parse import urljoin, urlparse

import pytest

from stackgate.metrics import finding

pytestmark = [pytest.mark.smoke, pytest.mark.metric("frontend-loads"), pytest.mark.services("frontend")]
REFS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
URLS = re.compile(r"""https?://[^\s"'`)<>]+""")
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(stack, http):
    resp = http.get(stack.url("frontend") + "/")
    return resp


def test_frontend_serves_the_app_title(page, manifest):
    """GET / answers 200 with the app's title."""
    title = manifest.services["frontend"].title
    assert page.status_code == 200 and f"<title>{title}</title>" in page.text, finding(
        "frontend-loads", "frontend", f"200 with <title>{title}</title>", f"{page.status_code} {page.text[:200]}")


def test_every_asset_the_page_references_answers_200(page, stack, http):
    """Each src/href of the page is served by the frontend itself with 200."""
    base = stack.url("frontend") + "/"
    refs = REFS.findall(page.text)
    assert refs, finding("frontend-loads", "frontend", "a page referencing its assets", "no src/href")
    bad = {}
    for ref in refs:
        resp = http.get(urljoin(base, ref))
        if resp.status_code != 200:
            bad[ref] = resp.status_code
    assert not bad, finding("frontend-loads", "frontend", "every asset 200", str(bad))


def test_page_and_assets_reference_no_external_url(page, stack, http):
    """No absolute URL to another host in the page or its assets (no CDN: the stack runs air-gapped)."""
    base = stack.url("frontend") + "/"
    texts = {"/": page.text}
    for ref in REFS.findall(page.text):
        texts[ref] = http.get(urljoin(base, ref)).text if not ref.endswith(".ico") else ""
    external = sorted({u for t in texts.values() for u in URLS.findall(t)
                       if urlparse(u).hostname not in ("localhost", "127.0.0.1")})
    assert not external, finding("frontend-loads", "frontend", "only local assets", f"external URLs {external}")


@pytest.mark.skipif(shutil.which("chromium") is None and not __import__("os").path.exists(CHROMIUM),
                    reason="Debian's chromium is not installed (make setup installs it)")
def test_page_renders_in_chromium_without_console_errors(stack, manifest, extras):
    """In headless Chromium the page renders its health table for every service, with a clean console."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            tab = browser.new_page()
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            tab.goto(stack.url("frontend") + "/", wait_until="load")
            tab.wait_for_selector("#app[data-ready='true']", timeout=15000)
            rows = tab.locator("#health-table tbody tr").count()
            shot = tab.screenshot(full_page=True)
        finally:
            browser.close()
    extras.append(__import__("pytest_html").extras.png(base64.b64encode(shot).decode(), name="frontend screenshot"))
    want = len(manifest.apps())
    assert rows == want, finding("frontend-loads", "frontend", f"{want} service rows rendered", f"{rows} rows")
    assert not errors, finding("frontend-loads", "frontend", "no console errors", "; ".join(errors[:5]))
