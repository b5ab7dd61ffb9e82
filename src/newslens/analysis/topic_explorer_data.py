"""The topic explorer's data: an intertopic map, terms by relevance, top documents, by group and over time.

The topics stage computes the explorer's data from the fitted model and writes it as
``topic_explorer.json``; the summary reads that file and shows a compact explorer. The
page draws it (:mod:`newslens.report.topic_explorer`).

* **Map** (:func:`intertopic_map`): Jensen–Shannon divergence between the topics' term
  distributions (each row of the model's components normalised to sum to 1, over the
  whole vocabulary; natural logarithm, so it lies in [0, ln 2]), taken as the distance of
  classical MDS (:func:`pcoa`), as LDAvis does. Each axis's sign is fixed so that its
  coordinate of largest magnitude is positive; coordinates are scaled so the largest
  magnitude is 1 and kept at 4 decimals. On the page (:func:`map_layout`) a circle's area is
  its prevalence, and a centre that a smaller circle would cover is moved apart from it, so
  that every circle can be clicked at its centre; a size legend gives 2–3 reference circles.
* **Relevance** (Sievert & Shirley 2014): λ·log p(w|t) + (1−λ)·log(p(w|t)/p(w)), with
  p(w) the corpus-wide term probability from the term counts. Each topic sends the union
  of its top terms at λ = 0, 0.1, …, 1 (:func:`relevance_candidates`) among the terms used
  at least :func:`min_uses` times, with p(w|t) and p(w) at display precision and each term's
  uses; the page re-ranks them as the slider moves.
* **Determinism**: every ranking is made on the values as sent (display precision) with
  ties broken by term or document id, so the same model gives the same bytes on every CPU.

>>> round(float(jensen_shannon(np.array([[1.0, 0.0], [0.0, 1.0]]))[0, 1]), 4)  # disjoint: ln 2
0.6931
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from newslens.precision import display_value, display_values
from newslens.wording import Words

FILE = "topic_explorer.json"
LAMBDAS = tuple(i / 10 for i in range(11))  # the λ grid whose top terms each topic sends
TOP_TERMS = 30          # per λ of the grid
TOP_DOCS = 8            # per topic, in the topics report
COMPACT_DOCS = 5        # per topic, in the summary
SNIPPET_CHARS = 200     # a document's snippet, cut at a word
TITLE_CHARS = 160       # a unit's own words stand in for its title (as topic_views does)
DEFAULT_LAMBDA = 0.6    # Sievert & Shirley's user study found λ ≈ 0.6 best for interpretation
TOKENS_PER_USE = 50_000  # a listed term is used at least once per this many tokens of the corpus (min_uses)
MAX_MIN_USES = 20       # ... and never needs more than this many uses
MAP_DECIMALS = 4
_TIE = 1e-9             # relative to the largest MDS eigenvalue: a smaller gap is a tie, a smaller value 0


# ---------------------------------------------------------------- the intertopic map

def term_distributions(components: np.ndarray) -> np.ndarray:
    """Each topic's row normalised to sum to 1 (an all-zero row becomes uniform)."""
    weights = np.clip(np.asarray(components, dtype=float), 0, None)
    sums = weights.sum(axis=1, keepdims=True)
    uniform = np.full_like(weights, 1.0 / max(weights.shape[1], 1))
    return np.where(sums > 0, weights / np.where(sums > 0, sums, 1), uniform)


def jensen_shannon(distributions: np.ndarray) -> np.ndarray:
    """Pairwise Jensen–Shannon divergence of the rows (natural log: 0 for identical, ln 2 for disjoint).

    JSD(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = ½ (P + Q), with 0 · log 0 = 0.
    """
    p = np.asarray(distributions, dtype=float)
    k = p.shape[0]
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            m = (p[i] + p[j]) / 2
            with np.errstate(divide="ignore", invalid="ignore"):
                left = np.where(p[i] > 0, p[i] * np.log(p[i] / m), 0.0).sum()
                right = np.where(p[j] > 0, p[j] * np.log(p[j] / m), 0.0).sum()
            out[i, j] = out[j, i] = max(0.0, (left + right) / 2)
    return out


