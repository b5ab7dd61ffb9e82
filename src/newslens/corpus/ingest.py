"""Stage 01: read every source, clean, split into units, deduplicate.

Outputs ``documents.parquet`` (one row per document or unit) and
``ingest_log.csv``, which accounts for every input file and row: ingested,
merged as a duplicate, skipped (with the reason) or read as metadata.
:func:`run` is the stage: it ingests the run's sources (:func:`ingest`) and
returns what its report shows (:class:`IngestResult`).

What any corpus may bring, and what becomes of it:

* dates from year 1 to 9999 (held in milliseconds), naive and UTC-offset values mixed,
  partial dates (``1850``, ``1850-03``) with their precision in ``date_precision``
  (:mod:`newslens.corpus.dates`);
* a source whose date values mostly fail to parse (under
  :data:`newslens.corpus.dates.MIN_DATE_PARSE_RATE` of its first partition) is not used
  for dating: one note names the column and the rate;
* a missing group is :data:`newslens.corpus.clean.MISSING_GROUP` in every stage; an all-empty
  group column is noted; integer-valued groups read ``2``, not ``2.0``;
* a text cell that is only a number is skipped, row by row, with the column named;
* a run with no documents: :func:`empty_corpus_message` counts the skip reasons, and the
  pipeline stops after rendering the ingest report;
* documents in another language than the run's: each document's language is detected
  (:mod:`newslens.corpus.language`, py3langid) and stored with its confidence; with
  ``other_languages: skip`` those in another language are skipped and logged with the
  reason, otherwise kept and counted.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import pandas as pd
from tqdm.auto import tqdm

from newslens.corpus.language import language_counts, language_warning
from newslens.corpus import slices
from newslens.corpus.partitions import (DOCUMENT_COLUMNS, METADATA_COLUMNS, Ingested, Reducer, Scratched,
                                        document_schema, empty_documents, prepare_to_scratch)
from newslens.corpus.periods import Resolution, counts_over_time
from newslens.corpus.sources import republished
from newslens.engine import Engine, engine_scope
from newslens.params import RunParams

if TYPE_CHECKING:
    from newslens.stages import StageRun

logger = logging.getLogger(__name__)

EXCERPT_DOCUMENTS = 6  # changed texts the report excerpts: a few, so the table stays readable
EXCERPTS_PER_DOCUMENT = 2  # places excerpted per text, so that one text does not fill the table
OUTSIDE_COLUMNS = ["doc_id", "group", "date", "title"]  # what the report lists of a unit dated outside the chart


@dataclass(frozen=True)
class IngestResult:
    """What stage 01 wrote (its three files) and everything its report shows."""

    documents_path: Path
    log_path: Path
    cleaning_path: Path
    documents: pd.DataFrame  # documents.parquet, every column but text
    log: pd.DataFrame  # ingest_log.csv
    title: str
    run_language: str
    n_sources: int
    n_units: int
    n_groups: int
    first_date: pd.Timestamp | None  # the earliest date; None when no unit is dated
    last_date: pd.Timestamp | None
    n_entries: int  # input files and rows the log accounts for
    status_counts: pd.Series  # log entries per status, statuses sorted
    notes: tuple[str, ...]  # decisions about a whole source: a date column not used, an empty group column
    empty: str | None  # why the run has no documents (the pipeline stops after the report), or None
    per_group: pd.Series  # units per group, largest first
    over_time: pd.DataFrame  # units per period (rows) and group (columns); empty when nothing is dated
    outside: pd.DataFrame  # units dated outside the main period: OUTSIDE_COLUMNS
    resolution: Resolution
    lengths: pd.Series  # words per unit: count, mean, std, min, quartiles, max
    languages: pd.DataFrame  # units by language and how it was decided
    language_warning: str | None
    changes: pd.DataFrame  # cleaning.csv: kind, count
    excerpts: pd.DataFrame  # document, before, after: a few places cleaning changed
    log_summary: pd.DataFrame  # log entries by status and reason
    near_duplicates: int  # units flagged as near-duplicates of an earlier one (kept)


def run(stage_run: StageRun) -> IngestResult:
    """Stage 01: ingest the run's sources into its processed folder; return what was written and shown."""
    params, out = stage_run.params, stage_run.processed_dir
    ingested = ingest(params, out)  # streams documents.parquet; its documents hold no text
    documents, log = ingested.documents, ingested.log
    dated = documents["date"].dropna()
    over_time, outside, resolution = counts_over_time(documents)  # day … decade, from the span
    languages = language_counts(documents, log)
    return IngestResult(
        documents_path=out / "documents.parquet", log_path=out / "ingest_log.csv",
        cleaning_path=out / "cleaning.csv", documents=documents, log=log,
        title=params.title, run_language=params.language, n_sources=len(params.sources),
        n_units=len(documents), n_groups=documents["group"].nunique(),
        first_date=dated.min() if len(dated) else None, last_date=dated.max() if len(dated) else None,
        n_entries=len(log), status_counts=log["status"].value_counts().sort_index(), notes=tuple(ingested.notes),
        empty=empty_corpus_message(log, stage_run.name),
        per_group=documents["group"].value_counts().sort_values(ascending=False),
        over_time=over_time, outside=outside[OUTSIDE_COLUMNS], resolution=resolution,
        lengths=documents["n_words"].describe(),
        languages=languages, language_warning=language_warning(languages, params.language),
        changes=ingested.changes, excerpts=excerpts(ingested.examples), log_summary=log_summary(log),
        near_duplicates=int(documents["near_duplicate_of"].notna().sum()))


