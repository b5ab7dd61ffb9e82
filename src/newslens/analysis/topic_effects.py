"""Topic prevalence by group and over time, each share with a 95% interval over documents.

A topic's *share* in a group (or a period) is the mean weight of the topic in the mixtures of the
group's documents, as the heat maps of :mod:`newslens.analysis.topic_views` show it. Its 95%
interval comes from a **bootstrap over documents**: each of :data:`REPLICATES` replicates redraws,
with replacement, as many documents as the level holds from that level's documents, and takes the
mean again; the 2.5th and 97.5th percentiles of the replicates are the interval. The redraws are
multinomial counts (replicates × documents), so a level's replicates are one matrix product,
counts @ weights, with no loop over documents.

Why a bootstrap and not a regression (what stm's ``estimateEffect`` fits): a share is a mean of
bounded, compositional proportions (each mixture sums to 1, most weights near 0), for which a
linear model's normal intervals can leave [0, 1] and assume a variance the data do not have; the
percentile bootstrap stays inside the observed range and assumes nothing about the shape. The
keyness intervals (:mod:`newslens.analysis.keyness_uncertainty`) already bootstrap documents with
the same replicates, coverage and seed, so the reports use one method for every interval they show.

Why not the PyPI package ``structural-topic-model`` (1.0.0, a port of R's stm): its
``estimate_effect`` needs the package's own fitted logistic-normal model (it draws from that
model's variational posterior), not the NMF, LDA or BTM mixtures this project fits, and it requires
Python 3.12 and scikit-learn 1.9 or newer while the project runs on 3.11; its OLS and Cholesky draws
also go through LAPACK, whose last bits vary with the CPU.

Rules, as the keyness tables apply them:

* **Too small.** A level with fewer documents than the keyness minimum
  (``keywords.keyness_min_documents``, 5 by default) gets its share but no interval (NaN low and
  high): a bootstrap of one to four documents says nothing. :func:`too_small` marks such rows.
* **No group.** Documents without a group (no label, an empty one, ``(no group)`` or ``(none)``,
  as :func:`newslens.corpus.clean.is_missing_group` reads them) form their own level,
  :data:`NO_GROUP`, listed after the named groups, as in the keyness tables.
* **Periods** are those of the topics report's time axis: the resolution
  :func:`newslens.corpus.periods.choose_resolution` picks, over the dense part of the dates. Every
  period from the first to the last is a level, empty ones included (share NaN, 0 documents), so a
  chart's axis keeps time evenly. A period below the minimum is *marked*, not merged into a
  neighbour: merged periods would have unequal lengths and labels unlike the ingest report's chart
  of documents per period, and would blend times (in the news run, one outlet alone before February
  2017) into a point drawn at one date. Each period's number of documents (``n_docs``) is in the table.
* **No time axis** (nothing dated, one date, or one period): no period rows, and
  :attr:`TopicEffects.time_reason` says why.

Determinism: weights are held as integers (millionths; the stage stores each mixture to 6
decimals), so every sum of a replicate is an exact integer on every CPU; the shares and bounds are
stored rounded to :data:`DECIMALS` decimals, and the draws come from ``default_rng(SEED)``, one
generator per kind of level (groups, periods), in the table's order of levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from newslens.corpus.clean import MISSING_GROUP, is_missing_group
from newslens.corpus.periods import (Resolution, all_starts, choose_resolution, dense_mask, format_date,
                                     period_label, period_start)
from newslens.wording import plural

EFFECT_COLUMNS = ("topic", "by", "level", "share", "share_low", "share_high", "n_docs")  # topic_effects.parquet
REPLICATES = 200  # as the keyness intervals (keyness_uncertainty.REPLICATES)
LEVEL = 0.95
SEED = 0
DECIMALS = 4      # of a stored share and its bounds
MIN_DOCUMENTS = 5  # the keyness minimum's default (keywords.keyness_min_documents)
NO_GROUP = MISSING_GROUP
_SCALE = 1_000_000  # weights as integer millionths: exact sums
_DRAW_CELLS = 1 << 20  # multinomial counts (replicates × a level's documents) drawn at once: 8 MiB


@dataclass(frozen=True)
class TopicEffects:
    """Shares with intervals by group and by period, and what the time axis is or why there is none."""

    table: pd.DataFrame            # EFFECT_COLUMNS, one row per topic × level
    min_documents: int             # levels with fewer documents have no interval
    resolution: Resolution | None  # the periods' resolution (None: nothing is dated)
    time_reason: str               # why there are no period rows ("" when there are)
    time_note: str                 # which dated documents the period rows leave out ("" when none)

    def rows(self, by: str) -> pd.DataFrame:
        """The rows of one kind of level ("group" or "period"), in the table's order."""
        return self.table[self.table["by"] == by].reset_index(drop=True)


