"""Every committed report, opened in headless Chromium from file:// with the network cut.

Asserts: no request leaves the page, no console error, every image decodes, and
every relative link resolves inside reports/. Saves a full-page screenshot of
each report under build/screenshots/. Skips (saying so) when Chromium is absent.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import pytest

from newslens import config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPORTS = sorted(config.REPORTS_DIR.glob("*/*.html")) + [config.REPORTS_DIR / "index.html"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install "
                                                "chromium); the real-browser report test is skipped"),
]


@pytest.fixture(scope="module")
def browser(chromium):
    """The session's one headless Chromium (conftest): playwright allows one sync instance per process."""
    return chromium




def open_offline(browser, path):
    """Open a report from disk with the network disabled; record requests and errors."""
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    seen = {"requests": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url)
            if urlparse(r.url).scheme not in ("file", "data") else None)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    return context, page, seen


def test_reports_exist():
    assert len(REPORTS) > 1 and all(p.exists() for p in REPORTS), "run `make report` first"


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: config.relative_to_root(p))
def test_report_renders_offline(browser, report):
    context, page, seen = open_offline(browser, report)
    try:
        assert seen["requests"] == [], f"requests left the page: {seen['requests']}"
        assert seen["errors"] == [], f"console errors: {seen['errors']}"
        broken = page.evaluate("Array.from(document.images)"
                               ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)")
        assert broken == [], f"images that did not decode: {broken}"
        hrefs = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
        for href in hrefs:
            parsed = urlparse(href)
            if parsed.scheme or href.startswith("#"):
                continue
            target = (report.parent / parsed.path).resolve()
            assert target.exists(), f"{href} does not resolve"
            assert config.REPORTS_DIR in target.parents, f"{href} points outside reports/"
        shots = config.BUILD_DIR / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        name = config.relative_to_root(report).replace("/", "_").removesuffix(".html")
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    finally:
        context.close()
