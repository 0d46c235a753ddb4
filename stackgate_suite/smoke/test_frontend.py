"""The frontend loads: its page, every local asset, no external URL, and a real browser renders it."""

import re
from urllib.parse import urljoin, urlparse

import pytest

from stackgate.core.metrics import finding

pytestmark = [pytest.mark.smoke, pytest.mark.metric("frontend-loads")]
REFS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
URLS = re.compile(r"""https?://[^\s"'`)<>]+""")


@pytest.fixture
def page(frontend_spec, stack, http):
    """The frontend's page as served (no browser)."""
    return http.get(base(stack, frontend_spec))


def base(stack, spec) -> str:
    return stack.url(spec.name) + spec.page.get("path", "/")


def test_frontend_serves_the_app_title(frontend_spec, page):
    """The page answers 200 with the app's title."""
    title = frontend_spec.page.get("title")
    if not title:
        pytest.skip(f"declare services.{frontend_spec.name}.page.title: the <title> the page must carry")
    assert page.status_code == 200 and f"<title>{title}</title>" in page.text, finding(
        "frontend-loads", frontend_spec.name, f"200 with <title>{title}</title>", f"{page.status_code} {page.text[:200]}")


def local_refs(page, base: str) -> tuple[list[str], list[str]]:
    """(asset URLs on the frontend itself, references to any other host) of the page."""
    own = urlparse(base).netloc
    urls = [urljoin(base, ref) for ref in REFS.findall(page.text)]
    return [u for u in urls if urlparse(u).netloc == own], [u for u in urls if urlparse(u).netloc != own]


def test_every_asset_the_page_references_answers_200(frontend_spec, page, stack, http):
    """Each src/href of the page is served by the frontend itself with 200."""
    local, foreign = local_refs(page, base(stack, frontend_spec))
    assert local or foreign, finding("frontend-loads", frontend_spec.name, "a page referencing its assets", "no src/href")
    bad = {u: http.get(u).status_code for u in local}
    bad = {u: code for u, code in bad.items() if code != 200}
    bad.update({u: "not served by the frontend" for u in foreign})
    assert not bad, finding("frontend-loads", frontend_spec.name, "every asset 200 from the frontend", str(bad))


def test_page_and_assets_reference_no_external_url(frontend_spec, page, stack, http):
    """No absolute URL to another host in the page or its assets (no CDN: the stack runs air-gapped)."""
    local, _ = local_refs(page, base(stack, frontend_spec))
    texts = {"/": page.text}
    for url in local:
        texts[url] = http.get(url).text if not url.endswith(".ico") else ""
    external = sorted({u for t in texts.values() for u in URLS.findall(t)
                       if urlparse(u).hostname not in ("localhost", "127.0.0.1")})
    assert not external, finding("frontend-loads", frontend_spec.name, "only local assets", f"external URLs {external}")


def test_page_renders_in_chromium_without_console_errors(frontend_spec, rendered, manifest):
    """In headless Chromium the page renders a row per app service, each reading as healthy, with a clean
    console. Without a browser there is no evidence: the test skips and the metric reads UNKNOWN."""
    name, spec = frontend_spec.name, frontend_spec.page
    if not rendered.available:
        pytest.skip(finding("frontend-loads", name, "a browser to render the page", rendered.problem))
    assert not rendered.problem, finding("frontend-loads", name, "the page to render", rendered.problem)
    if spec.get("rows"):
        want = sorted(s.name for s in manifest.apps())
        seen = {row[0]: (row[1] if len(row) > 1 else "") for row in rendered.rows if row}
        assert sorted(seen) == want, finding("frontend-loads", name, f"a row for each of {want}", f"rows {rendered.rows}")
        bad = {n: state for n, state in seen.items() if state != spec.get("healthy", "ok")}
        assert not bad, finding("frontend-loads", name, f"every row reading {spec.get('healthy', 'ok')}", f"{bad}")
    assert not rendered.errors, finding("frontend-loads", name, "no console errors", "; ".join(rendered.errors[:5]))
