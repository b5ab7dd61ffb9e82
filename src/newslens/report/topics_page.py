"""The topics report (``notebooks/04-topics.ipynb``): one function per display cell.

:func:`newslens.analysis.topics.run` fits and writes the model and computes everything the
page shows (the explorer's data, the prevalence tables); each function here draws one cell
from its result and returns None. Without a model (k = 0) the cells after the first show
nothing: the first says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from newslens.analysis import topic_views
from newslens.analysis.topics import FOCUS_SHOWN
from newslens.report import markup, plots, topic_explorer

if TYPE_CHECKING:
    from newslens.analysis.topics import TopicsResult
    from newslens.wording import Words

# The topic table's headers, in words.
LABEL_SOURCE = {True: "labels file", False: "top three terms"}
TOPIC_HEADERS = {"topic": "topic", "label": "label", "source": "label from", "prevalence": "share of the corpus",
                 "coherence": "coherence (NPMI)", "exclusivity": "exclusivity (FREX)", "top_terms": "top terms"}


def overview(result: TopicsResult, title: str, words: Words) -> None:
    """The run's title, the model fitted with its k and why, or why there is no model."""
    fit = result.fit
    markup.show_heading(title, level=2)
    if not fit.k:
        markup.show_text(f"{fit.reason}. The sections below stay empty; the summary says the same.",
                         css_class="note")
        return
    markup.show_text(f"Model: {fit.model.upper()} with k = {fit.k} topics over "
                     f"{words.count(result.n_documents)} and {len(result.terms):,} terms. {fit.reason}.")
    markup.show_text(f"The corpus was {result.texts.evidence(words.unit)}. Fitted: {fit.model_reason}; "
                     f"{fit.k_note}.", css_class="note")


def choice_of_k(result: TopicsResult) -> None:
    """The sweep: coherence and stability per k (a chart when more than one k was fitted), and its table."""
    if not result.fit.k:
        return
    if len(result.fit.sweep) > 1:
        plots.sweep(result.fit.sweep, result.fit.k)
    markup.show_table(result.fit.sweep)


def topic_table(result: TopicsResult) -> None:
    """The topics by prevalence with their labels, and any problem of the labels file."""
    if not result.fit.k:
        return
    table = result.fit.topics.assign(source=result.fit.topics["labelled"].map(LABEL_SOURCE))
    markup.show_table(table[["topic", "label", "source", "prevalence", "coherence", "exclusivity", "top_terms"]]
                      .rename(columns=TOPIC_HEADERS),
                      numeric_format={TOPIC_HEADERS["prevalence"]: ".1%", TOPIC_HEADERS["coherence"]: ".3f",
                                      TOPIC_HEADERS["exclusivity"]: ".3f"})
    for problem in result.fit.label_problems:
        markup.show_text(f"Labels file: {problem}", css_class="note")


def top_terms(result: TopicsResult) -> None:
    """Each topic's top terms and weights, as small multiples."""
    if not result.fit.k:
        return
    plots.small_multiples(topic_views.term_frames(result.fit.topics, result.fit.topic_terms, result.display),
                          title="Top terms per topic", columns=4)


def explorer(result: TopicsResult) -> None:
    """The topic explorer: the intertopic map, terms by relevance, top documents."""
    if not result.fit.k:
        return
    topic_explorer.show(result.explorer, label=f"Topic explorer: {result.fit.k} topics")


def by_group(result: TopicsResult, words: Words) -> None:
    """Topic prevalence by group as a heatmap, or a note when the run has a single group."""
    if result.by_group is None:
        return
    if result.by_group.shape[1] > 1:
        plots.heatmap(result.by_group, title=f"Topic prevalence by {words.group}",
                      colorbar="mean share of a document", fmt="{:.2f}")
    else:
        markup.show_text(f"This run has a single {words.group}.", css_class="note")


def over_time(result: TopicsResult, words: Words) -> None:
    """Topic prevalence per period as a heatmap, or a note when the units span a single period."""
    if result.over_time is None:
        return
    resolution = result.resolution
    if result.over_time.shape[1] > 1:
        markup.show_text(f"Mean topic weight per {resolution.name}, {resolution.evidence}.", css_class="note")
        plots.heatmap(result.over_time, title=f"Topic prevalence by {resolution.name}",
                      colorbar="mean share of a document", fmt="{:.2f}",
                      cmap="Greens", annotate=False)
    else:
        markup.show_text(f"The {words.units} do not span more than one {resolution.name}, so there is no time axis.",
                         css_class="note")


def focus_mixture(result: TopicsResult) -> None:
    """The focus document's topic mixture (topics of at least :data:`FOCUS_SHOWN`), or a note."""
    if not result.fit.k:
        return
    if result.focus is None:
        markup.show_text("This run has no focus document.", css_class="note")
        return
    plots.barh(result.focus[result.focus >= FOCUS_SHOWN], title="Topic mixture of the focus document",
               xlabel="share of the document", fmt="{:.0%}")
    if result.focus_caveats:
        markup.show_text(result.focus_caveats, css_class="note")


def representative_documents(result: TopicsResult, words: Words) -> None:
    """The three documents with the highest weight on each topic."""
    if result.representative is None:
        return
    markup.show_table(result.representative.rename(columns={"group": words.group}), numeric_format={"weight": ".2f"})


def anchors(result: TopicsResult) -> None:
    """Our model's NPMI beside the two baselines at the same k."""
    if result.anchors is None:
        return
    markup.show_table(result.anchors, numeric_format={"npmi": ".4f"})
