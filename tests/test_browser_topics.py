"""The topic explorer in headless Chromium, offline: selection by click and keyboard, the λ slider.

Pages are built here from real fits (the seed article's sentences; 300 Commons speeches when
that corpus has been fetched) exactly as a report is finished (``views.finish_page`` over the
report CSS), and a hostile variant whose labels, titles and groups carry markup. The news
run's rendered reports are opened too when they hold an explorer. Screenshots go to
``build/screenshots/topic-explorer-*.png``.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from newslens import config
from newslens.analysis import topic_explorer_data
from newslens.report import topic_explorer, views
from newslens.wording import Words

from test_browser import CHROMIUM, open_offline

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install "
                                                "chromium); the topic explorer's browser test is skipped"),
]

ROOT = '[data-view="topic-explorer"]'
SHOTS = config.BUILD_DIR / "screenshots"
COMMONS_CSV = config.PROJECT_ROOT / "data" / "raw" / "commons" / "en.csv"
# The committed reports of the default run (`make report` rebuilds them; opt-in runs are not committed).
RUN_REPORTS = [config.REPORTS_DIR / "news" / name for name in ("04-topics.html", "05-summary.html")]
SCRIPT = "<script>alert('label')</script>"
HOSTILE_LABEL = f"{SCRIPT} </script><!-- \u202eleba"
HOSTILE_TITLE = "<img src=x onerror=alert('title')> \u2028 Breaking"
HOSTILE_GROUP = "<b onmouseover=alert('group')>Outlet</b>" + "W" * 120  # long and unbroken too


def fit(documents: pd.DataFrame, folder, k: int, words: Words) -> dict:
    """Tokenize, weight and fit as stages 02–04 do; the explorer's data."""
    from newslens.analysis.tfidf import fit_tfidf
    from newslens.params import KeywordsParams, TokenizeParams, TopicsParams
    from newslens.text.tokenization import load_analyzer, tokenize_documents
    from newslens.text.tokenization import write_outputs as write_tokens
    from newslens.analysis.topics import run_topics

    tokens = tokenize_documents(documents[["doc_id", "text"]], TokenizeParams(), "en", n_jobs=1)
    write_tokens(tokens, folder)
    tfidf = fit_tfidf(*load_analyzer(folder), KeywordsParams(min_df=2, max_df=0.9))
    display = dict(zip(tokens.vocabulary["term"], tokens.vocabulary["display"]))
    result = run_topics(tfidf, TopicsParams(k=k, seeds=[0]), display=display,
                        identities_path=folder / "topics.json", labels_path=folder / "labels.yaml", n_jobs=1)
    return topic_explorer_data.explorer_data(result, documents, terms=tfidf.terms, totals=result.corpus.totals,
                                        display=display, words=words)


def seed_documents() -> pd.DataFrame:
    """The seed article's sentences as units (their titles are their own words)."""
    from newslens.corpus.sentences import split_text_sentences

    text = next((config.PROJECT_ROOT / "data" / "raw" / "seed").glob("*.txt")).read_text(encoding="utf-8")
    sentences = [s for s in split_text_sentences(text.strip()) if len(s.split()) > 5]
    return pd.DataFrame({"doc_id": [f"seed#{i}" for i in range(len(sentences))], "parent_id": "seed",
                         "title": "Xi Jinping and Alexander Lukashenko phone call", "text": sentences,
                         "group": "seed", "date": pd.Timestamp("2022-01-10"), "date_precision": "day"})


