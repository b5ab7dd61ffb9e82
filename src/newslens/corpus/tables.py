"""Reading tables (CSV, TSV, JSON Lines, Parquet) row by row into documents, in bounded memory.

Every data row comes out of :func:`read_table` exactly once, as a document or as a
skip with its reason; a table that cannot be read at all is one skip. Tables are
streamed in chunks of :data:`CHUNK_ROWS`.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

from newslens.corpus.decode import UndecodableError, bom_encoding, decode_bytes
from newslens.corpus.documents import RawDocument, Skipped, cell, location

CHUNK_ROWS = 50_000
ROW_FILTER = "left out by the row filter"  # the start of the reason of every row the filter leaves out
SAMPLE_BYTES = 1 << 20  # a table's encoding is detected on its first ~1 MB


class Row(NamedTuple):
    """One data row of a table or line of a JSON Lines file."""

    number: int  # 1-based row or line number
    values: dict | str  # the row's values, or why it is skipped


class _SkipFile(Exception):
    """A whole table is skipped; the message is the reason."""


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns of a table feed which fields of a document; ``extra`` maps metadata keys to columns."""

    text: str
    id: str | None = None
    title: str | None = None
    date: str | None = None
    group: str | None = None
    group_value: str | None = None  # Source.group: overrides the group column
    group_from: Callable[[str], str] | None = None
    extra: tuple[tuple[str, str], ...] = ()
    missing: tuple[str, ...] = ()  # cell values that mean "no value", such as R's NA
    title_format: str | None = None  # the title from columns: "{president_full}, {date}"
    text_file: str | None = None  # the text column names a file beside the table: "speeches/{}.txt"
    # The row filter (a source's ``exclude``): (column, values) pairs; a row holding one of the values is left out.
    exclude: tuple[tuple[str, tuple], ...] = ()

    def columns(self) -> list[str]:
        """Every column the mapping reads, in order, once."""
        formatted = [name for _, name, _, _ in string.Formatter().parse(self.title_format or "") if name]
        named = [self.text, self.id, self.title, self.date, self.group, *formatted, *(c for _, c in self.extra),
                 *(c for c, _ in self.exclude)]
        return list(dict.fromkeys(c for c in named if c))

    def left_out(self, values: dict) -> str | None:
        """Why the row filter leaves this row out (``left out by the row filter: chair = TRUE``), or None."""
        for column, wanted in self.exclude:
            held = cell(values.get(column))
            if held is not None and any(matches(held, value) for value in wanted):
                return f"{ROW_FILTER}: {column} = {held.strip()}"
        return None


def matches(held: str, value: bool | int | float | str) -> bool:
    """Whether a cell (as text) holds a row filter's value.

    true and false match the cell's text in any case (``TRUE``, ``True``, ``true``: R, Python,
    a Parquet boolean); a number matches a cell of the same number (``3`` and ``3.0``); a
    string matches the cell's text exactly, surrounding spaces aside.

    >>> matches("TRUE", True), matches("FALSE", True), matches("3.0", 3), matches("Con", "con")
    (True, False, True, False)
    """
    held = held.strip()
    if isinstance(value, bool):
        return held.lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return float(held.replace(",", "")) == float(value)
        except ValueError:
            return False
    return held == value.strip()


