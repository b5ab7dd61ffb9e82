"""Stage 03: TF-IDF keywords, the focus document's distinctive terms and neighbours, keyness.

:func:`run` is the stage: it weights the shared tokens partition by partition on the run's
engine (:mod:`newslens.analysis.tfidf_parts`: the matrix is never stacked in one process),
writes the keyword tables and the matrices, and returns everything the report shows
(:class:`KeywordsResult`). The table functions take either that partitioned result or a
:class:`~newslens.analysis.tfidf.TfidfModel` in memory, and give the same tables.

The views for charts (:func:`keyness_frames`, :func:`keyness_table`) hand over their
values at display precision (``precision.display_values``): the ``log`` in the log ratio
takes another SIMD code path on another CPU and can end in other last bits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

from newslens.analysis import keyness_data, kwic, limits
from newslens.analysis.keyness import COLUMNS as KEYNESS_ROW_COLUMNS
from newslens.analysis.keyness_uncertainty import LEVEL, MIN_DOCUMENT_SHARE, REPLICATES
from newslens.analysis.texts import Texts, read as read_texts
from newslens.analysis.tfidf import TfidfModel, part_documents, token_parts
from newslens.analysis.tfidf_parts import WeightedCorpus, counts_of, weigh_corpus
from newslens.corpus.focus import resolve_focus
from newslens.engine import engine_scope
from newslens.files import read_parquet
from newslens.params import KeywordsParams
from newslens.precision import display_values
from newslens.text.tokenizer import Tokenizer

if TYPE_CHECKING:
    from newslens.stages import StageRun

logger = logging.getLogger(__name__)

# The columns of the similar-documents table, also when a run without a focus has none.
SIMILAR_COLUMNS = ["rank", "doc_id", "similarity", "title", "group", "date"]
# Over-used terms listed per period: they fit on one line of a table.
PERIOD_TERMS = 5
# Collocates: tokens within five of the keyword (either side), the ten strongest.
COLLOCATE_WINDOW = 5
COLLOCATES_SHOWN = 10


def top_keywords(model: TfidfModel, top_n: int) -> pd.DataFrame:
    """The top ``top_n`` terms of every document: doc_id, rank, term, score."""
    rows_doc, rows_rank, rows_term, rows_score = [], [], [], []
    matrix = model.matrix
    for row, doc_id in enumerate(model.doc_ids):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if start == end:
            continue
        scores, columns = matrix.data[start:end], matrix.indices[start:end]
        terms = model.terms[columns]
        order = np.lexsort((terms, -scores))[:top_n]  # score desc, then term for ties
        rows_doc.extend([doc_id] * len(order))
        rows_rank.extend(range(1, len(order) + 1))
        rows_term.extend(terms[order])
        rows_score.extend(np.round(scores[order], 6))
    return pd.DataFrame({"doc_id": rows_doc, "rank": np.array(rows_rank, dtype="int32"),
                         "term": rows_term, "score": rows_score})


def corpus_top_terms(model: "TfidfModel | WeightedCorpus", top_n: int = 30) -> pd.DataFrame:
    """Terms with the highest mean TF-IDF over all documents, and their document frequency."""
    source = counts_of(model)
    mean, df = source.mean, source.df
    order = np.lexsort((source.terms, -mean))[:top_n]
    return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "term": source.terms[order],
                         "mean_tfidf": np.round(mean[order], 6), "df": df[order]})


def focus_vector(model: "TfidfModel | WeightedCorpus", focus_ids: list[str]) -> sparse.csr_matrix:
    """The focus as one l2-normalised row: a document, or the sum of its units (sentences)."""
    return counts_of(model).focus_vector(focus_ids)


def focus_keywords(model: "TfidfModel | WeightedCorpus", focus_ids: list[str], top_n: int) -> pd.DataFrame:
    """The focus's top terms with how rare each is in the rest of the corpus."""
    source = counts_of(model)
    vector = source.focus_vector(focus_ids).toarray().ravel()
    order = np.array([i for i in np.lexsort((source.terms, -vector)) if vector[i] > 0][:top_n], dtype=np.int64)
    in_focus, n_focus = source.focus_df(focus_ids)
    df_rest = source.df[order] - in_focus[order]
    rest = len(source.doc_ids) - n_focus
    return pd.DataFrame({
        "rank": np.arange(1, len(order) + 1), "term": source.terms[order],
        "score": np.round(vector[order], 6), "docs_elsewhere": df_rest,
        "share_elsewhere": np.round(df_rest / max(rest, 1), 6),
        "idf": np.round(source.idf[order], 4)})


