"""Stage 02: one tokenization, shared by every later stage.

The policy, in order (each step in its module):

1. **Sentences** from :mod:`newslens.corpus.sentences`, by the abbreviations of the run's
   ``language``; phrases never cross them. Every step below follows the language too:
   its letters, its connector words, its lemmas and its stop words.
2. **Words** (:mod:`newslens.text.words`): non-text (URLs, share widgets) is cut, then
   runs of letters and digits with internal hyphens and apostrophes kept whole
   (``China-Belarus``, ``win-win``); a possessive ``'s`` is dropped (``China's`` →
   ``china``). Punctuation is not a token.
3. **Case**: tokens are lowercase; the most frequent surface form of each term is
   kept for display (``Xi Jinping``, not ``xi jinping``).
4. **Phrases** (:mod:`newslens.text.phrases`): gensim ``Phrases`` with npmi scoring,
   learned on lowercase sentences *before* stop words are removed (so
   ``belt_and_road`` can form), frozen and saved; phrase parts are joined by ``_``.
5. **Lemmas** (option, on by default): simplemma, for single words whose usual
   surface form is lowercase, so names and phrases are left as written.
6. **Filters**, after phrasing: stop words (:mod:`newslens.text.stopwords` states the
   whole rule), pure numbers (unless ``keep_numbers``), tokens shorter than
   ``min_token_length``, and "words" longer than ``max_token_length`` (URLs,
   base64 blobs), which are counted.

The stage learns the run's frozen :class:`~newslens.text.tokenizer.Tokenizer` in two
passes over partitions of the documents (:func:`tokenize_documents`), writes the
tokens, vocabulary, phrases and stop words (:func:`write_outputs`), and
:func:`load_analyzer` hands later stages the saved tokens as a scikit-learn
``analyzer``, so no stage tokenizes again.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from newslens.engine import engine_scope
from newslens.text.formulas import KINDS, Formulas, learn_formulas, none_learned
from newslens.params import TokenizeParams
from newslens.text.phrases import candidates, connector_words, learn_phrases
from newslens.text.stopwords import stopword_sources
from newslens.text.tokenizer import Tokenizer  # also as tokenize.Tokenizer, for the notebooks
from newslens.text.words import (JOINER, MARKERS, count_markers, display_form, script_of, surface_sentences,
                            usual_forms, word_display_forms)

if TYPE_CHECKING:  # imported where used: a worker process that tokenizes needs neither
    import pandas as pd

    from newslens.engine import Engine

# Sentences travel between processes as one string, tokens joined by this; no token holds a
# space (words are runs of letters, digits and inner marks; phrases join words by "_").
_SEP = " "
TOKENS_PART_ROWS = 50_000  # sentences per part file of a partitioned tokens.parquet


@dataclass
class TokenizeResult:
    """Everything the tokenize stage writes."""

    tokens: pd.DataFrame        # doc_id, sentence, tokens
    vocabulary: pd.DataFrame    # term, display, cf, df, is_phrase, is_stopword
    phrases: pd.DataFrame       # phrase, display, count, score
    stopword_sources: pd.DataFrame  # term, source
    tokenizer: Tokenizer
    stats: dict
    formulas: Formulas              # learned formulas, their evidence, and why a detector skipped


def tokenize_documents(documents: pd.DataFrame, settings: TokenizeParams, language: str,
                       *, n_jobs: int = 2, engine: "Engine | str | None" = None) -> TokenizeResult:
    """Learn the run's tokenizer on ``documents`` and tokenize them with it.

    Two passes over partitions of the documents, on any engine (see :mod:`newslens.engine`):
    surface counts, phrase candidates and sentences per partition, reduced into the frozen
    phrase model and the lemmas; then normalised tokens with that tokenizer broadcast,
    reduced into the stop words. ``engine`` is an engine, an engine name, or None for local
    processes (``n_jobs``).
    """
    texts = documents["text"].tolist()
    with engine_scope(engine, n_jobs) as runner:
        parallel, parts = len(texts) >= 200, runner.workers * 2
        chunks = list(runner.map(partial(_surface_chunk, language=language), _chunks(texts, parts), parallel=parallel))
        surface = _sum_counters(c.surface for c in chunks)
        words = Counter()
        for form, count in surface.items():
            words[form.lower()] += count
        phraser = learn_phrases([c.candidates for c in chunks], words, sum(c.n_words for c in chunks), settings,
                               language)
        forms = word_display_forms(surface, _sum_counters(c.initial for c in chunks))
        names = frozenset(low for low, form in forms.items() if form[:1].isupper() and JOINER not in low)
        draft = Tokenizer(settings, language, phraser, frozenset(), names)
        if settings.lemmatize:
            draft.learn_lemmas(words)
        sentences = [doc for chunk in chunks for doc in chunk.sentences]
        scripts = _sum_counters(c.scripts for c in chunks)
        markers = _sum_counters(c.markers for c in chunks)
        del chunks, surface
        draft.phrase_table()  # made once here, not in every task's pickle
        pieces = list(runner.map(_normalize_chunk, _chunks(sentences, parts), shared=draft, parallel=parallel))
    phrase_forms: dict[str, Counter] = {}
    for piece in pieces:
        for phrase, counts in piece.phrase_forms.items():
            phrase_forms.setdefault(phrase, Counter()).update(counts)
    forms.update(usual_forms(phrase_forms))
    normalized = [doc for piece in pieces for doc in piece.sentences]
    cf, df = _sum_counters(p.cf for p in pieces), _sum_counters(p.df for p in pieces)
    sources = stopword_sources(df, len(normalized), settings, language)
    if settings.formulas:
        # groups and dates to compare, where the documents have them (documents.parquet always does)
        groups, dates = ([None] * len(documents) if c not in documents else documents[c].tolist()
                         for c in ("group", "date"))
        learned = learn_formulas(_TokenDocs(normalized), groups, dates, df, frozenset(sources["term"]),
                                 keep=settings.keep)
        sources = stopword_sources(df, len(normalized), settings, language, learned=learned.terms)
    else:
        learned = none_learned(["off (tokenize.formulas is false)"])
    tokenizer = Tokenizer(settings, language, phraser, frozenset(sources["term"]), names, draft._lemmas)
    return _assemble(documents, normalized, cf, df, tokenizer, sources, forms, scripts, learned, markers)


class _TokenDocs:
    """The normalized documents as token lists, made as they are read (no second copy in memory)."""

    def __init__(self, normalized: list[list]):
        self._normalized = normalized

    def __len__(self) -> int:
        return len(self._normalized)

    def __iter__(self):
        for doc in self._normalized:
            yield [_split(sentence) for sentence in doc]


# ---------------------------------------------------------------- the two passes

def _chunks(items: list, n: int) -> list[list]:
    size = max(1, -(-len(items) // n))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _pack(counter: Counter) -> tuple[str, bytes]:
    """A counter of space-free strings as one string and one array: 5× faster to pickle."""
    return _SEP.join(counter), array("q", counter.values()).tobytes()


def _unpack(packed: tuple[str, bytes]) -> Counter:
    keys, values = packed
    counts = array("q")
    counts.frombytes(values)
    return Counter(dict(zip(keys.split(_SEP), counts))) if keys else Counter()


@dataclass
class SurfaceChunk:
    """What the first pass learns from some texts; small, so cheap to send between processes."""

    sentences: list[list[str]]  # per text, each sentence's surface tokens joined by _SEP
    candidates: Counter         # gensim's phrase candidates ("belt_and_road"), in order of first use
    n_words: int                # all words, connector words too (gensim's corpus_word_count)
    surface: Counter            # surface form counts
    initial: Counter            # surface form counts as the first word of a sentence
    scripts: Counter            # script_of the texts
    markers: Counter            # links, handles, retweet marks and hashtags (words.count_markers)

    def __getstate__(self) -> dict:
        counts = ("candidates", "surface", "initial")
        return {k: _pack(v) if k in counts else v for k, v in self.__dict__.items()}

    def __setstate__(self, state: dict) -> None:
        counts = ("candidates", "surface", "initial")
        self.__dict__.update({k: _unpack(v) if k in counts else v for k, v in state.items()})


def _surface_chunk(texts: list[str], language: str = "en") -> SurfaceChunk:
    """Surface tokens of some texts, their phrase candidates and form counts (the first pass)."""
    connectors = connector_words(language)
    sentences, found, flat, initial = [], [], [], []
    n_words, markers = 0, Counter()
    for text in texts:
        markers.update(count_markers(text))
        doc = []
        for tokens in surface_sentences(text, language):
            joined = _SEP.join(tokens)
            doc.append(joined)
            if tokens:
                n_words += len(tokens)
                flat.extend(tokens)
                initial.append(tokens[0])
                candidates(joined.lower().split(_SEP), connectors, found)
        sentences.append(doc)
    return SurfaceChunk(sentences, Counter(found), n_words, Counter(flat), Counter(initial),
                        Counter(map(script_of, texts)), markers)


@dataclass
class NormalizedChunk:
    """What the second pass makes of some texts."""

    sentences: list[list]   # per text, each sentence's normalized tokens (joined by _SEP when a str)
    cf: Counter             # token counts
    df: Counter             # document frequencies
    phrase_forms: dict      # phrase -> Counter of its written forms


def _normalize_chunk(tokenizer: Tokenizer, docs: list) -> NormalizedChunk:
    """Phrase and lemmatize some texts' sentences (from :class:`SurfaceChunk`), before any filter."""
    table = tokenizer.phrase_table()
    lemmas = tokenizer._lemmas if tokenizer.settings.lemmatize else None
    out, flat, df, phrase_forms = [], [], Counter(), {}
    for doc in docs:
        normalized, start = [], len(flat)
        for sentence in doc:
            lowered = sentence.lower().split(_SEP) if sentence else []
            if table is not None and not table.firsts.isdisjoint(lowered):
                lowered = table.apply(lowered, sentence.split(_SEP), phrase_forms)
            tokens = lowered
            if lemmas is not None:
                tokens = list(map(lemmas.get, lowered))
                if None in tokens:  # phrases, and words that learn_lemmas did not see
                    tokens = [tokenizer.normalize(w) if t is None else t for t, w in zip(tokens, lowered)]
            flat.extend(tokens)
            joined = _SEP.join(tokens)
            # a token holding _SEP (a lemma with a space, say) would not split back: keep the list
            normalized.append(joined if joined.count(_SEP) == max(len(tokens) - 1, 0) else tokens)
        df.update(set(flat[start:]))
        out.append(normalized)
    return NormalizedChunk(out, Counter(flat), df, phrase_forms)