# A cell that is only a number (``12``, ``-3.5``, ``1,024``, ``2e5``): no words to analyse.
_NUMBER = re.compile(r"\s*[+-]?(?:\d[\d,_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip()[:200]}"


def _sniff_encoding(path: Path) -> str:
    """A table's encoding from its first ~1 MB, cut at a line end; empty files are skipped."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES + 1)
    if len(sample) > SAMPLE_BYTES and bom_encoding(sample) is None:
        sample = sample[: sample.rfind(b"\n", 0, SAMPLE_BYTES) + 1 or SAMPLE_BYTES]
    try:
        text, encoding = decode_bytes(sample)
    except UndecodableError as exc:
        raise _SkipFile(str(exc)) from None
    if not text.strip():
        raise _SkipFile("empty file")
    return encoding


def _check_columns(mapping: ColumnMapping, found: Iterable[str]) -> None:
    found = list(found)
    missing = next((c for c in mapping.columns() if c not in found), None)
    if missing is not None:
        raise _SkipFile(f"missing column {missing!r} (columns: {', '.join(map(str, found))})")


def _numbered(chunks: Iterable[dict[str, list]]) -> Iterator[Row]:
    row = 0
    for chunk in chunks:
        for values in zip(*chunk.values()):
            row += 1
            yield Row(row, dict(zip(chunk, values)))


def _check_delimited(path: Path, mapping: ColumnMapping) -> tuple[str, dict]:
    """Check a CSV/TSV's encoding, header and columns; its encoding and read_csv options."""
    import pandas as pd

    encoding = _sniff_encoding(path)
    options = dict(sep="\t" if path.suffix.lower() == ".tsv" else ",", dtype=str, keep_default_na=False,
                   encoding=encoding, index_col=False)
    try:  # header=None first: a first data row wider than the header must fail, not shift columns
        pd.read_csv(path, **{**options, "header": None, "nrows": 2})
        header = list(pd.read_csv(path, nrows=0, **options).columns)
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError is a ValueError
        raise _SkipFile(f"unreadable table ({_short(exc)})") from None
    _check_columns(mapping, header)
    return encoding, options


def _delimited_rows(path: Path, mapping: ColumnMapping) -> tuple[str, Iterator[Row]]:
    """Check a CSV/TSV (encoding, header, columns) and stream it in chunks of :data:`CHUNK_ROWS`."""
    import pandas as pd

    encoding, options = _check_delimited(path, mapping)

    def chunks() -> Iterator[dict[str, list]]:
        with pd.read_csv(path, chunksize=CHUNK_ROWS, **options) as reader:
            yield from ({c: frame[c].tolist() for c in mapping.columns()} for frame in reader)

    return encoding, _numbered(chunks())


def _jsonl_lines(path: Path, encoding: str) -> Iterator[Row]:
    with path.open(encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Row(number, f"malformed JSON: {exc}")
                continue
            yield Row(number, value if isinstance(value, dict)
                      else f"not a JSON object (got {type(value).__name__})")


def _jsonl_rows(path: Path, mapping: ColumnMapping) -> tuple[str, Iterator[Row]]:
    """Check a JSON Lines file in a first pass (decoding, union of keys), then stream its lines."""
    encoding, keys = _sniff_encoding(path), {}
    try:
        for _, value in _jsonl_lines(path, encoding):
            keys.update(dict.fromkeys(value) if isinstance(value, dict) else {})
    except UnicodeDecodeError as exc:
        raise _SkipFile(f"undecodable bytes ({encoding}: {exc.reason} at byte {exc.start})") from None
    if keys:  # not a single object: each line is reported on its own
        _check_columns(mapping, keys)
    return encoding, _jsonl_lines(path, encoding)


def _parquet_rows(path: Path, mapping: ColumnMapping) -> tuple[str, Iterator[Row]]:
    """Check a Parquet file's schema and stream it batch by batch."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except (ValueError, OSError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise _SkipFile(f"unreadable parquet file ({_short(exc)})") from None
    _check_columns(mapping, names)

    def chunks() -> Iterator[dict[str, list]]:
        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=CHUNK_ROWS, columns=mapping.columns()):
                yield batch.to_pydict()

    return "utf-8", _numbered(chunks())


def read_table(path: Path, label: str, mapping: ColumnMapping) -> Iterator[RawDocument | Skipped]:
    """A table's rows as documents and skips; rows that cannot be parsed skip the rest of the file."""
    loc, row = location(path), 0
    reader = {".parquet": _parquet_rows, ".jsonl": _jsonl_rows}.get(path.suffix.lower(), _delimited_rows)
    try:
        encoding, rows = reader(path, mapping)
    except _SkipFile as exc:
        yield Skipped(label, loc, str(exc))
        return
    try:
        for row, values in rows:
            yield (Skipped(label, f"{loc}:{row}", values) if isinstance(values, str)
                   else _table_item(label, f"{loc}:{row}", encoding, mapping, values))
    except (ValueError, UnicodeDecodeError, OSError) as exc:  # pandas/pyarrow parse errors are ValueErrors
        yield Skipped(label, f"{loc}:{row + 1}", f"unreadable from data row {row + 1} to the end ({_short(exc)})")
        return
    if row == 0:
        yield Skipped(label, loc, "no data rows (header only)")


def _table_item(label: str, loc: str, encoding: str, mapping: ColumnMapping, values: dict) -> RawDocument | Skipped:
    """One row as a document, or a skip when its text is empty."""
    def get(column: str | None) -> str | None:
        value = cell(values.get(column)) if column else None
        return None if value in mapping.missing else value

    if (reason := mapping.left_out(values)) is not None:
        return Skipped(label, loc, reason)
    if (text := get(mapping.text)) is None:
        return Skipped(label, loc, "empty text")
    if _NUMBER.fullmatch(text):  # an id or a count in the wrong column, or a mis-set text_column
        return Skipped(label, loc, f"text column {mapping.text!r} holds a number, not text")
    group = mapping.group_value or get(mapping.group)
    if group and mapping.group_from and mapping.group_value is None:
        try:
            group = mapping.group_from(group)
        except ValueError:
            group = None
    title = (mapping.title_format.format_map({c: get(c) or "" for c in mapping.columns()})
             if mapping.title_format else get(mapping.title))
    return RawDocument(label, loc, text, title, get(mapping.date), group, get(mapping.id),
                       encoding, {key: get(column) for key, column in mapping.extra})


