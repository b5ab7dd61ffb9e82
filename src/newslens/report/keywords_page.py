"""The keywords report (notebook 03): one function per display cell, showing what ``keywords.run`` returned."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from newslens.analysis.keywords import KWIC_LINES
from newslens.report import keyness_explorer, limits_prose, markup, plots

if TYPE_CHECKING:
    from newslens.analysis.keywords import KeywordsResult
    from newslens.wording import Words

# A run without a focus charts the corpus's top terms: twenty bars stay readable.
CORPUS_TERMS_DRAWN = 20
# Keyword-in-context rows per term: enough to read how a term is used, few enough to scroll past.
# Periods too small to compare named in the note; the rest are counted.
LISTED = 12
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


def similar_documents(result: KeywordsResult, words: Words) -> None:
    """The documents nearest the focus by cosine similarity, each marked when it clears the run's
    similarity floor, with the sentence that says how many do; a note when the run has no focus."""
    if len(result.similar):
        said = limits_prose.floor_sentence(result.limits, words)
        if said:
            markup.show_text(said, css_class="note")
        table = result.similar.assign(date=result.similar["date"].dt.strftime("%Y-%m-%d"))
        markup.show_table(limits_prose.mark_floor(table, result.limits), numeric_format={"similarity": ".3f"})
    else:
        markup.show_text("No focus document, so no neighbours to list.", css_class="note")


def keyness_charts(result: KeywordsResult, words: Words) -> None:
    """How the groups were compared, those too small, each group's distinctive terms, and the full table."""
    rule, sizes = result.keyness_rule, result.group_sizes
    groups = sizes[sizes["by"] == "group"]
    compared, small = groups[groups["compared"].astype(bool)], groups[~groups["compared"].astype(bool)]
    if len(groups) < 2:
        markup.show_text(f"This run has a single {words.group}, so there is nothing to compare.", css_class="note")
        return
    markup.show_text(
        f"Each {words.group} with at least {words.count(rule.min_documents)} and {rule.min_tokens:,} tokens is "
        f"compared with all the others ({words.count(len(compared), 'group')}"
        f"{'; those too small are listed below' if len(small) else ''}). A term is "
        f"distinctive when the {rule.level:.0%} interval of its log ratio, from {rule.replicates} replicates in "
        f"which each of the {words.units} counts a random number of times (a Poisson bootstrap over "
        f"{words.units}), excludes 0, and an over-used term is used by at least {rule.min_document_share:.0%} "
        f"of the {words.group}'s {words.units}; the charts show only such terms. "
        f"The log ratio counts doublings of the rate (+1: twice as often).")
    if len(small):
        markup.show_table(small[["group", "n_docs", "n_tokens", "reason"]].rename(
            columns={"group": words.group, "n_docs": words.units, "n_tokens": "tokens", "reason": "too small"}),
            caption="Too small to compare: counted only among \u201call the others\u201d")
    if len(compared) < 2:
        markup.show_text(f"Fewer than two {words.groups} reach the minimum, so there is no comparison between "
                         f"{words.groups}.", css_class="note")
        return
    if result.keyness_frames:
        plots.diverging_multiples(result.keyness_frames, columns=KEYNESS_COLUMNS,
                                  title=f"Distinctive terms per {words.group} (log ratio against the rest)",
                                  xlabel="log ratio: over-used → right (blue), under-used ← left (red); +1 = twice as often")
        plots.heatmap(result.keyness_table, title=f"Log ratio of each {words.group}'s top terms against the rest",
                      colorbar="log ratio (blue: over-used, red: under-used)", fmt="{:+.1f}", xlabel=words.group,
                      ylabel="term", symmetric=True)
    else:
        markup.show_text(f"No {words.group} has a distinctive term by that rule.", css_class="note")
    markup.show_table(keyness_rows(result, "group", words), numeric_format=KEYNESS_FORMAT, name="keyness",
                      caption=f"Keyness of each {words.group} against all the others")


# How the keyness tables print their numbers.
KEYNESS_FORMAT = {"log ratio": "+.2f", "low": "+.2f", "high": "+.2f", "z": "+.1f", "G²": ",.1f",
                  "share using it": ".0%"}


def keyness_rows(result: KeywordsResult, by: str, words: Words) -> pd.DataFrame:
    """The keyness rows of one comparison as a reader reads them: sizes, counts, interval, document share."""
    rows = result.keyness[result.keyness["by"] == by]
    return pd.DataFrame({
        words.group if by == "group" else "period": rows["group"], words.units: rows["n_docs"],
        "term": _shown(rows["term"], result.display), "direction": rows["direction"],
        "count": rows["freq_target"], "count elsewhere": rows["freq_reference"], "log ratio": rows["log_ratio"],
        "low": rows["log_ratio_low"], "high": rows["log_ratio_high"], "z": rows["log_odds_z"], "G²": rows["g2"],
        "share using it": rows["doc_share"], "distinctive": rows["distinctive"].map({True: "yes", False: "no"}),
    }).reset_index(drop=True)


def explorer(result: KeywordsResult, words: Words) -> None:
    """The keyness explorer, when the run has two groups or more to compare."""
    if result.explorer:
        markup.show_html(keyness_explorer.explorer_html(result.explorer, words))


def period_keywords(result: KeywordsResult, words: Words) -> None:
    """Each compared period's distinctive over-used terms, and the periods too small to compare."""
    sizes = result.group_sizes[result.group_sizes["by"] == "period"]
    small = sizes[~sizes["compared"].astype(bool)]
    if len(result.top_by_period):
        markup.show_table(result.top_by_period.rename(columns={"group": result.period, "n_docs": words.units,
                                                               "term": "distinctive over-used terms"}),
                          caption=f"Keyness by {result.period}: each {result.period} against the rest")
    if len(small):
        markup.show_text(f"{len(small):,} of the {len(sizes):,} {result.period}s hold fewer than "
                         f"{words.count(result.keyness_rule.min_documents)} or {result.keyness_rule.min_tokens:,} "
                         f"tokens and are not compared: " + ", ".join(
                             f"{g} ({words.count(n)})" for g, n in zip(small["group"][:LISTED], small["n_docs"]))
                         + (f" and {len(small) - LISTED:,} more" if len(small) > LISTED else "") + ".",
                         css_class="note")


def keywords_in_context(result: KeywordsResult) -> None:
    """Each kwic term of the run: its matches in the texts, then its collocates (or where to look instead)."""
    if not result.in_context:
        markup.show_text("This run names no terms to show here. Search any term in the explorer above to see "
                         "its keywords in context.", css_class="note")
    for item in result.in_context:
        markup.show_heading(result.display.get(item.term, item.term), level=3)
        markup.show_html(markup.kwic_html(item.matches, max_rows=KWIC_LINES, term=item.term, total=item.total))
        if len(item.collocates):
            markup.show_text("Collocates: " + ", ".join(_shown(item.collocates["collocate"], result.display)),
                             css_class="note")
