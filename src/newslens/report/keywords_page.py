"""The keywords report (notebook 03): one function per display cell, showing what ``keywords.run`` returned."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from newslens.report import keyness_explorer, markup, plots

if TYPE_CHECKING:
    from newslens.analysis.keywords import KeywordsResult
    from newslens.wording import Words

# A run without a focus charts the corpus's top terms: twenty bars stay readable.
CORPUS_TERMS_DRAWN = 20
# Keyword-in-context rows per term: enough to read how a term is used, few enough to scroll past.
KWIC_ROWS = 300
# Small multiples of the keyness chart per row.
KEYNESS_COLUMNS = 3


def _shown(terms: pd.Series, display: dict[str, str]) -> pd.Series:
    """Terms in their display form (a lemma as the text most often wrote it)."""
    return terms.map(lambda t: display.get(t, t))


def overview(result: KeywordsResult, title: str, words: Words) -> None:
    """The run's title, and what TF-IDF weighed: documents, terms and the document-frequency bounds."""
    markup.show_heading(title, level=2)
    markup.show_text(f"TF-IDF over {words.count(result.documents)} and {result.terms:,} terms "
                     f"(terms in at least {result.min_df} and at most {result.max_df:.0%} of the "
                     f"{words.units}; sublinear tf, l2 norm).")


def distinctive_terms(result: KeywordsResult) -> None:
    """The focus document's top TF-IDF terms, chart and table; without a focus, the corpus's top terms."""
    if len(result.focus_terms):
        terms = result.focus_terms
        markup.show_text(f"Focus: {result.focus_title}", css_class="note")
        plots.barh(terms.set_index(_shown(terms["term"], result.display))["score"],
                   title="Top TF-IDF terms of the focus document", xlabel="TF-IDF weight", fmt="{:.3f}")
        markup.show_table(terms.assign(term=_shown(terms["term"], result.display)),
                          numeric_format={"score": ".3f", "share_elsewhere": ".2%", "idf": ".2f"})
    else:
        terms = result.corpus_terms
        markup.show_text("This run has no focus document; the corpus-level top terms follow.", css_class="note")
        plots.barh(terms.set_index(_shown(terms["term"], result.display))["mean_tfidf"].head(CORPUS_TERMS_DRAWN),
                   title="Top terms by mean TF-IDF", xlabel="mean TF-IDF", fmt="{:.3f}")


def similar_documents(result: KeywordsResult) -> None:
    """The documents nearest the focus by cosine similarity, or a note when the run has no focus."""
    if len(result.similar):
        markup.show_table(result.similar.assign(date=result.similar["date"].dt.strftime("%Y-%m-%d")),
                          numeric_format={"similarity": ".3f"})
    else:
        markup.show_text("No focus document, so no neighbours to list.", css_class="note")


def keyness_charts(result: KeywordsResult, words: Words) -> None:
    """Each group's over- and under-used terms, and the log ratio of their top terms; a note with one group."""
    if result.keyness_frames:
        plots.diverging_multiples(result.keyness_frames, title=f"Over- and under-used terms per {words.group}",
                                  columns=KEYNESS_COLUMNS)
        plots.heatmap(result.keyness_table, title=f"Log ratio of each {words.group}'s top terms against the rest",
                      fmt="{:+.1f}", cmap="RdBu_r", xlabel=words.group, ylabel="term", symmetric=True)
    else:
        markup.show_text(f"This run has a single {words.group}, so there is nothing to compare.", css_class="note")


def explorer(result: KeywordsResult, words: Words) -> None:
    """The keyness explorer, when the run has two groups or more to compare."""
    if result.explorer:
        markup.show_html(keyness_explorer.explorer_html(result.explorer, words))


def period_keywords(result: KeywordsResult) -> None:
    """Each period's over-used terms, when the run compares periods."""
    if len(result.top_by_period):
        markup.show_table(result.top_by_period.rename(columns={"group": result.period, "term": "over-used terms"}),
                          caption=f"Keyness by {result.period}: each {result.period} against the rest")


def keywords_in_context(result: KeywordsResult) -> None:
    """Each kwic term of the run: its matches in the texts, then its collocates."""
    for item in result.in_context:
        markup.show_heading(result.display.get(item.term, item.term), level=3)
        markup.show_html(markup.kwic_html(item.matches, max_rows=KWIC_ROWS, term=item.term))
        if len(item.collocates):
            markup.show_text("Collocates: " + ", ".join(_shown(item.collocates["collocate"], result.display)),
                             css_class="note")
