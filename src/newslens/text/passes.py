"""The two passes of the tokenize stage over partitions of the documents.

:func:`newslens.text.tokenization.tokenize_documents` maps these functions over
partitions on any engine and reduces their results in partition order:

1. :func:`surface_chunk`: each text's sentences of surface tokens, the phrase
   candidates, and the counts of surface forms, scripts and markers;
2. :func:`normalize_chunk`: those sentences phrased and lemmatized by the draft
   tokenizer, with their token and document frequencies.

What travels between processes is kept small: a sentence is one string of tokens
joined by :data:`SEP`, and counters are packed (:func:`pack`).
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from newslens.engine import PARTITION_DOCUMENTS
from newslens.files import parquet_files
from newslens.text.phrases import candidates, connector_words
from newslens.text.words import count_markers, script_of, surface_sentences

if TYPE_CHECKING:
    from newslens.text.tokenizer import Tokenizer

# Sentences travel between processes as one string, tokens joined by this; no token holds a
# space (words are runs of letters, digits and inner marks; phrases join words by "_").
SEP = " "


def pack(counter: Counter) -> tuple[str, bytes]:
    """A counter of space-free strings as one string and one array: 5× faster to pickle."""
    return SEP.join(counter), array("q", counter.values()).tobytes()


def unpack(packed: tuple[str, bytes]) -> Counter:
    """The counter that :func:`pack` packed, keys in the same order."""
    keys, values = packed
    counts = array("q")
    counts.frombytes(values)
    return Counter(dict(zip(keys.split(SEP), counts))) if keys else Counter()


def sum_counters(counters: Iterable[Counter]) -> Counter:
    """Sum counters in order: keys stay in order of first appearance."""
    total = Counter()
    for counter in counters:
        total.update(counter)
    return total


def split_sentence(sentence: str | list[str]) -> list[str]:
    """A sentence's tokens from :class:`NormalizedChunk`."""
    if isinstance(sentence, str):
        return sentence.split(SEP) if sentence else []
    return sentence


# ---------------------------------------------------------------- the first pass

@dataclass
class SurfaceChunk:
    """What the first pass learns from some texts; small, so cheap to send between processes."""

    sentences: list[list[str]]  # per text, each sentence's surface tokens joined by SEP
    candidates: Counter         # gensim's phrase candidates ("belt_and_road"), in order of first use
    n_words: int                # all words, connector words too (gensim's corpus_word_count)
    surface: Counter            # surface form counts
    initial: Counter            # surface form counts as the first word of a sentence
    scripts: Counter            # script_of the texts
    markers: Counter            # links, handles, retweet marks and hashtags (words.count_markers)
    path: str | None = None     # by reference (surface_part): the scratch part that holds the sentences
    n_docs: int = 0

    def __getstate__(self) -> dict:
        counts = ("candidates", "surface", "initial")
        return {k: pack(v) if k in counts else v for k, v in self.__dict__.items()}

    def __setstate__(self, state: dict) -> None:
        counts = ("candidates", "surface", "initial")
        self.__dict__.update({k: unpack(v) if k in counts else v for k, v in state.items()})


def surface_chunk(texts: list[str], language: str = "en") -> SurfaceChunk:
    """Surface tokens of some texts, their phrase candidates and form counts (the first pass)."""
    connectors = connector_words(language)
    sentences, found, flat, initial = [], [], [], []
    n_words, markers = 0, Counter()
    for text in texts:
        markers.update(count_markers(text))
        doc = []
        for tokens in surface_sentences(text, language):
            joined = SEP.join(tokens)
            doc.append(joined)
            if tokens:
                n_words += len(tokens)
                flat.extend(tokens)
                initial.append(tokens[0])
                candidates(joined.lower().split(SEP), connectors, found)
        sentences.append(doc)
    return SurfaceChunk(sentences, Counter(found), n_words, Counter(flat), Counter(initial),
                        Counter(map(script_of, texts)), markers)


# ---------------------------------------------------------------- the second pass

@dataclass
class NormalizedChunk:
    """What the second pass makes of some texts."""

    sentences: list[list]   # per text, each sentence's normalized tokens (joined by SEP when a str)
    cf: Counter             # token counts
    df: Counter             # document frequencies
    phrase_forms: dict      # phrase -> Counter of its written forms
    path: str | None = None  # by reference (normalize_part): the scratch part that holds the sentences
    edges: object = None     # formulas.EdgeCounts of the partition, when the formulas are learned
    n_sentences: int = 0


