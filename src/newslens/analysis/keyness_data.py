"""The keyness explorer's data: any group against the rest, or two groups against each other.

The static report compares each group with all the others (:mod:`newslens.analysis.keyness`).
The explorer (:mod:`newslens.report.keyness_explorer`) carries the counts those charts come
from, so the page itself can compare any pair: per group, the raw counts of a capped set of
terms (compact arrays of integers) and its token total over the whole TF-IDF vocabulary, which
are the ``a``, ``b``, ``c``, ``d`` of the 2×2 table; the script computes G², the log ratio and
the log-odds z with the same formulas, smoothing and minimum frequency as
:func:`newslens.analysis.keyness.keyness`. Per group it also carries its documents and, per
term, how many of them use it (the document share), and for each group's listed terms the 95%
interval over documents of the static table (one group against all the others; the page
computes no interval for a pair).
"Against all the others" uses the counts of every grouped document, so it agrees with
the static keyness charts even when the view lists only the largest groups.

What it carries is capped so that a report stays small (:class:`Budget`):

* terms: every group's top keyness terms, then the most frequent, up to
  ``cells`` counts in all (terms × groups) and never fewer than ``min_terms`` terms;
* groups: those big enough to compare (the stage's sizes table), the ``max_groups`` largest
  by tokens of them (the view says how many are left out, and names the groups too small
  to compare, which still count in "all the others");
* keywords in context: up to ``lines_per_term`` lines per term, spread over the
  groups that use it most, for every term the report names (each group's top over- and
  under-used terms, the run's ``kwic_terms``, the other tables' terms), then the carried
  terms by frequency, until ``kwic_bytes`` of JSON (or ``kwic_bytes_max``, while the
  ``frequent_terms`` most frequent are not all in); the data says how far that reached
  (``kwic_cover``), and each line's document travels once with its title, date and group
  (a line's keyword is "" when the text writes the term as its display form); when the whole
  data would pass ``data_bytes`` (larger corpora: more digits in the counts, more documents
  behind the lines), the lines of the terms tried last are left out until it fits, and
  ``kwic_cover`` says so;
* surface forms: each lowercase word of the texts that the run's tokenizer counts as a
  carried term other than itself (``sanctions`` → ``sanction``), so a search finds it.

The lines are found in one pass over the documents (each text split into words
once, every term looked up in a table) with the matching rules and row builder of
:func:`newslens.analysis.kwic.kwic`, so a line is the same as the static table's.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from newslens.analysis import texts as texts_module
from newslens.analysis.texts import Texts
from newslens.analysis.tfidf_parts import counts_of
from newslens.measures import g2, log_ratio
from newslens.precision import display_values
from newslens.analysis.kwic import _WORD, _bare, _rows_at, _term_parts, _within_sentences, _word_key
from newslens.text.words import JOINER

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    """How much the explorer carries (see the module docstring)."""

    cells: int = 60_000          # term counts in all: terms × groups
    min_terms: int = 500         # at least this many terms, however many groups
    max_groups: int = 50         # groups listed; "all the others" still counts every group
    kwic_bytes: int = 1_600_000  # JSON bytes of the keyword-in-context lines (a report page holds 3 MB) ...
    frequent_terms: int = 5_000  # ... which may grow to kwic_bytes_max until this many of the most
    kwic_bytes_max: int = 1_900_000  # frequent terms have their lines (longer words: German)
    lines_per_term: int = 3      # lines kept per term, spread over groups
    lines_per_document: int = 1  # ... and over documents
    shown: int = 20              # terms the list shows per direction
    # The whole data's JSON bytes at most: the news run's keywords page, at 3 MB the most a shared
    # report should weigh, spends some 0.7 MB beside this view (2.16 MB of data at ×1; 2.35 MB
    # for the ×16 corpus, whose page then passed 3 MB).
    data_bytes: int = 2_200_000


def group_counts(model, documents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Sorted group names and their groups × terms raw counts, as :func:`newslens.analysis.keywords.group_keyness` counts.

    Groups without a counted token are left out, as there; documents without a group count for none.
    """
    from newslens.analysis.keywords import _without_empty_groups

    source = counts_of(model)
    labels = documents.set_index("doc_id").loc[source.doc_ids, "group"].to_numpy(dtype=object)
    labels = _without_empty_groups(labels, source.tokens, "group")
    names, by_group = source.label_sums("group", labels)
    if len(names) < 2:
        raise ValueError(f"keyness needs at least two groups; got {len(names)}: {list(names)}")
    return names, by_group


