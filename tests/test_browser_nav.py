"""Every committed page, walked through its header in headless Chromium from file://.

From the index, each run's pages; from each page, every link of its header, clicked: the
target opens, carries the header, and marks itself (and only itself) as the current page;
then back to the index. Comparison pages link the index and the runs' summaries. Skips
(saying so) when Chromium is absent.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from newslens import config
from newslens.report.navigation import run_pages

pytestmark = pytest.mark.browser

RUNS = sorted(p for p in config.REPORTS_DIR.iterdir() if p.is_dir() and p.name != "compare"
              and any(p.glob("*.html")))
COMPARISONS = sorted((config.REPORTS_DIR / "compare").glob("*.html"))
INDEX = config.REPORTS_DIR / "index.html"


@pytest.fixture(scope="module")
def context(chromium):
    context = chromium.new_context(offline=True, viewport={"width": 1200, "height": 900})
    yield context
    context.close()


def path_of(page) -> Path:
    return Path(unquote(urlparse(page.url).path)).resolve()


def header(page) -> list[dict]:
    """The links of the page's header: href, text and whether it is marked current."""
    return page.evaluate("""Array.from(document.querySelectorAll('nav[data-role="run-nav"]')).map(nav =>
        Array.from(nav.querySelectorAll('a')).map(a => ({href: a.getAttribute('href'), text: a.textContent,
                                                       current: a.getAttribute('aria-current')})))""")


def the_header(page) -> list[dict]:
    navs = header(page)
    assert len(navs) == 1, f"{path_of(page)}: {len(navs)} run headers"
    current = [a["href"] for a in navs[0] if a["current"] == "page"]
    assert current == [path_of(page).name], f"{path_of(page)}: marked current {current}"
    return navs[0]


def test_there_are_runs_to_walk():
    assert {p.name for p in RUNS} >= {"news", "seed", "bundestag"}


@pytest.mark.parametrize("run", RUNS, ids=lambda p: p.name)
def test_walk_a_run_from_the_index_through_every_header_link_and_back(context, run):
    page = context.new_page()
    try:
        page.goto(INDEX.as_uri(), wait_until="load")
        expected = [p.href for p in run_pages(run)]
        assert {p.name for p in run.glob("*.html")} == set(expected), "every page of the run is in the header"
        from_index = page.evaluate(f"Array.from(document.querySelectorAll('a[href^=\"{run.name}/\"]'))"
                                   ".map(a => a.getAttribute('href'))")
        assert from_index == [f"{run.name}/{name}" for name in expected], "the index links each page of the run"
        for name in expected:
            page.click(f'a[href="{run.name}/{name}"]')
            page.wait_for_load_state("load")
            assert path_of(page) == (run / name).resolve()
            links = the_header(page)
            assert links[0]["href"] == "../index.html"
            assert [a["href"] for a in links[1:]] == expected
            for target in expected:  # every link of this page's header leads to a page marked as itself
                page.click(f'nav[data-role="run-nav"] a[href="{target}"]')
                page.wait_for_load_state("load")
                assert path_of(page) == (run / target).resolve()
                the_header(page)
                page.goto((run / name).as_uri(), wait_until="load")
            page.click('nav[data-role="run-nav"] a[href="../index.html"]')
            page.wait_for_load_state("load")
            assert path_of(page) == INDEX.resolve()
    finally:
        page.close()


@pytest.mark.parametrize("report", COMPARISONS, ids=lambda p: p.name)
def test_a_comparison_links_the_index_and_the_runs_it_compares(context, report):
    page = context.new_page()
    try:
        page.goto(report.as_uri(), wait_until="load")
        links = the_header(page)
        hrefs = [a["href"] for a in links]
        assert hrefs[0] == "../index.html" and hrefs[1] == report.name
        summaries = hrefs[2:]
        assert summaries and all(h.startswith("../") and h.endswith("/05-summary.html") for h in summaries)
        for href in summaries:
            page.click(f'nav[data-role="run-nav"] a[href="{href}"]')
            page.wait_for_load_state("load")
            assert path_of(page) == (report.parent / href).resolve()
            the_header(page)
            page.goto(report.as_uri(), wait_until="load")
    finally:
        page.close()