def normalize_chunk(tokenizer: Tokenizer, docs: list) -> NormalizedChunk:
    """Phrase and lemmatize some texts' sentences (from :class:`SurfaceChunk`), before any filter."""
    table = tokenizer.phrase_table()
    lemmas = tokenizer._lemmas if tokenizer.settings.lemmatize else None
    out, flat, df, phrase_forms = [], [], Counter(), {}
    for doc in docs:
        normalized, start = [], len(flat)
        for sentence in doc:
            lowered = sentence.lower().split(SEP) if sentence else []
            if table is not None and not table.firsts.isdisjoint(lowered):
                lowered = table.apply(lowered, sentence.split(SEP), phrase_forms)
            tokens = lowered
            if lemmas is None and tokenizer.variants:  # no lemmas: the variants still count as their form
                tokens = [tokenizer.variants.get(t, t) for t in lowered]
            if lemmas is not None:
                tokens = list(map(lemmas.get, lowered))
                if None in tokens:  # phrases, and words that learn_lemmas did not see
                    tokens = [tokenizer.normalize(w) if t is None else t for t, w in zip(tokens, lowered)]
            flat.extend(tokens)
            joined = SEP.join(tokens)
            # a token holding SEP (a lemma with a space, say) would not split back: keep the list
            normalized.append(joined if joined.count(SEP) == max(len(tokens) - 1, 0) else tokens)
        df.update(set(flat[start:]))
        out.append(normalized)
    return NormalizedChunk(out, Counter(flat), df, phrase_forms)


# ---------------------------------------------------------------- merges (a fold's combine)


def merge_surface(chunks: list[SurfaceChunk]) -> SurfaceChunk:
    """Partitions' first-pass counts summed in order; the sentences stay in their scratch parts."""
    return SurfaceChunk(None, Counter(), sum(c.n_words for c in chunks),
                        *(sum_counters(getattr(c, name) for c in chunks)
                          for name in ("surface", "initial", "scripts", "markers")),
                        n_docs=sum(c.n_docs for c in chunks))


def merge_normalized(chunks: list[NormalizedChunk]) -> NormalizedChunk:
    """Partitions' second-pass counts summed in order: token and document frequencies, phrase forms, edges."""
    from newslens.text.formulas import EdgeCounts

    phrase_forms: dict = {}
    for chunk in chunks:
        for phrase, counts in chunk.phrase_forms.items():
            phrase_forms.setdefault(phrase, Counter()).update(counts)
    edges = None
    if any(chunk.edges is not None for chunk in chunks):
        edges = EdgeCounts()
        for chunk in chunks:
            if chunk.edges is not None:
                edges.add(chunk.edges)
    return NormalizedChunk(None, sum_counters(c.cf for c in chunks), sum_counters(c.df for c in chunks),
                           phrase_forms, edges=edges, n_sentences=sum(c.n_sentences for c in chunks))


# ---------------------------------------------------------------- tasks by reference

# Buckets of the phrase candidates: one per PARTITIONS_PER_BUCKET partitions, within these bounds, so that
# the tasks that sum them grow in number with the corpus (64 from 4,033 partitions, about 2 million
# documents) and a large cluster's workers take part. Each task reads its bucket of every partition's
# file (about 0.2 ms a read), so the reads grow as partitions x buckets: the bound keeps them a small
# part of the step (at 20,000 partitions, 1.3 million reads against the candidates' sums). The phrases
# found do not depend on the number.
MIN_CANDIDATE_BUCKETS, MAX_CANDIDATE_BUCKETS, PARTITIONS_PER_BUCKET = 8, 64, 64


@dataclass(frozen=True)
class Rows:
    """A first-pass task: rows ``start`` to ``stop`` of a parquet file of documents (doc_id, text), and its scratch part."""

    path: str
    start: int
    stop: int
    out: str
    buckets: int = MIN_CANDIDATE_BUCKETS  # the corpus's phrase candidate buckets (candidate_buckets)


@dataclass(frozen=True)
class Part:
    """A later task: the scratch part it reads, the part it writes, and what else it needs of its partition."""

    path: str
    out: str
    edge_share: float = 0.0   # the second pass: openers and closers kept per partition (formulas.count_edges)
    units: tuple = ()         # the evidence pass: per kind of unit, each document's unit row


