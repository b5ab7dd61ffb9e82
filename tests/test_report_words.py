"""The committed reports read as one document: one set of numbers per run, and words for readers.

Both tests read the committed pages as a colleague opens them: the visible text of each page
(scripts, styles and the provenance record, which lists the run's settings for those who rerun it,
left out).

* **One set of numbers.** Each run's counts (units kept, named groups, k) come from one place
  (``reports/<run>/about.json``, ``topics.json``); every page and the index that prints them
  prints the same, and a title states no count the text contradicts.
* **Words for readers.** No page shows a parameter key (``keyness_min_freq``,
  ``tokenize.keep``) or a stored token form (``white_house``): terms appear in their display
  form, settings in words. A download's file name (``ingest_log.csv``) is a name, not prose.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from newslens.wording import Words

REPORTS = Path("reports")
RUNS = sorted(p.parent.name for p in REPORTS.glob("*/about.json"))
PAGES = ("01-ingest", "02-tokenize", "03-keywords", "04-topics", "05-summary")
FILE_NAME = re.compile(r"\.(csv|txt|json|parquet|yaml|html|png)\b")


def visible_text(path: Path) -> str:
    """A page's text as a reader sees it without running its views: no scripts, styles or provenance."""
    page = path.read_text(encoding="utf-8")
    cut = page.find('<div class="provenance">')
    page = page[:cut] if cut >= 0 else page
    page = re.sub(r"<script.*?</script>|<style.*?</style>|<!--.*?-->", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def facts(run: str) -> tuple[dict, Words, int]:
    about = json.loads((REPORTS / run / "about.json").read_text(encoding="utf-8"))
    k = json.loads((REPORTS / run / "topics.json").read_text(encoding="utf-8"))["k"]
    return about, Words(about["unit_name"], about["group_name"]), k


def test_there_are_committed_runs_to_read():
    assert {"news", "seed", "bundestag"} <= set(RUNS)


@pytest.mark.parametrize("run", RUNS)
def test_every_page_of_a_run_prints_the_same_counts(run):
    about, words, k = facts(run)
    n, groups = about["documents"], about["groups"]
    units = words.count(n)
    texts = {page: visible_text(REPORTS / run / f"{page}.html") for page in PAGES}
    index = visible_text(REPORTS / "index.html")
    assert f"run {run} · {units} from {words.count(groups, 'group')}" in index
    assert f"This run holds {units}" in texts["01-ingest"]
    assert f"{units}, " in texts["02-tokenize"]
    assert f"TF-IDF over {units} and" in texts["03-keywords"]
    assert f"The corpus holds {units}" in texts["05-summary"]
    if k:
        assert f"with k = {k} topics over {units}" in texts["04-topics"]
        assert f"The topic model found {k} topics." in texts["05-summary"]
    # Every "N <groups>" a page prints counts the named groups of the run, or of one of its sources.
    for page, text in texts.items():
        for said in re.findall(rf"\b(\d[\d,]*) {re.escape(words.groups)}\b", text):
            assert int(said.replace(",", "")) <= groups, f"{page} says {said} {words.groups}; the run has {groups}"
    summary_groups = re.findall(rf"from (\d[\d,]*) {re.escape(words.groups)}\b", texts["05-summary"])
    assert all(int(g.replace(",", "")) == groups for g in summary_groups)
    # A title states no count of units that the pages contradict.
    for said in re.findall(rf"(\d[\d,]*)[- ](?:{re.escape(words.unit)}|{re.escape(words.units)})\b", about["title"]):
        assert int(said.replace(",", "")) == n, f"the title says {said} {words.units}; the run holds {n:,}"


def _offending_words(text: str) -> set[str]:
    """Stored forms and parameter keys: words joined by underscores, and dotted settings keys."""
    found = set()
    for match in re.finditer(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b", text):
        if not FILE_NAME.match(text, match.end()):
            found.add(match.group())
    found |= set(re.findall(r"\b(?:tokenize|keywords|topics)\.[a-z_]+\b", text))
    return found


def test_the_scan_finds_what_it_looks_for():
    assert _offending_words("the White House and white_house; keyness_min_freq; tokenize.keep") == {
        "white_house", "keyness_min_freq", "tokenize.keep"}
    assert _offending_words("download ingest_log.csv or the stop-word list") == set()


@pytest.mark.parametrize("page", sorted(str(p) for p in REPORTS.rglob("*.html")))
def test_no_page_shows_a_parameter_key_or_a_stored_token_form(page):
    assert _offending_words(visible_text(Path(page))) == set()
