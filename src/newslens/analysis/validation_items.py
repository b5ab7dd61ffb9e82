"""The items of a validation by hand: word intrusion and topic intrusion (Chang et al. 2009).

Coherence scores are a proxy for what a reader makes of a topic ("Reading Tea Leaves", Chang,
Boyd-Graber, Gerrish, Wang and Blei, NeurIPS 2009; Hoyle et al. 2021). The field's check is
a person's: shown a topic's top terms and one intruder, can they find the intruder (word
intrusion)? Shown a document and its main topics with one that does not belong, can they find
that one (topic intrusion)? The R package oolong (Chan and Sältzer 2020, JOSS 5(55)) draws
such items; this module draws them for a run, and :mod:`newslens.analysis.validation` scores
the answers.

The rules:

* **Word items**, one per topic: its top five terms and one intruder, shuffled. The intruder
  is among the top ten terms of another topic, is not among this topic's stored top terms,
  and is not among the :data:`INTRUDER_MIN_RANK` terms of highest affinity to this topic (the
  TF-IDF weight of a term averaged over the documents, weighted by their share of the topic);
  when no term of the other topics is that far down, the one ranked lowest.
* **Topic items**: a document whose three main topics each hold at least
  :data:`MIN_SHOWN_SHARE` of it, shown by its title, group, date and opening words, with those
  three topics and one intruder topic holding less than :data:`MAX_INTRUDER_SHARE` of it.
  Documents are drawn in rounds over the topics by their main topic, so that every topic that
  is the main topic of an eligible document is the subject of an item before any is twice.
* **How many**: every topic's word item (about 10 s each) and :data:`TOPIC_ITEMS` topic items
  (about 30 s each): for 10 topics some 17 minutes, for 30 about 20.
* **Which**: drawn with numpy's ``default_rng``, seeded from the run's name and the model's
  hash (:func:`model_hash`), so a run's coders answer the same items and a refit draws anew.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from newslens.analysis.validation import SECONDS, model_hash
from newslens.precision import display_values

TOP_SHOWN = 5             # a word item's top terms of the topic
INTRUDER_FROM_TOP = 10    # the intruder is among another topic's top terms
INTRUDER_MIN_RANK = 50    # and not among this topic's 50 terms of highest affinity
TOPIC_ITEMS = 30          # topic items by default (about 30 s each)
SHOWN_TOPICS = 3          # a topic item's topics of the document
MIN_SHOWN_SHARE = 0.05    # each of them holds at least this share of the document
MAX_INTRUDER_SHARE = 0.01  # the intruder topic holds less than this share of it
TERMS_PER_TOPIC = 8       # terms shown beside a topic's label in a topic item
SNIPPET_WORDS = 60        # the opening words of a document shown in a topic item


def item_seed(run: str, model: str) -> int:
    """The draw's seed: from the run's name and the model's hash, the same on every machine."""
    return int(hashlib.sha256(f"{run}\n{model}".encode("utf-8")).hexdigest()[:16], 16)


AFFINITY_ROWS = 5_000  # the TF-IDF's rows read at a time for the affinity (the topics stage's partitions)


def topic_affinity(mixtures: pd.DataFrame, tfidf) -> tuple[np.ndarray, list[int]]:
    """Each topic's affinity to each term: the TF-IDF weight averaged over the documents, weighted by
    their share of the topic (topics × terms, rounded to display precision so that ranks cannot
    flip on another CPU), and the topic ids of its rows (ascending).

    ``mixtures`` are wide (documents × topics, :func:`newslens.analysis.topic_views.read_mixtures`).
    ``tfidf`` is a model in memory (its ``matrix``) or :class:`TfidfRows`, read :data:`AFFINITY_ROWS`
    rows at a time: the sums then hold topics × terms, never the corpus's matrix. Up to that many
    rows, both are one product of the same arrays.
    """
    mixture = mixtures.sort_index(axis=1).reindex(tfidf.doc_ids).fillna(0.0)
    theta = mixture.to_numpy(dtype=float)
    totals = theta.sum(axis=0)
    if isinstance(tfidf, TfidfRows):
        blocks = ((start, tfidf.rows(start, min(start + AFFINITY_ROWS, len(tfidf.doc_ids))))
                  for start in range(0, len(tfidf.doc_ids), AFFINITY_ROWS))
    else:
        blocks = iter([(0, tfidf.matrix)])
    weighted = np.zeros((theta.shape[1], len(tfidf.terms)))
    for start, block in blocks:
        weighted += np.asarray((sparse.csr_matrix(theta[start:start + block.shape[0]].T) @ block).todense())
    affinity = weighted / np.where(totals > 0, totals, 1.0)[:, None]
    return display_values(affinity), [int(t) for t in mixture.columns]


