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
passes over partitions of the documents (:func:`tokenize_documents`, the passes in
:mod:`newslens.text.passes`, the tables in :mod:`newslens.text.token_tables`), writes the
tokens, vocabulary, phrases and stop words (:func:`write_outputs`), and
:func:`load_analyzer` hands later stages the saved tokens as a scikit-learn
``analyzer``, so no stage tokenizes again. :func:`run` is the whole stage: all of that
for one run, and everything its report shows, as a :class:`TokenizeResult`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from newslens.engine import PARTITION_DOCUMENTS, engine_scope
from newslens.params import TokenizeParams
from newslens.text import passes, spelling
from newslens.text.formulas import (MIN_DOCS, MIN_REPEATS, REPEAT_SHARE, EdgeCounts, EvidenceQuery, Formulas,
                                    UnitCounts, Units, comparison_units, decide_formulas, merge_unit_counts,
                                    none_learned, shown)
from newslens.text.phrases import learn_phrases, word_model
from newslens.text.stopwords import stopword_sources
from newslens.text.token_stats import heaps_fit, sentences_of, tokens_per_document_in
from newslens.text.token_tables import Growth, Tokenized, assemble, kept_terms, merge_summaries, token_part
from newslens.text.tokenizer import Tokenizer  # also as tokenization.Tokenizer, for the notebooks
from newslens.text.words import JOINER, usual_forms, word_display_forms

if TYPE_CHECKING:  # imported where used: a worker process that tokenizes needs neither
    import pandas as pd

    from newslens.engine import Engine
    from newslens.stages import StageRun

TOKENS_PART_ROWS = 50_000  # sentences per part file of a partitioned tokens.parquet
# The most frequent kept terms and phrases the report charts: as many bars as one chart shows legibly.
TOP_TERMS, TOP_PHRASES = 25, 20
# What the stage does with each marker of the medium (words.MARKERS): an address is cut before
# words are found; a hashtag keeps its word as a term.
MARKER_RULES = {"link": "cut", "handle": "cut", "retweet": "cut", "hashtag": "kept as its word"}