def pcoa(distances: np.ndarray, dims: int = 2) -> np.ndarray:
    """Classical MDS: the top ``dims`` axes of the double-centred squared distances.

    B = −½ J D² J (J the centring matrix); coordinates are the eigenvectors of B scaled
    by the square roots of their eigenvalues (negative or negligible ones count as 0). Two points give
    one axis; the rest is zero. Axes whose eigenvalues tie are rotated so that the first
    point lies on the first axis, and every axis's sign is fixed so that its coordinate
    of largest magnitude is positive (ties: the first such point). Unscaled, unrounded.
    """
    d = np.asarray(distances, dtype=float)
    n = d.shape[0]
    coords = np.zeros((n, dims))
    if n < 2:
        return coords
    centring = np.eye(n) - np.full((n, n), 1.0 / n)
    b = -0.5 * centring @ (d ** 2) @ centring
    values, vectors = np.linalg.eigh((b + b.T) / 2)
    order = np.argsort(-values, kind="stable")[:dims]
    values, vectors = values[order], vectors[:, order]
    # Negative eigenvalues (non-Euclidean distances) and rounding noise count as 0.
    values = np.where(values > _TIE * max(values[0], 0.0), values, 0.0)
    coords[:, :len(order)] = vectors * np.sqrt(values)
    if dims >= 2 and len(order) >= 2 and values[0] > 0 and values[0] - values[1] <= _TIE * values[0]:
        angle = np.arctan2(coords[0, 1], coords[0, 0])  # a tie leaves any rotation: fix one
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        coords[:, :2] = coords[:, :2] @ rotation
    return _fix_signs(coords)


def _fix_signs(coords: np.ndarray) -> np.ndarray:
    scale = np.abs(coords).max() or 1.0
    rounded = np.round(coords / scale, MAP_DECIMALS)  # judge the sign on what is shown
    for axis in range(coords.shape[1]):
        column = rounded[:, axis]
        if not column.any():
            continue
        first = int(np.flatnonzero(np.abs(column) == np.abs(column).max())[0])
        if column[first] < 0:
            coords[:, axis] = -coords[:, axis]
    return coords


def intertopic_map(components: np.ndarray) -> np.ndarray:
    """The topics' 2-D map from their term distributions: scaled to a largest magnitude of 1, 4 decimals."""
    coords = pcoa(jensen_shannon(term_distributions(components)))
    scale = np.abs(coords).max()
    coords = coords / scale if scale > 0 else coords
    return np.round(coords, MAP_DECIMALS) + 0.0  # + 0.0: no negative zero


# ---------------------------------------------------------------- terms by relevance

def relevance(p_topic: np.ndarray, p_corpus: np.ndarray, lam: float) -> np.ndarray:
    """λ·log p(w|t) + (1−λ)·log(p(w|t) / p(w)); −inf where p(w|t) is 0."""
    with np.errstate(divide="ignore"):
        log_topic = np.log(p_topic)
        return lam * log_topic + (1 - lam) * (log_topic - np.log(p_corpus))


def relevance_candidates(p_topic: np.ndarray, p_corpus: np.ndarray, terms: np.ndarray,
                         n: int = TOP_TERMS, lambdas=LAMBDAS, *, uses: np.ndarray | None = None,
                         min_uses: int = 1) -> np.ndarray:
    """Indices of the union of the top ``n`` terms by relevance at each λ, by p(w|t) descending.

    Ranked on the values as given (send them at display precision first), ties by term. With
    ``uses`` (each term's count in the corpus), only terms used at least ``min_uses`` times
    compete: at λ near 0 relevance favours rare terms, and a term used a handful of times
    in one outlet's boilerplate ("page24") would top every list.
    """
    frequent = (p_topic > 0) if uses is None else (np.asarray(uses) >= min_uses)
    usable = np.flatnonzero((p_topic > 0) & (p_corpus > 0) & frequent)
    by_term = usable[np.argsort(terms[usable], kind="stable")]
    chosen: set[int] = set()
    for lam in lambdas:
        scores = relevance(p_topic[by_term], p_corpus[by_term], lam)
        chosen.update(by_term[np.argsort(-scores, kind="stable")[:n]].tolist())
    picked = np.array(sorted(chosen, key=lambda i: (-p_topic[i], terms[i])), dtype=int)
    return picked


