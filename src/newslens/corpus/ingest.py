"""Stage 01: read every source, clean, split into units, deduplicate.

Outputs ``documents.parquet`` (one row per document or unit) and
``ingest_log.csv``, which accounts for every input file and row: ingested,
merged as a duplicate, skipped (with the reason) or read as metadata.

What any corpus may bring, and what becomes of it:

* dates from year 1 to 9999 (held in milliseconds), naive and UTC-offset values mixed,
  partial dates (``1850``, ``1850-03``) with their precision in ``date_precision``;
* a source whose date values mostly fail to parse (under :data:`MIN_DATE_PARSE_RATE` of
  its first partition) is not used for dating: one note names the column and the rate;
* a missing group is :data:`newslens.corpus.clean.MISSING_GROUP` in every stage; an all-empty
  group column is noted; integer-valued groups read ``2``, not ``2.0``;
* a text cell that is only a number is skipped, row by row, with the column named;
* a run with no documents: :func:`empty_corpus_message` counts the skip reasons, and the
  pipeline stops after rendering the ingest report;
* documents in another language than the run's: each document's language is detected
  (:func:`detect_language`, py3langid) and stored with its confidence; with
  ``other_languages: skip`` those in another language are skipped and logged with the
  reason, otherwise kept and counted (:func:`language_counts`, :func:`language_warning`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Iterable, NamedTuple

import numpy as np
import pandas as pd
from dateutil import parser as dateutil_parser
from tqdm.auto import tqdm

from newslens.corpus.clean import MISSING_GROUP, clean_group, clean_text, clean_title
from newslens.engine import Engine, chunked, engine_scope
from newslens.corpus.near_duplicates import NEAR_DUPLICATE_JACCARD, NearDuplicateIndex
from newslens.corpus.near_duplicates import PIECE as _PIECE, text_pieces as _text_pieces
from newslens.params import RunParams
from newslens.corpus.sentences import split_paragraphs, split_text_sentences
from newslens.corpus.sources import RawDocument, Skipped, read_source, republished

logger = logging.getLogger(__name__)

DOCUMENT_COLUMNS = [
    "doc_id", "parent_id", "unit_index", "source", "location", "group", "title",
    "date", "date_precision", "dateline", "text", "n_chars", "n_words", "encoding", "near_duplicate_of",
    "language", "detected_language", "language_confidence",
]
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
    language: "Detected"


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
class IngestResult:
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


# ---------------------------------------------------------------- languages
#
# py3langid 0.4.0 (a maintained fork of langid.py: naive Bayes over byte n-grams, 97 languages,
# a 4.6 MB wheel, numpy only) rather than lingua-language-detector 2.2.0 (more accurate on
# short texts, but its models take hundreds of MB and its accuracy matters least where we need
# it: a document of a few sentences). Measured here: 1,000 news articles (3.6 M characters) in
# 6.1 s whole, 1.7 s to load the model once per process; at most DETECT_CHARS characters are
# read per document. The confidence is the normalised probability, rounded (the same on every CPU).
MIN_WORDS_TO_DETECT = 8  # fewer words: no reliable detection; taken as the run's language
MIN_CONFIDENCE = 0.9  # a language other than the run's below this is taken as the run's (uncertain)
DETECT_CHARS = 2_000  # the start of a document is enough to tell its language
MOSTLY_OTHER_SHARE = 0.5  # a corpus more than this share in one other language gets a warning


class Detected(NamedTuple):
    """A document's language: what the run takes it as, what the detector said, and how sure it was."""

    language: str  # the run's language unless another was detected with confidence
    detected: str | None  # the detector's answer; None when the text is too short to detect
    confidence: float | None

    @property
    def how(self) -> str:
        if self.detected is None:
            return f"too short to detect (under {MIN_WORDS_TO_DETECT} words): taken as the run's language"
        if self.detected != self.language:
            return (f"detected {self.detected} below {MIN_CONFIDENCE:.0%} confidence: "
                    "taken as the run's language")
        return "detected"


def _identifier():
    from newslens.corpus.language_id import identifier  # numba: imported where texts are detected

    return identifier()


