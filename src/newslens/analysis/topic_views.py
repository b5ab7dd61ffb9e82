"""Views of a fitted topic model for the reports: by group, over time, per document, per topic.

They read the saved tables of the topics stage (``topics.csv``, ``doc_topics.parquet``,
``topic_terms.parquet``) and compute no model, so the summary uses them without
scikit-learn. Values reach a chart at display precision (:func:`newslens.precision.display_values`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from newslens.precision import display_values

if TYPE_CHECKING:
    from newslens.corpus.periods import Resolution

def _with_labels(table: pd.DataFrame, topics: pd.DataFrame) -> pd.DataFrame:
    names = {row.topic: f"T{row.topic}: {row.label}" for row in topics.itertuples()}
    order = [names[t] for t in topics["topic"]]
    return table.rename(index=names).reindex(order)


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """A chart's cells at display precision (4 significant digits)."""
    return pd.DataFrame(display_values(table.to_numpy(dtype=float)), index=table.index, columns=table.columns)


def prevalence_by_group(doc_topics: pd.DataFrame, documents: pd.DataFrame,
                        topics: pd.DataFrame) -> pd.DataFrame:
    """Mean topic weight per group: topics (rows, labelled) × groups (columns)."""
    joined = doc_topics.merge(documents[["doc_id", "group"]], on="doc_id")
    table = joined.pivot_table(index="topic", columns="group", values="weight", aggfunc="mean")
    return _shown(_with_labels(table, topics))


def prevalence_over_time(doc_topics: pd.DataFrame, documents: pd.DataFrame, topics: pd.DataFrame,
                         resolution=None) -> tuple[pd.DataFrame, "Resolution"]:
    """Mean topic weight per period over the dense part of the dates, and the resolution (see periods)."""
    from newslens.corpus.periods import choose_resolution, dense_mask, period_label, period_start

    resolution = resolution or choose_resolution(documents["date"], precision=documents.get("date_precision"))
    dated = documents.dropna(subset=["date"])
    dated = dated[dense_mask(dated["date"])] if len(dated) else dated
    if dated.empty:
        return pd.DataFrame(), resolution
    joined = doc_topics.merge(dated[["doc_id", "date"]], on="doc_id")
    joined["period"] = period_start(joined["date"], resolution.name)
    table = joined.pivot_table(index="topic", columns="period", values="weight", aggfunc="mean")
    table.columns = [period_label(c, resolution.name) for c in table.columns]
    return _shown(_with_labels(table, topics)), resolution


def representative_documents(doc_topics: pd.DataFrame, documents: pd.DataFrame,
                             topics: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The ``n`` documents with the highest weight on each topic, with titles and groups."""
    ranked = doc_topics[doc_topics["weight"] > 0].sort_values(["topic", "weight", "doc_id"],
                                                              ascending=[True, False, True])
    top = ranked.groupby("topic", sort=False).head(n)
    top = top.merge(documents[["doc_id", "parent_id", "title", "text", "group"]], on="doc_id", how="left")
    # Units (sentences, paragraphs) share their document's title: show their own words instead.
    is_unit = top["doc_id"] != top["parent_id"]
    top["title"] = top["title"].where(~is_unit, top["text"].str.slice(0, 160)).fillna(top["doc_id"])
    top = top.drop(columns=["parent_id", "text"])
    labels = topics.set_index("topic")["label"]
    top.insert(1, "label", top["topic"].map(labels))
    order = {t: i for i, t in enumerate(topics["topic"])}
    top = top.sort_values(["topic", "weight"], key=lambda c: c.map(order) if c.name == "topic" else -c,
                          ignore_index=True)
    return top.assign(weight=top["weight"].round(2))  # shown as 0.12, once ranked


def focus_mixture(doc_topics: pd.DataFrame, topics: pd.DataFrame, focus_ids: list[str]) -> pd.Series:
    """The focus's topic mixture (mean over its units), labelled, largest first."""
    weights = doc_topics[doc_topics["doc_id"].isin(focus_ids)].groupby("topic")["weight"].mean()
    labels = topics.set_index("topic")["label"]
    weights.index = [f"T{t}: {labels[t]}" for t in weights.index]
    return weights.sort_values(ascending=False)


def term_frames(topics: pd.DataFrame, topic_terms: pd.DataFrame, display: dict[str, str],
                n: int = 8) -> list[tuple[str, pd.Series]]:
    """Per topic, its top ``n`` terms (display form) and weights, for small multiples."""
    frames = []
    for row in topics.itertuples():
        terms = topic_terms[topic_terms["topic"] == row.topic].head(n)
        values = pd.Series(terms["weight"].to_numpy(), index=[display.get(t, t) for t in terms["term"]])
        frames.append((f"T{row.topic}: {row.label} ({row.prevalence:.0%})", values))
    return frames
