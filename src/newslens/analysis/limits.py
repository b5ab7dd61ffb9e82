"""The limits of a run, measured on its own data: when its documents were written, and what "similar" means.

Stage 03 writes them to ``limits.json`` (:func:`limits`, :func:`write_limits`) so that the
reports can say, where a reader looks first, what a finding cannot mean:

* ``span``: the dated span of the documents other than the focus, and of all of them; whether
  the focus is dated outside the others' span (``focus_outside_span``) and by how much. A
  focus five years newer than its corpus makes "distinctive" partly mean "new since then".
* ``concentration``: the shortest window holding :data:`CONCENTRATION_SHARE` of the dated
  documents, in days and in whole calendar months; the corpus is *concentrated* when that
  window is less than :data:`CONCENTRATED_BELOW` of its span.
* ``groups``: each group's first and last date, the groups that cover only part of the span,
  and a stretch at the start (or end) where one group holds nearly every document
  (:data:`DOMINANT_SHARE`): "before February 2017 China Daily is nearly the only outlet".
* ``similarity``: a floor for the focus's most similar documents, the similarity that pairs of
  the corpus's documents reach by chance about once among as many documents as the corpus
  holds, at most once in 1,000 pairs (:func:`similarity_floor`: every pair of a corpus of up to
  4,000 documents other than the focus, else every pair of the 4,000 of lowest hash of their id),
  and how many of the listed neighbours clear it.

Every float is rounded to what the reports show, and every choice is made on integers (days)
or on rounded values, so the file is byte-identical on every CPU. A part that cannot be
measured (no dates, one date, no focus, a corpus too small) is null with a ``reason``.

Example
-------
>>> documents = pd.DataFrame({"doc_id": ["f", "a", "b", "c"], "group": ["seed", "x", "x", "y"],
...                           "date": pd.to_datetime(["2022-01-10", "2017-02-01", "2017-03-01", "2017-03-30"])})
>>> span = date_span(documents, ["f"])
>>> span["focus_outside_span"], span["side"], span["gap_days"], span["others"]
(True, 'after', 1747, {'first': '2017-02-01', 'last': '2017-03-30', 'documents': 3})
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from newslens.corpus.clean import is_missing_group
from newslens.files import write_text

FORMAT = 1
# Concentration: the shortest window that holds this share of the dated documents ...
CONCENTRATION_SHARE = 0.9
# ... is "concentrated" when it is shorter than this share of the whole span.
CONCENTRATED_BELOW = 0.25
# A group covers only part of the span when its own span is shorter than this share of it.
PARTIAL_COVER = 0.5
# A stretch at the start or end of the span where one group holds at least this share of the
# documents, and the stretch at least MIN_STRETCH_SHARE of all dated documents.
DOMINANT_SHARE = 0.9
MIN_STRETCH_SHARE = 0.05
# The similarity floor: the cosine of every pair of documents when there are at most ALL_PAIRS
# (about 4,000 documents; the news run's 7.1 million pairs take about a second), else of FLOOR_PAIRS
# random pairs drawn with FLOOR_SEED. A sample is noisy in the far tail: on the news run, 20,000 pairs
# gave floors from 0.232 to 0.263 over eight seeds, 400,000 from 0.233 to 0.257; all pairs give 0.246.
# The floor is the cosine at the level 1 - 1/n for n candidate documents, kept within FLOOR_LEVELS,
# and kept to 3 decimals (the keywords report shows similarities to 3 decimals: every mark can be checked).
ALL_PAIRS = 8_000_000
FLOOR_PAIRS = 1_000_000
FLOOR_SEED = 0
PAIR_BLOCK = 500  # rows per block of the all-pairs product, to bound its memory
PAIR_CHUNK = 50_000  # sampled pairs per chunk, likewise
FLOOR_LEVELS = (0.99, 0.999)
FLOOR_DECIMALS = 3
DAYS_PER_YEAR = 365.2425
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def _iso(day: pd.Timestamp) -> str:
    # Written out, not by strftime: glibc writes the year 1 as "1", not "0001".
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def _days(dates: pd.Series) -> np.ndarray:
    """Dates as whole days since 1970 (int64), sorted: every choice below is made on these integers."""
    values = pd.to_datetime(dates.dropna()).to_numpy(dtype="datetime64[D]").astype("int64")
    return np.sort(values)


def _day(days: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(days), "D"))


def _range(days: np.ndarray) -> dict[str, Any]:
    return {"first": _iso(_day(days[0])), "last": _iso(_day(days[-1])), "documents": int(len(days))}


# ---------------------------------------------------------------- the span, and the focus in it

def gap(days: int) -> dict[str, Any]:
    """A gap in days as years (2 decimals) and whole months (rounded), for a sentence.

    >>> gap(1747)
    {'days': 1747, 'years': 4.78, 'months': 57}
    """
    return {"days": int(days), "years": round(days / DAYS_PER_YEAR, 2), "months": int(round(days / DAYS_PER_MONTH))}


def date_span(documents: pd.DataFrame, focus_ids: list[str]) -> dict[str, Any]:
    """The dated span of the other documents and of all of them, and where the focus lies in it.

    ``focus_outside_span`` is True when every focus date is after the others' last date or before
    their first; null (with ``reason``) without a focus, a dated focus or dated other documents.
    """
    is_focus = documents["doc_id"].isin(focus_ids)
    all_days, other_days = _days(documents["date"]), _days(documents.loc[~is_focus, "date"])
    focus_days = _days(documents.loc[is_focus, "date"])
    out: dict[str, Any] = {"all": _range(all_days) if len(all_days) else None,
                           "others": _range(other_days) if len(other_days) else None,
                           "focus": _range(focus_days) if len(focus_days) else None,
                           "focus_outside_span": None, "side": None, "gap_days": None, "gap": None, "reason": None}
    if not focus_ids:
        out["reason"] = "the run has no focus"
    elif not is_focus.any():
        out["reason"] = "no document of the run is the focus"
    elif is_focus.all():
        out["reason"] = "the focus is every document of the run"
    elif not len(focus_days):
        out["reason"] = "the focus has no date"
    elif not len(other_days):
        out["reason"] = "no other document has a date"
    else:
        after, before = focus_days[0] - other_days[-1], other_days[0] - focus_days[-1]
        outside = after > 0 or before > 0
        out["focus_outside_span"] = bool(outside)
        if outside:
            out["side"] = "after" if after > 0 else "before"
            out["gap_days"] = int(max(after, before))
            out["gap"] = gap(out["gap_days"])
    return out


# ---------------------------------------------------------------- concentration

def _months(days: np.ndarray) -> np.ndarray:
    """Each day's calendar month as a count of months since January 1970."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype("int64")