def similar_documents(model: "TfidfModel | WeightedCorpus", focus_ids: list[str], documents: pd.DataFrame,
                      top_n: int, *, exclude_focus: bool = True) -> pd.DataFrame:
    """The documents most similar to the focus by cosine similarity of TF-IDF vectors.

    Rows are l2-normalised, so cosine similarity is a dot product.
    """
    scores, ids = counts_of(model).similar(focus_ids, top_n, exclude_focus=exclude_focus)
    similar = pd.DataFrame({"rank": np.arange(1, len(ids) + 1), "doc_id": ids,
                            "similarity": np.round(scores, 6)})
    meta = documents[["doc_id", "title", "group", "date"]]
    return similar.merge(meta, on="doc_id", how="left")[SIMILAR_COLUMNS]


KEYNESS_COLUMNS = ["by", *KEYNESS_ROW_COLUMNS]  # keyness.parquet
GROUP_SIZE_COLUMNS = ["by", "group", "n_docs", "n_tokens", "compared", "reason"]


def keyness_groupings(documents: pd.DataFrame, doc_ids: list[str], settings: KeywordsParams) -> dict[str, np.ndarray]:
    """Each document's label (None: none) per grouping keyness compares: its group, and its period when
    the run sets one (:func:`period_resolution`)."""
    meta = documents.set_index("doc_id").loc[doc_ids]
    groupings = {"group": meta["group"].to_numpy(dtype=object)}
    resolution = period_resolution(meta, settings.period)
    if resolution:
        groupings["period"] = _period_labels(meta, resolution)
    return groupings