def detect_language(text: str, run_language: str) -> Detected:
    """The language of one text (py3langid), decided against the run's language.

    Lowercased first (the model reads an all-capitals heading as another language), and
    only its first :data:`DETECT_CHARS` characters. A text of fewer than
    :data:`MIN_WORDS_TO_DETECT` words is not detected and is taken as the run's language,
    and so is another language detected with less than :data:`MIN_CONFIDENCE`.

    >>> detect_language("Die Bundesregierung hat am Mittwoch einen Gesetzentwurf zur Rente beschlossen.", "de")
    Detected(language='de', detected='de', confidence=0.98)
    >>> detect_language("Ja.", "de").how
    "too short to detect (under 8 words): taken as the run's language"
    """
    head = text[:DETECT_CHARS]
    if len(head.split(None, MIN_WORDS_TO_DETECT)) < MIN_WORDS_TO_DETECT:
        return Detected(run_language, None, None)
    found, confidence = _identifier().classify(head.lower())
    confidence = round(float(confidence), 2)
    if found != run_language and confidence < MIN_CONFIDENCE:
        return Detected(run_language, found, confidence)
    return Detected(found, found, confidence)


def skip_reason(found: Detected, run_language: str) -> str:
    """The ingest log's reason for a document skipped for its language."""
    return f"detected language {found.detected} ({found.confidence:.2f}), run language {run_language}"


def language_counts(documents: pd.DataFrame, log: pd.DataFrame | None = None) -> pd.DataFrame:
    """Units by the language the run takes them as and how that was decided; skipped documents too."""
    taken = documents["language"].fillna("")
    detected = documents["detected_language"]
    how = np.where(detected.isna(), "too short to detect: taken as the run's language",
                   np.where(detected.to_numpy() == taken.to_numpy(), "detected",
                            "uncertain: taken as the run's language"))
    counts = (pd.DataFrame({"language": taken, "how": how}).groupby(["language", "how"]).size()
              .rename("units").reset_index())
    if log is not None:
        skipped = log.loc[(log["status"] == "skipped") & log["reason"].fillna("").str.startswith("detected language ")]
        if len(skipped):
            langs = skipped["reason"].str.extract(r"^detected language (\S+)")[0]
            extra = langs.value_counts().rename("units").rename_axis("language").reset_index()
            extra["how"] = "detected: skipped (other_languages: skip)"
            counts = pd.concat([counts, extra[["language", "how", "units"]]], ignore_index=True)
    return counts.sort_values(["units", "language", "how"], ascending=[False, True, True], ignore_index=True)


def language_warning(counts: pd.DataFrame, run_language: str) -> str | None:
    """A warning when most of the corpus (skipped documents included) is in one other language."""
    total = int(counts["units"].sum())
    if not total:
        return None
    by_language = counts.groupby("language")["units"].sum()
    other = by_language.drop(run_language, errors="ignore")
    if other.empty:
        return None
    language, n = other.idxmax(), int(other.max())
    if n / total <= MOSTLY_OTHER_SHARE:
        return None
    return (f"most of this corpus is not in the run's language ({run_language}): {n:,} of {total:,} "
            f"units ({n / total:.0%}) are detected as {language}; set `language: {language}` if that is "
            "the corpus's language")


DATE_PRECISIONS = ("day", "month", "year")  # what a parsed date says: "1850" is a year, not 1 January
MIN_DATE_PARSE_RATE = 0.5  # a source's date column parsing below this is not used for dating
# Dates are milliseconds: years 1 to 9999 fit (nanoseconds hold only 1677-2262), and parquet
# stores milliseconds as they are (it has no seconds unit), so memory and disk agree.
DATE_UNIT = "ms"

