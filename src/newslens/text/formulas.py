"""Formulas: what a corpus's documents share without meaning, learned as stop words.

The document-frequency ceiling (``tokenize.stopword_max_df``) catches terms in most
documents. A corpus also has *formulas* below it: forms of address in debate ("hon.
Friend", "the House"), salutations and sign-offs ("Dear Sir", "Yours faithfully").
Three detectors learn them from the tokens (phrased and lemmatized, before any filter),
each by a rule stated here and tested in ``tests/test_formulas.py``:

1. **Even spread** (a stop word for the whole run). A term (word or phrase) that is
   not already a stop term is a formula when

   * it holds a letter (numbers have their own filter) and is in at least
     :data:`SPREAD_MIN_SHARE` of the documents, and
   * no compared unit uses it differently. The units are the groups and the periods
     (at the resolution :func:`newslens.corpus.periods.choose_resolution` picks) that hold at
     least :data:`MIN_UNIT_DOCS` documents. Each is compared with all other documents
     on token counts (one-vs-rest, :func:`newslens.measures.g2` and
     :func:`newslens.measures.log_ratio`); a unit *over- or under-uses* the term when
     ``|log ratio| > SPREAD_MAX_LOG_RATIO`` **and** ``G² > SPREAD_G2`` (p < 0.001):
     the difference is both large and not chance. A formula has no such unit. Both
     values are compared at display precision, so no CPU's last bit moves a decision.

   It acts only with at least :data:`MIN_DOCS` documents and at least two units of one
   kind (two groups, or two periods) to compare; otherwise it skips and says why.

2. **Address terms** (a stop word for the whole run): the words with which speakers turn to the
   chair and to each other ("Herr Kollege", "Danke schön", "hon. Gentleman", "señores
   diputados"), in any language, by where they stand. A document's *edges* are its first and
   last sentence (all of a one-sentence document), where a speech greets, thanks, asks leave
   and yields; its *inside* is every other sentence. A term not already a stop term or an
   even-spread formula is an address term when

   * it holds a letter and is in at least ``max(MIN_REPEATS, REPEAT_SHARE × documents)``
     documents (the floor of openers and closers),
   * it is used at the edges more than three times as often as inside (edge tokens against inside
     tokens: ``log ratio > ADDRESS_MIN_LOG_RATIO`` **and** ``G² > SPREAD_G2``), and
   * no group over- or under-uses it (the veto of rule 1, over the named groups alone; the
     documents without a group, such as a government member's, are no party): procedure
     belongs to every party, a subject that leads speeches ("Scottish" in the Commons, where
     one party raises it) does not. Periods do not veto: how procedure is worded changes
     with who presides ("Frau Präsidentin" only in the years a woman does) and with how
     many question times a year of the sample holds.

   It acts only with two named groups to compare. Speakers, sitting days and agenda items would be
   finer units for the veto, but in the builtin parliamentary samples they hold about one
   speech each (no speaker, day or agenda item of the Bundestag sample holds ten), so a
   dispersion over them is the document frequency again and cannot tell procedure from a
   subject; the position in the speech can.

3. **Openers and closers** (removed where they stand, not everywhere). The first
   ``n`` tokens of a document's first sentence (``n`` = 1 … :data:`MAX_FORMULA_TOKENS`),
   and the last ``n`` of its last, are counted over the documents. A sequence is an
   opener (closer) when it starts (ends) at least ``max(MIN_REPEATS, REPEAT_SHARE ×
   documents)`` documents and holds a token that is not a stop term (a sequence of stop
   words is removed anyway); a single token must also stand there in at least
   :data:`EDGE_SHARE` of the documents that hold it (a dateline "Moscow" or the chair's
   "Order", not a content word that often comes first, such as "President"). Of nested
   sequences with the same count only the longest is listed. In each document the
   longest learned opener and closer are cut from its first and last sentence; the same
   words elsewhere stay. It acts only with at least :data:`MIN_DOCS` documents.

``tokenize.keep`` names terms and openers or closers (as the table writes them: the
tokens joined by spaces) that are never learned (nor the start of a kept opener, the end
of a kept closer); ``tokenize.formulas: false`` turns the three detectors off.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from newslens.corpus.clean import MISSING_GROUP
from newslens.text.stopwords import is_stop_term

if TYPE_CHECKING:  # imported where used: a worker process that tokenizes needs no pandas
    import pandas as pd

logger = logging.getLogger(__name__)

MIN_DOCS = 50                 # documents either detector needs before it acts
MIN_UNIT_DOCS = 10            # documents a group or period needs to be compared
SPREAD_MIN_SHARE = 0.10       # even spread: in at least this share of the documents
SPREAD_MAX_LOG_RATIO = 0.5    # ... and no unit uses it more than 2^0.5 ≈ 1.41 times as often (or as rarely)
SPREAD_G2 = 10.83             # ... with G² beyond this (χ², 1 df, p < 0.001)
MAX_FORMULA_TOKENS = 8        # the longest opener or closer looked for
MIN_REPEATS = 10              # documents an opener or closer must start or end, at least
REPEAT_SHARE = 0.02           # ... and at least this share of the documents
EDGE_SHARE = 0.25             # a one-token opener or closer: at the edge in this share of its documents
# An address term: at the edges more than three times as often as inside (log2 3). At twice as often
# the news run learned "bid", "award" and "resort" (2.2-2.5 times: subjects its leads announce), and
# the Commons run "free" and "chancellor"; the words of address stand at the edges 3.5 to 500 times as often.
ADDRESS_MIN_LOG_RATIO = 1.585
# Even spread and address terms: where, the unit that comes closest to a difference (the largest G²),
# with its g2 and log_ratio; a formula has g2 <= SPREAD_G2 or |log_ratio| <= SPREAD_MAX_LOG_RATIO there.
COLUMNS = ["kind", "formula", "documents", "share", "where", "g2", "log_ratio", "evidence"]
KINDS = ("even spread", "address", "opener", "closer")


@dataclass
class Formulas:
    """What the learner found: the table (evidence per formula), and why a detector skipped."""

    table: pd.DataFrame  # COLUMNS, one row per formula
    terms: frozenset[str] = frozenset()                 # even-spread and address terms: stop words
    openers: frozenset[tuple[str, ...]] = frozenset()
    closers: frozenset[tuple[str, ...]] = frozenset()
    notes: list[str] = field(default_factory=list)      # one line per detector that skipped

    def strip(self, first: list[str], last: list[str]) -> tuple[int, int]:
        """Lengths of the longest learned opener of ``first`` and closer of ``last`` (0: none)."""
        return _longest(first, self.openers, False), _longest(last, self.closers, True)


def _longest(tokens: Sequence[str], learned: frozenset, from_end: bool) -> int:
    if not learned:
        return 0
    for n in range(min(MAX_FORMULA_TOKENS, len(tokens)), 0, -1):
        if tuple(tokens[-n:] if from_end else tokens[:n]) in learned:
            return n
    return 0


def none_learned(notes: Iterable[str] = ()) -> Formulas:
    """An empty result, with the reasons nothing was learned."""
    import pandas as pd

    return Formulas(pd.DataFrame(columns=COLUMNS), notes=list(notes))


def learn_formulas(docs: Sequence[Sequence[Sequence[str]]], groups: Sequence, dates: Sequence,
                   df: Counter, stopwords: frozenset[str], *, keep: Iterable[str] = ()) -> Formulas:
    """Learn the run's formulas (both detectors, see the module docstring) from documents in memory.

    The counting of :func:`count_edges` and :func:`count_units` over all of ``docs`` at once,
    then :func:`decide_formulas`; the stage does the same counting per partition and sums.

    Parameters
    ----------
    docs : sequence of documents, each a sequence of sentences, each a list of tokens
        The phrased, lemmatized tokens before any filter.
    groups, dates : sequences, one per document
        The group label (None or NaN: no group) and the date (NaT: undated).
    df : Counter
        Document frequency of every token over ``docs``.
    stopwords : frozenset of str
        The run's stop-word list so far; its stop terms are never formulas.
    keep : iterable of str
        Terms and openers or closers (tokens joined by spaces) never learned.
    """
    n_docs = len(docs)
    if n_docs < MIN_DOCS:
        return decide_formulas(n_docs, Units([], [], []), df, stopwords, EdgeCounts(), lambda query: None,
                               keep=keep)
    units = Units.of(*comparison_units(groups, dates))
    edges = count_edges(docs)

    def evidence(query: EvidenceQuery) -> UnitCounts:
        return count_units(docs, units.rows, query)

    return decide_formulas(n_docs, units, df, stopwords, edges, evidence, keep=keep)


def decide_formulas(n_docs: int, units: Units, df: Counter, stopwords: frozenset[str], edges: EdgeCounts,
                    evidence: Callable[[EvidenceQuery], UnitCounts | None], *,
                    keep: Iterable[str] = ()) -> Formulas:
    """The formulas from summed counts: ``edges`` (:func:`count_edges`) and the ``evidence``
    (:func:`count_units`) asked for the candidates that the counts leave.

    ``units`` are the comparison units (:func:`comparison_units`); ``evidence`` is called once,
    with every candidate term and opener or closer, and returns their counts over all documents.
    """
    import pandas as pd

    keep = frozenset(" ".join(k.lower().split()) for k in keep)
    if n_docs < MIN_DOCS:
        reason = f"{n_docs:,} documents, fewer than the {MIN_DOCS} the learner needs"
        return none_learned([f"even spread: skipped ({reason})", f"address terms: skipped ({reason})",
                             f"openers and closers: skipped ({reason})"])
    kinds, missing = units.kinds, units.missing
    # the speeches without a group are no party: they stay out of the address terms' veto
    parties = [(kind, [name for name in names if name != MISSING_GROUP]) for kind, names in kinds
               if kind == "group"]
    parties = [(kind, names) for kind, names in parties if len(names) >= 2]
    floor = max(MIN_REPEATS, REPEAT_SHARE * n_docs)
    spread_terms = _spread_candidates(n_docs, kinds, df, stopwords, keep)
    led = _led_terms(edges, parties, df, stopwords, keep, floor)
    query = EvidenceQuery(sorted(set(spread_terms) | {term for term, _, _ in led}),
                          *(_repeated_candidates(edges, from_end) for from_end in (False, True)),
                          [len(names) for _, names in kinds])
    found = evidence(query) or UnitCounts.empty(units, query)
    spread = even_spread(spread_terms, kinds, df, found, query)
    address = address_terms(led, parties, df, keep | {row[1] for row in spread}, edges, found, query, kinds)
    notes = [] if kinds else [f"even spread: skipped (nothing to compare: {'; '.join(missing)})"]
    if not parties:
        named = missing[0] if not any(kind == "group" for kind, _ in kinds) else \
            f"1 named group with {MIN_UNIT_DOCS} or more documents"
        notes.append(f"address terms: skipped (nothing to compare: {named})")
    openers = repeated_edges(found.openers, n_docs, df, stopwords, keep, from_end=False)
    closers = repeated_edges(found.closers, n_docs, df, stopwords, keep, from_end=True)
    rows = [*spread, *address, *openers, *closers]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["share"] = table["documents"] / n_docs
    from newslens.precision import display_values

    table["share"] = display_values(table["share"].to_numpy(dtype=float))
    kind_order = {k: i for i, k in enumerate(KINDS)}
    table = table.sort_values(["kind", "documents", "formula"], ascending=[True, False, True],
                              key=lambda c: c.map(kind_order) if c.name == "kind" else c,
                              ignore_index=True)
    logger.info("formulas: %d even-spread terms, %d address terms, %d openers, %d closers",
                len(spread), len(address), len(openers), len(closers))
    return Formulas(table, frozenset(r[1] for r in [*spread, *address]),
                    frozenset(tuple(r[1].split(" ")) for r in openers),
                    frozenset(tuple(r[1].split(" ")) for r in closers), notes)


# ---------------------------------------------------------------- the counts, mergeable over partitions

@dataclass
class Units:
    """The comparison units: per kind its name and sorted units, each document's unit row (-1: none)."""

    kinds: list[tuple[str, list[str]]]   # (kind, sorted unit names)
    rows: list                           # per kind, one unit row per document (numpy int32)
    missing: list[str]                   # why a kind is not compared

    @classmethod
    def of(cls, kinds: list[tuple[str, list]], missing: list[str]) -> "Units":
        """From :func:`comparison_units` (a label per document)."""
        import numpy as np

        named, rows = [], []
        for kind, labels in kinds:
            names = sorted({label for label in labels if label is not None})
            row_of = {u: i for i, u in enumerate(names)}
            named.append((kind, names))
            rows.append(np.array([-1 if label is None else row_of[label] for label in labels], dtype=np.int32))
        return cls(named, rows, missing)

    def rows_of(self, start: int, stop: int) -> list:
        """The unit rows of documents ``start`` to ``stop`` (a partition's)."""
        return [rows[start:stop] for rows in self.rows]


