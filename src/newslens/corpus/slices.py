"""Where each partition of ingest lies: the references its tasks carry, read by the workers.

The driver plans a run's partitions (:func:`plan`) without reading the texts of a
delimited table (CSV, TSV, a builtin such as ``news-articles``): one scan of the file's
bytes, block by block as the partitions are taken, finds the record ends outside quoted fields
(so the first tasks start before the scan ends), and each partition is a byte range
of about :data:`BATCH_SIZE` records (:class:`TableSlice`, a few hundred bytes). A
worker reads its range, with the header, and parses it exactly as the whole table
is parsed (:func:`read_slice`). Its rows are numbered from 1 within the slice; the
driver, which folds the slices in in order, adds the rows of the slices before
(:func:`renumbered`), so every location reads ``file.csv:<row>`` as when the table
is read whole.

Other sources (folders and single files, JSON Lines and Parquet tables, tables that
name text files, tables in an encoding that is not ASCII-compatible) are read on the
driver as before and their items travel in the task (:class:`ItemSlice`).

A slice that does not parse makes the rest of its table unreadable, as reading it
whole would: the driver drops the table's later slices (:func:`newslens.corpus.ingest.ingest`).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from newslens import params as run_params
from newslens.corpus.documents import RawDocument, Skipped, location
from newslens.corpus.tables import ColumnMapping, _check_delimited, _short, _SkipFile, _table_item
from newslens.engine import PARTITION_DOCUMENTS, chunked

logger = logging.getLogger(__name__)

BATCH_SIZE = PARTITION_DOCUMENTS  # records per partition
SCAN_BYTES = 1 << 24  # a table is scanned for its record ends 16 MB at a time
_QUOTE, _NEWLINE = ord('"'), ord("\n")
_ROW = re.compile(r":(\d+)$")
_UNREADABLE = re.compile(r"^unreadable from data row (\d+) ")


@dataclass(frozen=True)
class ItemSlice:
    """A partition whose items were read on the driver: they travel in the task."""

    source: int  # the source's place in the run
    items: list

    def read(self) -> list:
        return self.items


@dataclass(frozen=True)
class TableSlice:
    """A partition of a delimited table by reference: the header's bytes and a byte range of records."""

    source: int
    label: str
    path: str
    loc: str  # the table's location, as the log writes it
    encoding: str
    sep: str
    mapping: ColumnMapping
    header: int  # bytes of the header record (from the start of the file)
    start: int  # the range of whole records, in bytes
    stop: int
    only: bool  # the table's one slice: no rows at all is "no data rows (header only)"

    def read(self) -> list:
        return read_slice(self)


def plan(sources: list[run_params.Source]) -> Iterator[ItemSlice | TableSlice]:
    """The run's partitions in input order: delimited tables by reference, other sources' items."""
    from newslens.corpus.sources import read_source

    for number, source in enumerate(sources):
        logger.info("reading %s", source.label)
        table = _delimited(source)
        if table is not None:
            path, mapping = table
            yield from _table_slices(number, source.label, path, mapping)
            continue
        for items in chunked(read_source(source), BATCH_SIZE):
            yield ItemSlice(number, items)


def _delimited(source: run_params.Source) -> tuple[Path, ColumnMapping] | None:
    """A source's CSV/TSV path and column mapping, or None when it is another kind of source."""
    from newslens import config
    from newslens.corpora import get_builtin
    from newslens.corpus.sources import builtin_mapping, table_mapping

    if source.builtin is not None:
        from newslens.corpus.fetch import builtin_path

        corpus = get_builtin(source.builtin)
        path, mapping = Path(builtin_path(source.builtin)), builtin_mapping(corpus.columns, source.exclude)
        if mapping.text_file is not None:
            return None
    else:
        path = config.resolve_path(source.path)
        if not path.is_file():
            return None
        mapping = table_mapping(source)
    if path.suffix.lower() not in (".csv", ".tsv") or not path.is_file():
        return None
    return path, mapping


def _table_slices(number: int, label: str, path: Path, mapping: ColumnMapping) -> Iterator[ItemSlice | TableSlice]:
    from newslens.corpus.tables import read_table

    try:
        encoding, options = _check_delimited(path, mapping)
    except _SkipFile as exc:
        yield ItemSlice(number, [Skipped(label, location(path), str(exc))])
        return
    if not _ascii_compatible(encoding):  # a newline byte is not a line end in UTF-16: read it here
        yield from (ItemSlice(number, items) for items in chunked(read_table(path, label, mapping), BATCH_SIZE))
        return
    size = path.stat().st_size
    bounds = record_bounds(path, BATCH_SIZE)  # scanned as the slices are taken: the first task need not wait
    header = start = next(bounds, size)
    held, alone = None, True  # the last range found, held until the next says whether it is the only one
    for stop in _to_the_end(bounds, size):
        if held is not None:
            yield TableSlice(number, label, str(path), location(path), encoding, options["sep"], mapping, header,
                             *held, only=False)
            alone = False
        held, start = (start, stop), stop
    yield TableSlice(number, label, str(path), location(path), encoding, options["sep"], mapping, header,
                     *held, only=alone)


