"""The topics report (``notebooks/04-topics.ipynb``): one function per display cell.

:func:`newslens.analysis.topics.run` fits and writes the model; :func:`views` adds what the
report layer computes from it (the topic explorer, written for the summary too, and the
prevalence tables of :mod:`newslens.report.topic_views`). Each other function draws one cell
from those two records and returns None. Without a model (k = 0) the cells after the first
show nothing: the first says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from newslens.report import markup, plots, topic_explorer, topic_views

if TYPE_CHECKING:
    from newslens.analysis.topics import TopicsResult
    from newslens.corpus.periods import Resolution
    from newslens.stages import StageRun
    from newslens.wording import Words

# The focus chart leaves out topics under 1% of the document: slivers a bar cannot show
# (the summary's chart cuts at 2%, for its smaller space).
FOCUS_MIN_SHARE = 0.01


@dataclass(frozen=True)
class TopicViews:
    """The report layer's views of the model; all None without a model (k = 0)."""

    explorer: dict[str, Any] | None       # the topic explorer's data, as topic_explorer.json holds it
    by_group: pd.DataFrame | None         # mean topic weight per group (topics × groups)
    over_time: pd.DataFrame | None        # mean topic weight per period (topics × periods)
    resolution: Resolution | None         # the periods' resolution, and why
    focus: pd.Series | None               # the focus document's mixture (None: no focus)
    representative: pd.DataFrame | None   # each topic's top documents


def views(result: TopicsResult, stage_run: StageRun) -> TopicViews:
    """The explorer (written to ``topic_explorer.json``, None without a model) and the prevalence views."""
    fit, documents = result.fit, result.documents
    explorer = topic_explorer.explorer_data(fit, documents, terms=result.terms, counts=result.counts,
                                            display=result.display, words=stage_run.words)
    topic_explorer.write(explorer, stage_run.processed_dir)
    if not fit.k:
        return TopicViews(explorer, None, None, None, None, None)
    over_time, resolution = topic_views.prevalence_over_time(fit.doc_topics, documents, fit.topics)
    focus = (topic_views.focus_mixture(fit.doc_topics, fit.topics, result.focus_ids)
             if result.focus_ids else None)
    return TopicViews(explorer, topic_views.prevalence_by_group(fit.doc_topics, documents, fit.topics),
                      over_time, resolution, focus,
                      topic_views.representative_documents(fit.doc_topics, documents, fit.topics))


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
    markup.show_table(result.fit.topics[["topic", "label", "prevalence", "coherence", "top_terms"]],
                      numeric_format={"prevalence": ".1%", "coherence": ".3f"})
    for problem in result.fit.label_problems:
        markup.show_text(f"Labels file: {problem}", css_class="note")


def top_terms(result: TopicsResult) -> None:
    """Each topic's top terms and weights, as small multiples."""
    if not result.fit.k:
        return
    plots.small_multiples(topic_views.term_frames(result.fit.topics, result.fit.topic_terms, result.display),
                          title="Top terms per topic", columns=4)


def explorer(result: TopicsResult, shown: TopicViews) -> None:
    """The topic explorer: the intertopic map, terms by relevance, top documents."""
    if not result.fit.k:
        return
    topic_explorer.show(shown.explorer, label=f"Topic explorer: {result.fit.k} topics")


def by_group(shown: TopicViews, words: Words) -> None:
    """Topic prevalence by group as a heatmap, or a note when the run has a single group."""
    if shown.by_group is None:
        return
    if shown.by_group.shape[1] > 1:
        plots.heatmap(shown.by_group, title=f"Topic prevalence by {words.group}", fmt="{:.2f}")
    else:
        markup.show_text(f"This run has a single {words.group}.", css_class="note")


def over_time(shown: TopicViews, words: Words) -> None:
    """Topic prevalence per period as a heatmap, or a note when the units span a single period."""
    if shown.over_time is None:
        return
    resolution = shown.resolution
    if shown.over_time.shape[1] > 1:
        markup.show_text(f"Mean topic weight per {resolution.name}, {resolution.evidence}.", css_class="note")
        plots.heatmap(shown.over_time, title=f"Topic prevalence by {resolution.name}", fmt="{:.2f}",
                      cmap="Greens", annotate=False)
    else:
        markup.show_text(f"The {words.units} do not span more than one {resolution.name}, so there is no time axis.",
                         css_class="note")


def focus_mixture(result: TopicsResult, shown: TopicViews) -> None:
    """The focus document's topic mixture (topics of at least :data:`FOCUS_MIN_SHARE`), or a note."""
    if not result.fit.k:
        return
    if shown.focus is None:
        markup.show_text("This run has no focus document.", css_class="note")
        return
    plots.barh(shown.focus[shown.focus >= FOCUS_MIN_SHARE], title="Topic mixture of the focus document",
               xlabel="share of the document", fmt="{:.0%}")


def representative_documents(shown: TopicViews, words: Words) -> None:
    """The three documents with the highest weight on each topic."""
    if shown.representative is None:
        return
    markup.show_table(shown.representative.rename(columns={"group": words.group}), numeric_format={"weight": ".2f"})


def anchors(result: TopicsResult) -> None:
    """Our model's NPMI beside the two baselines at the same k."""
    if result.anchors is None:
        return
    markup.show_table(result.anchors, numeric_format={"npmi": ".4f"})