# ---------------------------------------------------------------- documents

def cut_at_word(text: str, limit: int) -> str:
    """``text`` (whitespace collapsed) cut to at most ``limit`` characters at a word, with … when cut.

    >>> cut_at_word("The minister said the talks would resume", 20)
    'The minister said…'
    """
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    head = cut[:space] if space > limit // 2 else cut  # one long word: cut inside it
    return head.rstrip(" ,;:.-–—") + "…"


def _date_text(date, precision) -> str | None:
    if date is None or date is pd.NaT or date != date:
        return None
    date = pd.Timestamp(date)
    return {"year": f"{date:%Y}", "month": f"{date:%Y-%m}"}.get(str(precision), f"{date:%Y-%m-%d}")


def top_documents(mixtures: pd.DataFrame, n: int = TOP_DOCS) -> pd.DataFrame:
    """Each topic's ``n`` documents of highest weight (weight > 0), ties by doc_id
    (:func:`newslens.analysis.topic_views.top_documents` of the wide mixtures)."""
    from newslens.analysis import topic_views

    return topic_views.top_documents(mixtures, n)


def document_entry(row) -> dict[str, Any]:
    """What the explorer shows of one document: title (a unit's own words), group, date, snippet."""
    text = row.text if isinstance(row.text, str) else ""
    is_unit = row.doc_id != row.parent_id
    title = row.title if isinstance(row.title, str) and row.title.strip() and not is_unit else None
    entry = {"id": str(row.doc_id),
             "title": cut_at_word(title, TITLE_CHARS) if title else cut_at_word(text, TITLE_CHARS) or str(row.doc_id),
             "group": None if not isinstance(row.group, str) else row.group,
             "date": _date_text(row.date, getattr(row, "date_precision", None))}
    if title:  # a unit's words are already its title
        entry["snippet"] = cut_at_word(text, SNIPPET_CHARS)
    return entry


# ---------------------------------------------------------------- the data

# ---------------------------------------------------------------- the map's layout

MAP_SIZE = 360        # the map's viewBox, in px
MAX_RADIUS = 30       # the most prevalent topic's circle, at most; area ∝ prevalence
MAP_INK = 0.12        # the circles' total area as a share of the map, at most (many topics: smaller)
CLEARANCE = 3.0       # px between a circle's centre and any circle drawn above it
NUDGE_ROUNDS = 200    # passes of moving circles apart, at most
LEGEND_SHARES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)  # the size legend's reference shares