def read_rows(rows: Rows) -> tuple[list, list[str]]:
    """The doc_ids and texts of a :class:`Rows` task, reading only the row groups that hold them.

    ``rows.path`` is a file or a folder of part files (the dask engine's documents.parquet);
    the rows are counted across the parts in name order, so a task reads the same documents
    from either.
    """
    table = read_columns(rows, ["doc_id", "text"])
    return table.column("doc_id").to_pylist(), table.column("text").to_pylist()


def read_columns(rows: Rows, columns: list[str]):
    """``columns`` of a :class:`Rows` task's rows, as a pyarrow table (see :func:`read_rows`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables, offset = [], 0
    for name in parquet_files(rows.path):
        file = pq.ParquetFile(name)
        groups, first = [], None
        for index in range(file.metadata.num_row_groups):
            n = file.metadata.row_group(index).num_rows
            if offset < rows.stop and offset + n > rows.start:
                groups.append(index)
                first = offset if first is None else first
            offset += n
        if groups:
            table = file.read_row_groups(groups, columns=columns)
            start = max(rows.start - first, 0)
            tables.append(table.slice(start, rows.stop - first - start))
        if offset >= rows.stop:
            break
    if not tables:
        return pa.table({name: pa.array([], pa.string()) for name in columns})
    return pa.concat_tables(tables)


def row_partitions(path: str | Path, size: int = PARTITION_DOCUMENTS) -> list[Rows]:
    """A parquet table's rows (a file, or a folder of parts) as tasks of ``size`` rows each."""
    import pyarrow.parquet as pq

    n = sum(pq.ParquetFile(name).metadata.num_rows for name in parquet_files(path))
    return [Rows(str(path), start, min(start + size, n), "") for start in range(0, n, size)]


def write_part(path: str, doc_ids: list, sentences: list, nested: bool) -> None:
    """Write a scratch part: each document's sentences (strings, or ``nested`` token lists)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kind = pa.list_(pa.list_(pa.string())) if nested else pa.list_(pa.string())
    table = pa.table({"doc_id": pa.array(doc_ids), "sentences": pa.array(sentences, type=kind)})
    pq.write_table(table, path, compression="lz4")


def read_part(path: str) -> tuple[list, list]:
    """The doc_ids and sentences of a scratch part (:func:`write_part`)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return table.column("doc_id").to_pylist(), table.column("sentences").to_pylist()


