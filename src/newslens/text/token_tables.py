"""The tables of the tokenize stage, made from the normalized sentences of its two passes.

:func:`assemble` decides each term's fate once (kept, or the filter that drops it), cuts
the learned openers and closers, and makes the tokens, the vocabulary, the phrases and
the counts that ``tokenize_stats.json`` holds, as one :class:`Tokenized`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newslens.text.formulas import KINDS, Formulas
from newslens.text.passes import split_sentence
from newslens.text.words import JOINER, MARKERS, display_form

if TYPE_CHECKING:
    import pandas as pd

    from newslens.text.tokenizer import Tokenizer


@dataclass
class Tokenized:
    """The run's tokenization, as :func:`newslens.text.tokenization.tokenize_documents` made it."""

    tokens: pd.DataFrame        # doc_id, sentence, tokens
    vocabulary: pd.DataFrame    # term, display, cf, df, is_phrase, is_stopword, kept
    phrases: pd.DataFrame       # phrase, display, count, score
    stopword_sources: pd.DataFrame  # term, source
    tokenizer: Tokenizer
    stats: dict
    formulas: Formulas              # learned formulas, their evidence, and why a detector skipped


def assemble(documents: pd.DataFrame, normalized: list[list], cf: Counter, df: Counter, tokenizer: Tokenizer,
             sources: pd.DataFrame, forms: dict[str, str], scripts: Counter, learned: Formulas,
             markers: Counter) -> Tokenized:
    """The stage's tables from the normalized sentences: each term's fate is decided, then its tokens follow.

    Every document keeps at least one row of ``tokens``; the learned openers and closers are
    cut from its first and last sentence; ``stats`` counts what was kept and dropped.
    """
    import numpy as np
    import pandas as pd

    # each term's fate is decided once; its occurrences follow (cf counts them)
    reasons = {term: tokenizer.drop_reason(term) for term in cf}
    keep = frozenset(term for term, reason in reasons.items() if reason is None).__contains__
    dropped = Counter()
    for term, reason in reasons.items():
        if reason is not None:
            dropped[reason] += cf[term]
    doc_ids, sentence_ids, token_lists = [], [], []
    per_doc: dict = {}
    edged = 0  # documents with an opener or closer cut
    for doc_id, doc in zip(documents["doc_id"], normalized):
        # A text with no sentence at all (only a URL, say) still gets one empty row, so every
        # document reaches tokens.parquet and the later stages.
        sentences = [split_sentence(sentence) for sentence in doc] if doc else [[]]
        if learned.openers or learned.closers:
            cut = cut_edges(sentences, learned)
            if cut:
                dropped["opener or closer"] += sum(map(keep, cut))  # kept tokens only: stop words count once
                edged += 1
        kept = [list(filter(keep, sentence)) for sentence in sentences]
        doc_ids.extend([doc_id] * len(kept))
        sentence_ids.extend(range(len(kept)))
        token_lists.extend(kept)
        per_doc[doc_id] = per_doc.get(doc_id, 0) + sum(map(len, kept))
    tokens = pd.DataFrame({"doc_id": doc_ids, "sentence": np.array(sentence_ids, dtype="int32"),
                           "tokens": token_lists})
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
    empty = [d for d in documents["doc_id"] if per_doc.get(d, 0) == 0]
    stats = {"documents": len(documents), "sentences": sum(map(len, normalized)),
             "tokens": sum(per_doc.values()),
             "documents_without_tokens": len(empty), "documents_without_tokens_ids": empty[:20],
             "documents_other_script": scripts.get("other", 0), "dropped": dict(sorted(dropped.items())),
             "vocabulary": int(vocabulary["kept"].sum()), "phrases": len(phrases),
             "formulas": {**learned.table["kind"].value_counts().reindex(KINDS, fill_value=0).to_dict(),
                          "documents_with_opener_or_closer_cut": edged, "notes": learned.notes},
             "markers": {name: markers.get(name, 0) for name in MARKERS},
             "median_tokens_per_document": float(np.median(list(per_doc.values()))) if per_doc else 0.0}
    return Tokenized(tokens, vocabulary, phrases, sources, tokenizer, stats, learned)


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