def _partitions(params: RunParams) -> Iterable:
    """The run's partitions as references (:func:`newslens.corpus.slices.plan`), with a progress bar."""
    return tqdm(slices.plan(params.sources), desc="ingest", unit="partition", mininterval=2)


def _in_order(parts: Iterable[Scratched]) -> Iterator[Scratched]:
    """The prepared partitions with their tables' rows numbered across slices.

    A table that stops being readable in one slice is unreadable to its end: its later
    slices are dropped here, as reading the table whole would never reach them.
    """
    offsets: Counter = Counter()
    broken: set[int] = set()
    for part in parts:
        if part.source in broken:
            continue
        if part.table:
            offset, offsets[part.source] = offsets[part.source], offsets[part.source] + part.rows
            part = part._replace(offset=offset)
            if part.broken:
                broken.add(part.source)
        yield part


def verify_builtins(params: RunParams) -> None:
    """Check every builtin source's raw file against its pinned sha256 before anything is read.

    A changed file raises :class:`newslens.corpus.fetch.ModifiedBuiltinError` (the file, both
    hashes, and ``make data`` to restore it). A user's own files are not checked.
    """
    from newslens.corpus.fetch import verify_builtin

    for source in params.sources:
        if source.builtin is not None:
            verify_builtin(source.builtin)