_ISO_DATE = re.compile(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?"
                       r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?\s*")
_BARE_NUMBER = re.compile(r"\s*[+-]?\d+(?:[.,]\d+)*\s*")
# dateutil fills what a value lacks from its default: two defaults tell which parts it gave.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))


class ParsedDates(NamedTuple):
    """Dates parsed to the day (``datetime64[ms]``: years 1 to 9999), their precision, the failures."""

    dates: pd.Series
    precision: pd.Series  # "day", "month" or "year"; None where there is no date
    problems: list[str]  # the distinct values that could not be parsed, sorted


def parse_date(value: str) -> tuple[str, str] | None:
    """One date as ``("YYYY-MM-DD", precision)``, or None when it is not a date.

    ISO forms (``1850``, ``1850-03``, ``2017-02-07T10:00:00+03:00``) are read by
    hand, other forms (``10 January 2022``, ``2017/2/7``) by dateutil. A value
    with a UTC offset keeps its own calendar day. A bare number is a date only
    as a four-digit year: ``12`` or ``3.5`` are not dates.

    >>> parse_date("1850-03"), parse_date("9999-12-31T23:00:00-05:00"), parse_date("12")
    (('1850-03-01', 'month'), ('9999-12-31', 'day'), None)
    """
    match = _ISO_DATE.fullmatch(value)
    if match:
        year, month, day = match.groups()
        parts = (int(year), int(month or 1), int(day or 1))
        precision = "day" if day else "month" if month else "year"
    elif _BARE_NUMBER.fullmatch(value):
        return None
    else:
        try:
            first, second = (dateutil_parser.parse(value, default=d) for d in _DEFAULTS)
        except (ValueError, OverflowError):
            return None
        if first.year != second.year:  # no year given ("March 3")
            return None
        parts = (first.year, first.month, first.day)
        precision = "year" if first.month != second.month else "month" if first.day != second.day else "day"
    try:
        datetime(*parts)
    except ValueError:  # 2017-02-30, month 13, year 0
        return None
    return f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}", precision


def parse_dates(raw_dates: pd.Series) -> ParsedDates:
    """Parse dates leniently to day precision, each distinct value once (see :func:`parse_date`).

    Dates span years 1 to 9999 (:data:`DATE_UNIT`, not pandas' nanosecond 1677-2262),
    naive and UTC-offset values mix freely, and partial dates keep their precision.
    """
    values = raw_dates.astype(object)
    present = values.notna()
    parsed = {value: parse_date(str(value)) for value in dict.fromkeys(values[present])}
    days = [None if not ok or (found := parsed[value]) is None else found[0]
            for value, ok in zip(values, present)]
    precision = [None if day is None else parsed[value][1] for value, day in zip(values, days)]
    dates = pd.Series(np.array([np.datetime64("NaT") if d is None else np.datetime64(d) for d in days],
                               dtype=f"datetime64[{DATE_UNIT}]"), index=raw_dates.index, name=raw_dates.name)
    problems = sorted({str(value) for value, found in parsed.items() if found is None})
    return ParsedDates(dates, pd.Series(precision, index=raw_dates.index, dtype=object), problems)




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


def _unique_id(candidate: str, taken: set[str], text: str) -> str:
    if candidate not in taken:
        return candidate
    suffixed = f"{candidate}-{_fingerprint(text)[:8]}"
    counter = 2
    while suffixed in taken:
        suffixed = f"{candidate}-{_fingerprint(text)[:8]}-{counter}"
        counter += 1
    return suffixed


_SHOWN_PROBLEMS = 20  # unparseable dates logged one by one; the rest are counted
BATCH_SIZE = 500  # documents per partition: the unit of parallel work and of writing
_EXAMPLES = 200  # before/after pairs kept for the report
_EXAMPLE_CHARS = 200_000  # longer texts are never kept whole as examples (memory, and difflib's time)


