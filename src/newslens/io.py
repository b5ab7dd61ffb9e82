"""Atomic writes and file hashes.

Every output goes through these helpers: the bytes are written to a temporary
file in the same folder and then renamed over the target, so a killed run never
leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator

import pandas as pd


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    _remove_stale_temporaries(target)


def _remove_stale_temporaries(target: Path) -> None:
    """Delete temporaries of ``target`` left by a killed writer (SIGKILL skips ``finally``)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")
    for stale in target.parent.iterdir():
        if pattern.fullmatch(stale.name):
            stale.unlink(missing_ok=True)


def write_bytes(target: str | os.PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(payload)
    return Path(target)


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` with Unix newlines to ``target`` atomically."""
    return write_bytes(target, text.encode("utf-8"))


def write_parquet(frame: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Write ``frame`` as parquet, atomically and byte-stable (no pandas index, fixed writer)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    # Drop the pandas metadata blob: it records library versions, not data.
    table = table.replace_schema_metadata(None)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=True)
    return write_bytes(target, buffer.getvalue())


def write_csv(frame: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Write ``frame`` as UTF-8 CSV without the index, atomically."""
    return write_text(target, frame.to_csv(index=False, lineterminator="\n"))


def read_parquet(path: str | os.PathLike) -> pd.DataFrame:
    """Read a parquet file written by :func:`write_parquet`."""
    return pd.read_parquet(path)


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks so large files use little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(payload: bytes) -> str:
    """Hex sha256 of ``payload``."""
    return hashlib.sha256(payload).hexdigest()
