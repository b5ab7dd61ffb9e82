"""Ingest partition by partition: prepare each partition anywhere, then fold them in, in order.

:func:`prepare_partition` is pure (it runs on any engine's workers): it cleans, detects the
language of and splits the items of one partition. :class:`Reducer` folds the prepared
partitions in one by one, in input order: it deduplicates, names, logs, dates and flags
near-duplicates, and returns each partition's rows of ``documents.parquet`` (:data:`DOCUMENT_COLUMNS`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from newslens.corpus.clean import MISSING_GROUP, clean_group, clean_text, clean_title
from newslens.corpus.dates import DATE_UNIT, MIN_DATE_PARSE_RATE, parse_dates
from newslens.corpus.language import Detected, detect_language, skip_reason
from newslens.corpus.near_duplicates import (PIECE as _PIECE, NearDuplicateIndex, Sketches, Stored,
                                             sketch_units, store_sketches,
                                             text_pieces as _text_pieces)
from newslens.corpus.sentences import split_paragraphs, split_text_sentences
from newslens.corpus.slices import renumbered
from newslens.corpus.sources import RawDocument, Skipped
from newslens.corpus.tables import ROW_FILTER
from newslens.engine import PARTITION_DOCUMENTS

logger = logging.getLogger(__name__)

DOCUMENT_COLUMNS = [
    "doc_id", "parent_id", "unit_index", "source", "location", "group", "title",
    "date", "date_precision", "dateline", "text", "n_chars", "n_words", "encoding", "near_duplicate_of",
    "language", "detected_language", "language_confidence",
]
# Every column but the text: what a stage reads that needs the documents, not their words.
METADATA_COLUMNS = [c for c in DOCUMENT_COLUMNS if c != "text"]
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]+")


class LogEntry(NamedTuple):
    """One row of ingest_log.csv: what became of one input file or table row."""

    source: str
    location: str
    status: str  # ingested, duplicate, skipped or metadata
    reason: str
    doc_id: str | None


LOG_COLUMNS = list(LogEntry._fields)


class Example(NamedTuple):
    """A cleaned text before and after, for the report's excerpts."""

    location: str
    before: str
    after: str
    changes: dict


class _Skip(NamedTuple):
    """A prepared item that yields no document (``status`` and ``reason`` as logged)."""

    source: str
    location: str
    status: str
    reason: str


class _Prepared(NamedTuple):
    """A cleaned document of a partition, before deduplication and naming."""

    base_id: str
    item: RawDocument  # its metadata, with the raw text dropped
    dateline: str | None
    changes: dict
    fingerprint: str
    units: list[str]
    text: str  # the cleaned text
    raw: str | None  # the raw text, kept only for the first changed texts (examples)
    language: Detected
    sketches: Sketches | None  # of its units, for the near-duplicate index (None: stored by the worker)
    n_chars: list[int]  # per unit: characters ...
    n_words: list[int]  # ... and whitespace-separated words


class Scratched(NamedTuple):
    """A partition prepared by a worker that kept its texts: what it sends to the driver.

    The units' texts are in ``texts`` (a parquet file of one ``text`` column, one row per
    unit of its prepared entries, in order) and their shingle sets in ``stored.path``; the
    entries keep only metadata, lengths and the example texts.
    """

    number: int
    entries: list  # of _Skip | _Prepared, units and texts dropped
    texts: str
    stored: Stored
    source: int = 0  # the source's place in the run
    rows: int = 0  # a table slice's data rows (its entries' rows are numbered from 1 within it)
    broken: bool = False  # the table stops being readable in this slice
    table: bool = False  # a table slice: the driver adds the rows of the slices before
    # Data rows of the table's slices before this one (set by the driver, in order): the
    # :class:`Reducer` adds them to the locations as it folds the entries in, without copying them.
    offset: int = 0


class _Row(NamedTuple):
    """One unit's row of documents.parquet, before lengths, dates and near-duplicates are added."""

    doc_id: str
    parent_id: str
    unit_index: int
    source: str
    location: str
    group: str
    title: str | None
    date: str | None
    dateline: str | None
    text: str
    encoding: str
    language: str
    detected_language: str | None
    language_confidence: float | None