class TfidfRows:
    """Stage 03's TF-IDF as files (:data:`newslens.stages.TFIDF_FILES`): its terms and documents'
    ids held, its rows read a range at a time (:func:`newslens.analysis.tfidf.read_cell_rows`)."""

    def __init__(self, entries: Path, terms: Path, documents: Path):
        self.entries = Path(entries)
        self.terms = pd.read_parquet(terms, columns=["term"])["term"].to_numpy(dtype=object)
        self.doc_ids = pd.read_parquet(documents)["doc_id"].tolist()

    def rows(self, start: int, stop: int) -> sparse.csr_matrix:
        from newslens.analysis.tfidf import read_cell_rows

        return read_cell_rows(self.entries, "tfidf", start, stop, len(self.terms))


def documents_with_text(path: Path) -> set[str]:
    """The doc_ids of documents.parquet (a file or a folder of parts) whose text is more than
    whitespace, read a row group at a time: a dataset's batches read ahead, and held some 290 MiB of
    the ×16 news corpus's texts at once."""
    import pyarrow.parquet as pq

    from newslens.files import parquet_files, release_arrow_memory

    found: set[str] = set()
    for name in parquet_files(path):
        with pq.ParquetFile(name) as parquet:
            for group in range(parquet.num_row_groups):
                table = parquet.read_row_group(group, columns=["doc_id", "text"])
                found.update(doc_id for doc_id, text in zip(table.column("doc_id").to_pylist(),
                                                            table.column("text").to_pylist())
                             if text is not None and text.strip())
    release_arrow_memory()
    return found


def word_items(topic_terms: pd.DataFrame, affinity: np.ndarray, topic_ids: list[int], terms: np.ndarray,
               display: dict[str, str], rng: np.random.Generator) -> list[dict[str, Any]]:
    """One word-intrusion item per topic (in ``topic_ids`` order); a topic with no intruder has none."""
    column = {term: i for i, term in enumerate(terms)}
    ranked = {t: group.sort_values("rank")["term"].tolist() for t, group in topic_terms.groupby("topic")}
    items = []
    for row, topic in enumerate(topic_ids):
        own = ranked.get(topic, [])
        if len(own) < TOP_SHOWN:
            continue
        # Rank of each term in this topic by affinity (0 = highest), ties by term so no float decides.
        order = np.lexsort((terms.astype(str), -affinity[row]))
        rank = np.empty(len(order), dtype=int)
        rank[order] = np.arange(len(order))
        others = sorted({term for other, listed in ranked.items() if other != topic
                         for term in listed[:INTRUDER_FROM_TOP]} - set(own))
        others = [term for term in others if term in column]
        low = [term for term in others if rank[column[term]] >= INTRUDER_MIN_RANK]
        if not others:
            continue
        intruder = (low[int(rng.integers(len(low)))] if low
                    else max(others, key=lambda term: (rank[column[term]], term)))
        shown = [display.get(term, term) for term in own[:TOP_SHOWN]]
        options = shown + [display.get(intruder, intruder)]
        options = [options[i] for i in rng.permutation(len(options))]
        items.append({"kind": "word", "topics": [topic], "options": options,
                      "intruder": display.get(intruder, intruder)})
    return items


def _eligible(mixture: pd.DataFrame) -> dict[str, tuple[list[int], list[int]]]:
    """Documents a topic item can show: their three main topics (by weight, ties to the lower id), and
    the topics low enough to intrude (ascending). ``mixture``: wide, topics ascending.

    >>> mixture = pd.DataFrame([[0.5, 0.3, 0.195, 0.005], [0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]],
    ...                        index=["a", "b", "c"], columns=[1, 2, 3, 4])
    >>> _eligible(mixture)
    {'a': ([1, 2, 3], [4])}
    """
    topics = mixture.columns.to_numpy(dtype=np.int64)
    weights = mixture.to_numpy(dtype=float)
    if weights.shape[1] < SHOWN_TOPICS:
        return {}
    order = np.argsort(-weights, axis=1, kind="stable")[:, :SHOWN_TOPICS]  # ties keep the ascending ids' order
    shown_ok = (np.take_along_axis(weights, order, axis=1) >= MIN_SHOWN_SHARE).all(axis=1)
    low = weights < MAX_INTRUDER_SHARE
    rows = np.flatnonzero(shown_ok & low.any(axis=1))
    return {mixture.index[row]: (topics[order[row]].tolist(), topics[low[row]].tolist()) for row in rows}


