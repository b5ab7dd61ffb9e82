"""The topics report (``notebooks/04-topics.ipynb``): one function per display cell.

:func:`newslens.analysis.topics.run` fits and writes the model and computes everything the
page shows (the explorer's data, the prevalence tables); each function here draws one cell
from its result and returns None. Without a model (k = 0) the cells after the first show
nothing: the first says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from newslens.analysis import topic_effects, topic_views
from newslens.analysis.topics import FOCUS_SHOWN
from newslens.report import limits_prose, markup, plots, prose, topic_explorer

if TYPE_CHECKING:
    from newslens.analysis.topics import TopicsResult
    from newslens.wording import Words

# The topic table's headers, in words.
LABEL_SOURCE = {True: "labels file", False: "top three terms"}
TOPIC_HEADERS = {"topic": "topic", "label": "label", "source": "label from", "prevalence": "share of the corpus",
                 "coherence": "coherence (NPMI)", "exclusivity": "exclusivity (FREX)", "top_terms": "top terms"}
# The chart of shares by group draws the largest groups up to this many (a panel's rows stay legible).
GROUPS_DRAWN = 20


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


def _show_chart(figure) -> None:
    """Display a chart now, so that the sentence shown after it sits under it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(figure)
    plt.close(figure)


def _small_levels(rows, min_documents: int, words: Words, noun: str) -> str:
    """The sentence naming the levels too small for an interval, with their sizes ("" when none)."""
    small = rows[topic_effects.too_small(rows, min_documents)].drop_duplicates("level")
    if small.empty:
        return ""
    named = [f"{level} ({words.count(int(n))})" for level, n in zip(small["level"], small["n_docs"])]
    listed = prose.listed(named) if len(named) <= 6 else f"{', '.join(named[:6])} and {len(named) - 6:,} more"
    return (f"Drawn hollow, without an interval: {noun} of fewer than {words.count(min_documents)} "
            f"(the keywords report's minimum), {listed}.")


def by_group(result: TopicsResult, words: Words) -> None:
    """Each topic's share by group with its 95% interval (a panel per topic), or a note for one group."""
    effects = result.effects
    if not result.fit.k or effects is None:
        return
    rows = effects.rows("group")
    levels = rows["level"].drop_duplicates().tolist()  # largest first, units without a group last
    if len(levels) < 2:
        markup.show_text(f"This run has a single {words.group}.", css_class="note")
        return
    shown = levels[:GROUPS_DRAWN]
    frames = topic_effects.chart_frames(effects, result.fit.topics, "group", shown)
    _show_chart(plots.interval_multiples(frames, title=f"Topic share by {words.group}, with 95% intervals",
                                         xlabel=f"share of the {words.group}'s text (mean topic weight of its "
                                                f"{words.units})"))
    notes = [f"Each point is the topic's share of one {words.group}'s text: the mean weight of the topic in its "
             f"{words.units}. The line through it is the 95% interval: where the share fell in 95% of "
             f"{topic_effects.REPLICATES} redraws of the {words.group}'s {words.units}, drawn at random "
             "with replacement. Two lines that do not overlap show a difference that redrawing the "
             f"{words.units} does not explain away; overlapping lines may still differ.",
             _small_levels(rows, effects.min_documents, words, words.groups)]
    if len(shown) < len(levels):
        notes.append(f"The {len(shown)} largest of the {len(levels):,} {words.groups} are drawn.")
    markup.show_text(" ".join(n for n in notes if n), css_class="note")


def over_time(result: TopicsResult, words: Words) -> None:
    """Each topic's share per period as a line with its 95% band over the units per period, or a note."""
    effects = result.effects
    if not result.fit.k or effects is None:
        return
    if effects.time_reason:
        markup.show_text(f"No time axis: {effects.time_reason}.", css_class="note")
        return
    period = effects.resolution.name
    frames = topic_effects.chart_frames(effects, result.fit.topics, "period")
    _show_chart(plots.band_multiples(frames, title=f"Topic share by {period}, with 95% intervals",
                                     ylabel=f"share of the {period}'s text", count_label=words.units))
    rows = effects.rows("period")
    notes = [f"Each line is a topic's share of each {period}'s text (the mean weight of the topic in its "
             f"{words.units}); the shaded band is its 95% interval, from {topic_effects.REPLICATES} redraws "
             f"of the {period}'s {words.units}. The grey bars beneath count the {words.units} of each {period}: "
             f"the fewer they are, the wider the band. The {period}s follow the span of the dates: "
             f"{effects.resolution.evidence}.",
             _small_levels(rows, effects.min_documents, words, f"{period}s"), effects.time_note,
             limits_prose.coverage_sentence(result.limits, words)]
    if (rows["n_docs"] == 0).any():
        notes.append(f"A gap is a {period} with no {words.unit}.")
    markup.show_text(" ".join(n for n in notes if n), css_class="note")


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