@dataclass
class EdgeCounts:
    """What the address terms and the openers and closers read of the documents' edges; sums over partitions.

    ``openers`` and ``closers`` count the documents each sequence starts (ends); a partition
    keeps only those frequent within it (:func:`count_edges`), so their sum is a superset of the
    corpus's frequent ones (each is frequent in some partition), counted exactly by :func:`count_units`.
    """

    edges: Counter = field(default_factory=Counter)      # tokens in the first and last sentence
    inside: Counter = field(default_factory=Counter)     # tokens in the other sentences
    edge_docs: Counter = field(default_factory=Counter)  # documents per edge token
    openers: Counter = field(default_factory=Counter)
    closers: Counter = field(default_factory=Counter)

    def add(self, other: "EdgeCounts") -> None:
        """Add another partition's counts (in partition order)."""
        for name in ("edges", "inside", "edge_docs", "openers", "closers"):
            getattr(self, name).update(getattr(other, name))


def count_edges(docs, share: float = 0.0) -> EdgeCounts:
    """The edge counts of some documents; openers and closers that start (end) at least ``share`` of them."""
    edges, inside, edge_docs = edge_counts(docs)
    openers, closers = (_edge_sequences(docs, from_end) for from_end in (False, True))
    if share > 0:
        # a little below the share, so no rounding drops a sequence at it (the sum is counted exactly later)
        at_least = share * len(docs) * (1 - 1e-9)
        openers, closers = (Counter({s: n for s, n in c.items() if n >= at_least}) for c in (openers, closers))
    return EdgeCounts(edges, inside, edge_docs, openers, closers)