def _prepare_partition(unit: str, republished: frozenset[str],
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
        entries.append(_Prepared(base_doc_id(item), meta, cleaned.dateline, dict(cleaned.changes),
                                 _fingerprint(cleaned.text), split_units(cleaned.text, unit, language),
                                 cleaned.text, raw, found))
    return entries


class _Reducer:
    """The ordered, sequential part of ingest: deduplicate, name, log, flag near-duplicates."""

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

    def add(self, entries: list[_Skip | _Prepared]) -> pd.DataFrame:
        """Fold one partition's entries in; return its new document rows, complete."""
        rows: list[_Row] = []
        for entry in entries:
            self._fold(entry, rows)
        entries.clear()  # the texts now live in rows only
        entry = None
        if not rows:
            return _empty_documents()
        # Lengths and near-duplicates from the Python strings, before the frame copies them.
        texts = [row.text for row in rows]
        n_chars = [len(text) for text in texts]
        n_words = [count_words(text) for text in texts]
        near = self.near.add([row.doc_id for row in rows], texts)
        del texts
        documents = pd.DataFrame(rows, columns=list(_Row._fields))
        del rows
        documents["date"], documents["date_precision"] = self._dates(documents)
        documents["n_chars"] = np.asarray(n_chars, dtype="int64")
        documents["n_words"] = np.asarray(n_words, dtype="int64")
        documents["near_duplicate_of"] = near
        self.n_documents += len(documents)
        return documents[DOCUMENT_COLUMNS]

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

    def _fold(self, entry: _Skip | _Prepared, rows: list[_Row]) -> None:
        """Log one entry; append its units to ``rows`` unless it is an exact duplicate."""
        if isinstance(entry, _Skip):
            self.log.append(LogEntry(*entry, doc_id=None))
            return
        item = entry.item
        self.changes.update(entry.changes)
        if entry.raw is not None and len(self.examples) < _EXAMPLES:
            self.examples.append(Example(item.location, entry.raw, entry.text, entry.changes))
        if entry.fingerprint in self.seen:
            kept = self.seen[entry.fingerprint]
            self.log.append(LogEntry(item.source, item.location, "duplicate",
                                     f"exact duplicate of {kept}", kept))
            return
        doc_id = _unique_id(entry.base_id, self.ids, entry.text)
        self.ids.add(doc_id)
        self.seen[entry.fingerprint] = doc_id
        self.log.append(LogEntry(item.source, item.location, "ingested", "", doc_id))
        group = clean_group(item.group)
        self.grouped[item.source] += group != MISSING_GROUP
        found = entry.language
        for index, unit_text in enumerate(entry.units):
            unit_id = doc_id if self.unit == "document" else f"{doc_id}#{self.unit[0]}{index + 1:03d}"
            rows.append(_Row(unit_id, doc_id, index, item.source, item.location, group, item.title,
                             item.date, entry.dateline, unit_text, item.encoding,
                             found.language, found.detected, found.confidence))

    def result(self, documents: pd.DataFrame | None) -> IngestResult:
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
        log = pd.DataFrame(self.log, columns=LOG_COLUMNS)
        changes = pd.DataFrame(sorted(self.changes.items()), columns=["kind", "count"])
        examples = pd.DataFrame(self.examples, columns=list(Example._fields))
        logger.info("ingested %d documents; log has %d entries", self.n_documents, len(log))
        return IngestResult(documents, log, changes, examples, sorted(self.date_problems), self.notes)


def count_words(text: str) -> int:
    """Whitespace-separated words, without building a list for very long texts."""
    if len(text) < 1_000_000:
        return len(text.split())
    return sum(1 for _ in _WORD.finditer(text))


_WORD = re.compile(r"\S+")


def _partitions(params: RunParams) -> Iterable[list]:
    for source in params.sources:
        logger.info("reading %s", source.label)
        items = tqdm(read_source(source), desc=f"ingest {source.label}", unit="doc", mininterval=2)
        yield from chunked(items, BATCH_SIZE)


def verify_builtins(params: RunParams) -> None:
    """Check every builtin source's raw file against its pinned sha256 before anything is read.

    A changed file raises :class:`newslens.corpus.fetch.ModifiedBuiltinError` (the file, both
    hashes, and ``make data`` to restore it). A user's own files are not checked.
    """
    from newslens.corpus.fetch import verify_builtin

    for source in params.sources:
        if source.builtin is not None:
            verify_builtin(source.builtin)


def ingest(params: RunParams, out_dir: Path | None = None, *, engine: Engine | None = None) -> IngestResult:
    """Run the ingest stage, partition by partition.

    Builtin sources are hash-checked first (:func:`verify_builtins`): a changed raw
    file stops the stage before anything is read or written.

    With ``out_dir``, documents are written as they are made (``documents.parquet``,
    atomically, a folder of part files on the dask engine), so memory stays bounded
    whatever the corpus size, and the result's ``documents`` holds every column but
    ``text`` (read back for the report). Without it, everything stays in memory.
    ``engine`` defaults to the run's ``engine`` key.
    """
    from newslens.files import ParquetParts

    verify_builtins(params)
    reducer = _Reducer(params.unit, params.sources)
    with engine_scope(engine or params.engine) as runner:
        copy = frozenset(source.label for source in params.sources if republished(source))
        prepare = partial(_prepare_partition, params.unit, copy, language=params.language,
                          skip_other=params.other_languages == "skip")
        partitions = runner.map(prepare, _partitions(params))
        if out_dir is None:
            frames = [reducer.add(entries) for entries in partitions]
            documents = pd.concat(frames, ignore_index=True) if frames else _empty_documents()
            return reducer.result(_as_written(documents))
        with ParquetParts(Path(out_dir) / "documents.parquet", document_schema(),
                          partitioned=runner.name == "dask") as writer:
            for entries in partitions:
                writer.write(reducer.add(entries))
    documents = pd.read_parquet(Path(out_dir) / "documents.parquet",
                                columns=[c for c in DOCUMENT_COLUMNS if c != "text"])
    result = reducer.result(documents)
    write_outputs(result, out_dir, documents=False)
    return result


def _as_written(documents: pd.DataFrame) -> pd.DataFrame:
    """The frame as documents.parquet gives it back (the same dtypes in memory and on disk)."""
    import pyarrow as pa

    return pa.Table.from_pandas(documents, schema=document_schema(), preserve_index=False).to_pandas()


def _empty_documents() -> pd.DataFrame:
    return document_schema().empty_table().to_pandas()


def document_schema():
    """The pyarrow schema of documents.parquet (fixed, so every partition writes alike)."""
    import pyarrow as pa

    string = pa.string()
    types = {"unit_index": pa.int64(), "date": pa.timestamp(DATE_UNIT), "n_chars": pa.int64(),
             "n_words": pa.int64(), "language_confidence": pa.float64()}
    return pa.schema([(name, types.get(name, string)) for name in DOCUMENT_COLUMNS])


def flag_near_duplicates(documents: pd.DataFrame, *, threshold: float = NEAR_DUPLICATE_JACCARD,
                         chunk_size: int = BATCH_SIZE) -> pd.Series:
    """For each document, the doc_id of an earlier near-duplicate (word 5-gram Jaccard ≥ threshold).

    The documents are fed to a :class:`NearDuplicateIndex` ``chunk_size`` at a time, as
    the ingest stage does partition by partition; the result does not depend on it.
    """
    index = NearDuplicateIndex(threshold)
    flags: list = []
    for start in range(0, len(documents), chunk_size):
        part = documents.iloc[start:start + chunk_size]
        flags += index.add(part["doc_id"].tolist(), part["text"].tolist())
    return pd.Series(flags, index=documents.index, dtype=object)


def write_outputs(result: IngestResult, out_dir, *, documents: bool = True) -> None:
    """Write documents.parquet, ingest_log.csv and cleaning.csv atomically into ``out_dir``."""
    from newslens.files import write_csv, write_parquet

    if documents:
        write_parquet(result.documents, Path(out_dir) / "documents.parquet")
    out_dir = Path(out_dir)
    write_csv(result.log, out_dir / "ingest_log.csv")
    write_csv(result.changes, out_dir / "cleaning.csv")


def empty_corpus_message(log: pd.DataFrame, run_name: str = "this run") -> str | None:
    """Why a run has no documents after ingest (counts per skip reason), or None when it has some.

    >>> log = pd.DataFrame({"status": ["skipped"] * 3, "reason": ["empty text"] * 2 + ["empty file"]})
    >>> empty_corpus_message(log, "x")
    'run x has no documents after ingest, so there is nothing to analyse: of 3 input entries, 2 skipped (empty text), 1 skipped (empty file)'
    """
    if (log["status"] == "ingested").any():
        return None
    if log.empty:
        return f"run {run_name} has no documents after ingest: its sources hold no file or row"
    summary = log_summary(log)
    counts = ", ".join(f"{row.entries:,} {row.status}" + (f" ({row.reason})" if row.reason else "")
                       for row in summary.itertuples())
    return (f"run {run_name} has no documents after ingest, so there is nothing to analyse: "
            f"of {len(log):,} input entries, {counts}")


def log_summary(log: pd.DataFrame) -> pd.DataFrame:
    """Counts of the ingest log by status and reason (duplicate targets folded together)."""
    reasons = log["reason"].fillna("").str.replace(r"^exact duplicate of .*$", "exact duplicate", regex=True)
    summary = (log.assign(reason=reasons).groupby(["status", "reason"], dropna=False)
               .size().rename("entries").reset_index())
    return summary.sort_values(["status", "entries", "reason"], ascending=[True, False, True],
                               ignore_index=True)


def change_snippets(before: str, after: str, *, context: int = 40, limit: int = 3) -> list[tuple[str, str]]:
    """Up to ``limit`` short before/after excerpts around the places cleaning changed."""
    import difflib

    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    snippets = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (before[i1:i2] + after[j1:j2]).isspace():  # also whitespace dropped or added
            continue
        snippets.append((before[max(0, i1 - context):i2 + context].strip(),
                         after[max(0, j1 - context):j2 + context].strip()))
        if len(snippets) == limit:
            break
    return snippets
