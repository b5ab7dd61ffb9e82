"""Views of a fitted topic model for the reports: by group, over time, per document, per topic.

They read the saved tables of the topics stage (``topics.csv``, ``doc_topics.parquet``,
``topic_terms.parquet``) and compute no model, so the summary uses them without
scikit-learn. Values reach a chart at display precision (:func:`newslens.precision.display_values`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pathlib import Path

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


PERIODS_FILE = "topic_periods.parquet"


def write_periods(over_time: pd.DataFrame, out_dir: Path) -> Path:
    """Write :func:`prevalence_over_time`'s table (topics × periods; empty without a model or dates),
    so that the summary reads it rather than every document's mixture (:func:`read_periods`)."""
    from newslens.files import write_parquet

    table = over_time.rename_axis("topic").reset_index() if len(over_time.columns) else pd.DataFrame({"topic": []})
    return write_parquet(table, Path(out_dir) / PERIODS_FILE)


def read_periods(out_dir: Path) -> pd.DataFrame:
    """The table :func:`write_periods` wrote, as :func:`prevalence_over_time` gave it."""
    table = pd.read_parquet(Path(out_dir) / PERIODS_FILE)
    if len(table.columns) < 2:
        return pd.DataFrame()
    table = table.set_index("topic")
    table.columns = list(table.columns)
    return table


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


# A part of the focus's mixture is weak when it is under WEAK_SHARE of the document and fewer than
# WEAK_TERMS of the topic's top 10 terms occur in the document: weight the model spreads over the
# vocabulary's long tail, not a subject the document is about.
WEAK_SHARE = 0.10
WEAK_TERMS = 2
WEAK = " (weak)"


def focus_topics(doc_topics: pd.DataFrame, topics: pd.DataFrame, topic_terms: pd.DataFrame,
                 focus_ids: list[str], present: set[str]) -> pd.DataFrame:
    """The focus's topic mixture as a table, largest first: topic, label, share, the number of the
    topic's top 10 terms that occur in the focus (``present``: its terms), and whether the part is
    weak (:data:`WEAK_SHARE`, :data:`WEAK_TERMS`) or the topic mixed.

    >>> doc_topics = pd.DataFrame({"doc_id": ["f", "f"], "topic": [1, 2], "weight": [0.92, 0.08]})
    >>> topics = pd.DataFrame({"topic": [1, 2], "label": ["trade", "Korea"], "mixed": [False, False]})
    >>> terms = pd.DataFrame({"topic": [1, 1, 2, 2], "rank": [1, 2, 1, 2],
    ...                       "term": ["trade", "china", "kim", "korea"]})
    >>> focus_topics(doc_topics, topics, terms, ["f"], {"trade", "china"})[["topic", "share", "terms_in_focus", "weak"]]
       topic  share  terms_in_focus   weak
    0      1   0.92               2  False
    1      2   0.08               0   True
    """
    weights = doc_topics[doc_topics["doc_id"].isin(focus_ids)].groupby("topic")["weight"].mean()
    top = topic_terms[topic_terms["rank"] <= 10].groupby("topic")["term"].apply(list)
    table = topics[["topic", "label", "mixed"]].assign(
        share=topics["topic"].map(weights).fillna(0.0).round(3),
        terms_in_focus=topics["topic"].map(lambda t: sum(term in present for term in top.get(t, []))))
    table["weak"] = (table["share"] < WEAK_SHARE) & (table["terms_in_focus"] < WEAK_TERMS)
    table = table.sort_values(["share", "topic"], ascending=[False, True], ignore_index=True)
    return table[["topic", "label", "share", "terms_in_focus", "weak", "mixed"]]


def focus_mixture(table: pd.DataFrame) -> pd.Series:
    """The focus's mixture (a :func:`focus_topics` table) as labelled shares, largest first; weak parts
    end in :data:`WEAK` (mixed topics' labels already end in ``(mixed)``)."""
    labels = [f"T{row.topic}: {row.label}{WEAK if row.weak else ''}" for row in table.itertuples()]
    return pd.Series(table["share"].to_numpy(dtype=float), index=labels)


def focus_caveats(table: pd.DataFrame, noun: str, shown: float = 0.0) -> str | None:
    """One plain sentence on the weak and mixed parts of the focus's mixture (of at least ``shown``), or None.

    >>> table = pd.DataFrame({"topic": [2, 35], "label": ["trade", "Korea"], "share": [0.49, 0.09],
    ...                       "terms_in_focus": [4, 0], "weak": [False, True], "mixed": [False, False]})
    >>> print(focus_caveats(table, "article"))
    Marked weak: “Korea” (9%): none of its top 10 terms occurs in the article, so its weight comes from words the topic only touches, not from a subject of the article.
    """
    listed = table[table["share"] >= shown]
    parts = []
    weak = listed[listed["weak"]]
    if len(weak):
        named = ", ".join(f"“{row.label}” ({row.share:.0%})" for row in weak.itertuples())
        most = int(weak["terms_in_focus"].max())
        held = "none of its top 10 terms occurs" if most == 0 and len(weak) == 1 else (
            "none of their top 10 terms occurs" if most == 0 else
            f"at most {most} of {'its' if len(weak) == 1 else 'their'} top 10 terms occur{'s' if most == 1 else ''}")
        parts.append(f"Marked weak: {named}: {held} in the {noun}, so "
                     f"{'its' if len(weak) == 1 else 'their'} weight comes from words the topic only touches, "
                     f"not from a subject of the {noun}.")
    mixed = listed[listed["mixed"]]
    if len(mixed):
        named = ", ".join(f"“{row.label.removesuffix(' (mixed)')}” ({row.share:.0%})" for row in mixed.itertuples())
        parts.append(f"Marked mixed: {named}: {'a topic' if len(mixed) == 1 else 'topics'} of low coherence and "
                     "low exclusivity, more a mixture of subjects than one.")
    return " ".join(parts) or None


def term_frames(topics: pd.DataFrame, topic_terms: pd.DataFrame, display: dict[str, str],
                n: int = 8) -> list[tuple[str, pd.Series]]:
    """Per topic, its top ``n`` terms (display form) and weights, for small multiples."""
    frames = []
    for row in topics.itertuples():
        terms = topic_terms[topic_terms["topic"] == row.topic].head(n)
        values = pd.Series(terms["weight"].to_numpy(), index=[display.get(t, t) for t in terms["term"]])
        frames.append((f"T{row.topic}: {row.label} ({row.prevalence:.0%})", values))
    return frames