def _sum_counters(counters: Iterable[Counter]) -> Counter:
    """Sum counters in order: keys stay in order of first appearance."""
    total = Counter()
    for counter in counters:
        total.update(counter)
    return total


# ---------------------------------------------------------------- the tables

def _assemble(documents, normalized, cf, df, tokenizer, sources, forms, scripts, learned, markers):
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
        sentences = [_split(sentence) for sentence in doc] if doc else [[]]
        if learned.openers or learned.closers:
            cut = _cut_edges(sentences, learned)
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
    phrases = _phrase_table(tokenizer, vocabulary)
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
    return TokenizeResult(tokens, vocabulary, phrases, sources, tokenizer, stats, learned)


def _cut_edges(sentences: list[list[str]], learned: Formulas) -> list[str]:
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


def _split(sentence: str | list[str]) -> list[str]:
    """A sentence's tokens from :class:`NormalizedChunk`."""
    if isinstance(sentence, str):
        return sentence.split(_SEP) if sentence else []
    return sentence


def _phrase_table(tokenizer: Tokenizer, vocabulary: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    columns = ["phrase", "display", "count", "score"]
    if tokenizer.phraser is None:
        return pd.DataFrame(columns=columns)
    scores = tokenizer.phraser.phrasegrams
    found = vocabulary[vocabulary["is_phrase"] & vocabulary["term"].isin(scores)]
    table = pd.DataFrame({"phrase": found["term"], "display": found["display"],
                          "count": found["cf"], "score": found["term"].map(scores).round(6)})
    return table.sort_values(["count", "phrase"], ascending=[False, True], ignore_index=True)


# ---------------------------------------------------------------- outputs

def write_outputs(result: TokenizeResult, out_dir: Path, *, partitioned: bool = False) -> None:
    """Write tokens, vocabulary, phrases, stop words and the frozen tokenizer atomically.

    ``partitioned`` writes tokens.parquet as a folder of part files (the dask engine).
    """
    import pyarrow as pa

    from newslens.files import ParquetParts, write_csv, write_parquet, write_text

    if partitioned:
        schema = pa.schema([("doc_id", pa.string()), ("sentence", pa.int32()),
                            ("tokens", pa.list_(pa.string()))])
        with ParquetParts(out_dir / "tokens.parquet", schema, partitioned=True) as parts:
            for start, stop in _part_bounds(result.tokens["doc_id"].to_numpy(), TOKENS_PART_ROWS):
                parts.write(result.tokens.iloc[start:stop])
    else:
        write_parquet(result.tokens, out_dir / "tokens.parquet")
    write_parquet(result.vocabulary, out_dir / "vocabulary.parquet")
    write_csv(result.phrases, out_dir / "phrases.csv")
    write_csv(result.stopword_sources, out_dir / "stopword_sources.csv")
    write_csv(result.formulas.table, out_dir / "formulas.csv")
    write_text(out_dir / "stopwords.txt", "\n".join(sorted(result.tokenizer.stopwords)) + "\n")
    write_text(out_dir / "tokenize_stats.json", json.dumps(result.stats, indent=1) + "\n")
    result.tokenizer.save(out_dir)


def _part_bounds(doc_ids, rows: int) -> list[tuple[int, int]]:
    """Row ranges of about ``rows`` rows that never split a document's sentences."""
    import numpy as np

    starts = np.flatnonzero(np.r_[True, doc_ids[1:] != doc_ids[:-1]]) if len(doc_ids) else []
    cuts = [0]
    for start in starts:
        if start - cuts[-1] >= rows:
            cuts.append(int(start))
    cuts.append(len(doc_ids))
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a] or [(0, 0)]