def empty_table() -> pd.DataFrame:
    """A table with the columns of ``topic_effects.parquet`` and no row (a run without a model)."""
    return pd.DataFrame({"topic": pd.Series(dtype="int64"), "by": pd.Series(dtype="str"),
                         "level": pd.Series(dtype="str"), "share": pd.Series(dtype="float64"),
                         "share_low": pd.Series(dtype="float64"), "share_high": pd.Series(dtype="float64"),
                         "n_docs": pd.Series(dtype="int64")})


def too_small(table: pd.DataFrame, min_documents: int) -> pd.Series:
    """True for the rows of a level with documents but fewer than ``min_documents`` (no interval)."""
    return (table["n_docs"] > 0) & (table["n_docs"] < min_documents)


def level_intervals(weights: np.ndarray, codes: np.ndarray, n_levels: int, *, min_documents: int = MIN_DOCUMENTS,
                    replicates: int = REPLICATES, level: float = LEVEL, seed: int = SEED
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each level's mean weight per topic and its bootstrap percentile interval.

    Parameters
    ----------
    weights : ndarray, shape (documents, topics)
        Each document's topic mixture (used to 6 decimals).
    codes : ndarray of int, shape (documents,)
        Each document's level, 0 to ``n_levels - 1``; -1 leaves the document out.

    Returns
    -------
    share, low, high : ndarray, shape (levels, topics)
        Unrounded; NaN for an empty level (share) and for a level under ``min_documents`` (bounds).
    n_docs : ndarray of int, shape (levels,)

    >>> share, low, high, n = level_intervals(np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]),
    ...                                       np.array([0, 0, 1]), 2, min_documents=2)
    >>> share.tolist(), n.tolist(), bool(np.isnan(low[1]).all())
    ([[0.5, 0.5], [0.5, 0.5]], [2, 1], True)
    """
    if replicates < 2:
        raise ValueError(f"replicates: must be at least 2; got {replicates!r}")
    if min_documents < 1:
        raise ValueError(f"min_documents: must be at least 1; got {min_documents!r}")
    weights = np.asarray(weights, dtype=float)
    scaled = np.rint(weights * _SCALE).astype(np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    n_topics = weights.shape[1]
    share = np.full((n_levels, n_topics), np.nan)
    low, high = share.copy(), share.copy()
    n_docs = np.bincount(codes[codes >= 0], minlength=n_levels)[:n_levels].astype(np.int64)
    rng = np.random.default_rng(seed)
    alpha = (1.0 - level) / 2.0
    for index in range(n_levels):  # one redraw per level, in order, so the seed fixes every replicate
        members = scaled[codes == index]
        n = len(members)
        if n == 0:
            continue
        share[index] = members.sum(axis=0) / (n * _SCALE)
        if n < min_documents:
            continue
        # the replicates a block at a time (numpy draws them one after another from the stream, so the
        # blocks are the draws of one call): a level of many documents holds one block's counts, not all
        probabilities, block = np.full(n, 1.0 / n), max(1, _DRAW_CELLS // n)
        sums = np.vstack([rng.multinomial(n, probabilities, size=min(block, replicates - start)) @ members
                          for start in range(0, replicates, block)])  # integers: exact on every CPU
        bounds = np.quantile(sums, [alpha, 1.0 - alpha], axis=0) / (n * _SCALE)
        low[index], high[index] = bounds
    return share, low, high, n_docs


def _mixtures(mixtures: pd.DataFrame, topic_ids: list) -> pd.DataFrame:
    """Documents (sorted ids) × topics (in ``topic_ids`` order) of the wide mixtures."""
    return mixtures.reindex(columns=topic_ids).fillna(0.0).sort_index()


def _rows(topic_ids: list, by: str, levels: list[str], share, low, high, n_docs) -> pd.DataFrame:
    """Long rows, topic-major (each topic's levels in order), rounded to :data:`DECIMALS`."""
    k, n_levels = len(topic_ids), len(levels)
    frame = pd.DataFrame({"topic": np.repeat(np.asarray(topic_ids, dtype=np.int64), n_levels),
                          "by": by, "level": np.tile(np.asarray(levels, dtype=object), k),
                          "share": share.T.ravel(), "share_low": low.T.ravel(), "share_high": high.T.ravel(),
                          "n_docs": np.tile(n_docs, k).astype(np.int64)})
    for column in ("share", "share_low", "share_high"):
        frame[column] = frame[column].round(DECIMALS)
    return frame


def group_levels(groups: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each document's group code and the levels: named groups, largest first (ties by name), then
    :data:`NO_GROUP` when some documents have none."""
    labels = groups.map(lambda g: NO_GROUP if is_missing_group(g) else str(g))
    named = labels[labels != NO_GROUP].value_counts()
    order = sorted(named.index, key=lambda g: (-int(named[g]), g))
    if (labels == NO_GROUP).any():
        order.append(NO_GROUP)
    codes = labels.map({g: i for i, g in enumerate(order)}).to_numpy(dtype=np.int64)
    return codes, order


def period_levels(documents: pd.DataFrame, unit: str = "document"
                  ) -> tuple[pd.Series, list[str], Resolution | None, str, str]:
    """Each document's period code by doc_id (-1: undated, or dated far from the rest), the period
    labels (every period from the first to the last), the resolution, why there is no time axis
    ("" when there is one), and which dated documents are left out ("" when none).

    The resolution and the dense span are those of the topics report's heat map and the ingest
    report's chart (:func:`~newslens.corpus.periods.choose_resolution` over all of ``documents``).
    """
    units = plural(unit)
    dates = pd.to_datetime(documents["date"]) if "date" in documents else pd.Series(pd.NaT, index=documents.index)
    codes = pd.Series(-1, index=documents["doc_id"].to_numpy(), dtype="int64")
    dated = dates.dropna()
    if dated.empty:
        return codes, [], None, f"no {unit} carries a date", ""
    resolution = choose_resolution(dates, precision=documents.get("date_precision"))
    if dated.nunique() == 1:
        return codes, [], resolution, f"every dated {unit} carries the same date ({format_date(dated.iloc[0])})", ""
    inside = dense_mask(dated)
    starts = period_start(dated[inside], resolution.name)
    every = all_starts(starts.min(), starts.max(), resolution.name)
    if len(every) < 2:
        return codes, [], resolution, (f"the dated {units} fall in a single {resolution.name} "
                                       f"({period_label(starts.min(), resolution.name)})"), ""
    position = {start: i for i, start in enumerate(every)}
    codes.iloc[documents.index.get_indexer(dated.index[inside.to_numpy()])] = starts.map(position).to_numpy()
    left_out = []
    if len(dates) > len(dated):
        undated = len(dates) - len(dated)
        left_out.append(f"{undated:,} undated {unit if undated == 1 else units}")
    if int((~inside).sum()):
        left_out.append(f"{int((~inside).sum()):,} dated far from the rest")
    note = f"Left out of the periods: {' and '.join(left_out)}." if left_out else ""
    return codes, [period_label(s, resolution.name) for s in every], resolution, "", note


def topic_effects(mixtures: pd.DataFrame, documents: pd.DataFrame, topics: pd.DataFrame, *,
                  min_documents: int = MIN_DOCUMENTS, replicates: int = REPLICATES, seed: int = SEED,
                  unit: str = "document") -> TopicEffects:
    """Each topic's share by group and by period with its 95% interval (see the module's rules).

    ``mixtures`` are the stage's, wide (one row per document, one column per topic: see
    :attr:`newslens.analysis.topics.TopicResult.mixtures`), ``documents`` stage 01's
    (doc_id, group, date, and date_precision when it has one), ``topics`` the topics in the order
    the rows follow. ``unit`` names a document in :attr:`TopicEffects.time_reason` ("article").
    """
    topic_ids = topics["topic"].tolist()
    if not topic_ids or mixtures.empty:
        return TopicEffects(empty_table(), min_documents, None, "no topic model", "")
    mixtures = _mixtures(mixtures, topic_ids)
    meta = documents.drop_duplicates("doc_id").set_index("doc_id").reindex(mixtures.index)
    weights = mixtures.to_numpy(dtype=float)
    frames = []
    codes, groups = group_levels(meta["group"] if "group" in meta else pd.Series(None, index=meta.index))
    frames.append(_rows(topic_ids, "group", groups, *level_intervals(
        weights, codes, len(groups), min_documents=min_documents, replicates=replicates, seed=seed)))
    period_codes, periods, resolution, reason, note = period_levels(documents.reset_index(drop=True), unit)
    codes = period_codes[~period_codes.index.duplicated()].reindex(mixtures.index, fill_value=-1).to_numpy()
    if periods:
        frames.append(_rows(topic_ids, "period", periods, *level_intervals(
            weights, codes, len(periods), min_documents=min_documents, replicates=replicates, seed=seed)))
    table = pd.concat(frames, ignore_index=True)
    order = {t: i for i, t in enumerate(topic_ids)}
    table = table.sort_values(["topic", "by"], key=lambda c: c.map(order) if c.name == "topic" else c,
                              kind="stable", ignore_index=True)
    return TopicEffects(table[list(EFFECT_COLUMNS)], min_documents, resolution, reason, note)


def chart_frames(effects: TopicEffects, topics: pd.DataFrame, by: str,
                 levels: list[str] | None = None) -> list[tuple[str, pd.DataFrame]]:
    """Per topic, titled as the heat maps title it (``T3: label``), its rows of one kind of level.

    Each frame is indexed by level (in the table's order, or ``levels``) with the columns share,
    share_low, share_high, n_docs and ``small`` (documents, but too few for an interval), ready for
    :func:`newslens.report.plots.interval_multiples` and :func:`~newslens.report.plots.band_multiples`.
    """
    rows = effects.rows(by)
    rows = rows.assign(small=too_small(rows, effects.min_documents))
    labels = topics.set_index("topic")["label"]
    frames = []
    for topic in topics["topic"]:
        frame = rows[rows["topic"] == topic].set_index("level")[["share", "share_low", "share_high", "n_docs", "small"]]
        frames.append((f"T{topic}: {labels[topic]}", frame if levels is None else frame.loc[levels]))
    return frames
