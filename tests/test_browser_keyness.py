"""The keyness explorer in headless Chromium, offline: it compares groups, finds terms, stays inert.

Pages are built the way a report is (:func:`newslens.report.views.finish_page` over the report CSS and
the view), from a small corpus of the seed article's sentences in three groups, with hostile
group names, titles and contexts; one page has 50 groups. Screenshots go to
``build/screenshots/keyness-explorer-*.png``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from newslens import config
from newslens.report import keyness_explorer as kx, views
from newslens.analysis import keyness_data
from newslens.analysis.keyness import g2, log_ratio
from newslens.analysis.keywords import group_keyness
from newslens.analysis.tfidf import fit_tfidf
from newslens.params import KeywordsParams
from newslens.text.words import words
from test_browser import CHROMIUM, open_offline
from test_hostile_text import IMG, RLO, SCRIPT, seed_sentences

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install "
                                                "chromium); the keyness explorer's browser test is skipped"),
]

HOSTILE_GROUP = f"Outlet {SCRIPT} {IMG} {RLO}puorg " + "x" * 300  # long and unbroken, too
HOSTILE_TITLE = f"Title {SCRIPT} \u2028 {IMG}"
HOSTILE_CONTEXT = f"The cooperation {SCRIPT} {IMG} between {RLO}gnirts " + "y" * 200 + " continued."
SETTINGS = KeywordsParams(min_df=1, max_df=1.0, keyness_min_freq=3, keyness_top_n=10, kwic_window=6, period=None,
                          keyness_min_documents=2, keyness_min_tokens=1)  # every group here is compared
SHOTS = config.BUILD_DIR / "screenshots"


def seed_documents() -> pd.DataFrame:
    """Pairs of the seed article's sentences in three groups, and three hostile documents."""
    sentences = seed_sentences()
    rows = [{"doc_id": f"d{i:02d}", "title": f"Speech {i}", "group": ["Labour", "Conservative", "Liberal Democrat"][i % 3],
             "text": f"{sentences[i % len(sentences)]} {sentences[(3 * i + 1) % len(sentences)]}"}
            for i in range(60)]
    rows += [{"doc_id": f"evil{i}", "title": HOSTILE_TITLE, "group": HOSTILE_GROUP,
              "text": f"{HOSTILE_CONTEXT} {sentences[i]}"} for i in range(3)]
    return pd.DataFrame(rows)


# Eight lines a term, two a document, so that the small hostile group's contexts are stored too.
BUDGET = keyness_data.Budget(lines_per_term=8, lines_per_document=2)


def explorer_page(documents: pd.DataFrame, path, settings: KeywordsParams = SETTINGS):
    """Write a report-like page holding the explorer of ``documents``; return the data and the model."""
    texts = dict(zip(documents["doc_id"], documents["text"]))
    model = fit_tfidf(list(texts), lambda d: [w.lower() for w in words(texts[d])], settings)
    keyness, sizes = group_keyness(model, documents, settings)
    data = keyness_data.explorer_data(model, documents, keyness, settings, {}, str.lower, BUDGET, sizes=sizes)
    css = views.report_css()
    page = views.finish_page(f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>test</title>'
                             f"<style>{css}</style></head><body><main><h2>Keyness</h2>"
                             f"{kx.explorer_html(data)}</main></body></html>")
    path.write_text(page, encoding="utf-8")
    return data, model, keyness


@pytest.fixture(scope="module")
def browser(chromium):
    """The session's one headless Chromium (conftest): playwright allows one sync instance per process."""
    return chromium




@pytest.fixture(scope="module")
def seed_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("keyness") / "explorer.html"
    data, model, keyness = explorer_page(seed_documents(), path)
    return path, data, keyness


def opened(browser, path):
    context, page, seen = open_offline(browser, path)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    seen["dialogs"] = dialogs
    return context, page, seen


def assert_clean(page, seen):
    assert seen["requests"] == [], f"requests left the page: {seen['requests']}"
    assert seen["errors"] == [], f"console errors: {seen['errors']}"
    assert seen["dialogs"] == []
    assert page.locator("[data-error]").count() == 0, page.locator("[data-error]").first.get_attribute("data-error")
    assert page.locator('[data-view="keyness-explorer"].nl-live').count() == 1


def list_text(page) -> str:
    return page.locator('[data-role="keyness-terms"]').inner_text()