@dataclass
class EvidenceQuery:
    """The candidates whose counts the detectors need: terms per unit, and openers and closers."""

    terms: list[str]
    openers: Iterable[tuple] = ()
    closers: Iterable[tuple] = ()
    units: list[int] = field(default_factory=list)  # per kind of unit, how many units it has


@dataclass
class UnitCounts:
    """Per kind of unit: units × query terms token counts and tokens per unit; documents per opener and closer."""

    counts: list       # per kind, an int64 array units × terms
    tokens: list       # per kind, an int64 array of tokens per unit
    openers: Counter
    closers: Counter

    @classmethod
    def empty(cls, units: Units, query: EvidenceQuery) -> "UnitCounts":
        import numpy as np

        return cls([np.zeros((len(names), len(query.terms)), dtype=np.int64) for _, names in units.kinds],
                   [np.zeros(len(names), dtype=np.int64) for _, names in units.kinds], Counter(), Counter())

    def add(self, other: "UnitCounts") -> None:
        """Add another partition's counts (whole numbers: exact in any order)."""
        for mine, theirs in zip(self.counts, other.counts):
            mine += theirs
        for mine, theirs in zip(self.tokens, other.tokens):
            mine += theirs
        self.openers.update(other.openers)
        self.closers.update(other.closers)


