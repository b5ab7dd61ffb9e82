"""The header every report page carries (newslens.report.navigation), and the sources every run cites."""

from __future__ import annotations

import re

import pytest

from newslens.corpora import BUILTINS
from newslens.corpus.citations import NOT_STATED, run_citations
from newslens.params import load_run
from newslens.report import navigation
from newslens.report.markup import citations_html, linked_html
from newslens.stages import STAGES

PAGE = "<!DOCTYPE html>\n<html><head><title>t</title></head>\n<body class=\"jp-Notebook\">\n<main>text</main></body></html>"


def links(header: str) -> list[tuple[str, str, bool]]:
    """(href, label, is current) of every link in a header."""
    return [(href, label, bool(current)) for href, current, label in
            re.findall(r'<a (?:class="[^"]*" )?href="([^"]*)"( aria-current="page")?>([^<]*)</a>', header)]


def write_run(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(PAGE, encoding="utf-8")


def test_header_links_the_index_and_every_page_and_marks_only_the_current():
    pages = [navigation.Page(f"{s.name}.html", s.title) for s in STAGES]
    header = navigation.header_html("News & views", pages, "03-keywords.html")
    assert header.startswith('<nav data-role="run-nav"')
    assert "News &amp; views" in header
    assert links(header) == [("../index.html", "All reports", False)] + [
        (f"{s.name}.html", s.title, s.name == "03-keywords") for s in STAGES]
    assert header.count('aria-current="page"') == 1


def test_run_pages_follow_the_stage_order_then_the_extra_pages(tmp_path):
    write_run(tmp_path, ["sensitivity.html", "05-summary.html", "01-ingest.html", "notes.html"])
    assert [p.href for p in navigation.run_pages(tmp_path)] == ["01-ingest.html", "05-summary.html",
                                                                "sensitivity.html"]
    assert [p.href for p in navigation.run_pages(tmp_path, "02-tokenize.html")][:2] == ["01-ingest.html",
                                                                                        "02-tokenize.html"]


def test_refresh_gives_every_page_the_header_of_the_pages_there_now(tmp_path):
    write_run(tmp_path, ["01-ingest.html"])
    navigation.refresh_run(tmp_path, "Run")
    first = (tmp_path / "01-ingest.html").read_text(encoding="utf-8")
    assert [h for h, _, _ in links(first)] == ["../index.html", "01-ingest.html"]
    write_run(tmp_path, ["02-tokenize.html", "sensitivity.html"])
    changed = navigation.refresh_run(tmp_path, "Run")
    assert len(changed) == 3
    for name in ("01-ingest.html", "02-tokenize.html", "sensitivity.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert text.count("<nav") == 1, "the header is replaced, never added twice"
        assert text.index("<nav") > text.index("<body") and text.index("<nav") < text.index("<main>")
        assert [(h, cur) for h, _, cur in links(text)] == [
            ("../index.html", False), ("01-ingest.html", name == "01-ingest.html"),
            ("02-tokenize.html", name == "02-tokenize.html"), ("sensitivity.html", name == "sensitivity.html")]
    assert navigation.refresh_run(tmp_path, "Run") == [], "an unchanged run rewrites nothing"


def test_a_page_without_a_body_is_refused():
    with pytest.raises(ValueError, match="must have a <body>"):
        navigation.with_header("<html><head></head></html>", "<nav data-role=\"run-nav\"></nav>")


def test_comparison_header_links_the_summaries_that_exist(tmp_path):
    write_run(tmp_path / "news", ["05-summary.html"])
    header = navigation.comparison_header("news against old", "news--old.html",
                                          [("news", tmp_path / "news"), ("old", tmp_path / "old"), ("file", None)])
    assert links(header) == [("../index.html", "All reports", False), ("news--old.html", "This comparison", True),
                             ("../news/05-summary.html", "Summary of news", False)]
    same = navigation.comparison_header("news against HEAD~1", "x.html",
                                        [("news", tmp_path / "news"), ("HEAD~1", tmp_path / "news")])
    assert same.count("../news/05-summary.html") == 1


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_states_its_citation_and_licence(name):
    corpus = BUILTINS[name]
    assert len(corpus.citation) > 20 and len(corpus.licence) > 10
    assert re.search(r"\b(1[89]|20)\d\d\b|doi:|Repository|Project", corpus.citation), corpus.citation


def test_news_citations_name_the_seed_origin_and_the_dataverse_doi():
    cited = run_citations(load_run("params/news.yaml").params.sources)
    assert [c.name for c in cited] == ["Xi Jinping and Alexander Lukashenko phone call, 10 January 2022",
                                       "News articles from nine outlets, 2016-2017"]
    assert "Xinhua" in cited[0].cite and "paraphrased republication" in cited[0].cite
    assert cited[0].licence == NOT_STATED
    assert cited[1].cite == "Dai, Tianru (2017), News Articles, Harvard Dataverse, doi:10.7910/DVN/GMFCTR"
    html = citations_html(cited)
    assert html.count("<li>") == 2 and "wording.." not in html and "doi:10.7910/DVN/GMFCTR" in html


def test_linked_html_links_the_first_mention_and_escapes_the_rest():
    text = "See the ingest report <b> and the ingest report again."
    out = linked_html(text, {"the ingest report": "01-ingest.html", "the sensitivity report": "sensitivity.html"})
    assert out == ('See <a href="01-ingest.html">the ingest report</a> &lt;b&gt; and the ingest report again.')