def tokenize_documents(documents: pd.DataFrame | Path, settings: TokenizeParams, language: str,
                       *, n_jobs: int = 2, engine: "Engine | str | None" = None, out_dir: Path | None = None,
                       partitioned: bool = False) -> Tokenized:
    """Learn the run's tokenizer on ``documents`` and tokenize them with it.

    ``documents`` is a table (doc_id, text, and where there are any, group and date) or the
    path of a documents.parquet. Passes over partitions of the documents, on any engine (see
    :mod:`newslens.engine`), whose tasks carry references and whose results are counts: surface
    counts and phrase candidates, reduced into the frozen phrase model and the lemmas; normalised
    counts with that tokenizer broadcast, reduced into the stop words and the formulas' candidates;
    the formulas' evidence for those; and the tokens, cut and filtered by the workers. The
    sentences between passes are scratch parts in a scratch folder (in ``out_dir``, or the
    system's temporary folder), removed at the end, also on an error.

    With ``out_dir`` the workers' tokens become ``out_dir/tokens.parquet`` (a folder of parts when
    ``partitioned``) and the result's ``tokens`` is None; without, ``tokens`` is the table.
    ``engine`` is an engine, an engine name, or None for local processes (``n_jobs``).
    """
    scratch = Path(tempfile.mkdtemp(prefix=".tokenize-scratch.", dir=out_dir))
    try:
        with engine_scope(engine, n_jobs) as runner:
            rows, groups, dates = _document_rows(documents, scratch)
            result = _tokenize(rows, groups, dates, settings, language, runner, scratch)
        parts = [str(scratch / f"tokens-{i:05d}.parquet") for i in range(len(rows))]
        if out_dir is None:
            result.tokens = _read_tokens(parts)
        else:
            result.tokens_path = _write_tokens(parts, Path(out_dir) / "tokens.parquet", partitioned)
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _document_rows(documents: pd.DataFrame | Path, scratch: Path) -> tuple[list[passes.Rows], list, list]:
    """The first pass's tasks, and each document's group and date (None when the documents have none).

    A table is written once to a scratch documents file (a row group per partition), so the
    tasks refer to rows of a file either way.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newslens.files import parquet_files

    if isinstance(documents, (str, Path)):
        path = Path(documents)  # one file, or a folder of parts (the dask engine)
        files = parquet_files(path)
        names = pq.read_schema(files[0]).names
        n = sum(pq.ParquetFile(name).metadata.num_rows for name in files)
        columns = [c for c in ("group", "date") if c in names]
        known = pd.read_parquet(path, columns=columns) if columns else None
    else:
        path, n = scratch / "documents.parquet", len(documents)
        table = pa.Table.from_pandas(documents[["doc_id", "text"]], preserve_index=False)
        pq.write_table(table, path, row_group_size=PARTITION_DOCUMENTS, compression="lz4")
        known = documents
    groups, dates = ([None] * n if known is None or c not in known else known[c].tolist() for c in ("group", "date"))
    starts = range(0, n, PARTITION_DOCUMENTS)
    buckets = passes.candidate_buckets(len(starts))
    rows = [passes.Rows(str(path), start, min(start + PARTITION_DOCUMENTS, n),
                        str(scratch / f"surface-{i:05d}.parquet"), buckets)
            for i, start in enumerate(starts)]
    return rows, groups, dates


def _tokenize(rows: list[passes.Rows], groups: list, dates: list, settings: TokenizeParams, language: str,
              runner: Engine, scratch: Path) -> Tokenized:
    """The passes of :func:`tokenize_documents`, each reduced in partition order on the driver."""
    n_docs = rows[-1].stop if rows else 0
    parallel = n_docs >= 200
    first = runner.fold(partial(passes.surface_part, language=language), rows, passes.merge_surface,
                        parallel=parallel) or passes.merge_surface([])
    surface, initial, scripts, markers, n_words = first.surface, first.initial, first.scripts, first.markers, first.n_words
    words = Counter()
    for form, count in surface.items():
        words[form.lower()] += count
    frequent = None
    if settings.phrases:  # summed and scored by bucket on the workers: only the phrases come back
        buckets = [passes.CandidateBucket(str(scratch), b, len(rows), settings.phrase_min_count)
                   for b in range(rows[0].buckets if rows else 0)]
        scorer = word_model(words, n_words, settings, language)
        found = [row for rows_found in runner.map(passes.scored_candidates, buckets, shared=scorer,
                                                  parallel=parallel)
                 for row in rows_found]
        frequent = {key: count for _, _, key, count in sorted(found)}
    # the candidates left the partitions in bucket files (passes.write_candidates), not in the chunks
    phraser = learn_phrases([], words, n_words, settings, language, frequent=frequent)
    forms = word_display_forms(surface, initial)
    names = frozenset(low for low, form in forms.items() if form[:1].isupper() and JOINER not in low)
    variants, variant_counts = spelling.variants(words, language, unify=settings.spelling == "unify")
    draft = Tokenizer(settings, language, phraser, frozenset(), names, variants)
    if settings.lemmatize:
        draft.learn_lemmas(words)
    del surface, initial
    draft.phrase_table()  # made once here, not in every task's pickle

    learning = settings.formulas and n_docs >= MIN_DOCS
    share = max(MIN_REPEATS, REPEAT_SHARE * n_docs) / n_docs if learning else 0.0
    normalized = [passes.Part(r.out, str(scratch / f"normalized-{i:05d}.parquet"), edge_share=share)
                  for i, r in enumerate(rows)]
    second = runner.fold(passes.normalize_part, normalized, passes.merge_normalized, shared=draft,
                         parallel=parallel) or passes.merge_normalized([])
    cf, df, phrase_forms, edges = second.cf, second.df, second.phrase_forms, second.edges or EdgeCounts()
    forms.update(usual_forms(phrase_forms))
    sources = stopword_sources(df, n_docs, settings, language)
    if settings.formulas:
        units = Units.of(*comparison_units(groups, dates)) if learning else Units([], [], [])

        def evidence(query: EvidenceQuery) -> UnitCounts:
            tasks = [passes.Part(part.out, "", units=tuple(units.rows_of(r.start, r.stop)))
                     for part, r in zip(normalized, rows)]
            found = runner.fold(passes.evidence_part, tasks, merge_unit_counts, shared=query, parallel=parallel)
            return UnitCounts.empty(units, query) if found is None else found

        learned = decide_formulas(n_docs, units, df, frozenset(sources["term"]), edges, evidence, keep=settings.keep)
        sources = stopword_sources(df, n_docs, settings, language, learned=learned.terms)
    else:
        learned = none_learned(["off (tokenize.formulas is false)"])
    tokenizer = Tokenizer(settings, language, phraser, frozenset(sources["term"]), names, variants, draft._lemmas)
    cutting = Formulas(None, openers=learned.openers, closers=learned.closers)
    final = [passes.Part(part.out, str(scratch / f"tokens-{i:05d}.parquet")) for i, part in enumerate(normalized)]
    summary = runner.fold(token_part, final, merge_summaries, shared=(kept_terms(cf, tokenizer), cutting),
                          parallel=parallel) or merge_summaries([])
    result = assemble(summary, cf, df, tokenizer, sources, forms, scripts, learned, markers)
    result.growth = Growth(summary.first_seen)
    result.stats.update(variant_counts)
    return result


def _read_tokens(parts: list[str]) -> pd.DataFrame:
    """The tokens parts as one table, each sentence's tokens a list (the in-memory result)."""
    import pandas as pd

    tokens = pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True) if parts else \
        pd.DataFrame({"doc_id": [], "sentence": pd.Series([], dtype="int32"), "tokens": []})
    tokens["tokens"] = [list(sentence) for sentence in tokens["tokens"]]
    return tokens