def merge_unit_counts(parts: list[UnitCounts]) -> UnitCounts:
    """Partitions' unit counts summed (a fold's combine: whole numbers, the inputs unchanged)."""
    first = parts[0]
    total = UnitCounts([c.copy() for c in first.counts], [t.copy() for t in first.tokens],
                       Counter(first.openers), Counter(first.closers))
    for part in parts[1:]:
        total.add(part)
    return total


def count_units(docs, rows: list, query: EvidenceQuery) -> UnitCounts:
    """Count the query's terms per unit (``rows``: per kind of ``query.units``, each document's unit row, -1: none),
    each unit's tokens, and the documents each queried opener starts and closer ends."""
    import numpy as np

    index = {t: i for i, t in enumerate(query.terms)}
    wanted = (frozenset(query.openers), frozenset(query.closers))
    found = (Counter(), Counter())
    counts = [np.zeros((n, len(index)), dtype=np.int64) for n in query.units]
    tokens = [np.zeros(n, dtype=np.int64) for n in query.units]
    for position, doc in enumerate(docs):
        doc_counts = Counter(chain.from_iterable(doc))
        size = sum(doc_counts.values())
        hits = [(index[t], n) for t, n in doc_counts.items() if t in index]
        for k, kind_rows in enumerate(rows):
            row = kind_rows[position]
            if row >= 0:
                tokens[k][row] += size
                for column, n in hits:
                    counts[k][row, column] += n
        for from_end, sequences, into in zip((False, True), wanted, found):
            if sequences:
                into.update(s for s in _doc_sequences(doc, from_end) if s in sequences)
    return UnitCounts(counts, tokens, *found)