def page_file(folder, name: str, markup: str):
    """A page as a report is finished: the report CSS, the view, one library copy and the CSP."""
    css = views.report_css()
    page = views.finish_page(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>'
                             f"<style>{css}</style></head><body><main><h1>{name}</h1>{markup}</main></body></html>")
    path = folder / f"{name}.html"
    path.write_text(page, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def seed_data(tmp_path_factory):
    return fit(seed_documents(), tmp_path_factory.mktemp("seed-fit"), 4, Words("sentence", "group"))


@pytest.fixture(scope="module")
def commons_data(tmp_path_factory):
    if not COMMONS_CSV.exists():
        pytest.skip("the commons corpus is not fetched (make data CORPUS=commons); its explorer is not opened")
    speeches = pd.read_csv(COMMONS_CSV).head(300)
    documents = pd.DataFrame({"doc_id": [f"commons-{i}" for i in range(len(speeches))],
                              "title": speeches["agenda"], "text": speeches["text"], "group": speeches["party"],
                              "date": pd.to_datetime(speeches["date"]).dt.to_period("Y").dt.to_timestamp(),
                              "date_precision": "year"})
    documents["parent_id"] = documents["doc_id"]
    return fit(documents, tmp_path_factory.mktemp("commons-fit"), 8, Words("speech", "party"))


@pytest.fixture(scope="module")
def browser(chromium):
    """The session's one headless Chromium (conftest): playwright allows one sync instance per process."""
    return chromium




def text_of(page, role: str) -> str:
    return page.locator(f"{ROOT} [data-role={role}]").first.text_content()


def term_order(page) -> list[str]:
    return page.eval_on_selector_all(f"{ROOT} [data-role=topic-terms] [data-term]",
                                     "nodes => nodes.map(n => n.getAttribute('data-term'))")


def selected(page) -> list[str]:
    return page.eval_on_selector_all(f'{ROOT} [data-topic][aria-pressed="true"]',
                                     "nodes => nodes.map(n => n.getAttribute('data-topic'))")


def assert_clean(page, seen) -> None:
    assert seen["requests"] == [], f"requests left the page: {seen['requests']}"
    assert seen["errors"] == [], f"console errors: {seen['errors']}"
    assert page.locator("[data-error]").count() == 0, page.eval_on_selector_all(
        "[data-error]", "nodes => nodes.map(n => n.getAttribute('data-error'))")


def exercise(page, name: str, topics: list[int] | None = None) -> None:
    """Select by click, then by keyboard; move λ from 1 to 0; screenshot each state."""
    root = page.locator(ROOT).first
    assert "nl-live" in root.get_attribute("class")
    assert root.locator(".nl-static").count() == 0  # the static map gave way to the live one
    root.locator("svg.nl-te-map").scroll_into_view_if_needed()  # a report holds it below the fold
    # Circles a reader can click at their centre (not hidden there by a smaller one drawn on top).
    ids = topics or page.evaluate("""() => Array.from(document.querySelectorAll(
        '[data-view="topic-explorer"] [data-topic]')).filter(node => {
            const r = node.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return hit && hit.closest('[data-topic]') === node;
        }).map(node => node.getAttribute('data-topic'))""")
    assert len(ids) >= 3, f"fewer than 3 topics can be clicked at their centre: {ids}"
    slider = root.locator("input[type=range][data-role=lambda]")
    assert (slider.get_attribute("min"), slider.get_attribute("max")) == ("0", "1")
    assert float(slider.get_attribute("step")) <= 0.1 and slider.input_value() == "0.6"
    first = selected(page)
    assert len(first) == 1
    root.screenshot(path=str(SHOTS / f"topic-explorer-{name}-start.png"))

    other = next(str(t) for t in ids if str(t) != first[0])
    terms, docs = text_of(page, "topic-terms"), text_of(page, "topic-docs")
    root.locator(f'[data-topic="{other}"]').click()
    assert selected(page) == [other]
    assert text_of(page, "topic-terms") != terms and text_of(page, "topic-docs") != docs
    root.screenshot(path=str(SHOTS / f"topic-explorer-{name}-click.png"))

    third = next(str(t) for t in ids if str(t) not in (first[0], other))
    terms, docs = text_of(page, "topic-terms"), text_of(page, "topic-docs")
    root.locator(f'[data-topic="{third}"]').focus()
    page.keyboard.press("Enter")
    assert selected(page) == [third]
    assert text_of(page, "topic-terms") != terms and text_of(page, "topic-docs") != docs
    root.locator(f'[data-topic="{other}"]').focus()
    page.keyboard.press(" ")
    assert selected(page) == [other]

    slider.focus()
    page.keyboard.press("End")
    assert slider.input_value() == "1"
    by_frequency = term_order(page)
    page.keyboard.press("Home")
    assert slider.input_value() == "0"
    by_lift = term_order(page)
    assert by_frequency and by_lift and by_frequency != by_lift
    root.screenshot(path=str(SHOTS / f"topic-explorer-{name}-lambda0.png"))


@pytest.fixture()
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.mark.parametrize("compact", [False, True], ids=["full", "compact"])
def test_seed_explorer_selects_by_click_and_keyboard(browser, seed_data, tmp_path, shots, compact):
    data = topic_explorer_data.compact(seed_data) if compact else seed_data
    path = page_file(tmp_path, "seed", topic_explorer.explorer_html(data))
    context, page, seen = open_offline(browser, path)
    try:
        assert selected(page) == [str(data["topics"][0]["id"])]  # the most prevalent first
        exercise(page, f"seed-{'compact' if compact else 'full'}")
        documents = page.locator(f"{ROOT} [data-role=topic-docs] li").count()
        assert 1 <= documents <= (topic_explorer_data.COMPACT_DOCS if compact else topic_explorer_data.TOP_DOCS)
        if not compact:  # one group and one day: said, not drawn
            assert "single group" in page.locator(f"{ROOT} .nl-te-groups").text_content()
            assert "more than one" in page.locator(f"{ROOT} .nl-te-time").text_content()
        assert_clean(page, seen)
    finally:
        context.close()


def test_commons_explorer_draws_groups_and_time(browser, commons_data, tmp_path, shots):
    path = page_file(tmp_path, "commons", topic_explorer.explorer_html(commons_data))
    context, page, seen = open_offline(browser, path)
    try:
        exercise(page, "commons")
        assert page.locator(f"{ROOT} .nl-te-groups .nl-bar-row").count() == len(commons_data["groups"]) > 1
        assert page.locator(f"{ROOT} .nl-te-time polyline").count() == 1
        assert_clean(page, seen)
    finally:
        context.close()


def test_hostile_labels_titles_and_groups_stay_text(browser, seed_data, tmp_path, shots):
    data = {**seed_data, "groups": [HOSTILE_GROUP, "plain"],
            "docs": [{**d, "title": HOSTILE_TITLE, "group": HOSTILE_GROUP, "snippet": SCRIPT} for d in seed_data["docs"]],
            "topics": [{**t, "label": HOSTILE_LABEL, "name": f"T{t['id']}: {HOSTILE_LABEL}", "by_group": [0.5, 0.25]}
                       for t in seed_data["topics"]],
            "notes": {**seed_data["notes"], "groups": None}}
    path = page_file(tmp_path, "hostile", topic_explorer.explorer_html(data))
    context, page, seen = open_offline(browser, path)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        root = page.locator(ROOT).first
        root.locator(f'[data-topic="{data["topics"][1]["id"]}"]').click()
        root.locator(".nl-te-doc-title").first.hover()
        root.locator(".nl-bar-label").first.hover()
        assert dialogs == []
        assert root.locator(".nl-te-heading bdi").text_content() == f"T{data['topics'][1]['id']}: {HOSTILE_LABEL}"
        assert root.locator(".nl-te-doc-meta bdi").first.text_content() == HOSTILE_GROUP
        assert root.locator(".nl-te-doc-title").first.text_content() == HOSTILE_TITLE
        assert root.locator(".nl-te-doc-snippet").first.text_content() == SCRIPT
        assert root.locator(".nl-bar-label").first.text_content() == HOSTILE_GROUP
        assert root.locator("img, b, script:not([type='application/json'])").count() == 0
        # a long unbroken group name stays inside the explorer's box
        inside = page.evaluate("""() => {
            const box = document.querySelector('[data-view="topic-explorer"]').getBoundingClientRect();
            return Array.from(document.querySelectorAll('[data-view="topic-explorer"] *')).every(node => {
                const r = node.getBoundingClientRect();
                return r.width === 0 || (r.left >= box.left - 1 && r.right <= box.right + 1);
            });
        }""")
        assert inside, "an element of the explorer spills out of its box"
        root.screenshot(path=str(SHOTS / "topic-explorer-hostile.png"))
        assert_clean(page, seen)
    finally:
        context.close()


def test_no_javascript_keeps_the_static_map(browser, seed_data, tmp_path, shots):
    path = page_file(tmp_path, "static", topic_explorer.explorer_html(seed_data))
    context = browser.new_context(java_script_enabled=False, offline=True, viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.goto(path.as_uri(), wait_until="load")
        static = page.locator(f"{ROOT} .nl-static svg circle")
        assert static.count() == len(seed_data["topics"])
        assert "With JavaScript on, selecting a topic shows" in page.locator(f"{ROOT} .nl-static .note").text_content()
        page.locator(ROOT).first.screenshot(path=str(SHOTS / "topic-explorer-static.png"))
    finally:
        context.close()


@pytest.mark.parametrize("report", RUN_REPORTS, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_rendered_report_explorer(browser, report, shots):
    assert report.exists(), f"{config.relative_to_root(report)} is missing: run `make report`"
    assert 'data-view="topic-explorer"' in report.read_text(encoding="utf-8"), \
        f"{config.relative_to_root(report)} holds no topic explorer: the committed report is stale (`make report`)"
    context, page, seen = open_offline(browser, report)
    try:
        exercise(page, f"{report.parent.name}-{report.stem}")
        assert_clean(page, seen)
    finally:
        context.close()


NOTES_SHOTS = config.PROJECT_ROOT.parent / "notes" / "shots"  # kept with the notes, outside the project


@pytest.mark.parametrize("report", RUN_REPORTS, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_news_map_every_circle_selects_its_topic_at_its_centre(browser, report):
    assert report.exists(), f"{config.relative_to_root(report)} is missing: run `make report`"
    context, page, seen = open_offline(browser, report)
    try:
        root = page.locator(ROOT).first
        root.locator("svg.nl-te-map").evaluate("node => node.scrollIntoView()")
        circles = root.locator("svg.nl-te-map [data-topic] circle")
        ids = root.locator("svg.nl-te-map [data-topic]").evaluate_all(
            "nodes => nodes.map(n => n.getAttribute('data-topic'))")
        assert len(ids) == circles.count() >= 5 and len(set(ids)) == len(ids)
        for i, topic in enumerate(ids):
            box = circles.nth(i).bounding_box()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            assert selected(page) == [topic], f"the centre of topic {topic}'s circle selects {selected(page)}"
        note = root.locator("[data-role=map-note]").inner_text()
        assert "the axes themselves have no meaning" in note and "how different their terms are" in note
        legend = root.locator("svg[data-role=size-legend]")
        assert 2 <= legend.locator("circle").count() <= 3 and "share of the corpus" in legend.text_content()
        if report.stem == "04-topics":
            NOTES_SHOTS.mkdir(parents=True, exist_ok=True)
            root.locator(".nl-te-grid").screenshot(path=str(NOTES_SHOTS / "topic-map.png"))
        assert_clean(page, seen)
    finally:
        context.close()


def test_news_terms_at_lambda_0_keep_the_stated_minimum_frequency(browser):
    report = RUN_REPORTS[0]
    assert report.exists(), f"{config.relative_to_root(report)} is missing: run `make report`"
    context, page, seen = open_offline(browser, report)
    try:
        root = page.locator(ROOT).first
        stated = root.locator("[data-role=min-uses]").inner_text()
        fewest = int(re.search(r"used at least ([\d,]+) times in the corpus", stated).group(1).replace(",", ""))
        assert fewest >= 10  # a news corpus of about a million tokens
        slider = root.locator("input[type=range][data-role=lambda]")
        slider.focus()
        page.keyboard.press("Home")
        assert slider.input_value() == "0"
        for topic in root.locator("svg.nl-te-map [data-topic]").evaluate_all(
                "nodes => nodes.map(n => n.getAttribute('data-topic'))"):
            root.locator("select.nl-te-select").select_option(topic)
            rows = root.locator("[data-role=topic-terms] [data-term]")
            uses = [int(u) for u in rows.evaluate_all("nodes => nodes.map(n => n.getAttribute('data-uses'))")]
            assert uses and min(uses) >= fewest, f"topic {topic}: a term used {min(uses)} times at λ = 0"
            values = rows.locator(".nl-bar-value").all_inner_texts()
            widths = rows.locator(".nl-te-bar-topic").evaluate_all("nodes => nodes.map(n => n.style.width)")
            for (v1, w1), (v2, w2) in zip(zip(values, widths), zip(values[1:], widths[1:])):
                # bars a point or more apart (3 px of a 300 px track) never print the same value
                assert abs(float(w1[:-1]) - float(w2[:-1])) < 1 or v1 != v2, \
                    f"topic {topic}: bars {w1} and {w2} both read {v1}"
        assert_clean(page, seen)
    finally:
        context.close()