def _month_iso(months: int) -> str:
    """A count of months since January 1970 as "2017-02"."""
    return f"{1970 + months // 12:04d}-{months % 12 + 1:02d}"


def _shortest(values: np.ndarray, need: int) -> tuple[int, int]:
    """The first and last value of the shortest run of ``need`` sorted values (the earliest on ties)."""
    widths = values[need - 1:] - values[:len(values) - need + 1]
    start = int(np.argmin(widths))
    return int(values[start]), int(values[start + need - 1])


def concentration(dates: pd.Series) -> dict[str, Any]:
    """The shortest window holding :data:`CONCENTRATION_SHARE` of the dated documents, in days and months.

    >>> dates = pd.Series(pd.to_datetime(["2016-04-19"] + ["2017-02-10"] * 5 + ["2017-03-20"] * 5))
    >>> found = concentration(dates)
    >>> found["days"], found["concentrated"], found["months"]
    ({'first': '2017-02-10', 'last': '2017-03-20', 'length': 39, 'documents': 10, 'share': 0.91}, True, {'first': '2017-02', 'last': '2017-03', 'count': 2, 'documents': 10, 'share': 0.91})
    """
    days = _days(dates)
    out: dict[str, Any] = {"rule": f"the shortest window holding {CONCENTRATION_SHARE:.0%} of the dated documents; "
                                   f"concentrated when it is under {CONCENTRATED_BELOW:.0%} of the span",
                           "span_days": None, "days": None, "months": None, "window_share": None,
                           "concentrated": None, "reason": None}
    if len(days) < 2:
        out["reason"] = "fewer than two documents have a date"
        return out
    span = int(days[-1] - days[0])
    out["span_days"] = span
    if span == 0:
        out["reason"] = "every dated document has the same date"
        return out
    need = math.ceil(CONCENTRATION_SHARE * len(days))
    first, last = _shortest(days, need)
    held = int(((days >= first) & (days <= last)).sum())
    out["days"] = {"first": _iso(_day(first)), "last": _iso(_day(last)), "length": last - first + 1,
                   "documents": held, "share": round(held / len(days), 2)}
    months = _months(days)
    first_month, last_month = _shortest(months, need)
    held_months = int(((months >= first_month) & (months <= last_month)).sum())
    out["months"] = {"first": _month_iso(first_month), "last": _month_iso(last_month), "count": last_month - first_month + 1,
                     "documents": held_months, "share": round(held_months / len(days), 2)}
    share = (last - first + 1) / (span + 1)
    out["window_share"] = round(share, 2)
    out["concentrated"] = bool(share < CONCENTRATED_BELOW)
    return out