def test_formulas_match_keyness_py(browser, seed_page):
    path, _, _ = seed_page
    context, page, seen = opened(browser, path)
    try:
        grid = [(a, b, c, d) for a in (0, 1, 7, 40) for b in (0, 3, 90) for c in (50, 1000) for d in (200, 90000)
                if a <= c and b <= d]
        got = page.evaluate("grid => grid.map(([a, b, c, d]) => [newslens.keyness.g2(a, b, c, d), "
                            "newslens.keyness.logRatio(a, b, c, d)])", grid)
        a, b, c, d = (np.array(column, dtype=float) for column in zip(*grid))
        np.testing.assert_allclose(np.array(got)[:, 0], g2(a, b, c, d), rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(np.array(got)[:, 1], log_ratio(a, b, c, d), rtol=1e-12)
        assert_clean(page, seen)
    finally:
        context.close()


def test_group_against_the_rest_agrees_with_the_static_keyness(browser, seed_page):
    path, data, keyness = seed_page
    context, page, seen = opened(browser, path)
    try:
        page.select_option('select[data-role="group"]', label="Labour")
        shown = page.locator('[data-role="keyness-terms"] table').first.locator("tbody tr")
        rows = [shown.nth(i).locator("td").all_inner_texts() for i in range(min(10, shown.count()))]
        static = keyness[(keyness["group"] == "Labour") & (keyness["direction"] == "over")].head(len(rows))
        assert len(rows) >= 5
        assert [r[0] for r in rows] == list(static["term"])
        signed = lambda v: f"{v:+.2f}".replace("-", "\u2212")
        assert [r[4] for r in rows] == [f"{v:,.1f}" for v in static["g2"]]
        assert [r[1] for r in rows] == [signed(v) for v in static["log_ratio"]]
        # the interval over documents, against all the others, is the static table's
        assert [r[2] for r in rows] == [f"{signed(lo)} to {signed(hi)}" for lo, hi in
                                        zip(static["log_ratio_low"], static["log_ratio_high"])]
        assert [r[3] for r in rows] == [f"{v:+.1f}".replace("-", "\u2212") for v in static["log_odds_z"]]
        assert [r[5] for r in rows] == [f"{100 * v:.0f}%" for v in static["doc_share"]]
        assert_clean(page, seen)
    finally:
        context.close()


def test_pick_groups_and_search_a_term(browser, seed_page):
    path, data, _ = seed_page
    context, page, seen = opened(browser, path)
    try:  # the first view: the largest group against all the others
        assert page.locator('select[data-role="group"]').input_value() == str(int(np.argmax(data["tokens"])))
        assert page.locator('select[data-role="versus"]').input_value() == "rest"
        page.select_option('select[data-role="group"]', label="Labour")
        first = list_text(page)
        page.select_option('select[data-role="group"]', label="Conservative")
        second = list_text(page)
        assert second != first and "Over-used by Conservative" in second
        page.select_option('select[data-role="versus"]', label="Liberal Democrat")
        third = list_text(page)
        assert third != second and "over-used by Liberal Democrat" in third
        page.fill('input[type="search"][data-role="term"]', "cooperation")
        page.keyboard.press("Enter")
        kwic = page.locator('[data-role="kwic"] tbody tr')
        assert kwic.count() >= 2
        assert "cooperation" in kwic.first.locator("td.term").inner_text().lower()
        panel = page.locator(".nl-keyness-term").inner_text()
        assert "Conservative against Liberal Democrat: log ratio" in panel and "G\u00b2" in panel
        assert "of the 20 documents of Conservative" in panel  # the document share
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "keyness-explorer-pair.png"), full_page=True)
        page.fill('input[type="search"][data-role="term"]', "no-such-term")
        page.keyboard.press("Enter")
        assert "No term matches \u201cno-such-term\u201d" in page.locator('[data-role="no-match"]').inner_text()
        assert_clean(page, seen)
    finally:
        context.close()


def test_hostile_text_stays_text(browser, seed_page):
    path, _, _ = seed_page
    context, page, seen = opened(browser, path)
    try:
        page.select_option('select[data-role="group"]', label=HOSTILE_GROUP)
        assert page.locator('select[data-role="group"]').evaluate("s => s.options[s.selectedIndex].text") == HOSTILE_GROUP
        page.fill('input[type="search"][data-role="term"]', "cooperation")
        page.keyboard.press("Enter")
        root = page.locator('[data-view="keyness-explorer"]')
        assert page.locator("script:not([type]), script[type='text/javascript']").count() == 1  # the library
        assert page.locator("main img").count() == 0
        text = root.inner_text()
        assert SCRIPT in text and IMG in text and "Title" in text
        box = root.bounding_box()
        for selector in ("table", "select", ".nl-bars", "td", "h4"):
            for element in root.locator(selector).all():
                inner = element.bounding_box()
                if inner:
                    assert inner["x"] >= box["x"] - 1 and inner["x"] + inner["width"] <= box["x"] + box["width"] + 1, \
                        f"{selector} escapes the explorer's box"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "keyness-explorer-hostile.png"), full_page=True)
        assert_clean(page, seen)
    finally:
        context.close()


