"""The tables of the tokenize stage, made from the normalized sentences of its two passes.

:func:`assemble` decides each term's fate once (kept, or the filter that drops it), cuts
the learned openers and closers, and makes the tokens, the vocabulary, the phrases and
the counts that ``tokenize_stats.json`` holds, as one :class:`Tokenized`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from newslens.text.formulas import KINDS, Formulas
from newslens.text.words import JOINER, MARKERS, display_form

if TYPE_CHECKING:
    import pandas as pd

    from newslens.text.tokenizer import Tokenizer


@dataclass
class Tokenized:
    """The run's tokenization, as :func:`newslens.text.tokenization.tokenize_documents` made it."""

    tokens: pd.DataFrame | None  # doc_id, sentence, tokens; None when written to ``tokens_path`` by the workers
    vocabulary: pd.DataFrame    # term, display, cf, df, is_phrase, is_stopword, kept
    phrases: pd.DataFrame       # phrase, display, count, score
    stopword_sources: pd.DataFrame  # term, source
    tokenizer: Tokenizer
    stats: dict
    formulas: Formulas              # learned formulas, their evidence, and why a detector skipped
    growth: "Growth | None" = None  # where each type first occurs in the kept tokens (the Heaps curve)
    tokens_path: Path | None = None  # tokens.parquet, when the workers wrote it


@dataclass
class TokenSummary:
    """What the third pass returns of a partition (:func:`token_part`), or of all of them summed."""

    n_docs: int = 0
    n_sentences: int = 0
    n_tokens: int = 0
    cut: int = 0                    # kept tokens cut as openers or closers
    edged: int = 0                  # documents with an opener or closer cut
    per_doc: Counter = field(default_factory=Counter)  # documents by their number of kept tokens
    empty_ids: list = field(default_factory=list)      # the first documents without a kept token
    first_seen: list = field(default_factory=list)     # (position, type): each type's first token here


def merge_summaries(parts: list[TokenSummary]) -> TokenSummary:
    """Partitions' summaries merged in order (a fold's combine: associative, the inputs unchanged).

    A type's first occurrence is kept from the first part that has it, at its position in the
    whole: the tokens of the parts before it added to its position within its part.
    """
    total, seen = TokenSummary(), set()
    for part in parts:
        for position, token in part.first_seen:
            if token not in seen:
                seen.add(token)
                total.first_seen.append((total.n_tokens + position, token))
        total.n_docs += part.n_docs
        total.n_sentences += part.n_sentences
        total.n_tokens += part.n_tokens
        total.cut += part.cut
        total.edged += part.edged
        total.per_doc.update(part.per_doc)
        total.empty_ids.extend(part.empty_ids[:EMPTY_IDS - len(total.empty_ids)])
    return total


EMPTY_IDS = 20  # documents without tokens named in tokenize_stats.json


class Growth:
    """The running token counts at which a new type appears: the Heaps curve, vocabulary-sized."""

    def __init__(self, first_seen: list | None = None) -> None:
        """From the merged first occurrences (:func:`merge_summaries`), positions from 1 in the corpus."""
        self.steps: list[int] = [position for position, _ in first_seen or []]