# ---------------------------------------------------------------- groups over the span

def _month_starts(days: np.ndarray) -> np.ndarray:
    """The first day of every calendar month after the first date up to the last, as days."""
    months = np.arange(_months(days[:1])[0] + 1, _months(days[-1:])[0] + 1)
    return months.astype("datetime64[M]").astype("datetime64[D]").astype("int64")


def _stretch(days: np.ndarray, labels: np.ndarray, *, at_start: bool) -> dict[str, Any] | None:
    """The longest stretch from the start (or to the end), cut at a month, where one group holds nearly all.

    Days and labels are sorted by day. The stretch must hold at least :data:`MIN_STRETCH_SHARE` of the
    documents and leave some outside it; the group holds :data:`DOMINANT_SHARE` of its documents.
    """
    best = None
    minimum = max(2, math.ceil(MIN_STRETCH_SHARE * len(days)))
    for boundary in _month_starts(days):
        inside = days < boundary if at_start else days >= boundary
        n = int(inside.sum())
        if n < minimum or n == len(days):
            continue
        named = pd.Series(labels[inside]).dropna()
        if named.empty:
            continue
        counts = named.value_counts().sort_index().sort_values(ascending=False, kind="stable")
        if counts.iloc[0] >= DOMINANT_SHARE * n and (best is None or n > best["documents"]):
            group = counts.index[0]
            others = (labels != group) & pd.notna(labels)
            # the other groups' documents that fall outside the stretch: "the others start in February"
            outside = int((others & ~inside).sum())
            best = {"boundary": _iso(_day(boundary)), "group": str(group), "group_documents": int(counts.iloc[0]),
                    "documents": n, "share": round(int(counts.iloc[0]) / n, 2),
                    "other_groups_outside": outside, "other_groups_documents": int(others.sum()),
                    "other_groups_outside_share": round(outside / max(int(others.sum()), 1), 3)}
    return best