@dataclass
class Ingested:
    """What the ingest stage produced, before it is written."""

    documents: pd.DataFrame
    log: pd.DataFrame
    changes: pd.DataFrame  # one row per repair kind: kind, count
    examples: pd.DataFrame  # a few before/after pairs of cleaned texts
    date_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was decided about a whole source, and why


def base_doc_id(raw: RawDocument) -> str:
    """A stable, readable id: the builtin or table id, a file's stem, or a content hash."""
    if raw.source.startswith("builtin:"):
        prefix = raw.source.split(":", 1)[1]
    else:
        prefix = raw.location.split(":", 1)[0].rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if raw.source_id is not None and ":" not in raw.location:
        return _ID_UNSAFE.sub("-", raw.source_id)
    if raw.source_id is not None:
        return f"{prefix}-{_ID_UNSAFE.sub('-', raw.source_id)}"
    digest = hashlib.sha1(raw.text.encode("utf-8")).hexdigest()[:12]
    return f"{prefix}-{digest}"


def split_units(text: str, unit: str, language: str = "en") -> list[str]:
    """Cut a cleaned text into the run's units: the document, paragraphs or sentences (of its language)."""
    if unit == "document":
        return [text]
    if unit == "paragraph":
        return split_paragraphs(text)
    return split_text_sentences(text, language)



def _fingerprint(text: str) -> str:
    """sha1 of the casefolded words joined by single spaces (duplicates differ only in case or spacing).

    A long text is hashed piece by piece (cut at whitespace, so no word is split): the
    same digest, without a list of every word of a 100 MB file in memory.
    """
    digest, separator = hashlib.sha1(), ""
    for piece in _text_pieces(text, _PIECE):
        words = piece.casefold().split()
        if words:
            digest.update((separator + " ".join(words)).encode("utf-8"))
            separator = " "
    return digest.hexdigest()


def _unique_id(candidate: str, taken: set[str], fingerprint: str) -> str:
    """``candidate``, or when taken, it with the text's fingerprint (and a counter) added."""
    if candidate not in taken:
        return candidate
    suffixed = f"{candidate}-{fingerprint[:8]}"
    counter = 2
    while suffixed in taken:
        suffixed = f"{candidate}-{fingerprint[:8]}-{counter}"
        counter += 1
    return suffixed


_SHOWN_PROBLEMS = 20  # unparseable dates logged one by one; the rest are counted
BATCH_SIZE = PARTITION_DOCUMENTS  # documents per partition: the unit of parallel work and of writing
_EXAMPLES = 6  # before/after pairs kept for the report (its excerpts show the first six), in each partition too
_EXAMPLE_CHARS = 200_000  # longer texts are never kept whole as examples (memory, and difflib's time)


def prepare_partition(unit: str, republished: frozenset[str],
                       items: list[RawDocument | Skipped], *, language: str = "en",
                       skip_other: bool = False) -> list[_Skip | _Prepared]:
    """Clean, detect the language of and split one partition of input items (pure: runs on any engine's workers).

    Returns one :class:`_Skip` or :class:`_Prepared` per item, in order; the item's raw
    text is dropped (only the first changed texts keep it, for examples).
    """
    entries, examples = [], 0
    items.reverse()
    while items:  # popped as they are cleaned: in process, a raw text is freed once cleaned
        item = items.pop()
        if isinstance(item, Skipped):
            status = "metadata" if item.reason.startswith("sidecar metadata") else "skipped"
            entries.append(_Skip(item.source, item.location, status, item.reason))
            continue
        cleaned = clean_text(item.text, republished=item.source in republished)
        if not cleaned.text.strip():
            entries.append(_Skip(item.source, item.location, "skipped", "empty after cleaning"))
            continue
        found = detect_language(cleaned.text, language)
        if skip_other and found.language != language:
            entries.append(_Skip(item.source, item.location, "skipped", skip_reason(found, language)))
            continue
        raw = None
        if len(item.text) <= _EXAMPLE_CHARS and cleaned.text != item.text.strip() and examples < _EXAMPLES:
            raw, examples = item.text, examples + 1
        meta = replace(item, text="", title=clean_title(item.title))
        units = split_units(cleaned.text, unit, language)
        entries.append(_Prepared(base_doc_id(item), meta, cleaned.dateline, dict(cleaned.changes),
                                 _fingerprint(cleaned.text), units, cleaned.text, raw, found, sketch_units(units),
                                 [len(u) for u in units], [count_words(u) for u in units]))
    return entries