def map_layout(topics: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Each topic's circle in the map's viewBox: centre (cx, cy) and radius r, px at 1 decimal.

    Area is proportional to prevalence; the largest radius shrinks as topics multiply, so
    that the circles cover at most :data:`MAP_INK` of the map, and the margin equals it, so
    that no circle is clipped. Circles are drawn largest first (ties by order), and a centre
    that a circle drawn later would cover is moved apart from it (:func:`_apart`), so every
    circle can be clicked at its centre.
    """
    prevalence = np.array([max(float(t["prevalence"]), 0.0) for t in topics])
    top = prevalence.max() if len(prevalence) and prevalence.max() > 0 else 1.0
    largest = _largest_radius(prevalence)
    span = MAP_SIZE / 2 - largest - 2
    circles = [[MAP_SIZE / 2 + span * float(t["x"]), MAP_SIZE / 2 - span * float(t["y"]),
                _radius(float(p), float(top), largest)] for t, p in zip(topics, prevalence)]
    circles = _apart(circles, [t.get("id", i) for i, t in enumerate(topics)])
    return [{"cx": round(x, 1), "cy": round(y, 1), "r": round(r, 1)} for x, y, r in circles]


def _largest_radius(prevalence: np.ndarray) -> float:
    top = prevalence.max() if len(prevalence) and prevalence.max() > 0 else 1.0
    share = max(float((prevalence / top).sum()), 1.0)
    return min(MAX_RADIUS, math.sqrt(MAP_INK * MAP_SIZE ** 2 / (math.pi * share)))


def _radius(prevalence: float, top: float, largest: float) -> float:
    return max(4.0, largest * math.sqrt(prevalence / top))


def draw_order(circles: list, ids: list) -> list[int]:
    """Indices in the order the page draws circles: largest radius (as shown) first, ties by topic id."""
    return sorted(range(len(circles)), key=lambda i: (-round(circles[i][2], 1), ids[i]))


def _apart(circles: list[list[float]], ids: list) -> list[list[float]]:
    """Move centres apart until none lies within :data:`CLEARANCE` of a circle drawn above it.

    The circle drawn later (the smaller) moves away from the other's centre, along the line
    between them (coinciding centres: a direction set by its position), and stays inside the
    map. Plain Python floats in a fixed order, so every CPU moves them alike; a pair still too
    close after :data:`NUDGE_ROUNDS` passes (a crowded map) shrinks the upper circle instead.
    """
    order = draw_order(circles, ids)
    for round_ in range(NUDGE_ROUNDS):
        moved = False
        # After a few rounds a push also turns aside, more each round (by the pair's order, so every
        # CPU turns alike): a circle caught between two on one line would otherwise move back and forth on it.
        turn = min(1.0, round_ / 20)
        for a, i in enumerate(order):
            for j in order[a + 1:]:
                xi, yi, _ = circles[i]
                xj, yj, rj = circles[j]
                gap = math.hypot(xj - xi, yj - yi)
                need = rj + CLEARANCE
                if gap >= need:
                    continue
                if gap < 1e-6:
                    angle = j * 2.399963  # the golden angle: coinciding centres fan out
                    ux, uy = math.cos(angle), math.sin(angle)
                else:
                    ux, uy = (xj - xi) / gap, (yj - yi) / gap
                if turn:
                    side = 1.0 if (a + j) % 2 else -1.0
                    ux, uy = ux - side * turn * uy, uy + side * turn * ux
                    norm = math.hypot(ux, uy)
                    ux, uy = ux / norm, uy / norm
                step = need - gap + 0.5
                low, high = rj + 1, MAP_SIZE - rj - 1
                circles[j][0] = min(high, max(low, xj + ux * step))
                circles[j][1] = min(high, max(low, yj + uy * step))
                moved = True
        if not moved:
            return circles
    for a, i in enumerate(order):  # still crowded: the upper circle shrinks off the lower one's centre
        for j in order[a + 1:]:
            gap = math.hypot(circles[j][0] - circles[i][0], circles[j][1] - circles[i][1])
            if gap < circles[j][2] + CLEARANCE:
                circles[j][2] = max(0.5, gap - CLEARANCE)
    return circles


def size_legend(topics: list[dict[str, Any]]) -> list[list[float]]:
    """Two or three reference circles, [share, radius px], within the topics' range of prevalence."""
    prevalence = np.array([max(float(t["prevalence"]), 0.0) for t in topics])
    if not len(prevalence) or prevalence.max() <= 0:
        return []
    top, largest = float(prevalence.max()), _largest_radius(prevalence)
    inside = [s for s in LEGEND_SHARES if prevalence.min() <= s <= top] or \
        [max([s for s in LEGEND_SHARES if s <= top] or [LEGEND_SHARES[0]])]
    picked = sorted({inside[0], inside[len(inside) // 2], inside[-1]})
    return [[share, round(_radius(share, top, largest), 1)] for share in picked]


def explorer_data(result, documents: pd.DataFrame, *, terms: np.ndarray, totals: np.ndarray,
                  display: dict[str, str], words: Words) -> dict[str, Any] | None:
    """The explorer's data for a fitted model (a :class:`newslens.analysis.topics.TopicResult`), or None (k = 0).

    ``terms`` and ``totals`` are the model's vocabulary and each term's count over every document
    (``tfidf.terms``, ``result.corpus.totals``); ``result.components`` its topic-term weights,
    in the order of ``result.topics``.
    """
    if not result.k or result.components is None or result.topics.empty:
        return None
    topics = result.topics
    vocabulary, term_lists = _term_data(result.components, np.asarray(terms), totals, display)
    doc_entries, doc_lists = _document_data(result.mixtures, documents, topics)
    groups, over_time, period = _prevalence(result.mixtures, documents, topics)
    coords = intertopic_map(result.components)
    entries = []
    for position, row in enumerate(topics.itertuples()):
        name = f"T{row.topic}: {row.label}"
        entry = {"id": int(row.topic), "label": str(row.label), "name": name,
                 "prevalence": display_value(row.prevalence), "mixed": is_mixed(getattr(row, "mixed", None)),
                 "x": float(coords[position, 0]), "y": float(coords[position, 1]),
                 "terms": term_lists[position], "docs": doc_lists[position]}
        if groups.shape[1] > 1:
            entry["by_group"] = _values(groups.loc[name])
        if over_time.shape[1] > 1:
            entry["over_time"] = _values(over_time.loc[name])
        entries.append(entry)
    for entry, circle in zip(entries, map_layout(entries)):
        entry.update(circle)
    legend = size_legend(entries)
    no_time = (f"The {words.units} do not span more than one {period}, so there is no time axis." if period
               else f"The {words.units} have no dates, so there is no time axis.")
    return {
        "version": 1, "compact": False, "model": result.model, "k": int(result.k),
        "lambda": DEFAULT_LAMBDA, "map_size": MAP_SIZE, "size_legend": legend, "unit": words.unit, "units": words.units,
        "group": words.group, "period": period,
        "groups": [str(g) for g in groups.columns] if groups.shape[1] > 1 else [],
        "periods": [str(p) for p in over_time.columns] if over_time.shape[1] > 1 else [],
        "notes": {"groups": None if groups.shape[1] > 1 else f"This run has a single {words.group}.",
                  "time": None if over_time.shape[1] > 1 else no_time},
        **vocabulary, "docs": doc_entries, "topics": entries,
    }


def min_uses(total_tokens: int) -> int:
    """The fewest uses in the corpus a term needs to be listed: one per :data:`TOKENS_PER_USE` tokens,
    between 1 and :data:`MAX_MIN_USES` (20 in a corpus of a million tokens, 1 in a single article).

    >>> min_uses(1_200_000), min_uses(300_000), min_uses(900)
    (20, 6, 1)
    """
    return int(min(MAX_MIN_USES, max(1, round(total_tokens / TOKENS_PER_USE))))


def is_mixed(flag) -> bool:
    """Whether topics.csv's ``mixed`` column (absent in older runs: None) marks a topic as mixed."""
    if isinstance(flag, str):
        return flag.strip().lower() in {"true", "yes", "1"}
    return bool(flag) if isinstance(flag, (bool, np.bool_, int, np.integer)) else False


def _term_data(components: np.ndarray, terms: np.ndarray, totals: np.ndarray, display: dict[str, str]):
    """The candidate terms (display form) with p(w) and uses, the fewest uses listed, and per topic
    [[term index, p(w|t)], ...]."""
    p_topic = display_values(term_distributions(components))
    totals = np.asarray(totals).ravel().astype(np.int64)
    p_corpus = display_values(totals / totals.sum()) if totals.sum() > 0 else np.zeros(len(totals))
    fewest = min_uses(int(totals.sum()))
    candidates = [relevance_candidates(p_topic[t], p_corpus, terms, uses=totals, min_uses=fewest)
                  for t in range(len(components))]
    used = sorted(set().union(*[set(c.tolist()) for c in candidates]), key=lambda i: terms[i])
    slot = {index: position for position, index in enumerate(used)}
    vocabulary = {"terms": [display.get(terms[i], str(terms[i])) for i in used],
                  "pw": [float(p_corpus[i]) for i in used], "uses": [int(totals[i]) for i in used],
                  "min_uses": fewest}
    return vocabulary, [[[slot[i], float(p_topic[t, i])] for i in chosen] for t, chosen in enumerate(candidates)]


def _document_data(mixtures: pd.DataFrame, documents: pd.DataFrame, topics: pd.DataFrame):
    """The top documents of every topic once each, and per topic [[document index, weight], ...]."""
    top = top_documents(mixtures)
    columns = [c for c in ("doc_id", "parent_id", "title", "text", "group", "date", "date_precision")
               if c in documents.columns]
    shown = documents.loc[documents["doc_id"].isin(set(top["doc_id"])), columns].sort_values("doc_id")
    for missing in {"parent_id", "title", "text", "group", "date"} - set(columns):
        shown[missing] = shown["doc_id"] if missing == "parent_id" else None
    entries = [document_entry(row) for row in shown.itertuples(index=False)]
    slot = {entry["id"]: position for position, entry in enumerate(entries)}
    lists = []
    for topic in topics["topic"]:
        mine = top[top["topic"] == topic]
        lists.append([[slot[d], display_value(w)] for d, w in zip(mine["doc_id"], mine["weight"]) if d in slot])
    return entries, lists


def _prevalence(mixtures: pd.DataFrame, documents: pd.DataFrame, topics: pd.DataFrame):
    """Topics × groups and topics × periods (empty without groups or dates), and the period's name."""
    from newslens.analysis import topic_views

    groups = topic_views.prevalence_by_group(mixtures, documents, topics) \
        if "group" in documents.columns and documents["group"].notna().any() else pd.DataFrame()
    if "date" not in documents.columns or documents["date"].isna().all():
        return groups, pd.DataFrame(), None
    over_time, resolution = topic_views.prevalence_over_time(mixtures, documents, topics)
    return groups, over_time, resolution.name


def _values(series: pd.Series) -> list[float | None]:
    return [None if v != v else display_value(v) for v in series.tolist()]


def compact(data: dict[str, Any] | None, docs: int = COMPACT_DOCS) -> dict[str, Any] | None:
    """The summary's explorer: the map, the terms and each topic's top ``docs`` documents."""
    if data is None:
        return None
    topics = [{**{k: v for k, v in t.items() if k not in ("by_group", "over_time")}, "docs": t["docs"][:docs]}
              for t in data["topics"]]
    kept = sorted({d for t in topics for d, _ in t["docs"]})
    slot = {old: new for new, old in enumerate(kept)}
    for t in topics:
        t["docs"] = [[slot[d], w] for d, w in t["docs"]]
    return {**data, "compact": True, "groups": [], "periods": [], "docs": [data["docs"][d] for d in kept],
            "topics": topics, "notes": {"groups": None, "time": None}}


def explorer_json(data: dict[str, Any] | None) -> str:
    """The file's text: sorted, compact JSON, one line (``null`` for a run without a model)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def write(data: dict[str, Any] | None, out_dir: Path) -> Path:
    """Write ``topic_explorer.json`` atomically."""
    from newslens.files import write_text

    return write_text(Path(out_dir) / FILE, explorer_json(data))


def load(path: Path) -> dict[str, Any] | None:
    """Read ``topic_explorer.json`` (None for a run without a model, or a missing file)."""
    path = Path(path)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