def group_coverage(dates: pd.Series, groups: pd.Series) -> dict[str, Any]:
    """Each named group's span, those that cover only part of the corpus's span, and one-group stretches.

    ``lead`` is the stretch from the first date up to a month's start (``boundary``) where one group
    holds nearly every document; ``tail`` the stretch from a month's start to the last date.
    """
    frame = pd.DataFrame({"date": pd.to_datetime(dates).to_numpy(),
                          "group": [None if is_missing_group(g) else str(g) for g in groups]})
    frame = frame.dropna(subset=["date"])
    out: dict[str, Any] = {"groups": [], "partial": [], "lead": None, "tail": None, "reason": None}
    named = frame.dropna(subset=["group"])
    if named["group"].nunique() < 2:
        out["reason"] = "fewer than two groups have dated documents"
        return out
    days = _days(frame["date"])
    span = int(days[-1] - days[0])
    for group, rows in sorted(named.groupby("group"), key=lambda item: item[0]):
        own = _days(rows["date"])
        covers = round((int(own[-1] - own[0]) + 1) / (span + 1), 2)
        out["groups"].append({"group": group, **_range(own), "covers": covers})
        if covers < PARTIAL_COVER:
            out["partial"].append(group)
    if span == 0:
        out["reason"] = "every dated document has the same date"
        return out
    order = np.argsort(frame["date"].to_numpy(), kind="stable")
    labels = frame["group"].to_numpy(dtype=object)[order]
    out["lead"] = _stretch(days, labels, at_start=True)
    out["tail"] = _stretch(days, labels, at_start=False)
    return out


# ---------------------------------------------------------------- what "similar" means here

def _all_pair_cosines(rows: sparse.csr_matrix) -> np.ndarray:
    """The cosine of every pair of rows (i < j), block by block, rounded to 6 decimals (as similar.csv)."""
    columns = rows.T.tocsc()
    parts = []
    for start in range(0, rows.shape[0], PAIR_BLOCK):
        block = (rows[start:start + PAIR_BLOCK] @ columns).toarray()
        first, second = np.triu_indices(block.shape[0], k=1, m=rows.shape[0] - start)
        parts.append(np.round(block[:, start:][first, second], 6))
    return np.concatenate(parts)


def _sampled_cosines(rows: sparse.csr_matrix, count: int, seed: int) -> np.ndarray:
    """The cosines of ``count`` random pairs of rows (never a row with itself), rounded to 6 decimals."""
    n = rows.shape[0]
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n, count)
    second = rng.integers(0, n - 1, count)
    second = second + (second >= first)
    parts = [np.asarray(rows[first[i:i + PAIR_CHUNK]].multiply(rows[second[i:i + PAIR_CHUNK]]).sum(axis=1)).ravel()
             for i in range(0, count, PAIR_CHUNK)]  # in chunks: a million long rows would not fit in memory
    return np.round(np.concatenate(parts), 6)


def similarity_floor(matrix: sparse.csr_matrix, rows: np.ndarray, *, pairs: int = FLOOR_PAIRS,
                     seed: int = FLOOR_SEED, all_pairs: int = ALL_PAIRS,
                     population: int | None = None) -> dict[str, Any]:
    """The cosine that pairs of the ``rows`` (l2-normalised TF-IDF) reach by chance about once in n.

    Listing the focus's ten most similar documents picks the largest of n similarities; a
    neighbour means something only above what chance pairs reach that often. The level is
    1 - 1/n, kept between :data:`FLOOR_LEVELS` (so at most 1 in 1,000 pairs reaches it).
    The pairs are every pair of rows when there are at most ``all_pairs``, else ``pairs``
    random pairs drawn with ``seed`` (``sampled`` says which). Each cosine is rounded to
    6 decimals (as similar.csv), the quantile is an observed value (no interpolation), and
    the floor is rounded to :data:`FLOOR_DECIMALS`: no last bit of a CPU's sums can move it.
    ``population``: the documents the ``rows`` were chosen from, when they are a sample of them
    (the keywords stage pairs at most :data:`~newslens.analysis.tfidf_parts.FLOOR_DOCUMENTS`); the
    level is that of the population's size, and ``sampled`` is true.
    """
    n = len(rows)
    population = n if population is None else population
    if n < 2:
        return {"floor": None, "level": None, "one_in": None, "pairs": 0, "sampled": None, "seed": None,
                "reason": "fewer than two other documents to pair"}
    sampled = n * (n - 1) // 2 > all_pairs
    chosen = matrix[rows]
    cosines = _sampled_cosines(chosen, pairs, seed) if sampled else _all_pair_cosines(chosen)
    level = min(max(1 - 1 / population, FLOOR_LEVELS[0]), FLOOR_LEVELS[1])
    value = float(np.quantile(cosines, level, method="higher"))
    return {"floor": round(value, FLOOR_DECIMALS), "level": round(level, 4), "one_in": round(1 / (1 - level)),
            "pairs": int(len(cosines)),
            "sampled": sampled or population > n, "seed": seed if sampled else None, "reason": None}


