"""The validation page in headless Chromium, offline: a coder answers every item, downloads the
answers through the page's own link, and the report code scores exactly what they answered.

The page is built from the news run's outputs (``make report`` first) as ``make validate`` builds
it, into a temporary folder; the downloaded CSV goes under a temporary ``validation/news/``, never
the project's. Screenshots go to ``build/screenshots/validate-*.png`` (and to ``SHOTS_DIR`` when
that variable names a folder).
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path

import pandas as pd
import pytest

from newslens import config
from newslens.analysis import validation
from newslens.params import load_run
from newslens.pipeline.execute import validation_page_text
from newslens.report import validation_page, views

from test_browser import CHROMIUM, open_offline

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install "
                                                "chromium); the validation page's browser test is skipped"),
]

ROOT = '[data-view="validation"]'
CURRENT = f'{ROOT} [data-role="item"]:not([hidden])'
TOPIC_ITEMS = 6
NEWS = config.PROJECT_ROOT / "params" / "news.yaml"


def shots() -> list[Path]:
    folders = [config.BUILD_DIR / "screenshots"] + ([Path(os.environ["SHOTS_DIR"])] if os.environ.get("SHOTS_DIR") else [])
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def screenshot(target, name: str) -> None:
    for folder in shots():
        target.screenshot(path=str(folder / f"validate-{name}.png"))


@pytest.fixture(scope="module")
def news_page(tmp_path_factory, news_run):
    """The news run's validation page with every word item and a few topic items, and its items
    (the news run built first, by ``make report``, rather than skipped on a clean clone)."""
    run = load_run(NEWS)
    page, data = validation_page_text(run, coder="Test coder", items=TOPIC_ITEMS)
    folder = tmp_path_factory.mktemp("validate") / "reports" / "news"
    folder.mkdir(parents=True)
    (folder / "validate.html").write_text(page, encoding="utf-8")
    return folder / "validate.html", data, run


def answer_all(page, data) -> dict[str, str]:
    """Answer every item on the page: the intruder for two in three, another option for the rest."""
    chosen = {}
    for index, item in enumerate(data["items"]):
        current = page.locator(CURRENT)
        assert current.get_attribute("data-item") == item["id"]
        assert current.get_attribute("data-kind") == item["kind"]
        options = current.locator('button[data-role="option"]')
        values = [options.nth(i).get_attribute("data-value") for i in range(options.count())]
        assert values == [str(o) for o in item["options"]]
        wrong = [v for v in values if v != str(item["intruder"])]
        pick = str(item["intruder"]) if index % 3 else wrong[index % len(wrong)]
        if item["id"] == "w001":
            screenshot(current, "word-item")
        if item["kind"] == "topic" and "topic-item" not in chosen:
            screenshot(current, "topic-item")
            chosen["topic-item"] = ""
        assert page.locator(f'{ROOT} a[data-role="download"]').count() == 0
        current.locator(f'button[data-role="option"][data-value="{pick}"]').click()
        chosen[item["id"]] = pick
        progress = page.locator(f'{ROOT} [data-role="progress"]').inner_text()
        assert progress == f"{index + 1} of {len(data['items'])} answered"
    chosen.pop("topic-item", None)
    return chosen


def test_a_coder_answers_every_item_and_the_report_scores_the_download(chromium, news_page, tmp_path):
    path, data, run = news_page
    kinds = [item["kind"] for item in data["items"]]
    assert kinds.count("word") == len(data["topics"]) and kinds.count("topic") == TOPIC_ITEMS
    context, page, seen = open_offline(chromium, path)
    try:
        assert page.locator(ROOT).get_attribute("data-error") is None
        assert page.locator(f'{ROOT} [data-role="item"]').count() == len(data["items"])
        assert page.locator(f'{ROOT} input[data-role="coder"]').input_value() == "Test coder"
        chosen = answer_all(page, data)
        link = page.locator(f'{ROOT} a[data-role="download"]')
        assert link.count() == 1
        screenshot(page.locator(ROOT), "end")
        with page.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.suggested_filename == f"validation-news-Test-coder-{data['model']}.csv"
        folder = tmp_path / "validation" / "news"
        folder.mkdir(parents=True)
        download.save_as(folder / download.suggested_filename)
        assert seen["requests"] == [], f"requests left the page: {seen['requests']}"
        assert seen["errors"] == [], f"console errors: {seen['errors']}"
    finally:
        context.close()

    result = validation.validate("news", folder, config.reports_dir("news") / "topics.json",
                                 run.processed_dir / "doc_topics.parquet", run.processed_dir / "topics.csv")
    assert result.files["status"].tolist() == ["accepted"]
    answers = result.answers.set_index("item")
    assert answers["chosen"].to_dict() == chosen
    assert set(answers["coder"]) == {"Test coder"} and set(answers["model"]) == {data["model"]}
    # What the answers imply, computed here from the items and the mixtures.
    mixture = pd.read_parquet(run.processed_dir / "doc_topics.parquet").pivot(
        index="doc_id", columns="topic", values="weight")
    share = lambda doc, topic: max(float(mixture.at[doc, int(topic)]), validation.SHARE_FLOOR)
    for item in data["items"]:
        if item["kind"] == "word":
            row = result.words.set_index("topic").loc[item["topics"][0]]
            found = chosen[item["id"]] == item["intruder"]
            assert (row["answers"], row["found"], row["precision"]) == (1, int(found), float(found))
    odds = {}
    for item in data["items"]:
        if item["kind"] == "topic":
            value = math.log(share(item["doc_id"], item["intruder"])) - math.log(share(item["doc_id"], chosen[item["id"]]))
            odds.setdefault(item["topics"][0], []).append(value)
    table = result.odds.set_index("topic")
    for topic, values in odds.items():
        assert table.loc[topic, "log_odds"] == round(sum(values) / len(values), 2)
        assert table.loc[topic, "answers"] == len(values)
    assert any(v < 0 for values in odds.values() for v in values)  # some wrong answers really cost
    assert result.overall["coders"] == 1 and result.agreement == {"word": None, "topic": None}

    # Rebuilt as make report builds the two pages' cells: a project root holding the run's outputs,
    # its identities and the downloaded file under validation/news/, unchanged.
    import shutil

    import IPython.display

    from newslens.pipeline import in_process

    root = tmp_path / "project"
    (root / "data" / "processed").mkdir(parents=True)
    (root / "reports" / "news").mkdir(parents=True)
    (root / "data" / "processed" / "news").symlink_to(run.processed_dir.resolve())
    shutil.copy(config.reports_dir("news") / "topics.json", root / "reports" / "news" / "topics.json")
    shutil.copytree(folder, root / "validation" / "news")
    shown = []
    original = IPython.display.display
    IPython.display.display = shown.append
    try:
        validation_page.validation_section(in_process.stage_run("params/news.yaml", "04-topics", root=root))
        validation_page.summary_line(in_process.stage_run("params/news.yaml", "05-summary", root=root))
    finally:
        IPython.display.display = original
    topics_html, summary_html = (html.unescape(item.data) for item in shown)
    words = result.words
    found, asked = int(words["found"].sum()), int(words["answers"].sum())
    for text in (topics_html, summary_html):
        assert "Validated by hand by 1 coder" in text
        assert f"{found / asked:.0%} of the time" in text  # the precision its answers imply
        assert f"a mean topic log odds of {result.overall['log_odds']:.2f}" in text
    for values in odds.values():  # each topic's log odds, in the topics report's table
        assert f"{sum(values) / len(values):.2f}" in topics_html

    # The topics report's section on these answers, as a reader sees it.
    section = validation_page.section_html(result, "params/news.yaml")
    assert "Validated by hand by 1 coder" in section
    report = tmp_path / "section.html"
    report.write_text(views.finish_page(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>section</title>'
        f"<style>{views.report_css()}</style></head><body><main><h2>Validated by hand</h2>{section}"
        "</main></body></html>"), encoding="utf-8")
    context, page, seen = open_offline(chromium, report)
    try:
        screenshot(page.locator("main"), "report-section")
        assert seen["errors"] == []
    finally:
        context.close()


def test_closing_the_page_with_answers_not_downloaded_warns(chromium, news_page):
    path, data, _ = news_page
    context, page, _ = open_offline(chromium, path)
    dialogs = []
    try:
        page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
        page.locator(f'{CURRENT} button[data-role="option"]').first.click()
        assert page.locator(f'{ROOT} [data-role="progress"]').inner_text().startswith("1 of ")
        page.close(run_before_unload=True)
        page.wait_for_timeout(500)
        assert dialogs == ["beforeunload"]
    finally:
        context.close()


def test_previous_goes_back_and_an_answer_can_change(chromium, news_page):
    path, data, _ = news_page
    context, page, seen = open_offline(chromium, path)
    try:
        first = data["items"][0]
        page.locator(f'{CURRENT} button[data-role="option"]').first.click()
        assert page.locator(CURRENT).get_attribute("data-item") == data["items"][1]["id"]
        page.locator(f'{ROOT} button[data-role="prev"]').click()
        assert page.locator(CURRENT).get_attribute("data-item") == first["id"]
        pressed = page.locator(f'{CURRENT} button[aria-pressed="true"]')
        assert pressed.get_attribute("data-value") == str(first["options"][0])
        page.locator(f'{CURRENT} button[data-role="option"]').nth(1).click()
        assert page.locator(f'{ROOT} [data-role="progress"]').inner_text().startswith("1 of ")
        assert seen["errors"] == []
    finally:
        context.close()