def _write_tokens(parts: list[str], target: Path, partitioned: bool) -> Path:
    """Move the workers' tokens parts to ``target``: one file with a row group per part (read and
    appended here), or (``partitioned``) a folder of the parts themselves, moved as they are (a
    part is one partition of documents, so none splits a document; nothing is read here)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newslens.files import ParquetParts

    schema = pq.read_schema(parts[0]) if parts else pa.schema(
        [("doc_id", pa.string()), ("sentence", pa.int32()), ("tokens", pa.list_(pa.string()))])
    with ParquetParts(target, schema, partitioned=partitioned) as out:
        for part in parts:
            if partitioned:
                os.replace(part, out.reserve())
            else:
                out.write_table(pq.read_table(part))
    return target


# ---------------------------------------------------------------- outputs

def write_outputs(result: Tokenized, out_dir: Path, *, partitioned: bool = False) -> tuple[Path, ...]:
    """Write tokens, vocabulary, phrases, stop words and the frozen tokenizer atomically; the paths written.

    ``partitioned`` writes tokens.parquet as a folder of part files (the dask engine).
    """
    import pyarrow as pa

    from newslens.files import ParquetParts, write_csv, write_parquet, write_text

    if result.tokens is None:  # the workers wrote tokens.parquet (tokenize_documents with out_dir)
        pass
    elif partitioned:
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
    saved = ("tokenizer.json", "phrases.model") if result.tokenizer.phraser is not None else ("tokenizer.json",)
    return tuple(out_dir / name for name in ("tokens.parquet", "vocabulary.parquet", "phrases.csv",
                                             "stopword_sources.csv", "formulas.csv", "stopwords.txt",
                                             "tokenize_stats.json", *saved))


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


# ---------------------------------------------------------------- the stage

@dataclass(frozen=True)
class TokenizeResult:
    """What the tokenize stage wrote, and everything its report shows."""

    outputs: tuple[Path, ...]          # the files written in the run's processed folder
    title: str                         # the run's title
    stats: dict                        # what tokenize_stats.json holds
    lemmatize: bool                    # whether words were lemmatized (tokenize.lemmatize)
    stopwords: int                     # terms on the run's stop-word list (stopwords.txt)
    kept_phrases: int                  # phrases in the kept vocabulary
    top_terms: pd.Series               # collection frequency by display form, most frequent kept terms
    top_phrases: pd.Series             # the same for the kept phrases
    frequencies: pd.Series             # collection frequency of every kept term, most frequent first
    heaps_curve: pd.DataFrame          # tokens, types: vocabulary growth over the tokens read
    heaps_k: float                     # the fit V = K·n^β (nan when the curve has under 3 points)
    heaps_beta: float
    tokens_per_document: pd.Series     # kept tokens by doc_id
    stopword_counts: pd.DataFrame      # source, terms: how many stop words each source gives
    corpus_stopwords: tuple[str, ...]  # the stop words the corpus gives, sorted
    formula_notes: tuple[str, ...]     # why a formula detector skipped, or that formulas are off
    formulas: pd.DataFrame             # the learned formulas and their evidence, as shown
    odd_input: pd.DataFrame            # what, count: odd documents, and the tokens each filter dropped
    markers: pd.DataFrame              # marker, count, rule
    focus: str | None                  # the run's focus; None: the run's first document is shown
    focus_title: str                   # the title of the document shown tokenized
    focus_sentences: list[list[str]]   # its sentences' kept tokens
    focus_display: dict[str, str]      # the display form of each of its terms


def run(stage_run: StageRun) -> TokenizeResult:
    """Tokenize the run's documents, write the stage's outputs, and gather what its report shows."""

    from newslens.corpus import focus

    from newslens.files import read_parquet

    engine = stage_run.params.engine
    path = stage_run.input("documents.parquet")
    # the texts stay in the file (or the dask engine's folder of parts): the workers read their rows of it
    documents = read_parquet(path, without=("text",))
    tokenized = tokenize_documents(path, stage_run.params.tokenize, stage_run.params.language, engine=engine,
                                   out_dir=stage_run.processed_dir, partitioned=engine == "dask")
    outputs = write_outputs(tokenized, stage_run.processed_dir, partitioned=engine == "dask")
    vocabulary, stats = tokenized.vocabulary, tokenized.stats
    kept = vocabulary[vocabulary["kept"]]
    display = dict(zip(vocabulary["term"], vocabulary["display"]))
    curve, heaps_k, heaps_beta = heaps_fit(tokenized.growth.steps, stats["tokens"])
    sources = tokenized.stopword_sources
    focus_ids = focus.focus_or_first(documents, stage_run.params.focus)
    focus_sentences = sentences_of(tokenized.tokens_path, focus_ids)
    return TokenizeResult(
        outputs=outputs, title=stage_run.params.title, stats=stats,
        lemmatize=stage_run.params.tokenize.lemmatize, stopwords=len(tokenized.tokenizer.stopwords),
        kept_phrases=int(kept["is_phrase"].sum()),
        top_terms=kept.head(TOP_TERMS).set_index("display")["cf"],
        top_phrases=kept[kept["is_phrase"]].head(TOP_PHRASES).set_index("display")["cf"],
        frequencies=kept["cf"], heaps_curve=curve, heaps_k=heaps_k, heaps_beta=heaps_beta,
        tokens_per_document=tokens_per_document_in(tokenized.tokens_path),
        stopword_counts=sources.groupby("source").size().rename("terms").reset_index(),
        corpus_stopwords=tuple(sorted(sources.loc[sources["source"].str.startswith("corpus"), "term"])),
        formula_notes=tuple(tokenized.formulas.notes), formulas=shown(tokenized.formulas, display),
        odd_input=_odd_input(stats), markers=_markers(stats), focus=stage_run.params.focus,
        focus_title=focus.title_of(documents, focus_ids[0]), focus_sentences=focus_sentences,
        focus_display={t: display.get(t, t) for sentence in focus_sentences for t in sentence})


def _odd_input(stats: dict) -> pd.DataFrame:
    """Documents without kept tokens or mostly in another script, and the tokens each filter dropped."""
    import pandas as pd

    return pd.DataFrame([
        ("documents without any kept token", stats["documents_without_tokens"]),
        ("documents mostly in a non-Latin script (kept)", stats["documents_other_script"]),
        *[(f"tokens dropped: {reason}", count) for reason, count in stats["dropped"].items()],
    ], columns=["what", "count"])


def _markers(stats: dict) -> pd.DataFrame:
    """Each marker of the medium, how often the texts hold it, and what the stage does with it."""
    import pandas as pd

    return pd.DataFrame({"marker": list(stats["markers"]), "count": list(stats["markers"].values()),
                         "rule": [MARKER_RULES[name] for name in stats["markers"]]})