def clears_floor(similarity: pd.Series, floor: float | None) -> pd.Series:
    """Whether each similarity (at similar.csv's 6 decimals) is above the floor; all False without a floor.

    >>> clears_floor(pd.Series([0.302125, 0.240001, 0.24]), 0.24).tolist()
    [True, True, False]
    """
    if floor is None:
        return pd.Series(False, index=similarity.index)
    return similarity.astype(float).round(6) > floor


def similar_limits(matrix: sparse.csr_matrix, doc_ids: list[str], focus_ids: list[str],
                   similar: pd.DataFrame, *, n_others: int | None = None) -> dict[str, Any]:
    """The floor from the documents other than the focus, and how many of the listed neighbours clear it.

    ``matrix`` holds the rows of ``doc_ids``; ``n_others``: how many documents other than the focus the
    run has, when those rows are a sample of them.
    """
    if not focus_ids:
        return {"floor": None, "level": None, "one_in": None, "pairs": 0, "sampled": None, "seed": None, "shown": 0,
                "above": None,
                "reason": "the run has no focus"}
    focus = set(focus_ids)
    rows = np.array([i for i, d in enumerate(doc_ids) if d not in focus], dtype=np.int64)
    found = similarity_floor(matrix, rows, population=None if n_others is None else max(n_others, len(rows)))
    above = (int(clears_floor(similar["similarity"], found["floor"]).sum())
             if found["floor"] is not None else None)
    return {**found, "shown": int(len(similar)), "above": above}


# ---------------------------------------------------------------- the file

def limits(documents: pd.DataFrame, focus_ids: list[str], matrix: sparse.csr_matrix, doc_ids: list[str],
           similar: pd.DataFrame, *, n_others: int | None = None) -> dict[str, Any]:
    """Every limit of the run: span and focus, concentration, groups over time, the similarity floor.

    Concentration and the groups are measured on the documents other than the focus (all of them
    in a run without one): they describe the corpus the focus is set in.
    """
    others = documents[~documents["doc_id"].isin(focus_ids)] if focus_ids else documents
    if others.empty:  # the focus is the whole run (the seed run): describe the run itself
        others = documents
    return {"format": FORMAT, "span": date_span(documents, focus_ids), "concentration": concentration(others["date"]),
            "groups": group_coverage(others["date"], others["group"]),
            "similarity": similar_limits(matrix, doc_ids, focus_ids, similar, n_others=n_others)}


def limits_json(data: dict[str, Any]) -> str:
    """The limits as written: sorted keys, no NaN, a trailing newline."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def write_limits(data: dict[str, Any], target: Path) -> Path:
    """Write ``limits.json`` atomically."""
    return write_text(target, limits_json(data))


def read_limits(path: Path) -> dict[str, Any] | None:
    """The limits of a run, or None when it was built before stage 03 wrote them."""
    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def findings_limits(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of the limits a run's findings keep: the span, the focus in it, concentration, the floor."""
    if data is None:
        return None
    span, similar = data["span"], data["similarity"]
    return {"span": span["others"], "span_with_focus": span["all"],
            "focus_outside_span": span["focus_outside_span"], "gap_days": span["gap_days"],
            "concentrated": data["concentration"]["concentrated"],
            "similarity_floor": similar["floor"], "similar_above_floor": similar["above"],
            "similar_shown": similar["shown"]}