def test_fifty_groups(browser, tmp_path):
    rng = np.random.default_rng(3)
    sentences = seed_sentences()
    rows = [{"doc_id": f"g{g:02d}-{k}", "title": "", "group": f"Group {g:02d}",
             "text": " ".join(rng.choice(sentences, size=2 + g % 4))} for g in range(55) for k in range(2)]
    data, _, _ = explorer_page(pd.DataFrame(rows), tmp_path / "fifty.html")
    assert len(data["groups"]) == 50
    context, page, seen = opened(browser, tmp_path / "fifty.html")
    try:
        assert page.locator('select[data-role="group"] option').count() == 50
        assert "The 50 largest of the 55 groups big enough to compare are listed" in \
            page.locator('[data-view="keyness-explorer"]').inner_text()
        page.select_option('select[data-role="group"]', index=7)
        page.select_option('select[data-role="versus"]', index=20)
        page.fill('input[type="search"][data-role="term"]', "xi")
        page.keyboard.press("Enter")
        assert page.locator(".nl-bar-row").count() == 50
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "keyness-explorer-fifty.png"), full_page=True)
        assert_clean(page, seen)
    finally:
        context.close()


NEWS_REPORT = config.REPORTS_DIR / "news" / "03-keywords.html"


def test_news_report_tass_against_china_daily(browser):
    assert NEWS_REPORT.exists(), "reports/news/03-keywords.html is missing: run `make report`"
    assert 'data-view="keyness-explorer"' in NEWS_REPORT.read_text(encoding="utf-8"), \
        "reports/news/03-keywords.html holds no keyness explorer: the committed report is stale (`make report`)"
    context, page, seen = opened(browser, NEWS_REPORT)
    try:
        page.select_option('select[data-role="group"]', label="tass.com")
        page.select_option('select[data-role="versus"]', label="europe.chinadaily.com.cn")
        assert "Over-used by tass.com" in list_text(page)
        page.fill('input[type="search"][data-role="term"]', "russia")
        page.keyboard.press("Enter")
        assert page.locator('[data-role="kwic"] tbody tr').count() >= 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "keyness-explorer-news.png"), full_page=True)
        assert_clean(page, seen)
    finally:
        context.close()


NOTES_SHOTS = config.PROJECT_ROOT.parent / "notes" / "shots"  # kept with the notes, outside the project


def news_search(page, query: str) -> None:
    """Type ``query`` into the news explorer's search box as a reader does, key by key."""
    box = page.locator('input[type="search"][data-role="term"]')
    box.fill("")
    box.type(query)


def test_news_search_finds_surface_forms_and_says_when_nothing_matches(browser):
    assert NEWS_REPORT.exists(), "reports/news/03-keywords.html is missing: run `make report`"
    context, page, seen = opened(browser, NEWS_REPORT)
    try:
        panel = page.locator(".nl-keyness-term")
        news_search(page, "Minsk")
        assert panel.locator("h4").inner_text() == "Minsk"
        assert page.locator('[data-role="kwic"] tbody tr').count() >= 1  # contexts for a named, frequent term
        news_search(page, "sanctions")  # a surface form: counted as its lemma
        assert panel.locator("h4").get_attribute("data-term") == "sanction"
        assert "counted as \u201csanction\u201d" in panel.locator('[data-role="form"]').inner_text()
        rows = page.locator('[data-role="kwic"] tbody tr')
        assert 1 <= rows.count() <= 3
        first = rows.first.locator("td").all_inner_texts()  # outlet, title, date, left, keyword, right
        assert "sanction" in first[4].lower() and re.fullmatch(r"\d{4}-\d\d-\d\d", first[2])
        assert first[0] in page.locator('select[data-role="group"] option').all_inner_texts()
        assert not first[1].startswith("news-articles-")  # the title, not the document id
        assert page.locator('[data-role="no-match"]').count() == 0 and "Minsk" not in panel.inner_text()
        NOTES_SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator('[data-view="keyness-explorer"]').evaluate("node => node.scrollIntoView()")
        page.screenshot(path=str(NOTES_SHOTS / "keyness-sanctions.png"))
        news_search(page, "zzzz")  # nothing: said so, and the last term's panel is gone
        no_match = page.locator('[data-role="no-match"]')
        assert no_match.count() == 1 and "No term matches \u201czzzz\u201d" in no_match.inner_text()
        assert panel.locator("h4, table, .nl-bars").count() == 0 and "sanction" not in panel.inner_text().lower()
        page.screenshot(path=str(NOTES_SHOTS / "keyness-zzzz.png"))
        news_search(page, "belt")  # a word of a phrase: the phrase is offered
        assert "Belt and Road" in panel.locator('[data-role="related"]').inner_text()
        assert "Belt and Road" in page.locator("datalist option").evaluate_all("os => os.map(o => o.value)")
        page.screenshot(path=str(NOTES_SHOTS / "keyness-belt.png"))
        panel.locator('[data-role="related"] button', has_text="Belt and Road").click()
        assert panel.locator("h4").inner_text() == "Belt and Road"
        assert page.locator('[data-role="kwic"] tbody tr').count() >= 1
        cover = page.locator('[data-view="keyness-explorer"] .nl-keyness > p.note').first.inner_text()
        frequent = int(re.search(r"for the ([\d,]+) most frequent terms and every term the report names",
                                 cover).group(1).replace(",", ""))
        assert frequent >= 5000 and "up to 3 lines each" in cover
        assert_clean(page, seen)
    finally:
        context.close()
