"""Readers for every source kind of the run contract: text files, folders, tables, builtins.

Readers only READ and DECODE (the ingest stage cleans and deduplicates). Every
input file and table row comes out of :func:`read_source` exactly once, as a
:class:`RawDocument` or as a :class:`Skipped` with a reason; raw files are
never modified. Tables are streamed in chunks (bounded memory,
:mod:`newslens.corpus.tables`); a single text file is read whole.

>>> items = list(read_source(params.Source(path="data/raw/seed/")))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple
from urllib.parse import urlsplit

from newslens import config, params
from newslens.corpora import Columns, get_builtin
from newslens.corpus.decode import UndecodableError, decode_bytes
from newslens.corpus.documents import RawDocument, Skipped, cell, location
from newslens.corpus.tables import ColumnMapping, read_table

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = params.TEXT_SUFFIXES


class _Entry(NamedTuple):
    """What a folder holds at one path: a ``file``, or why a folder is not entered."""

    path: str  # relative to the folder, in POSIX form
    kind: str


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
    loc = location(path, base)
    try:
        text, encoding = decode_bytes(path.read_bytes())
    except UndecodableError as exc:
        return Skipped(label, loc, str(exc))
    except OSError as exc:
        return Skipped(label, loc, f"unreadable file ({exc.strerror or exc})")
    if not text.strip():
        return Skipped(label, loc, "empty file")
    meta = dict(sidecar or {})
    title, date, side_group = (cell(meta.pop(key, None)) for key in ("title", "date", "group"))
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
        loc = location(path, root)
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


# --------------------------------------------------------------------------- builtins and the entry point


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


# How a builtin's group comes from its group column (newslens.corpora.Columns.group_from).
GROUP_FROM = {"outlet": outlet_from_url, "account": account_from_id}


def builtin_mapping(columns: Columns, exclude: dict[str, tuple] | None = None) -> ColumnMapping:
    """A builtin's columns as the table reader's mapping, its group derivation by name resolved."""
    fields = {field.name: getattr(columns, field.name) for field in dataclasses.fields(columns)}
    return ColumnMapping(**{**fields, "group_from": GROUP_FROM[columns.group_from] if columns.group_from else None,
                            "exclude": tuple((exclude or {}).items())})


def _read_text_files(table: Path, label: str, mapping: ColumnMapping,
                     metadata: Iterable[Path]) -> Iterator[RawDocument | Skipped]:
    """A table with one row per text file: each row's text is the file its text column names.

    The table and ``metadata`` (a hash manifest) are logged as metadata of every
    document; a row's location is its text file.
    """
    folder = (table.parent / mapping.text_file.split("{}")[0]).resolve()
    for path in (table, *metadata):
        yield Skipped(label, location(path), "sidecar metadata for every text (merged into each document)"
                      if path == table else "sidecar metadata: the sha256 of every text (checked before reading)")
    for item in read_table(table, label, mapping):
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


def _read_builtin(source: params.Source) -> Iterator[RawDocument | Skipped]:
    """A builtin corpus, hash-checked by ingest before this reads it, with its own column mapping."""
    from newslens.corpus.fetch import builtin_path

    corpus = get_builtin(source.builtin)
    path, mapping = Path(builtin_path(source.builtin)), builtin_mapping(corpus.columns, source.exclude)
    if mapping.text_file is None:
        return read_table(path, source.label, mapping)
    return _read_text_files(path, source.label, mapping, [corpus.target / corpus.manifest])


def table_mapping(source: params.Source) -> ColumnMapping:
    """A table source's columns as the table reader's mapping."""
    return ColumnMapping(source.text_column, source.id_column, source.title_column, source.date_column,
                         source.group_column, group_value=source.group,
                         exclude=tuple((source.exclude or {}).items()))


def _read_path(path: Path, source: params.Source) -> Iterator[RawDocument | Skipped]:
    """A folder, a table (with its column mapping) or a single file (with its sidecar, if any)."""
    suffix = path.suffix.lower()
    if path.is_dir():
        return _read_folder(path, source.label, source.group)
    if suffix in params.TABLE_SUFFIXES:
        return read_table(path, source.label, table_mapping(source))
    sidecar = path.with_suffix(".json")
    names = [path.name] + ([sidecar.name] if suffix in TEXT_SUFFIXES and sidecar.is_file() else [])
    return _read_folder(path.parent, source.label, source.group, sorted(_Entry(n, "file") for n in names))


def republished(source: params.Source) -> bool:
    """Whether a source is republished copy (only builtins say so), so ingest rejoins its cut fragments."""
    return source.builtin is not None and get_builtin(source.builtin).republished


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
        items = _read_builtin(source)
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