def select_terms(by_group: np.ndarray, terms: Sequence[str], required: Sequence[str],
                 budget: Budget) -> np.ndarray:
    """Column indices of the terms to carry: ``required`` ones, then the most frequent, by frequency.

    ``budget.cells // groups`` terms (at least ``budget.min_terms``), plus any required term
    beyond that; ordered by total count descending, ties by term.
    """
    totals = by_group.sum(axis=0)
    order = np.lexsort((np.asarray(terms, dtype=object), -totals))
    n = min(len(terms), max(budget.min_terms, budget.cells // max(1, by_group.shape[0])))
    index = {t: i for i, t in enumerate(terms)}
    chosen = set(order[:n].tolist()) | {index[t] for t in required if t in index}
    return np.array([i for i in order if i in chosen], dtype=np.int64)


def kwic_priority(keyness: pd.DataFrame, groups: Sequence[str], extra: Sequence[str],
                  carried: Sequence[str]) -> list[str]:
    """Terms in the order their lines are stored: top keyness (rank 1 of every group, then rank 2...),
    ``extra`` (the run's kwic terms, then the other terms the report names), then the carried terms by frequency."""
    table = keyness[keyness["group"].isin(set(groups))].sort_values(
        ["rank", "direction", "group", "term"], kind="mergesort")
    ordered = list(dict.fromkeys([*table["term"], *extra, *carried]))
    carried_set = set(carried)
    return [t for t in ordered if t in carried_set]


def kwic_lines(texts: Sequence[tuple[str, str, int]], terms: Sequence[str], usage: np.ndarray, *,
               normalize: Callable[[str], str], window: int, per_term: int,
               per_document: int | None = None) -> dict[str, list[tuple]]:
    """Up to ``per_term`` KWIC rows per term, spread over the groups that use the term most.

    Parameters
    ----------
    texts : sequence of (doc_id, text, group index)
        The documents in the order rows should follow.
    terms : sequence of str
        Run tokens: words or ``_``-joined phrases.
    usage : numpy.ndarray, shape (groups, terms)
        The terms' counts per group: groups that use a term most give its first lines.
    normalize, window
        As for :func:`newslens.analysis.kwic.kwic` (the run's ``Tokenizer.normalize``, ``kwic_window``).
    per_term, per_document
        Lines kept per term, and at most ``per_document`` of them from one document (None: any).

    Returns
    -------
    dict
        ``term → [(doc_id, left, keyword, right, start, group), ...]``: the first lines of each
        group in document order, taken one group at a time (most using group first).
    """
    found = found_lines(texts, terms, normalize=normalize, window=window, per_term=per_term,
                        per_document=per_document)
    return spread_lines(found, terms, usage, per_term)


def found_lines(texts: Iterable[tuple[str, str, int]], terms: Sequence[str], *, normalize: Callable[[str], str],
                window: int, per_term: int, per_document: int | None = None) -> dict[str, dict[int, list[tuple]]]:
    """:func:`kwic_lines` before the groups are spread: per term and group, its first ``per_term`` lines.

    Lines are taken in document order, so the lines of consecutive partitions of the
    documents, joined in order and cut to ``per_term`` (:func:`merge_found_lines`), are the
    lines of the whole.
    """
    parts = {term: _term_parts(term, JOINER) for term in terms}
    singles = {p[0]: t for t, p in parts.items() if len(p) == 1}
    phrases: dict[str, list[tuple[str, list[str]]]] = {}
    for term, words in parts.items():
        if len(words) > 1:
            phrases.setdefault(words[0], []).append((term, words))
    key, bare = _word_key(normalize), {}
    found: dict[str, dict[int, list[tuple]]] = {t: {} for t in terms}
    for doc_id, text, group in texts:
        hits = _document_hits(_WORD.findall(text), singles, phrases, key, bare)
        hits = {t: pairs for t, pairs in hits.items() if len(found[t].get(group, ())) < per_term}
        if not hits:
            continue
        spans = np.array([m.span() for m in _WORD.finditer(text)], dtype=np.int64)
        phrase_pairs = {pair: t for t, pairs in hits.items() if len(parts[t]) > 1 for pair in pairs}
        if phrase_pairs:  # one sentence split per document, for all its phrase matches
            within = set(_within_sentences(text, spans, list(phrase_pairs)))
            hits = {t: [p for p in pairs if len(parts[t]) == 1 or p in within] for t, pairs in hits.items()}
        for term, pairs in hits.items():
            room = min(per_term - len(found[term].get(group, ())), per_document or per_term)
            rows = _rows_at(doc_id, text, spans, pairs[:room], window)
            if rows:
                found[term].setdefault(group, []).extend(row + (group,) for row in rows)
    return found


def merge_found_lines(per_term: int, parts: list[dict]) -> dict[str, dict[int, list[tuple]]]:
    """Partitions' :func:`found_lines` in document order: each term's and group's first ``per_term`` lines."""
    merged: dict[str, dict[int, list[tuple]]] = {}
    for part in parts:
        for term, by_group in part.items():
            into = merged.setdefault(term, {})
            for group, rows in by_group.items():
                held = into.setdefault(group, [])
                held.extend(rows[:per_term - len(held)])
    return merged


def spread_lines(found: dict, terms: Sequence[str], usage: np.ndarray, per_term: int) -> dict[str, list[tuple]]:
    """Each term's lines spread over the groups that use it most (:func:`_spread`)."""
    column = {t: i for i, t in enumerate(terms)}
    return {term: _spread(by_group, usage[:, column[term]], per_term)
            for term, by_group in found.items() if by_group}


def lines_part(shared: tuple, part) -> dict[str, dict[int, list[tuple]]]:
    """A fold's map on a worker: :func:`found_lines` of one partition of the documents."""
    terms, code, normalize, window, per_term, per_document = shared
    loaded = texts_module.read(part)
    texts = [(str(d), t, code[str(g)]) for d, t, g in zip(loaded.doc_ids, loaded.texts, loaded.groups)
             if isinstance(t, str) and g is not None and pd.notna(g) and code.get(str(g)) is not None]
    return found_lines(texts, terms, normalize=normalize, window=window, per_term=per_term,
                       per_document=per_document)


def _document_hits(surface: list[str], singles: Mapping[str, str],
                   phrases: Mapping[str, list[tuple[str, list[str]]]], key, bare: dict) -> dict[str, list]:
    """(first word, last word) pairs of every term in one document's words."""
    hits: dict[str, list] = {}
    # each distinct word is looked up once; the scans below only ask dicts and sets
    matched = {word: term for word in set(surface) if (term := singles.get(key(word))) is not None}
    if matched:
        for i in [i for i, word in enumerate(surface) if word in matched]:
            hits.setdefault(matched[surface[i]], []).append((i, i))
    if phrases:
        lowered = [bare.get(w) or bare.setdefault(w, _bare(w)) for w in surface]
        for i in [i for i, word in enumerate(lowered) if word in phrases]:
            for term, words in phrases[lowered[i]]:
                if lowered[i:i + len(words)] == words:
                    hits.setdefault(term, []).append((i, i + len(words) - 1))
    return hits


def _spread(by_group: dict[int, list[tuple]], usage: np.ndarray, per_term: int) -> list[tuple]:
    """Round robin over the groups, the one that uses the term most first (ties by group index)."""
    queues = [list(by_group[g]) for g in sorted(by_group, key=lambda g: (-usage[g], g))]
    rows = []
    while len(rows) < per_term and any(queues):
        for queue in queues:
            if queue and len(rows) < per_term:
                rows.append(queue.pop(0))
    return rows


def explorer_data(model, documents: pd.DataFrame, keyness: pd.DataFrame, settings, display: Mapping[str, str],
                  normalize: Callable[[str], str], budget: Budget = Budget(), *,
                  sizes: pd.DataFrame, named: Sequence[str] = (), texts: Texts | None = None) -> dict | None:
    """The explorer's data (ints and strings only), or None when fewer than two groups can be compared.

    ``model`` is the stage's TF-IDF model (its raw counts and terms), ``keyness`` the stage's
    keyness table and ``sizes`` its sizes table (which groups are big enough to compare),
    ``settings`` the run's ``keywords`` params (``keyness_min_freq``, ``kwic_terms``,
    ``kwic_window``), ``display`` a term's display form, ``named`` the other terms the report
    names (its tables and charts): they are carried and get their keywords in context first.
    ``texts`` are where the documents' texts are read (:class:`newslens.analysis.texts.Texts`;
    by default ``documents``' own ``text`` column).
    """
    texts = texts if texts is not None else Texts.in_frame(documents)
    try:
        names, by_group = group_counts(model, documents)
    except ValueError:  # fewer than two groups with tokens: nothing to compare
        return None
    by_size = sizes[sizes["by"] == "group"].set_index("group")
    # a partitioned pass sums the groups too small to compare in one row (not in the sizes table)
    compared = np.array([bool(by_size.loc[str(n), "compared"]) if str(n) in by_size.index else False for n in names])
    if compared.sum() < 2:
        return None
    group_tokens = by_group.sum(axis=1)
    candidates = np.flatnonzero(compared)
    keep = np.sort(candidates[np.lexsort((names[candidates], -group_tokens[candidates]))[:budget.max_groups]])
    source = counts_of(model)
    terms = np.asarray(source.terms, dtype=object)
    top = keyness[(keyness["by"] == "group") & keyness["group"].isin(set(names[keep]))] \
        if "by" in keyness else keyness.iloc[:0]
    mentioned = list(dict.fromkeys([*settings.kwic_terms, *keyness["term"], *named]))
    columns = select_terms(by_group[keep], terms, sorted(set(top["term"]) | set(mentioned)), budget)
    carried = [str(t) for t in terms[columns]]
    held = set(carried)
    mentioned += listed_terms(by_group[np.ix_(keep, columns)], by_group[:, columns].sum(axis=0), group_tokens[keep],
                              int(group_tokens.sum()), carried, min_freq=settings.keyness_min_freq,
                              shown=budget.shown + LISTED_MARGIN)
    priority = kwic_priority(top, names[keep], mentioned, carried)
    first = len(list(dict.fromkeys(t for t in [*top["term"], *mentioned] if t in held)))
    lines, reached = _stored_lines(texts, names, keep, by_group[np.ix_(keep, columns)], carried, priority,
                                   normalize, settings.kwic_window, budget)
    labels = documents.set_index("doc_id").loc[source.doc_ids, "group"].astype(object).to_numpy()
    named = set(names.tolist())
    used = source.label_documents("group", [str(g) if pd.notna(g) and str(g) in named else None for g in labels],
                                  columns)
    doc_counts = [used[g] for g in keep]
    fixed = {
        "groups": [str(g) for g in names[keep]],
        "group_count": int(len(by_size)),
        "tokens": [int(t) for t in group_tokens[keep]],
        "documents": [int((labels == names[g]).sum()) for g in keep],
        "all_tokens": int(group_tokens.sum()),
        "too_small": _too_small(by_size),
        "min_documents": int(settings.keyness_min_documents),
        "min_tokens": int(settings.keyness_min_tokens),
        "terms": carried,
        "display": [display.get(t, t) if display.get(t, t) != t else "" for t in carried],
        "forms": texts.fold(forms_part, merge_forms, (carried, normalize)) or {},
        "counts": [[int(v) for v in row] for row in by_group[np.ix_(keep, columns)]],
        "doc_counts": [[int(v) for v in row] for row in doc_counts],
        "intervals": _intervals(top, names[keep], carried),
        "term_totals": [int(v) for v in by_group[:, columns].sum(axis=0)],
        "vocabulary": int(len(terms)),
        "min_freq": int(settings.keyness_min_freq),
        "shown": budget.shown,
        "lines_per_term": budget.lines_per_term,
        "window": int(settings.kwic_window),
    }
    group_index = {str(names[g]): i for i, g in enumerate(keep)}

    def with_lines(tried: int) -> dict:
        """The data with the lines of the first ``tried`` priority terms."""
        chosen = set(priority[:tried])
        kept = {t: rows for t, rows in lines.items() if t in chosen}
        docs = sorted({row[0] for rows in kept.values() for row in rows})
        doc_index = {d: i for i, d in enumerate(docs)}
        return {**fixed, "kwic_cover": _cover(priority, tried, first, carried),
                "docs": _documents(documents, docs, group_index),
                # a keyword written as the term's display form travels as "" (two thirds of them in the news run)
                "kwic": {t: [[doc_index[r[0]], r[1], "" if r[2] == display.get(t, t) else r[2], r[3]] for r in rows]
                         for t, rows in sorted(kept.items())}}

    return _within(with_lines, reached, budget.data_bytes)


def _size(data: dict) -> int:
    """The JSON bytes of ``data`` as a page embeds it (compact, UTF-8, ``< > &`` and U+2028/9 escaped
    as six-byte ``\\uXXXX``: :func:`newslens.report.views.json_data`)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    escaped = sum(text.count(c) for c in "<>&") * 5 + sum(text.count(c) for c in "\u2028\u2029") * 3
    return len(text.encode("utf-8")) + escaped


def _within(with_lines: Callable[[int], dict], reached: int, limit: int) -> dict:
    """``with_lines(reached)``, or when that passes ``limit`` bytes, ``with_lines(n)`` for the largest
    n that fits (the lines of fewer terms; a bisection, the size growing with n).

    >>> grow = lambda n: {"kwic": "x" * (100 * n)}
    >>> len(_within(grow, 50, 10_000)["kwic"]), len(_within(grow, 50, 2_345)["kwic"])
    (5000, 2300)
    """
    data = with_lines(reached)
    if _size(data) <= limit:
        return data
    low, high = 0, reached  # with_lines(low) fits (or low is 0); with_lines(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        if _size(with_lines(middle)) <= limit:
            low = middle
        else:
            high = middle
    logger.info("keyness explorer: the lines of %d of %d terms tried fit in %d bytes", low, reached, limit)
    return with_lines(low)


LISTED_MARGIN = 5  # rows past the lists' last: a near tie there that the page breaks otherwise still has its lines


def listed_terms(counts: np.ndarray, term_totals: np.ndarray, tokens: np.ndarray, all_tokens: int,
                 carried: Sequence[str], *, min_freq: int, shown: int) -> list[str]:
    """Every term the explorer's lists can show: per group against all the others, and per pair of
    groups, the top ``shown`` over- and under-used terms, as the page ranks them (G² of the terms
    used at least ``min_freq`` times in the two, ties by term; G² at display precision).

    ``counts`` is groups × carried terms, ``term_totals`` every group's counts summed, ``tokens``
    the groups' token totals and ``all_tokens`` every group's.
    """
    names = np.asarray(carried, dtype=object)
    floor = max(int(min_freq), 1)
    comparisons = [(counts[a], term_totals - counts[a], tokens[a], all_tokens - tokens[a]) for a in range(len(counts))]
    comparisons += [(counts[a], counts[b], tokens[a], tokens[b])
                    for a in range(len(counts)) for b in range(a + 1, len(counts))]
    found: set[str] = set()
    for a, b, c, d in comparisons:
        usable = (a + b) >= floor
        score = display_values(g2(a, b, c, d))
        over = log_ratio(a, b, c, d) > 0
        for side in (usable & over, usable & ~over):
            index = np.flatnonzero(side)
            ranked = index[np.lexsort((names[index], -score[index]))][:shown]
            found.update(names[ranked].tolist())
    return sorted(found)


def forms_part(shared: tuple, part) -> dict[str, int]:
    """A fold's map on a worker: :func:`surface_forms` of one partition of the documents."""
    carried, normalize = shared
    return surface_forms(texts_module.read(part).texts, carried, normalize)


def merge_forms(parts: list[dict[str, int]]) -> dict[str, int]:
    """Partitions' surface forms together (a word's term does not depend on where it was seen)."""
    merged: dict[str, int] = {}
    for part in parts:
        merged.update(part)
    return dict(sorted(merged.items()))


def surface_forms(texts: Iterable, carried: Sequence[str], normalize: Callable[[str], str]) -> dict[str, int]:
    """Each lowercase word of ``texts`` that the tokenizer counts as another, carried term: word → term's index.

    ``normalize`` is the run's (``Tokenizer.normalize``), applied as KWIC applies it (possessive
    ``'s`` dropped first), so ``"Sanctions"`` gives ``{"sanctions": index of "sanction"}``.
    """
    column = {t: i for i, t in enumerate(carried)}
    key, seen, forms = _word_key(normalize), set(), {}
    for text in texts:
        if not isinstance(text, str):
            continue
        for word in set(_WORD.findall(text)) - seen:
            seen.add(word)
            bare, term = _bare(word), key(word)
            if bare != term and term in column and bare not in column:
                forms[bare] = column[term]
    return dict(sorted(forms.items()))


def _cover(priority: Sequence[str], reached: int, first: int, carried: Sequence[str]) -> dict[str, int]:
    """How far the lines reached: the named terms tried (of all of them), and the most frequent
    carried terms all tried (the longest run of ``carried``, in frequency order, every one tried)."""
    tried = set(priority[:reached])
    frequent = next((i for i, t in enumerate(carried) if t not in tried), len(carried))
    return {"named": min(reached, first), "named_of": first, "frequent": frequent, "frequent_of": len(carried)}


def _documents(documents: pd.DataFrame, doc_ids: Sequence[str], group_index: Mapping[str, int]) -> list[list]:
    """Per document with lines: its title (its id when it has none), date as text ("" without) and group's index."""
    rows = documents.drop_duplicates("doc_id").set_index("doc_id")
    out = []
    for doc_id in doc_ids:
        row = rows.loc[doc_id]
        title = row.get("title")
        label = str(title) if isinstance(title, str) and title.strip() else str(doc_id)
        out.append([label, _date_text(row.get("date"), row.get("date_precision")), group_index[str(row["group"])]])
    return out


def _date_text(date, precision) -> str:
    """A date as the report prints it, to its precision (day, month or year); "" without a date."""
    if date is None or not isinstance(date, (pd.Timestamp, np.datetime64)) or pd.isna(date):
        return ""
    date = pd.Timestamp(date)
    return {"year": f"{date:%Y}", "month": f"{date:%Y-%m}"}.get(str(precision), f"{date:%Y-%m-%d}")


INTERVAL_SCALE = 100  # an interval's ends travel as hundredths of a doubling: integers, at display precision


def _intervals(top: pd.DataFrame, groups: Sequence[str], carried: Sequence[str]) -> list[dict[str, list[int]]]:
    """Per listed group, its listed terms' 95% intervals from the static table, as integer hundredths."""
    column = {t: i for i, t in enumerate(carried)}
    out = []
    for group in groups:
        rows = top[(top["group"] == group) & top["term"].isin(column.keys())]
        out.append({str(column[r.term]): [int(round(r.log_ratio_low * INTERVAL_SCALE)),
                                          int(round(r.log_ratio_high * INTERVAL_SCALE))]
                    for r in rows.itertuples()})
    return out


def _too_small(by_size: pd.DataFrame) -> list[list]:
    """The groups too small to compare: name, documents, tokens."""
    small = by_size[~by_size["compared"].astype(bool)]
    return [[str(name), int(row.n_docs), int(row.n_tokens)] for name, row in small.iterrows()]


def _stored_lines(texts: Texts, names, keep, usage, carried, priority, normalize, window, budget) -> tuple[dict, int]:
    """The KWIC lines of the priority terms that fit in ``budget.kwic_bytes`` (group = index in ``keep``),
    and how many priority terms were tried before the budget ran out."""
    position = {int(g): i for i, g in enumerate(keep)}
    code = {str(n): position.get(i) for i, n in enumerate(names)}
    column = {t: i for i, t in enumerate(carried)}
    stored, used, start, reached = {}, 0, 0, 0
    # A pass finds the lines of a chunk of terms, about as many as the budget holds (~100 bytes
    # a line); a further pass only when those lines were shorter or fewer than that.
    def fits(term: str, nbytes: int) -> bool:
        limit = budget.kwic_bytes_max if column[term] < budget.frequent_terms else budget.kwic_bytes
        return used + nbytes <= limit

    while start < len(priority) and used < budget.kwic_bytes_max:
        chunk_size = max(50, (max(budget.kwic_bytes, budget.kwic_bytes_max) - used) // (100 * budget.lines_per_term) + 20)
        chunk, start = priority[start:start + chunk_size], start + chunk_size
        shared = (chunk, code, normalize, window, budget.lines_per_term, budget.lines_per_document)
        found = texts.fold(lines_part, partial(merge_found_lines, budget.lines_per_term), shared) or {}
        lines = spread_lines(found, chunk, usage[:, [column[t] for t in chunk]], budget.lines_per_term)
        for term in chunk:
            rows = lines.get(term, [])
            nbytes = len(json.dumps([[0, *r[1:4]] for r in rows], ensure_ascii=False)) + len(term) + 4
            if rows and not fits(term, nbytes):
                start = len(priority)
                break
            reached += 1
            if rows:
                stored[term], used = rows, used + nbytes
    logger.info("keyness explorer: KWIC lines for %d of %d terms (%d bytes)", len(stored), len(priority), used)
    return stored, reached