def prepare_to_scratch(scratch: str, unit: str, republished: frozenset[str], numbered: tuple[int, list],
                       *, language: str = "en", skip_other: bool = False) -> Scratched:
    """:func:`prepare_partition` on a worker that keeps the texts: they go to files in ``scratch``.

    ``numbered`` is (partition number, slice): the slice is read here
    (:mod:`newslens.corpus.slices`: a table's byte range, or items read on the driver).
    The units' texts are written to ``texts-<number>.parquet`` and their shingle sets to
    ``shingles-<number>.u64``; what returns is the entries without texts
    (:class:`Scratched`), so the driver receives metadata, lengths and band keys, never the corpus.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newslens.corpus.slices import TableSlice, rows_read

    number, part = numbered
    items = part.read()
    rows, broken = rows_read(items) if isinstance(part, TableSlice) else (0, False)
    entries = prepare_partition(unit, republished, items, language=language, skip_other=skip_other)
    prepared = [entry for entry in entries if isinstance(entry, _Prepared)]
    texts = [text for entry in prepared for text in entry.units]
    sketches = _joined([entry.sketches for entry in prepared])
    base = Path(scratch)
    texts_path = base / f"texts-{number:05d}.parquet"
    pq.write_table(pa.table({"text": pa.array(texts, type=pa.large_string())}), texts_path, compression="zstd")
    stored = store_sketches(sketches, str(base / f"shingles-{number:05d}.u64"))
    light = [entry if isinstance(entry, _Skip) else
             entry._replace(units=None, text=entry.text if entry.raw is not None else "", sketches=None)
             for entry in entries]
    return Scratched(number, light, str(texts_path), stored, part.source, rows, broken, isinstance(part, TableSlice))


class Reducer:
    """The ordered, sequential part of ingest: deduplicate, name, log, flag near-duplicates.

    Its near-duplicate index keeps a scratch file: :meth:`close` it (or use ``with``).
    """

    def __init__(self, unit: str, sources=()):
        self.unit = unit
        self.date_columns = {source.label: source.date_column for source in sources}
        self.group_columns = {source.label: source.group_column for source in sources
                              if source.group_column and not source.group}
        self.dating: dict[str, bool] = {}  # source: are its dates used (decided on its first dated rows)
        self.grouped: Counter = Counter()  # source: documents with a group of their own
        self.notes: list[str] = []
        self.log: list[LogEntry] = []
        self.changes: Counter = Counter()
        self.examples: list[Example] = []
        self.seen: dict[str, str] = {}
        self.ids: set[str] = set()
        self.date_problems: set[str] = set()
        self.near = NearDuplicateIndex()
        self.n_documents = 0

    def __enter__(self) -> Reducer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the near-duplicate index's scratch file."""
        self.near.close()

    def add(self, entries: list[_Skip | _Prepared]) -> pd.DataFrame:
        """Fold one partition's entries in (texts and sketches in memory); return its new document rows."""
        frame, _ = self._add(entries, None)
        return frame

    def add_scratched(self, part: Scratched) -> tuple[pd.DataFrame, np.ndarray]:
        """Fold in a partition a worker prepared with its texts kept (:func:`prepare_to_scratch`).

        Returns its new document rows with ``text`` empty, and for each row the row of its
        text in ``part.texts`` (exact duplicates have none).
        """
        return self._add(part.entries, part.stored, part.offset)

    def _add(self, entries: list[_Skip | _Prepared], stored: Stored | None,
             offset: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
        rows: list[_Row] = []
        sketches: list[Sketches] = []
        lengths: list[tuple[list[int], list[int]]] = []
        kept: list[range] = []  # rows of the kept units in the partition's texts
        first = 0
        for entry in entries:
            before = len(rows)
            self._fold(entry, rows, sketches, offset)
            if isinstance(entry, _Prepared):
                if len(rows) > before:
                    kept.append(range(first, first + len(entry.n_chars)))
                    lengths.append((entry.n_chars, entry.n_words))
                first += len(entry.n_chars)
        entries.clear()  # the texts now live in rows only
        entry = None
        text_rows = np.fromiter((row for span in kept for row in span), dtype=np.int64)
        if not rows:
            return empty_documents(), text_rows
        if stored is None:
            near = self.near.add([row.doc_id for row in rows], _joined(sketches))
        else:
            near = self.near.add([row.doc_id for row in rows],
                                 Stored(stored.path, stored.offsets[text_rows], stored.sizes[text_rows],
                                        stored.keys[text_rows]))
        del sketches
        documents = pd.DataFrame(rows, columns=list(_Row._fields))
        del rows
        documents["date"], documents["date_precision"] = self._dates(documents)
        documents["n_chars"] = np.fromiter((n for chars, _ in lengths for n in chars), dtype="int64")
        documents["n_words"] = np.fromiter((n for _, words in lengths for n in words), dtype="int64")
        documents["near_duplicate_of"] = near
        self.n_documents += len(documents)
        return documents[DOCUMENT_COLUMNS], text_rows

    def _dates(self, documents: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """A partition's dates and precisions; a source whose dates mostly fail is not dated at all.

        Whether a source's dates are used is decided on its first partition holding any
        date value (the first :data:`BATCH_SIZE` documents), so partitions stream.
        """
        raw = documents["date"].astype(object)
        parsed = parse_dates(raw)
        dates, precision = parsed.dates.copy(), parsed.precision.copy()
        for source in documents["source"].unique():
            rows = (documents["source"] == source).to_numpy()
            given = int(raw[rows].notna().sum())
            if source not in self.dating and given:
                self.dating[source] = self._date_rate_ok(source, raw[rows], parsed.dates[rows])
            if not self.dating.get(source, True):
                dates[rows], precision[rows] = pd.NaT, None
                continue
            failed = rows & raw.notna().to_numpy() & dates.isna().to_numpy()
            self.date_problems.update(raw[failed].astype(str))
        return dates, precision

    def _date_rate_ok(self, source: str, raw: pd.Series, dates: pd.Series) -> bool:
        given, parsed = int(raw.notna().sum()), int(dates.notna().sum())
        if parsed >= MIN_DATE_PARSE_RATE * given:
            return True
        column = self.date_columns.get(source)
        where = f"date column {column!r}" if column else "the date field"
        examples = ", ".join(repr(v) for v in list(dict.fromkeys(raw[dates.isna()].dropna().astype(str)))[:3])
        self.notes.append(f"{where} of source {source!r} is not used for dating: {parsed:,} of its first "
                          f"{given:,} values ({parsed / given:.0%}) parse as dates (not parsed: {examples}); "
                          "its documents are kept, undated")
        logger.warning(self.notes[-1])
        return False

    def _fold(self, entry: _Skip | _Prepared, rows: list[_Row], sketches: list[Sketches], offset: int = 0) -> None:
        """Log one entry; append its units to ``rows`` (their sketches to ``sketches``) unless it is an exact duplicate.

        ``offset``: data rows of its table before its slice (:attr:`Scratched.offset`), added to its location.
        """
        if isinstance(entry, _Skip):
            if offset:
                where, reason = renumbered(entry.location, entry.reason, offset)
                entry = entry._replace(location=where, reason=reason)
            self.log.append(LogEntry(*entry, doc_id=None))
            return
        item = entry.item
        where = renumbered(item.location, "", offset)[0] if offset else item.location
        self.changes.update(entry.changes)
        if entry.raw is not None and len(self.examples) < _EXAMPLES:
            self.examples.append(Example(where, entry.raw, entry.text, entry.changes))
        if entry.fingerprint in self.seen:
            kept = self.seen[entry.fingerprint]
            self.log.append(LogEntry(item.source, where, "duplicate",
                                     f"exact duplicate of {kept}", kept))
            return
        doc_id = _unique_id(entry.base_id, self.ids, entry.fingerprint)
        self.ids.add(doc_id)
        self.seen[entry.fingerprint] = doc_id
        self.log.append(LogEntry(item.source, where, "ingested", "", doc_id))
        group = clean_group(item.group)
        self.grouped[item.source] += group != MISSING_GROUP
        found = entry.language
        if entry.sketches is not None:
            sketches.append(entry.sketches)
        texts = entry.units if entry.units is not None else [None] * len(entry.n_chars)  # None: in scratch
        for index, unit_text in enumerate(texts):
            unit_id = doc_id if self.unit == "document" else f"{doc_id}#{self.unit[0]}{index + 1:03d}"
            rows.append(_Row(unit_id, doc_id, index, item.source, where, group, item.title,
                             item.date, entry.dateline, unit_text, item.encoding,
                             found.language, found.detected, found.confidence))

    def result(self, documents: pd.DataFrame | None) -> Ingested:
        for value in sorted(self.date_problems)[:_SHOWN_PROBLEMS]:
            logger.warning("unparseable date %r: kept the document, date left empty", value)
        if len(self.date_problems) > _SHOWN_PROBLEMS:
            logger.warning("%d more unparseable dates (all in the ingest report)",
                           len(self.date_problems) - _SHOWN_PROBLEMS)
        ingested = Counter(entry.source for entry in self.log if entry.status == "ingested")
        for source, column in self.group_columns.items():
            if ingested[source] and not self.grouped[source]:
                self.notes.append(f"group column {column!r} of source {source!r} is empty in every row: "
                                  f"its {ingested[source]:,} documents are kept, shown as {MISSING_GROUP}")
                logger.warning(self.notes[-1])
        left_out = Counter((entry.source, entry.reason.partition(": ")[2]) for entry in self.log
                           if entry.status == "skipped" and entry.reason.startswith(ROW_FILTER))
        self.notes += [f"the row filter of source {source!r} left out {n:,} row{'s' if n != 1 else ''} "
                       f"({match}); each is in the ingest log" for (source, match), n in sorted(left_out.items())]
        log = pd.DataFrame(self.log, columns=LOG_COLUMNS)
        changes = pd.DataFrame(sorted(self.changes.items()), columns=["kind", "count"])
        examples = pd.DataFrame(self.examples, columns=list(Example._fields))
        logger.info("ingested %d documents; log has %d entries", self.n_documents, len(log))
        return Ingested(documents, log, changes, examples, sorted(self.date_problems), self.notes)


def _joined(sketches: list[Sketches]) -> Sketches:
    """The sketches of several documents' units as one, in order."""
    shingles = [unit for sketch in sketches for unit in sketch.shingles]
    if not sketches:
        return Sketches([], np.zeros((0, 0), dtype=np.uint64))
    return Sketches(shingles, np.concatenate([sketch.signatures for sketch in sketches]))


def count_words(text: str) -> int:
    """Whitespace-separated words, without building a list for very long texts."""
    if len(text) < 1_000_000:
        return len(text.split())
    return sum(1 for _ in _WORD.finditer(text))


_WORD = re.compile(r"\S+")


def empty_documents() -> pd.DataFrame:
    """An empty frame of documents.parquet's columns and dtypes."""
    return document_schema().empty_table().to_pandas()


def document_schema():
    """The pyarrow schema of documents.parquet (fixed, so every partition writes alike)."""
    import pyarrow as pa

    string = pa.string()
    types = {"unit_index": pa.int64(), "date": pa.timestamp(DATE_UNIT), "n_chars": pa.int64(),
             "n_words": pa.int64(), "language_confidence": pa.float64()}
    return pa.schema([(name, types.get(name, string)) for name in DOCUMENT_COLUMNS])