def ingest(params: RunParams, out_dir: Path | None = None, *, engine: Engine | None = None) -> Ingested:
    """Run the ingest stage, partition by partition.

    Builtin sources are hash-checked first (:func:`verify_builtins`): a changed raw
    file stops the stage before anything is read or written.

    The workers clean and split each partition and keep its texts in a scratch folder
    (:func:`~newslens.corpus.partitions.prepare_to_scratch`); the driver folds in only
    their metadata, lengths and near-duplicate band keys, in order (the
    :class:`~newslens.corpus.partitions.Reducer`). With ``out_dir``, documents.parquet
    is written as partitions are decided (atomically): on the dask engine a folder of
    parts, each written by a worker from its scratch texts; on the pandas engine one file,
    written here. The result's ``documents`` then holds every column but ``text``.
    Without ``out_dir``, everything is returned in memory. The scratch folder (inside
    ``out_dir``, which on a cluster must be storage every worker reaches) is removed at
    the end, also on error. ``engine`` defaults to the run's ``engine`` key.
    """
    from newslens.files import ParquetParts

    verify_builtins(params)
    out = Path(out_dir) if out_dir is not None else None
    with engine_scope(engine or params.engine) as runner, Reducer(params.unit, params.sources) as reducer, \
            _scratch(out) as scratch:
        copy = frozenset(source.label for source in params.sources if republished(source))
        prepare = partial(prepare_to_scratch, str(scratch), params.unit, copy, language=params.language,
                          skip_other=params.other_languages == "skip")
        parts = _in_order(runner.map(prepare, enumerate(_partitions(params))))
        if out is None:
            frames = [_with_texts(*reducer.add_scratched(part), part.texts) for part in parts]
            documents = pd.concat(frames, ignore_index=True) if frames else empty_documents()
            return reducer.result(_as_written(documents))
        partitioned = runner.name == "dask"
        with ParquetParts(out / "documents.parquet", document_schema(), partitioned=partitioned) as writer:
            if not partitioned:
                for part in parts:
                    writer.write(_with_texts(*reducer.add_scratched(part), part.texts))
            else:  # the workers join the texts and write the parts: the driver sends file names
                jobs = [_decided(reducer, part, scratch, writer.reserve()) for part in parts]
                for _ in runner.map(write_part, jobs):
                    pass
    documents = pd.read_parquet(out / "documents.parquet", columns=METADATA_COLUMNS)
    result = reducer.result(documents)
    write_outputs(result, out, documents=False)
    return result


@contextlib.contextmanager
def _scratch(out_dir: Path | None) -> Iterator[Path]:
    """A scratch folder for the workers' texts and sketches (in ``out_dir`` when given), removed afterwards."""
    import shutil
    import tempfile

    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".ingest-scratch-", dir=out_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _with_texts(frame: pd.DataFrame, rows, texts_path: str) -> pd.DataFrame:
    """A partition's document rows with their texts read back from the worker's scratch file."""
    import pyarrow.parquet as pq

    if len(frame):
        frame["text"] = pq.read_table(texts_path).column("text").take(rows).to_pylist()
    return frame


def _decided(reducer: Reducer, part, scratch: Path, target: Path) -> tuple[str, str, str]:
    """Fold a partition in and leave its decided rows (no text) in the scratch folder; a part's job."""
    from newslens.files import write_parquet

    frame, rows = reducer.add_scratched(part)
    decided = scratch / f"decided-{part.number:05d}.parquet"
    write_parquet(frame.drop(columns="text").assign(_text_row=rows), decided)
    return str(decided), part.texts, str(target)


def write_part(job: tuple[str, str, str]) -> int:
    """On a worker: join a partition's decided rows with its scratch texts; write its part of documents.parquet."""
    import pyarrow.parquet as pq

    from newslens.files import ParquetParts

    decided, texts, target = job
    frame = pd.read_parquet(decided)
    frame.insert(DOCUMENT_COLUMNS.index("text"), "text",
                 pq.read_table(texts).column("text").take(frame.pop("_text_row").to_numpy()).to_pylist())
    ParquetParts.write_part(frame, document_schema(), Path(target))
    return len(frame)


def _as_written(documents: pd.DataFrame) -> pd.DataFrame:
    """The frame as documents.parquet gives it back (the same dtypes in memory and on disk)."""
    import pyarrow as pa

    return pa.Table.from_pandas(documents, schema=document_schema(), preserve_index=False).to_pandas()


def write_outputs(result: Ingested, out_dir, *, documents: bool = True) -> None:
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


DIFF_CHARS = 20_000  # texts up to this long (each) are compared whole; longer ones window by window
DIFF_WINDOW = 2_000  # characters of each text compared at a time beyond that


