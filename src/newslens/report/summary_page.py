"""The summary's page (stage 05): one function per display cell of ``notebooks/05-summary.ipynb``.

Each shows what :func:`newslens.report.summary.run` returned, in the run's own words, and
returns None (so a cell that draws a chart leaves no value behind); none computes a number.
"""

from __future__ import annotations

from newslens.corpus.citations import run_citations
from newslens.report import markup, plots, topic_explorer
from newslens.report.summary import MIXTURE_SHOWN, SummaryResult
from newslens.wording import Words


def heading(result: SummaryResult) -> None:
    """The run's title, and the document the report centres on when it has a focus."""
    markup.show_heading(result.title, level=2)
    if result.focus:
        markup.show_text(result.focus)


def corpus(result: SummaryResult) -> None:
    """What the corpus is: size, groups, dates, what was left out."""
    markup.show_linked_text(result.corpus, {"the ingest report": "01-ingest.html"})


def sources(run_sources) -> None:
    """Where the corpus comes from: each source with what to cite and its licence."""
    markup.show_text("Sources, and what to cite for each:", css_class="note")
    markup.show_html(markup.citations_html(run_citations(run_sources)))


def terms(result: SummaryResult) -> None:
    """What sets the focus apart, or the corpus's top terms without a focus."""
    markup.show_heading(f"What makes the {result.noun} distinctive" if result.focus_ids and not result.whole_run
                        else "The top terms")
    markup.show_text(result.terms)


def terms_chart(result: SummaryResult, words: Words) -> None:
    """The chart of those terms' weights (nothing when there are none)."""
    if result.top_terms.empty:
        return
    if result.focus_ids:
        plots.barh(result.top_terms, title=(f"The focus {result.noun}'s most weighted terms (TF-IDF)" if result.whole_run
                                            else f"The focus {result.noun}'s most distinctive terms (TF-IDF)"),
                   xlabel="TF-IDF weight", fmt="{:.3f}")
    else:
        plots.barh(result.top_terms, title=f"Top terms over all {words.units} (mean TF-IDF)",
                   xlabel="mean TF-IDF weight", fmt="{:.3f}")


def similar(result: SummaryResult, words: Words) -> None:
    """Where the focus's nearest neighbours come from (a run with a focus)."""
    if result.focus_ids:
        markup.show_heading(f"The most similar {words.units}")
        markup.show_text(result.similar_sentence)


def similar_table(result: SummaryResult) -> None:
    """The focus's most similar units, when it has any."""
    if result.focus_ids and len(result.similar):
        markup.show_table(result.similar, numeric_format={"similarity": ".2f"})


def topics(result: SummaryResult) -> None:
    """How many topics and why, the topics table, where the others are, and the explorer."""
    markup.show_text(result.topics_sentence)
    if result.modelled:
        markup.show_table(result.topics, numeric_format={"prevalence": ".1%"})
    if result.topics_note:
        markup.show_text(result.topics_note, css_class="note")
    if result.modelled and result.explorer:
        topic_explorer.show(result.explorer, label=f"Topic explorer: {result.n_topics} topics")


def robustness(result: SummaryResult) -> None:
    """The line on how the findings hold across preprocessing variants, when ``make sensitivity`` ran."""
    if result.robustness:
        markup.show_linked_text(result.robustness, {"the sensitivity report": "sensitivity.html"}, css_class="note")


def mixture_heading(result: SummaryResult) -> None:
    """The heading of the focus's topic mixture (a run with a focus and a topic model)."""
    if result.mixture is not None:
        markup.show_heading(f"The {result.noun}'s topic mixture")


def mixture(result: SummaryResult) -> None:
    """The focus's main topic in words, and its mixture down to :data:`MIXTURE_SHOWN`."""
    if result.mixture is None:
        return
    markup.show_text(result.mixture_sentence)
    plots.barh(result.mixture[result.mixture >= MIXTURE_SHOWN], title=f"Topic mixture of the focus {result.noun}",
               xlabel=f"share of the {result.noun}", fmt="{:.0%}")


def groups_heading(result: SummaryResult, words: Words) -> None:
    """The heading of the groups' section (without a focus, one group is said in the corpus section)."""
    if len(result.group_lines) or result.focus_ids or result.group_lines_note:
        markup.show_heading(f"How the {words.groups} differ")


def group_lines(result: SummaryResult, words: Words) -> None:
    """Each compared group's distinctive terms with their intervals, or why there is nothing to compare."""
    if len(result.group_lines):
        markup.show_text(f"The terms each {words.group} uses more than all the others, where the difference "
                         f"holds across its {words.units}: the 95% interval of the log ratio, from a bootstrap over the "
                         f"{words.units}, excludes 0, and enough of them use the term. The log "
                         "ratio counts doublings of the rate (+1: twice as often).")
        markup.show_table(result.group_lines)
    elif result.focus_ids or result.group_lines_note:
        markup.show_text(f"No two {words.groups} are big enough to compare, so there is no comparison between "
                         f"{words.groups}." if result.group_lines_note else
                         f"This run has a single {words.group}, so there is nothing to compare.", css_class="note")
    if result.group_lines_note:
        markup.show_text(result.group_lines_note, css_class="note")


def over_time(result: SummaryResult) -> None:
    """The topics over time (a run without a focus, with dates and a topic model)."""
    if result.over_time is None:
        return
    markup.show_heading("Over time")
    markup.show_text(result.time_sentence, css_class="note")
    if result.over_time.shape[1] > 1:
        plots.heatmap(result.over_time, title=f"Topic prevalence by {result.resolution.name}",
                      colorbar="mean share of a document", fmt="{:.2f}", cmap="Greens", annotate=False)


def links(result: SummaryResult) -> None:
    """Links to the run's detailed reports."""
    markup.show_html(result.links)
