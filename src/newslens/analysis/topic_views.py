"""Views of a fitted topic model for the reports: by group, over time, per document, per topic.

They read the topics stage's tables (``topics.csv``, ``topic_terms.parquet``) and its documents'
mixtures, wide (:attr:`newslens.analysis.topics.TopicResult.mixtures`: one row per document, one
column per topic; :func:`wide` makes them from ``doc_topics.parquet``'s long rows), and compute no
model, so the summary uses them without scikit-learn. Values reach a chart at display precision
(:func:`newslens.precision.display_values`).

The mixtures stay wide wherever they are held: k floats a document, where the long table holds k
rows of its id, topic and weight, and a view's join with the documents' groups or dates is one row a
document rather than k. The long table is made a partition at a time, to be written
(:func:`write_doc_topics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pathlib import Path

import numpy as np
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


def wide(doc_topics: pd.DataFrame) -> pd.DataFrame:
    """The wide mixtures of a long table (doc_id, topic, weight): documents in their first order, topics
    in theirs; a (document, topic) the table lacks weighs 0.

    >>> long = pd.DataFrame({"doc_id": ["b", "b", "a", "a"], "topic": [2, 1, 2, 1], "weight": [0.3, 0.7, 1.0, 0.0]})
    >>> table = wide(long)
    >>> table.index.tolist(), table.columns.tolist(), table.values.tolist()
    (['b', 'a'], [2, 1], [[0.3, 0.7], [1.0, 0.0]])
    """
    documents, topics = doc_topics["doc_id"].unique(), doc_topics["topic"].unique()
    table = doc_topics.pivot(index="doc_id", columns="topic", values="weight")
    table = table.reindex(index=pd.Index(documents, name="doc_id"), columns=pd.Index(topics, name="topic"))
    return table.fillna(0.0)


def long_table(mixtures: pd.DataFrame) -> pd.DataFrame:
    """The long rows (doc_id, topic, weight) of wide ``mixtures``: each document's k rows in the columns'
    order, documents in order, as ``doc_topics.parquet`` holds them.

    >>> mixtures = pd.DataFrame([[0.25, 0.75]], index=pd.Index(["a"], name="doc_id"), columns=[3, 1])
    >>> long_table(mixtures).values.tolist()
    [['a', 3, 0.25], ['a', 1, 0.75]]
    """
    k = len(mixtures.columns)
    return pd.DataFrame({"doc_id": np.repeat(mixtures.index.to_numpy(dtype=object), k).astype("str"),
                         "topic": np.tile(mixtures.columns.to_numpy(dtype=np.int64), len(mixtures)),
                         "weight": mixtures.to_numpy(dtype=float).ravel()})


# Documents per row group of doc_topics.parquet: the long table is made and written this many at a time.
# A constant of the file (not the engine's partitions), so its bytes are the same however the run was split.
WRITE_ROWS = 5_000


def write_doc_topics(mixtures: pd.DataFrame, path: Path, rows: int = WRITE_ROWS) -> Path:
    """Write ``doc_topics.parquet``: the long rows of ``mixtures`` (:func:`long_table`), ``rows`` documents
    at a time, each a row group, so the long table is never held whole."""
    import pyarrow as pa

    from newslens.files import ParquetParts

    schema = pa.schema([("doc_id", pa.large_string()), ("topic", pa.int64()), ("weight", pa.float64())])
    parts = ParquetParts(path, schema)
    for start in range(0, len(mixtures), rows):
        parts.write(long_table(mixtures.iloc[start:start + rows]))
    return parts.close()


def read_mixtures(path: Path) -> pd.DataFrame:
    """The wide mixtures (:func:`wide`) of ``doc_topics.parquet`` (a file or a folder of parts), read a
    row group at a time (:func:`write_doc_topics` writes :data:`WRITE_ROWS` documents a group): the long
    table is never held whole, only the documents × topics floats. Documents in the file's order,
    topics ascending.

    >>> import tempfile
    >>> mixtures = pd.DataFrame([[0.25, 0.75], [1.0, 0.0], [0.5, 0.5]], columns=pd.Index([3, 1], name="topic"),
    ...                         index=pd.Index(["b", "a", "c"], name="doc_id"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     table = read_mixtures(write_doc_topics(mixtures, Path(folder) / "doc_topics.parquet", rows=2))
    >>> table.index.tolist(), table.columns.tolist(), table.values.tolist()
    (['b', 'a', 'c'], [1, 3], [[0.75, 0.25], [0.0, 1.0], [0.5, 0.5]])
    """
    import pyarrow.parquet as pq

    from newslens.files import parquet_files, release_arrow_memory

    groups = []
    for name in parquet_files(path):
        with pq.ParquetFile(name) as parquet:
            for index in range(parquet.num_row_groups):
                groups.append(wide(parquet.read_row_group(index, columns=["doc_id", "topic", "weight"]).to_pandas()))
    release_arrow_memory()
    if not groups:
        return pd.DataFrame(index=pd.Index([], name="doc_id", dtype="str"), columns=pd.Index([], name="topic"))
    topics = sorted({int(topic) for group in groups for topic in group.columns})
    columns = pd.Index(topics, name="topic", dtype="int64")
    return pd.concat([group.reindex(columns=columns, fill_value=0.0) for group in groups])


def _levels_mean(mixtures: pd.DataFrame, levels: pd.Series) -> pd.DataFrame:
    """Mean weight per topic (rows) and level (columns, sorted) of the documents with a level
    (``levels``: each document's level by doc_id; documents it lacks, or with none, are left out)."""
    by = levels[~levels.index.duplicated()].reindex(mixtures.index)
    return mixtures.groupby(by.to_numpy(), sort=True).mean().T.rename_axis(index="topic", columns=levels.name)


def prevalence_by_group(mixtures: pd.DataFrame, documents: pd.DataFrame,
                        topics: pd.DataFrame) -> pd.DataFrame:
    """Mean topic weight per group: topics (rows, labelled) × groups (columns)."""
    table = _levels_mean(mixtures, documents.set_index("doc_id")["group"])
    return _shown(_with_labels(table, topics))


def prevalence_over_time(mixtures: pd.DataFrame, documents: pd.DataFrame, topics: pd.DataFrame,
                         resolution=None) -> tuple[pd.DataFrame, "Resolution"]:
    """Mean topic weight per period over the dense part of the dates, and the resolution (see periods)."""
    from newslens.corpus.periods import choose_resolution, dense_mask, period_label, period_start

    resolution = resolution or choose_resolution(documents["date"], precision=documents.get("date_precision"))
    dated = documents.dropna(subset=["date"])
    dated = dated[dense_mask(dated["date"])] if len(dated) else dated
    if dated.empty or not dated["doc_id"].isin(mixtures.index).any():
        return pd.DataFrame(), resolution
    periods = pd.Series(period_start(dated["date"], resolution.name).to_numpy(), index=dated["doc_id"].to_numpy())
    table = _levels_mean(mixtures, periods)
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


def top_documents(mixtures: pd.DataFrame, n: int) -> pd.DataFrame:
    """Each topic's ``n`` documents of highest weight (weight > 0; ties by doc_id), topics in ascending id:
    long rows (doc_id, topic, weight), read off each topic's column."""
    frames = []
    for topic in sorted(mixtures.columns):
        column = mixtures[topic]
        column = column[column > 0]
        ranked = pd.DataFrame({"doc_id": column.index.to_numpy(dtype=object), "weight": column.to_numpy()})
        ranked = ranked.sort_values(["weight", "doc_id"], ascending=[False, True], kind="stable").head(n)
        frames.append(ranked.assign(topic=topic)[["doc_id", "topic", "weight"]])
    if not frames:
        return pd.DataFrame({"doc_id": pd.Series(dtype="str"), "topic": pd.Series(dtype="int64"),
                             "weight": pd.Series(dtype="float64")})
    top = pd.concat(frames, ignore_index=True)
    return top.astype({"doc_id": "str", "topic": "int64", "weight": "float64"})


def representative_documents(mixtures: pd.DataFrame, documents: pd.DataFrame,
                             topics: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The ``n`` documents with the highest weight on each topic, with titles and groups."""
    top = top_documents(mixtures, n)
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


def focus_topics(mixtures: pd.DataFrame, topics: pd.DataFrame, topic_terms: pd.DataFrame,
                 focus_ids: list[str], present: set[str]) -> pd.DataFrame:
    """The focus's topic mixture as a table, largest first: topic, label, share, the number of the
    topic's top 10 terms that occur in the focus (``present``: its terms), and whether the part is
    weak (:data:`WEAK_SHARE`, :data:`WEAK_TERMS`) or the topic mixed.

    >>> mixtures = pd.DataFrame([[0.92, 0.08]], index=pd.Index(["f"], name="doc_id"), columns=[1, 2])
    >>> topics = pd.DataFrame({"topic": [1, 2], "label": ["trade", "Korea"], "mixed": [False, False]})
    >>> terms = pd.DataFrame({"topic": [1, 1, 2, 2], "rank": [1, 2, 1, 2],
    ...                       "term": ["trade", "china", "kim", "korea"]})
    >>> focus_topics(mixtures, topics, terms, ["f"], {"trade", "china"})[["topic", "share", "terms_in_focus", "weak"]]
       topic  share  terms_in_focus   weak
    0      1   0.92               2  False
    1      2   0.08               0   True
    """
    focus = mixtures[mixtures.index.isin(focus_ids)]
    weights = focus.groupby(np.zeros(len(focus), dtype=np.int64)).mean().iloc[0] if len(focus) else pd.Series()
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