def change_snippets(before: str, after: str, *, context: int = 40, limit: int = 3) -> list[tuple[str, str]]:
    """Up to ``limit`` short before/after excerpts around the places cleaning changed.

    Texts of up to :data:`DIFF_CHARS` characters are compared whole (``difflib``). Longer ones
    are compared from one change to the next: the common run is skipped in linear time and the
    next :data:`DIFF_WINDOW` characters of each are compared, so a long speech costs a few
    windows, not a comparison of every character with every other (``difflib`` without its
    junk heuristic took minutes on a 60,000-character address).
    """
    if len(before) <= DIFF_CHARS and len(after) <= DIFF_CHARS:
        return _snippets(before, after, context, limit)
    snippets: list[tuple[str, str]] = []
    i = j = 0
    while len(snippets) < limit and (i < len(before) or j < len(after)):
        same = _common_prefix(before, after, i, j)
        i, j = i + same, j + same
        if i >= len(before) and j >= len(after):
            break
        snippet, (i, j) = _next_change(before, after, i, j, context)
        if snippet is not None:
            snippets.append(snippet)
    return snippets


def _snippets(before: str, after: str, context: int, limit: int) -> list[tuple[str, str]]:
    """The excerpts of the first ``limit`` changes, the texts compared whole."""
    import difflib

    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    snippets = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (before[i1:i2] + after[j1:j2]).isspace():  # also whitespace dropped or added
            continue
        snippets.append(_excerpt(before, after, (i1, j1, i2, j2), context)[0])
        if len(snippets) == limit:
            break
    return snippets


def _common_prefix(before: str, after: str, i: int, j: int) -> int:
    """The length of the common run of ``before[i:]`` and ``after[j:]``, found block by block."""
    same, block = 0, 4096
    while block:
        a, b = before[i + same:i + same + block], after[j + same:j + same + block]
        if a == b and len(a) == block:
            same += block
        else:
            block //= 2
    return same


def _next_change(before: str, after: str, i: int, j: int, context: int) -> tuple[tuple[str, str] | None, tuple[int, int]]:
    """The first change (not of whitespace only) in the next :data:`DIFF_WINDOW` characters from
    ``before[i]`` and ``after[j]``, as an excerpt, and where to go on comparing. Changes less than
    ``context`` apart are one excerpt (it shows them both); comparing goes on after the last. When
    the window holds no change, it goes on at the end of the window's last common run, so that the
    texts stay aligned."""
    import difflib

    a, b = before[i:i + DIFF_WINDOW], after[j:j + DIFF_WINDOW]
    resume = (i + max(len(a), 1), j + max(len(b), 1))
    found = None  # (i1, j1) of the change, then its end as it grows
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        cut = (i2 == len(a) == DIFF_WINDOW) or (j2 == len(b) == DIFF_WINDOW)
        if tag != "equal" and cut and (found is not None or i1 or j1):
            # a change running into the end of a window may be the window's cut, not the texts':
            # the next window starts where it does
            return (None, (i + i1, j + j1)) if found is None else _excerpt(before, after, found, context)
        if tag == "equal":
            if found is not None and i2 - i1 >= context:
                break
            resume = (i + i2, j + j2)
            continue
        if found is None and (a[i1:i2] + b[j1:j2]).isspace():
            continue
        found = (found or (i + i1, j + j1))[:2] + (i + i2, j + j2)
    if found is None:
        return None, resume
    return _excerpt(before, after, found, context)


def _excerpt(before: str, after: str, found: tuple[int, int, int, int],
             context: int) -> tuple[tuple[str, str], tuple[int, int]]:
    """The excerpt of a change (``found``: its start and end in each text) and where comparing goes on."""
    i1, j1, i2, j2 = found  # a change ends past its start in one text at least: comparing moves on
    return ((before[max(0, i1 - context):i2 + context].strip(), after[max(0, j1 - context):j2 + context].strip()),
            (i2, j2))


def excerpts(examples: pd.DataFrame) -> pd.DataFrame:
    """Before/after excerpts (document, before, after) of the first changed texts, where cleaning changed them."""
    rows = [{"document": location, "before": old, "after": new}
            for location, before, after, _ in examples.head(EXCERPT_DOCUMENTS).itertuples(index=False)
            for old, new in change_snippets(before, after, limit=EXCERPTS_PER_DOCUMENT)]
    return pd.DataFrame(rows, columns=["document", "before", "after"])