def _doc_sequences(doc, from_end: bool) -> list[tuple]:
    """The opening (closing) sequences of 1 to MAX_FORMULA_TOKENS tokens of one document."""
    sentences = [s for s in doc if len(s)]
    if not sentences:
        return []
    tokens = list(sentences[-1] if from_end else sentences[0])
    return [tuple(tokens[-n:] if from_end else tokens[:n]) for n in range(1, min(MAX_FORMULA_TOKENS, len(tokens)) + 1)]


def _edge_sequences(docs, from_end: bool) -> Counter:
    counts: Counter = Counter()
    for doc in docs:
        counts.update(_doc_sequences(doc, from_end))
    return counts


# ---------------------------------------------------------------- detector 1: even spread

def comparison_units(groups: Sequence, dates: Sequence) -> tuple[list[tuple[str, list]], list[str]]:
    """The kinds of unit to compare, as (kind, one label per document), and why others are not.

    The kinds are ``group`` and the periods' resolution (``year``, ``month``, …).

    A label is None for a document outside any unit that has :data:`MIN_UNIT_DOCS` documents.
    """
    import pandas as pd

    from newslens.corpus import periods

    kinds, notes = [], []
    labels = pd.Series(list(groups), dtype=object)
    labels = labels.where(labels.notna(), None)
    dated = pd.to_datetime(pd.Series(list(dates)), errors="coerce")
    if dated.notna().any():
        resolution = periods.choose_resolution(dated).name
        starts = periods.period_start(dated, resolution)
        period_labels = pd.Series([None if pd.isna(s) else periods.period_label(s, resolution) for s in starts],
                                  dtype=object)
    else:
        resolution, period_labels = None, pd.Series([None] * len(labels), dtype=object)
    for kind, series in (("group", labels), (resolution or "period", period_labels)):
        sizes = series.value_counts()
        big = set(sizes[sizes >= MIN_UNIT_DOCS].index)
        if len(big) >= 2:
            kinds.append((kind, [label if label in big else None for label in series]))
            # units too small to compare stay out of target and reference alike
        else:
            notes.append(f"{len(big)} {kind}s with {MIN_UNIT_DOCS} or more documents")
    return kinds, notes


def _spread_candidates(n_docs: int, kinds: list, df: Counter, stopwords: frozenset[str],
                       keep: frozenset[str]) -> list[str]:
    """Detector 1's candidates: terms with a letter, not stop terms, in at least SPREAD_MIN_SHARE of the documents."""
    if not kinds:
        return []
    floor = SPREAD_MIN_SHARE * n_docs
    return sorted(t for t, n in df.items() if n >= floor and t not in keep
                  and any(map(str.isalpha, t)) and not is_stop_term(t, stopwords))


def even_spread(candidates: list[str], kinds: list[tuple[str, list[str]]], df: Counter, found: "UnitCounts",
                query: EvidenceQuery) -> list[tuple]:
    """Detector 1: rows of the ``candidates`` evenly spread over ``kinds`` (their counts in ``found``)."""
    if not candidates:
        return []
    evidence, compared = _spread_evidence(kinds, found, query, candidates)
    return [("even spread", term, int(df[term]), None, evidence.where[i], float(evidence.g2[i]),
             float(evidence.ratio[i]), f"in {df[term]:,} documents; none of {compared} over- or under-uses it")
            for i, term in enumerate(candidates) if not evidence.vetoed[i]]