def topic_items(mixtures: pd.DataFrame, with_text: set[str], topic_ids: list[int], n: int,
                rng: np.random.Generator) -> list[dict[str, Any]]:
    """Up to ``n`` topic-intrusion items, drawn in rounds over the topics by each document's main topic
    (among the documents ``with_text``: :func:`documents_with_text`). ``mixtures``: wide."""
    mixture = mixtures.sort_index(axis=1).sort_index()
    eligible = {d: v for d, v in _eligible(mixture).items() if d in with_text}
    pools = {topic: sorted(d for d, (shown, _) in eligible.items() if shown[0] == topic) for topic in topic_ids}
    items: list[dict[str, Any]] = []
    while len(items) < n and any(pools.values()):
        for topic in topic_ids:
            if len(items) == n or not pools[topic]:
                continue
            doc_id = pools[topic].pop(int(rng.integers(len(pools[topic]))))
            shown, low = eligible[doc_id]
            intruder = low[int(rng.integers(len(low)))]
            options = shown + [intruder]
            items.append({"kind": "topic", "topics": [topic], "doc_id": doc_id, "intruder": intruder,
                          "options": [options[i] for i in rng.permutation(len(options))]})
    return items


def snippet(row: pd.Series) -> dict[str, str]:
    """What a topic item shows of a document: title, group, date and its opening words."""
    words = str(row.get("text") or "").split()
    opening = " ".join(words[:SNIPPET_WORDS]) + (" …" if len(words) > SNIPPET_WORDS else "")
    date = row.get("date")
    return {"title": "" if pd.isna(row.get("title")) else str(row.get("title")),
            "group": "" if pd.isna(row.get("group")) else str(row.get("group")),
            "date": "" if date is None or pd.isna(date) else f"{pd.Timestamp(date):%Y-%m-%d}", "text": opening}


def draw(run: str, processed_dir: Path, identities_path: Path, *, n_topic_items: int = TOPIC_ITEMS) -> dict[str, Any]:
    """The run's items as the page's data: run, model hash, topics (label and terms) and items.

    Reads the topics stage's outputs (``topic_terms.parquet``, ``doc_topics.parquet``,
    ``topics.csv``), stage 01's documents, stage 02's vocabulary and stage 03's TF-IDF.
    """
    from newslens.analysis.topic_views import read_mixtures
    from newslens.files import read_parquet, with_texts
    from newslens.stages import TFIDF_FILES

    if n_topic_items < 0:
        raise ValueError(f"the number of topic items must be 0 or more, got {n_topic_items}")
    identities = json.loads(Path(identities_path).read_text(encoding="utf-8"))
    if not identities.get("k"):
        raise ValueError(f"run {run} has no topic model to validate ({identities_path} records k = 0)")
    model = model_hash(identities)
    topics = pd.read_csv(processed_dir / "topics.csv")
    topic_terms = pd.read_parquet(processed_dir / "topic_terms.parquet")
    mixtures = read_mixtures(processed_dir / "doc_topics.parquet")  # wide, a row group read at a time
    documents_path = processed_dir / "documents.parquet"
    vocabulary = pd.read_parquet(processed_dir / "vocabulary.parquet", columns=["term", "display"])
    display = dict(zip(vocabulary["term"], vocabulary["display"]))
    tfidf = TfidfRows(*(processed_dir / name for name in TFIDF_FILES))
    topic_ids = [int(t) for t in topics["topic"]]  # by prevalence, as the reports list them
    rng = np.random.default_rng(item_seed(run, model))
    affinity, rows = topic_affinity(mixtures, tfidf)
    affinity = affinity[[rows.index(t) for t in topic_ids]]
    items = word_items(topic_terms, affinity, topic_ids, tfidf.terms, display, rng)
    items += topic_items(mixtures, documents_with_text(documents_path), topic_ids, n_topic_items, rng)
    for number, item in enumerate(items, start=1):
        item["id"] = f"{item['kind'][0]}{number:03d}"
    # the documents' columns without their texts, then the texts of the documents shown
    shown = [item["doc_id"] for item in items if item["kind"] == "topic"]
    by_id = with_texts(read_parquet(documents_path, without=("text",)), documents_path, shown).set_index("doc_id")
    docs = {item["doc_id"]: snippet(by_id.loc[item["doc_id"]]) for item in items if item["kind"] == "topic"}
    ranked = topic_terms.sort_values(["topic", "rank"])
    topic_info = {str(t): {"label": str(label), "terms": [display.get(term, term) for term in
                  ranked.loc[ranked["topic"] == t, "term"].head(TERMS_PER_TOPIC)]}
                  for t, label in zip(topic_ids, topics["label"])}
    minutes = sum(SECONDS[item["kind"]] for item in items) / 60
    return {"run": run, "model": model, "k": int(identities["k"]), "items": items, "topics": topic_info,
            "documents": docs, "minutes": int(round(minutes))}