def _to_the_end(bounds: Iterator[int], size: int) -> Iterator[int]:
    """The slices' ends: ``bounds``, then the file's end unless the last bound is there already."""
    last = None
    for last in bounds:
        yield last
    if last is None or last < size:
        yield size


def _ascii_compatible(encoding: str) -> bool:
    return "16" not in encoding and "32" not in encoding


def record_bounds(path: Path, every: int, block: int | None = None) -> Iterator[int]:
    """The byte offsets that cut a delimited file into slices of ``every`` records, found as it is read.

    First the end of the header record (the first record), then the end of every ``every``-th
    record after it (:func:`record_end_blocks`). Nothing is yielded for a file with no newline
    outside quotes; the file's end is not yielded unless a record ends there.
    """
    seen = 0  # record ends before this block's, the header's included
    for ends in record_end_blocks(path, block):
        if seen == 0 and len(ends):
            yield int(ends[0])
        numbers = np.arange(seen, seen + len(ends))  # the header is record end 0
        yield from ends[(numbers >= every) & (numbers % every == 0)].tolist()
        seen += len(ends)


def record_end_blocks(path: Path, block: int | None = None) -> Iterator[np.ndarray]:
    """The byte offsets just after each newline that ends a record (outside a quoted field), block by block.

    A field in double quotes may hold newlines, and a quote inside it is doubled, so a newline
    ends a record exactly when the quotes before it are even in number. Each block of
    ``block`` bytes (:data:`SCAN_BYTES`) costs two byte comparisons and a binary search of its
    newlines among its quotes, not a running count at every byte.
    """
    quotes, offset = 0, 0  # the parity of the quotes before the block, and where it starts
    with open(path, "rb") as handle:
        while chunk := handle.read(block or SCAN_BYTES):
            data = np.frombuffer(chunk, dtype=np.uint8)
            quoted = np.flatnonzero(data == _QUOTE)
            newlines = np.flatnonzero(data == _NEWLINE)
            before = np.searchsorted(quoted, newlines) + quotes  # quotes before each newline
            yield newlines[before % 2 == 0] + (offset + 1)
            quotes = (quotes + len(quoted)) % 2
            offset += len(chunk)


def read_slice(part: TableSlice) -> list[RawDocument | Skipped]:
    """On a worker: a table slice's rows as documents and skips, rows numbered from 1 within the slice."""
    import pandas as pd

    with open(part.path, "rb") as handle:
        head = handle.read(part.header)
        handle.seek(part.start)
        data = handle.read(part.stop - part.start)
    columns = part.mapping.columns()
    try:
        frame = pd.read_csv(io.BytesIO(head + data), sep=part.sep, dtype=str, keep_default_na=False,
                            encoding=part.encoding, index_col=False)
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError is a ValueError
        return [Skipped(part.label, f"{part.loc}:1", f"unreadable from data row 1 to the end ({_short(exc)})")]
    items = [_table_item(part.label, f"{part.loc}:{row}", part.encoding, part.mapping, dict(zip(columns, values)))
             for row, values in enumerate(zip(*(frame[c].tolist() for c in columns)), start=1)]
    if not items and part.only:
        items.append(Skipped(part.label, part.loc, "no data rows (header only)"))
    return items


def rows_read(items: list) -> tuple[int, bool]:
    """How many data rows a table slice's items hold, and whether its table stops being readable there."""
    broken = any(isinstance(i, Skipped) and _UNREADABLE.match(i.reason) for i in items)
    return sum(1 for i in items if _ROW.search(i.location)) - broken, broken


def renumbered(location_: str, reason: str, offset: int) -> tuple[str, str]:
    """A table row's location (and an 'unreadable from data row' reason) with ``offset`` rows added."""
    if not offset:
        return location_, reason
    found = _ROW.search(location_)
    if found is None:
        return location_, reason
    row = int(found.group(1)) + offset
    reason = _UNREADABLE.sub(f"unreadable from data row {row} ", reason)
    return f"{location_[:found.start()]}:{row}", reason