def _spread_evidence(kinds: list[tuple[str, list[str]]], found: "UnitCounts", query: EvidenceQuery,
                     candidates: list[str], all_kinds: list[tuple[str, list[str]]] | None = None
                     ) -> tuple[_Evidence, str]:
    """Each candidate's evidence over every unit of ``kinds`` (one-vs-rest), and the units compared, in words.

    ``found`` holds the counts of every kind of ``all_kinds`` (default ``kinds``), whose units
    include those of ``kinds``; the counts are whole numbers, so sums in any order are exact.
    """
    import numpy as np

    column_of = {t: i for i, t in enumerate(query.terms)}
    columns = np.array([column_of[t] for t in candidates], dtype=np.int64)
    evidence = _Evidence(len(candidates))
    for kind, names in kinds:
        k, full = next((k, full) for k, (other, full) in enumerate(all_kinds or kinds) if other == kind)
        rows = np.array([full.index(name) for name in names], dtype=np.int64)
        unit_counts = found.counts[k][rows][:, columns].astype(float)
        unit_tokens = found.tokens[k][rows].astype(float)
        _compare(kind, names, unit_counts, unit_tokens, evidence)
    return evidence, " or ".join(f"{len(names)} {kind}s" for kind, names in kinds)


class _Evidence:
    """Per candidate: the unit of the largest G², that G² and its log ratio, and the veto."""

    def __init__(self, n: int):
        import numpy as np

        self.ratio, self.g2 = np.zeros(n), np.zeros(n)
        self.where = np.full(n, "", dtype=object)
        self.vetoed = np.zeros(n, dtype=bool)


def _compare(kind: str, units: list[str], counts, tokens, evidence: _Evidence) -> None:
    """One kind of unit, one-vs-rest: update the evidence and the vetoes in place."""
    import numpy as np

    from newslens.measures import g2, log_ratio
    from newslens.precision import display_values

    for row, name in enumerate(units):
        a, c = counts[row], tokens[row]
        b, d = counts.sum(axis=0) - a, tokens.sum() - c
        if c <= 0 or d <= 0:
            continue
        # at display precision, so a last bit of another CPU's log2 cannot move a decision
        ratio = display_values(log_ratio(a, b, c, d))
        surprise = display_values(g2(a, b, c, d))
        evidence.vetoed |= (surprise > SPREAD_G2) & (np.abs(ratio) > SPREAD_MAX_LOG_RATIO)
        larger = (surprise > evidence.g2) | (evidence.where == "")
        evidence.g2[larger], evidence.ratio[larger] = surprise[larger], ratio[larger]
        evidence.where[larger] = f"{kind} {name}"


# ---------------------------------------------------------------- detector 2: address terms

def edge_counts(docs) -> tuple[Counter, Counter, Counter]:
    """Token counts at the documents' edges (first and last sentence) and inside, and documents per edge term."""
    edges, inside, edge_docs = Counter(), Counter(), Counter()
    for doc in docs:
        sentences = [s for s in doc if len(s)]
        if not sentences:
            continue
        edge = Counter(sentences[0])
        if len(sentences) > 1:
            edge.update(sentences[-1])
        edges.update(edge)
        edge_docs.update(edge.keys())
        inside.update(chain.from_iterable(sentences[1:-1]))
    return edges, inside, edge_docs


def _led_terms(edges: EdgeCounts, parties: list, df: Counter, stopwords: frozenset[str], keep: frozenset[str],
               floor: float) -> list[tuple[str, float, float]]:
    """Detector 2's candidates: terms led by the documents' edges, with their log ratio and G² (display precision)."""
    import numpy as np

    from newslens.measures import g2, log_ratio
    from newslens.precision import display_values

    if not parties:
        return []
    n_edge, n_inside = sum(edges.edges.values()), sum(edges.inside.values())
    terms = sorted(t for t in edges.edge_docs if df[t] >= floor and t not in keep
                   and any(map(str.isalpha, t)) and not is_stop_term(t, stopwords))
    if not terms or not n_inside:
        return []
    a, b = (np.array([counts[t] for t in terms], dtype=float) for counts in (edges.edges, edges.inside))
    # at display precision, so a last bit of another CPU's log2 cannot move a decision
    ratio, surprise = display_values(log_ratio(a, b, n_edge, n_inside)), display_values(g2(a, b, n_edge, n_inside))
    return [(terms[i], float(ratio[i]), float(surprise[i])) for i in range(len(terms))
            if ratio[i] > ADDRESS_MIN_LOG_RATIO and surprise[i] > SPREAD_G2]


