"""Reading members of zip archives safely: no member may escape its folder, every one hash-checked."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from newslens.corpus.integrity import check_sha256, verify_bytes
from newslens.files import atomic_path

CHUNK = 1 << 20  # bytes read at a time while streaming and hashing


class ArchiveError(ValueError):
    """An archive is unreadable or lacks the member we need."""


class UnsafeMemberError(ArchiveError):
    """An archive member could escape the target folder (zip-slip) or is a symlink."""


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


def open_zip(source: BinaryIO, label: str) -> zipfile.ZipFile:
    """``source`` opened as a zip archive named ``label`` in messages; :class:`ArchiveError` if it is none."""
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
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        check_sha256(name, expected_sha256, digest.hexdigest(),
                     "nothing was extracted")
    target.chmod(0o444)  # raw data is read-only, like data/raw/seed/
    return target