def load_document_tokens(out_dir: Path) -> dict[str, list[str]]:
    """Each document's tokens, sentences concatenated in order, from tokens.parquet."""
    import pandas as pd

    tokens = pd.read_parquet(out_dir / "tokens.parquet")
    by_doc: dict[str, list[str]] = {}
    for doc_id, sentence in zip(tokens["doc_id"], tokens["tokens"]):
        by_doc.setdefault(doc_id, []).extend(sentence.tolist() if hasattr(sentence, "tolist") else sentence)
    return by_doc


def load_analyzer(out_dir: Path) -> tuple[list[str], Callable[[str], list[str]]]:
    """The corpus as doc_ids, and the analyzer scikit-learn vectorizers call on each doc_id.

    >>> doc_ids, analyzer = load_analyzer(run.processed_dir)        # doctest: +SKIP
    >>> TfidfVectorizer(analyzer=analyzer).fit_transform(doc_ids)  # doctest: +SKIP
    """
    by_doc = load_document_tokens(out_dir)
    return list(by_doc), by_doc.__getitem__


# ---------------------------------------------------------------- statistics

def heaps_curve(tokens: pd.DataFrame, points: int = 60) -> tuple[pd.DataFrame, float, float]:
    """Vocabulary growth V(n) over the running token count n, and the fit V = K·n^β.

    The fit is least squares on log V against log n over the sampled points.
    """
    import numpy as np
    import pandas as pd

    seen: set[str] = set()
    total, rows = 0, []
    flat = [t for lst in tokens["tokens"] for t in lst]
    # geomspace goes through numpy's SIMD power: round before truncating, so a point a hair
    # below a whole number cannot truncate differently on another CPU
    marks = set(np.unique(np.floor(np.round(np.geomspace(1, max(len(flat), 1), points), 6)).astype(int)).tolist())
    for token in flat:
        total += 1
        seen.add(token)
        if total in marks:
            rows.append((total, len(seen)))
    curve = pd.DataFrame(rows, columns=["tokens", "types"])
    if len(curve) < 3:
        return curve, float("nan"), float("nan")
    beta, log_k = np.polyfit(np.log(curve["tokens"]), np.log(curve["types"]), 1)
    return curve, float(np.exp(log_k)), float(beta)


def tokens_per_document(tokens: pd.DataFrame) -> pd.Series:
    """Kept tokens per document (documents without tokens count 0)."""
    return tokens.assign(n=tokens["tokens"].map(len)).groupby("doc_id", sort=False)["n"].sum()