def address_terms(led: list[tuple[str, float, float]], parties: list[tuple[str, list[str]]], df: Counter,
                  keep: frozenset[str], edges: EdgeCounts, found: "UnitCounts", query: EvidenceQuery,
                  kinds: list[tuple[str, list[str]]]) -> list[tuple]:
    """Detector 2: rows of the ``led`` terms (not in ``keep``) evenly spread over the ``parties``."""
    led = [(term, ratio, surprise) for term, ratio, surprise in led if term not in keep]
    if not parties or not led:
        return []
    evidence, compared = _spread_evidence(parties, found, query, [term for term, _, _ in led], kinds)
    return [("address", term, int(df[term]), None, evidence.where[j], float(evidence.g2[j]),
             float(evidence.ratio[j]),
             f"at the edges of {edges.edge_docs[term]:,} documents, {2 ** ratio:.1f} times as often as "
             f"inside them (G² {surprise:,.1f}); none of {compared} over- or under-uses it")
            for j, (term, ratio, surprise) in enumerate(led) if not evidence.vetoed[j]]


# ---------------------------------------------------------------- detector 3: openers and closers

def _repeated_candidates(edges: EdgeCounts, from_end: bool) -> list[tuple]:
    """The openers (closers) that may start (end) ``floor`` documents: all of the summed partition counts.

    Each partition kept those frequent within it (:func:`count_edges`), so their sums are too
    low for some; :func:`count_units` counts them again over every document.
    """
    counts = edges.closers if from_end else edges.openers
    return list(counts)


def repeated_edges(counts: Counter, n_docs: int, df: Counter, stopwords: frozenset[str], keep: frozenset[str], *,
                   from_end: bool) -> list[tuple]:
    """Detector 3: rows of the openers (or, ``from_end``, closers) repeated across documents.

    ``counts``: the documents each candidate sequence starts (ends), every frequent one among them.
    """
    floor = max(MIN_REPEATS, REPEAT_SHARE * n_docs)
    # a kept opener keeps its start too (a kept closer its end), so no shorter part is cut instead
    kept = {tuple(k.split(" ")[-n:] if from_end else k.split(" ")[:n]) for k in keep
            for n in range(1, len(k.split(" ")) + 1)}
    learned = {seq: n for seq, n in counts.items() if n >= floor
               and not all(is_stop_term(t, stopwords) for t in seq) and seq not in kept
               and (len(seq) > 1 or n >= EDGE_SHARE * df[seq[0]])}
    # nested sequences with the same count: the longer one is the formula
    def shorter(seq: tuple) -> tuple:
        return seq[1:] if from_end else seq[:-1]

    covered = {shorter(seq) for seq, n in learned.items() if len(seq) > 1 and learned.get(shorter(seq)) == n}
    kind, edge = ("closer", "ends") if from_end else ("opener", "starts")
    return [(kind, " ".join(seq), n, None, None, None, None, f"{edge} {n:,} documents")
            for seq, n in learned.items() if seq not in covered]


# ---------------------------------------------------------------- the report

def shown(formulas: Formulas, display: dict[str, str]) -> pd.DataFrame:
    """The table as the tokenize report shows it: display forms, and the ``tokenize.keep`` entry of each."""
    table = formulas.table.copy()
    table.insert(2, "keep with", [f"tokenize: {{keep: [{formula!r}]}}" for formula in table["formula"]])
    table["formula"] = [" ".join(display.get(t, t) for t in formula.split(" ")) for formula in table["formula"]]
    return table.rename(columns={"where": "closest to a difference", "g2": "G² there",
                                 "log_ratio": "log ratio there"})