def token_part(final: tuple[frozenset, Formulas], part) -> TokenSummary:
    """The third pass: cut the edges of a normalized scratch part, keep the kept terms, write its tokens part."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newslens.text.passes import read_part

    kept_terms, learned = final
    keep = kept_terms.__contains__
    doc_ids, docs = read_part(part.path)
    summary = TokenSummary(n_docs=len(doc_ids), n_sentences=sum(map(len, docs)))
    rows_doc, rows_sentence, rows_tokens, per_doc = [], [], [], {}
    for doc_id, doc in zip(doc_ids, docs):
        # A text with no sentence at all (only a URL, say) still gets one empty row, so every
        # document reaches tokens.parquet and the later stages.
        sentences = [list(sentence) for sentence in doc] if doc else [[]]
        if learned.openers or learned.closers:
            cut = cut_edges(sentences, learned)
            if cut:
                summary.cut += sum(map(keep, cut))  # kept tokens only: stop words count once
                summary.edged += 1
        kept = [list(filter(keep, sentence)) for sentence in sentences]
        rows_doc.extend([doc_id] * len(kept))
        rows_sentence.extend(range(len(kept)))
        rows_tokens.extend(kept)
        per_doc[doc_id] = per_doc.get(doc_id, 0) + sum(map(len, kept))
    seen: set[str] = set()
    position = 0
    for sentence in rows_tokens:
        for token in sentence:
            position += 1
            if token not in seen:
                seen.add(token)
                summary.first_seen.append((position, token))
    summary.n_tokens = position
    summary.per_doc = Counter(per_doc.values())
    summary.empty_ids = [d for d in doc_ids if per_doc.get(d, 0) == 0][:EMPTY_IDS]
    table = pa.table({"doc_id": pa.array(rows_doc), "sentence": pa.array(rows_sentence, type=pa.int32()),
                      "tokens": pa.array(rows_tokens, type=pa.list_(pa.string()))})
    pq.write_table(table, part.out, compression="zstd", write_statistics=True)
    return summary


def assemble(summary: TokenSummary, cf: Counter, df: Counter, tokenizer: Tokenizer, sources: pd.DataFrame,
             forms: dict[str, str], scripts: Counter, learned: Formulas, markers: Counter) -> Tokenized:
    """The stage's tables from the third pass's summed summaries and the vocabulary's counts.

    Each term's fate is decided once (kept, or the filter that drops it); the tokens, cut
    and filtered by the workers, are not here (``tokens`` is None: the caller fills it in).
    """
    import numpy as np
    import pandas as pd

    # each term's fate is decided once; its occurrences follow (cf counts them)
    reasons = {term: tokenizer.drop_reason(term) for term in cf}
    dropped = Counter()
    for term, reason in reasons.items():
        if reason is not None:
            dropped[reason] += cf[term]
    if summary.edged:
        dropped["opener or closer"] += summary.cut
    terms = list(cf)
    vocabulary = pd.DataFrame({"term": pd.Series(terms, dtype="str"),  # text even when empty
                               "display": pd.Series([display_form(t, forms) for t in terms], dtype="str"),
                               "cf": np.fromiter(cf.values(), dtype="int64", count=len(terms)),
                               "df": np.fromiter(map(df.__getitem__, terms), dtype="int64", count=len(terms))})
    vocabulary["is_phrase"] = vocabulary["term"].str.contains(JOINER, regex=False)
    vocabulary["is_stopword"] = vocabulary["term"].isin(tokenizer.stopwords)
    vocabulary["kept"] = [reasons[t] is None for t in vocabulary["term"]]
    vocabulary = vocabulary.sort_values(["cf", "term"], ascending=[False, True], ignore_index=True)
    phrases = phrase_table(tokenizer, vocabulary)
    stats = {"documents": summary.n_docs, "sentences": summary.n_sentences,
             "tokens": summary.n_tokens,
             "documents_without_tokens": summary.per_doc.get(0, 0), "documents_without_tokens_ids": summary.empty_ids,
             "documents_other_script": scripts.get("other", 0), "dropped": dict(sorted(dropped.items())),
             "vocabulary": int(vocabulary["kept"].sum()), "phrases": len(phrases),
             "formulas": {**learned.table["kind"].value_counts().reindex(KINDS, fill_value=0).to_dict(),
                          "documents_with_opener_or_closer_cut": summary.edged, "notes": learned.notes},
             "markers": {name: markers.get(name, 0) for name in MARKERS},
             "median_tokens_per_document": median_of(summary.per_doc)}
    return Tokenized(None, vocabulary, phrases, sources, tokenizer, stats, learned)


def kept_terms(cf: Counter, tokenizer: Tokenizer) -> frozenset[str]:
    """The terms no filter drops (what the third pass keeps)."""
    return frozenset(term for term in cf if tokenizer.drop_reason(term) is None)


def median_of(counts: Counter) -> float:
    """The median of values given as value -> how many times (numpy's median; 0.0 for none)."""
    n = sum(counts.values())
    if not n:
        return 0.0
    middle, seen, values = ((n - 1) // 2, n // 2), 0, []
    for value in sorted(counts):
        seen += counts[value]
        while len(values) < 2 and seen > middle[len(values)]:
            values.append(value)
    return float(values[0]) if n % 2 else float((values[0] + values[1]) / 2)


def cut_edges(sentences: list[list[str]], learned: Formulas) -> list[str]:
    """Cut the longest learned opener and closer from a document's sentences, in place; the tokens cut."""
    filled = [i for i, sentence in enumerate(sentences) if sentence]
    if not filled:
        return []
    first, last = filled[0], filled[-1]
    n_open, n_close = learned.strip(sentences[first], sentences[last])
    if first == last:
        n_close = min(n_close, len(sentences[last]) - n_open)
    cut = sentences[first][:n_open]
    sentences[first] = sentences[first][n_open:]
    if n_close > 0:
        cut = cut + sentences[last][-n_close:]
        sentences[last] = sentences[last][:-n_close]
    return cut


def phrase_table(tokenizer: Tokenizer, vocabulary: pd.DataFrame) -> pd.DataFrame:
    """The learned phrases found in the vocabulary, with display form, count and npmi score, most frequent first."""
    import pandas as pd

    columns = ["phrase", "display", "count", "score"]
    if tokenizer.phraser is None:
        return pd.DataFrame(columns=columns)
    scores = tokenizer.phraser.phrasegrams
    found = vocabulary[vocabulary["is_phrase"] & vocabulary["term"].isin(scores)]
    table = pd.DataFrame({"phrase": found["term"], "display": found["display"],
                          "count": found["cf"], "score": found["term"].map(scores).round(6)})
    return table.sort_values(["count", "phrase"], ascending=[False, True], ignore_index=True)