def group_keyness(model: "TfidfModel | WeightedCorpus", documents: pd.DataFrame,
                  settings: KeywordsParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keyness of each group against the rest, and of each period when the run sets one; and the sizes.

    Uses the raw counts over the TF-IDF vocabulary; a column ``by`` says whether a
    row compares groups ("group") or periods ("period"). A group or period is compared
    only when it holds ``keyness_min_documents`` documents and ``keyness_min_tokens``
    tokens; a smaller one stays in the others' reference and is listed in the sizes table
    with the reason. A comparison needs two groups that reach the minimum; without them it
    is skipped (and logged). Returns the keyness rows and the sizes of every group and period.
    """
    from newslens.analysis.keyness import keyness_of_sums
    from newslens.analysis.keyness_uncertainty import group_sizes

    source = counts_of(model)
    frames, sizes = [], []
    tokens_per_document = source.tokens
    for by, labels in keyness_groupings(documents, source.doc_ids, settings).items():
        labels = _without_empty_groups(labels, tokens_per_document, by)
        size = group_sizes(labels, tokens_per_document, min_documents=settings.keyness_min_documents,
                           min_tokens=settings.keyness_min_tokens)
        sizes.append(size.assign(by=by))
        compared = size.loc[size["compared"], "group"].tolist()
        if len(compared) < 2 or len(size) < 2:
            logger.info("keyness by %s skipped: %d of %d %s(s) reach the minimum size", by, len(compared),
                        len(size), by)
            continue
        names, by_group = source.label_sums(by, labels)
        table = keyness_of_sums(names, by_group, source.terms, source.documents(by, labels),
                                min_freq=settings.keyness_min_freq, top_n=settings.keyness_top_n, targets=compared)
        frames.append(table.assign(by=by))
    keyness_rows = (pd.concat(frames, ignore_index=True)[KEYNESS_COLUMNS] if frames
                    else pd.DataFrame(columns=KEYNESS_COLUMNS))
    size_rows = (pd.concat(sizes, ignore_index=True)[GROUP_SIZE_COLUMNS] if sizes
                 else pd.DataFrame(columns=GROUP_SIZE_COLUMNS))
    return keyness_rows, size_rows


def _without_empty_groups(labels: np.ndarray, tokens_per_document: np.ndarray, by: str) -> np.ndarray:
    """The labels with groups that hold no counted token left out (None): they cannot be compared."""
    labels = np.array(labels, dtype=object)
    present = pd.notna(labels)
    totals = pd.Series(tokens_per_document[present]).groupby(labels[present].astype(str)).sum()
    empty = sorted(totals.index[totals == 0])
    if empty:
        logger.info("keyness by %s: %s left out (no token of the vocabulary)", by, ", ".join(empty))
        labels[present & np.isin(labels.astype(str), empty)] = None
    return labels


def period_resolution(documents: pd.DataFrame, period: str | None) -> str | None:
    """The resolution of keyness between periods: the params' own, or the time axis's ("auto")."""
    from newslens.corpus.periods import choose_resolution

    if period != "auto":
        return period
    dates = documents["date"]
    if dates.dropna().empty:
        return None
    return choose_resolution(dates, precision=documents.get("date_precision")).name


_SORTABLE_CHARS = {"day": 10, "week": 10, "month": 7, "year": 4}  # of YYYY-MM-DD
# Dates given only to the month or year fit no finer period.
_TOO_COARSE = {"day": ("month", "year"), "week": ("month", "year"), "month": ("year",), "quarter": ("year",)}


def _period_label(start: pd.Timestamp, resolution: str) -> str:
    """A period's label that sorts in time: '2017-02-06' (its first day), '2017-02', '2017 Q1', '1790s'."""
    if resolution == "quarter":
        return f"{start.year:04d} Q{(start.month - 1) // 3 + 1}"
    if resolution == "decade":
        return f"{start.year:04d}s"
    # Written out, not by strftime: glibc writes the year 1 as "1", not "0001".
    return f"{start.year:04d}-{start.month:02d}-{start.day:02d}"[:_SORTABLE_CHARS[resolution]]


def _period_labels(meta: pd.DataFrame, period: str) -> np.ndarray:
    """Each document's period for keyness; dates coarser than the period (a year, for weeks) get None."""
    from newslens.corpus.periods import period_start

    starts = period_start(meta["date"], period)
    labels = np.array([None if pd.isna(start) else _period_label(pd.Timestamp(start), period) for start in starts],
                      dtype=object)
    if "date_precision" in meta and period in _TOO_COARSE:
        too_coarse = meta["date_precision"].isin(_TOO_COARSE[period]).to_numpy()
        if too_coarse.any():
            logger.info("keyness by %s: %d documents dated only to the month or year left out",
                        period, int(too_coarse.sum()))
            labels[too_coarse] = None
    return labels


def keyness_frames(keyness: pd.DataFrame, display: dict[str, str], n: int = 6) -> list[tuple[str, pd.Series]]:
    """Per compared group, the log ratio of its top ``n`` distinctive over- and under-used terms.

    Only distinctive rows (their interval over documents excludes 0; an over-used term used by
    enough of the group's documents): a difference that one document makes is not drawn. A group
    with no distinctive term gets no panel.
    """
    frames = []
    table = keyness[(keyness["by"] == "group") & keyness["distinctive"].astype(bool)]
    for group, rows in table.groupby("group", sort=True):
        over = rows[rows["direction"] == "over"].nsmallest(n, "rank")
        under = rows[rows["direction"] == "under"].nsmallest(n, "rank")
        signed = pd.concat([over, under[::-1]])
        frames.append((str(group), pd.Series(display_values(signed["log_ratio"].to_numpy()),  # only drawn
                                              index=[display.get(t, t) for t in signed["term"]])))
    return frames


def keyness_table(model: "TfidfModel | WeightedCorpus", documents: pd.DataFrame, keyness: pd.DataFrame,
                  display: dict[str, str], n: int = 3) -> pd.DataFrame:
    """Log ratio (each group vs the rest) of every group's top ``n`` distinctive over-used terms.

    Rows are the selected terms, columns the groups; every cell is computed from
    the counts, so a term that is not among a group's top terms still shows its
    real (possibly negative) log ratio there.
    """
    from newslens.measures import log_ratio

    source = counts_of(model)
    table = keyness[keyness["by"] == "group"]
    top_terms = (table[(table["direction"] == "over") & table["distinctive"].astype(bool)].sort_values(["group", "rank"])
                 .groupby("group").head(n)["term"].drop_duplicates().tolist())
    columns = [int(np.flatnonzero(source.terms == t)[0]) for t in top_terms]
    groups = documents.set_index("doc_id").loc[source.doc_ids, "group"].to_numpy(dtype=object)
    names, by_group = source.label_sums("group", groups)
    position = {name: i for i, name in enumerate(names.tolist())}
    term_total = source.column_totals[columns]
    all_total = float(source.tokens.sum())
    values = {}
    for group in sorted(set(table["group"].astype(str))):  # the groups keyness compared
        a = by_group[position[group], columns]
        c = float(by_group[position[group]].sum())
        values[group] = display_values(log_ratio(a, term_total - a, c, all_total - c))  # a chart's cells
    return pd.DataFrame(values, index=[display.get(t, t) for t in top_terms])


def write_outputs(out_dir: Path, *, keyness: pd.DataFrame, group_sizes: pd.DataFrame,
                  similar: pd.DataFrame, corpus_terms: pd.DataFrame,
                  focus_terms: pd.DataFrame, keywords: pd.DataFrame | None = None) -> None:
    """Write the stage's tables atomically (``keywords``: the stage's own run has its workers write them)."""
    from newslens.files import write_csv, write_parquet

    if keywords is not None:
        write_parquet(keywords, out_dir / "keywords.parquet")
    write_parquet(keyness, out_dir / "keyness.parquet")
    write_csv(group_sizes, out_dir / "keyness_groups.csv")
    write_csv(similar.assign(date=pd.to_datetime(similar["date"]).dt.strftime("%Y-%m-%d")),
              out_dir / "similar.csv")
    write_csv(corpus_terms, out_dir / "corpus_terms.csv")
    write_csv(focus_terms, out_dir / "focus_keywords.csv")


def top_by_period(keyness: pd.DataFrame, display: dict[str, str]) -> pd.DataFrame:
    """Each compared period (``group``), its documents, and its top distinctive over-used terms in display form."""
    periods = keyness[(keyness["by"] == "period") & (keyness["direction"] == "over")]
    sizes = periods.groupby("group")["n_docs"].first()
    over = periods[periods["distinctive"].astype(bool)].sort_values(["group", "rank"]).groupby("group").head(PERIOD_TERMS)
    terms = over.groupby("group")["term"].agg(lambda terms: ", ".join(display.get(t, t) for t in terms))
    return pd.DataFrame({"group": sizes.index, "n_docs": sizes.to_numpy(),
                         "term": [terms.get(g, "") for g in sizes.index]})


# The lines of each kwic term that the keywords report lists: the focus's matches first, then the
# others in document order. The pass over the texts keeps no more, so what reaches the driver is
# bounded however large the corpus (with the count of every match, for the report's caption).
KWIC_LINES = 300


@dataclass(frozen=True)
class TermInContext:
    """One of the run's kwic terms: its first matches in the original texts, how many there are, and
    its collocates."""

    term: str
    matches: pd.DataFrame     # kwic.kwic's rows, the focus's first: at most KWIC_LINES of them
    collocates: pd.DataFrame  # kwic.collocates's rows, the strongest first
    total: int                # every match in the corpus (the report's caption counts them)


class _Lines(NamedTuple):
    """A term's matches in some consecutive partitions: the focus's (all), the first others, the count."""

    focus: list
    others: list  # the first few (KWIC_LINES), in document order
    total: int


def count_collocates(terms: list[str], part) -> "kwic.CollocateCounts":
    """A partition of tokens.parquet's collocate counts for the run's kwic terms (a fold's map, on a worker)."""
    return kwic.collocate_counts(part_documents(part)[1], terms, window=COLLOCATE_WINDOW)


def terms_in_context(documents: pd.DataFrame, focus_ids: list[str], near: "kwic.CollocateCounts | None",
                     settings: KeywordsParams, normalize, texts: Texts | None = None, *,
                     lines: int = KWIC_LINES) -> tuple[TermInContext, ...]:
    """Every kwic term of the run in the texts (matches in the focus first) with its collocates in the tokens.

    ``near`` holds the collocate counts of the whole corpus (:func:`count_collocates`, summed);
    ``texts`` are where the texts are read (by default ``documents``' own ``text`` column): one
    pass over their partitions finds every term's matches, and keeps the focus's and the first
    ``lines`` others of each (:data:`KWIC_LINES`), with the count of all.
    """
    near = near if near is not None else kwic.merge_collocate_counts([])
    texts = texts if texts is not None else Texts.in_frame(documents)
    terms = list(settings.kwic_terms)
    shared = (terms, settings.kwic_window, normalize, frozenset(focus_ids), lines)
    found = (texts.fold(_kwic_part, partial(_joined_lines, lines), shared) if terms else None) or {}
    rank = {d: i for i, d in enumerate(focus_ids)}  # the focus's matches first, in its order; then document order
    # Each line names its document as a reader knows it: group, title and date (not its id).
    meta = documents[["doc_id", "group", "title", "date"]]
    items = []
    for term in terms:
        kept = found.get(term, _Lines([], [], 0))
        rows = sorted(kept.focus, key=lambda row: rank[row[0]]) + kept.others
        items.append(TermInContext(term, _with_source(kwic.kwic_frame(rows[:lines]), meta),
                                   kwic.collocates_from_counts(kwic.collocate_target(term), near,
                                                               top_n=COLLOCATES_SHOWN), kept.total))
    return tuple(items)


def _kwic_part(shared: tuple, part) -> dict[str, _Lines]:
    """A fold's map on a worker: every kwic term's lines in one partition of the documents."""
    terms, window, normalize, focus, lines = shared
    loaded = read_texts(part)
    mapping = dict(zip(loaded.doc_ids, loaded.texts))
    found = {}
    for term in terms:
        rows = kwic.kwic_rows(mapping, term, window=window, normalize=normalize)
        others = [row for row in rows if row[0] not in focus]
        found[term] = _Lines([row for row in rows if row[0] in focus], others[:lines], len(rows))
    return found


def _joined_lines(lines: int, parts: list[dict[str, _Lines]]) -> dict[str, _Lines]:
    """Consecutive partitions' lines in document order: the focus's all, the first ``lines`` others."""
    joined: dict[str, _Lines] = {}
    for part in parts:
        for term, found in part.items():
            before = joined.get(term, _Lines([], [], 0))
            joined[term] = _Lines(before.focus + found.focus, (before.others + found.others)[:lines],
                                  before.total + found.total)
    return joined


def _with_source(matches: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """KWIC matches with a ``source`` column: "group · title · date" of each line's document."""
    joined = matches.merge(meta, on="doc_id", how="left")

    def source(row) -> str:
        parts = [str(row.group) if isinstance(row.group, str) and row.group else "",
                 str(row.title) if isinstance(row.title, str) and row.title else "",
                 f"{row.date:%Y-%m-%d}" if pd.notna(row.date) else ""]
        return " · ".join(p for p in parts if p) or str(row.doc_id)

    return matches.assign(source=[source(r) for r in joined.itertuples()])


@dataclass(frozen=True)
class KeynessRule:
    """What a group or period needs to be compared, and what makes a listed term distinctive."""

    min_documents: int
    min_tokens: int
    min_document_share: float = MIN_DOCUMENT_SHARE
    level: float = LEVEL
    replicates: int = REPLICATES


@dataclass(frozen=True)
class KeywordsResult:
    """What stage 03 wrote, and everything its report shows."""

    files: tuple[Path, ...]          # the stage's outputs, as stages.py declares them
    display: dict[str, str]          # each term's display form (vocabulary.parquet)
    documents: int                   # documents weighted
    terms: int                       # terms in the TF-IDF vocabulary
    min_df: int                      # the run's keywords.min_df and max_df
    max_df: float
    focus_title: str | None          # the focus document's title; None in a run without a focus
    focus_terms: pd.DataFrame        # focus_keywords.csv (no rows without a focus)
    corpus_terms: pd.DataFrame       # corpus_terms.csv
    similar: pd.DataFrame            # similar.csv, its dates as timestamps (no rows without a focus)
    keyness: pd.DataFrame            # keyness.parquet
    group_sizes: pd.DataFrame        # keyness_groups.csv: every group and period, its size, compared or why not
    keyness_frames: list[tuple[str, pd.Series]]  # per group, its over- and under-used terms
    keyness_table: pd.DataFrame | None  # log ratio of the groups' top terms; None when no group was compared
    keyness_rule: KeynessRule            # what a group needs to be compared, and what makes a term distinctive
    explorer: dict | None            # the keyness explorer's data; None with fewer than two groups
    period: str | None               # the resolution of keyness between periods
    top_by_period: pd.DataFrame      # per period, its over-used terms (no rows without periods)
    in_context: tuple[TermInContext, ...]  # the run's kwic terms
    limits: dict                     # limits.json: the dated span and the focus in it, the similarity floor


def run(stage_run: StageRun) -> KeywordsResult:
    """Stage 03: TF-IDF over the shared tokens, keyword and keyness tables written, the report's content.

    The documents are read without their texts: the passes that need the texts (keywords in
    context, the explorer's lines and word forms) read documents.parquet partition by partition
    on the run's engine (:class:`newslens.analysis.texts.Texts`).
    """
    settings, out = stage_run.params.keywords, stage_run.processed_dir
    documents_path = stage_run.input("documents.parquet")
    documents = read_parquet(documents_path, without=("text",))
    vocabulary = pd.read_parquet(stage_run.input("vocabulary.parquet"))
    display = dict(zip(vocabulary["term"], vocabulary["display"]))
    tokens = stage_run.input("tokens.parquet")
    focus_ids = resolve_focus(documents, stage_run.params.focus)
    with engine_scope(stage_run.params.engine) as runner:
        # the workers weight the partitions of tokens.parquet, write the matrices' cells and the
        # keywords, and send back sums: the TF-IDF matrix is never stacked here (tfidf_parts)
        tfidf = weigh_corpus(tokens, settings, runner, focus_ids=focus_ids, similar_n=settings.similar_n,
                             groupings=lambda doc_ids: keyness_groupings(documents, doc_ids, settings),
                             scratch_dir=out)
        try:
            near = runner.fold(partial(count_collocates, settings.kwic_terms), token_parts(tokens),
                               kwic.merge_collocate_counts) if settings.kwic_terms else None
            texts = Texts.in_file(documents_path, runner)
            corpus_terms = corpus_top_terms(tfidf)
            focus_terms = focus_keywords(tfidf, focus_ids, settings.top_n) if focus_ids else corpus_terms.iloc[:0]
            similar = (similar_documents(tfidf, focus_ids, documents, settings.similar_n) if focus_ids
                       else pd.DataFrame(columns=SIMILAR_COLUMNS))
            keyness, sizes = group_keyness(tfidf, documents, settings)
            # the keywords and the matrices the topics stage models (on dask, folders of the workers' parts)
            tfidf.write(out, out / "keywords.parquet", partitioned=runner.name == "dask")
            write_outputs(out, keyness=keyness, group_sizes=sizes, similar=similar, corpus_terms=corpus_terms,
                          focus_terms=focus_terms)
            paired, paired_ids, others = tfidf.floor_rows(focus_ids) if focus_ids else (None, [], 0)
            found = limits.limits(documents, focus_ids, paired, paired_ids, similar, n_others=others)
            limits.write_limits(found, out / "limits.json")
            frames = keyness_frames(keyness, display)
            normalize = Tokenizer.load(out).normalize  # lemmas, so "talks" is found for "talk"
            in_context = terms_in_context(documents, focus_ids, near, settings, normalize, texts)
            named = [*focus_terms["term"], *corpus_terms["term"],
                     *(c for item in in_context for c in item.collocates["collocate"])]
            explorer = keyness_data.explorer_data(tfidf, documents, keyness, settings, display, normalize,
                                                  sizes=sizes, named=named, texts=texts)
            table = keyness_table(tfidf, documents, keyness, display) if frames else None
        finally:
            tfidf.close()
    return KeywordsResult(
        files=tuple(out / name for name in stage_run.stage.outputs), display=display,
        documents=len(tfidf.doc_ids), terms=len(tfidf.terms), min_df=settings.min_df, max_df=settings.max_df,
        focus_title=_title(documents, focus_ids[0]) if focus_ids else None,
        focus_terms=focus_terms, corpus_terms=corpus_terms, similar=similar, keyness=keyness, group_sizes=sizes,
        keyness_frames=frames, keyness_table=table,
        keyness_rule=KeynessRule(settings.keyness_min_documents, settings.keyness_min_tokens),
        explorer=explorer,
        period=period_resolution(documents, settings.period), top_by_period=top_by_period(keyness, display),
        in_context=in_context, limits=found)


def _title(documents: pd.DataFrame, doc_id: str) -> str:
    return documents.loc[documents["doc_id"] == doc_id, "title"].iloc[0]