def surface_part(rows: Rows, language: str = "en") -> SurfaceChunk:
    """The first pass by reference: read the task's texts, write their sentences to its scratch part.

    The result holds the counts only (``sentences`` is None) and ``path``, the part written; the
    phrase candidates, most of them seen once, go to bucket files (:func:`write_candidates`) that
    :func:`frequent_candidates` sums on the workers.
    """
    doc_ids, texts = read_rows(rows)
    chunk = surface_chunk(texts, language)
    write_part(rows.out, doc_ids, chunk.sentences, nested=False)
    write_candidates(chunk.candidates, str(Path(rows.out).parent), rows.start // PARTITION_DOCUMENTS, rows.buckets)
    chunk.sentences, chunk.candidates, chunk.path, chunk.n_docs = None, Counter(), rows.out, len(doc_ids)
    return chunk


def normalize_part(tokenizer: Tokenizer, part: Part) -> NormalizedChunk:
    """The second pass by reference: normalize a scratch part's sentences and write them (as token lists).

    The result holds the counts, and with ``part.edge_share`` the formula detectors' edge counts
    (:func:`newslens.text.formulas.count_edges`); ``sentences`` is None.
    """
    from newslens.text.formulas import count_edges

    doc_ids, docs = read_part(part.path)
    chunk = normalize_chunk(tokenizer, docs)
    normalized = [[split_sentence(sentence) for sentence in doc] for doc in chunk.sentences]
    write_part(part.out, doc_ids, normalized, nested=True)
    chunk.edges = count_edges(normalized, part.edge_share) if part.edge_share else None
    chunk.sentences, chunk.path = None, part.out
    chunk.n_sentences = sum(map(len, normalized))
    return chunk


def evidence_part(query, part: Part):
    """The formula detectors' counts for a normalized scratch part (:func:`newslens.text.formulas.count_units`)."""
    from newslens.text.formulas import count_units

    _, docs = read_part(part.path)
    return count_units(docs, list(part.units), query)


# ---------------------------------------------------------------- phrase candidates, summed by the workers

def candidate_buckets(partitions: int) -> int:
    """The number of candidate buckets for a corpus of ``partitions`` partitions.

    >>> [candidate_buckets(p) for p in (1, 123, 485, 1_000, 4_033, 20_000)]
    [8, 8, 8, 16, 64, 64]
    """
    return min(MAX_CANDIDATE_BUCKETS, max(MIN_CANDIDATE_BUCKETS, -(-partitions // PARTITIONS_PER_BUCKET)))


def candidate_path(scratch: str, partition: int) -> str:
    """A partition's candidates file: an Arrow IPC file of one record batch per bucket, in bucket order."""
    return f"{scratch}/candidates-{partition:05d}.arrow"


def _candidate_schema():
    """The columns of a candidates file's record batches."""
    import pyarrow as pa

    return pa.schema([("key", pa.string()), ("count", pa.int64()), ("order", pa.int64())])


def write_candidates(candidates: Counter, scratch: str, partition: int, buckets: int = MIN_CANDIDATE_BUCKETS) -> None:
    """Write a partition's phrase candidates (key, count, order of first use) to its candidates file,
    one record batch per bucket (:func:`candidate_path`): a bucket's task reads that batch of every
    partition's file, and no partition writes a file per bucket.

    A candidate's bucket is its pandas hash (SipHash with pandas' fixed key, the same in every
    process) modulo ``buckets``, computed for all the candidates in one call.
    """
    import numpy as np
    import pyarrow as pa
    from pandas.util import hash_array

    keys = np.array(list(candidates), dtype=object)
    counts = np.fromiter(candidates.values(), dtype=np.int64, count=len(keys))
    bucket_of = (hash_array(keys, categorize=False) % np.uint64(buckets)).astype(np.intp)
    by_bucket = np.argsort(bucket_of, kind="stable")  # each bucket's candidates in their order of first use
    sizes = np.bincount(bucket_of, minlength=buckets)
    ends = np.cumsum(sizes)
    schema = _candidate_schema()
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.OSFile(candidate_path(scratch, partition), "wb") as sink, \
            pa.ipc.new_file(sink, schema, options=options) as writer:
        for bucket in range(buckets):
            rows = by_bucket[ends[bucket] - sizes[bucket]:ends[bucket]]
            writer.write_batch(pa.record_batch([pa.array(keys[rows], type=pa.string()), pa.array(counts[rows]),
                                                pa.array(rows.astype(np.int64))], schema=schema))


@dataclass(frozen=True)
class CandidateBucket:
    """A task that sums one bucket of every partition's phrase candidates."""

    scratch: str
    bucket: int
    partitions: int
    at_least: int


def frequent_candidates(task: CandidateBucket) -> list[tuple[int, int, str, int]]:
    """The bucket's candidates summed over the partitions, those with at least ``task.at_least``:
    (partition, order) of first use, candidate, total."""
    import numpy as np
    import pyarrow as pa

    batches = []
    for partition in range(task.partitions):
        with pa.memory_map(candidate_path(task.scratch, partition)) as source:
            batches.append(pa.ipc.open_file(source).get_batch(task.bucket))
    if not batches:
        return []
    sizes = [batch.num_rows for batch in batches]
    every = pa.Table.from_batches(batches, schema=_candidate_schema()).to_pandas()
    every["partition"] = np.repeat(np.arange(task.partitions, dtype=np.int64), sizes)
    summed = every.groupby("key", sort=False).agg(count=("count", "sum"), partition=("partition", "first"),
                                                  order=("order", "first"))
    summed = summed[summed["count"] >= task.at_least]
    return list(zip(summed["partition"].tolist(), summed["order"].tolist(), summed.index.tolist(),
                    summed["count"].tolist()))


def scored_candidates(model, task: CandidateBucket) -> list[tuple[int, int, str, int]]:
    """:func:`frequent_candidates` of a bucket, only those that score as phrases against the corpus's
    word counts (``model``: :func:`newslens.text.phrases.word_model`, broadcast): what comes back
    is the phrases, not every frequent candidate."""
    from newslens.text.phrases import passing

    rows = frequent_candidates(task)
    kept = passing(model, {key: count for _, _, key, count in rows})
    return [row for row in rows if row[2] in kept]
