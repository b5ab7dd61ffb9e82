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
import shutil
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
        _replace_any(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    _remove_stale_temporaries(target)


def _remove_stale_temporaries(target: Path) -> None:
    """Delete temporaries of ``target`` left by a killed writer (SIGKILL skips ``finally``)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")
    for stale in target.parent.iterdir():
        if pattern.fullmatch(stale.name):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
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


def parquet_files(path: str | os.PathLike) -> list[str]:
    """The files of a parquet table in order: the file itself, or a folder's parts in name order
    (:class:`ParquetParts` names them ``part-00000.parquet``, ...)."""
    path = Path(path)
    return sorted(str(p) for p in path.glob("*.parquet")) if path.is_dir() else [str(path)]


class ParquetParts:
    """Write a table partition by partition, atomically, as one file or a folder of parts.

    One file (``partitioned=False``) gets one row group per partition; a folder gets
    ``part-00000.parquet``, ... (what Dask and pyarrow datasets read). Nothing is
    visible at ``target`` until :meth:`close` succeeds: the parts go to a temporary
    beside it, which a failure removes. ``pandas.read_parquet`` reads either form.
    """

    def __init__(self, target: str | os.PathLike, schema, *, partitioned: bool = False):
        import pyarrow.parquet as pq

        self.target, self.schema, self.partitioned = Path(target), schema.remove_metadata(), partitioned
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".tmp",
                                          dir=self.target.parent))
        os.chmod(self._tmp, 0o755)  # a folder output is as readable as a file output
        self._parts = 0
        self._writer = None if partitioned else pq.ParquetWriter(
            self._tmp / "data.parquet", self.schema, compression="zstd", write_statistics=True)

    def write(self, frame: pd.DataFrame) -> None:
        """Append one partition (its columns must match the schema)."""
        import pyarrow as pa

        table = pa.Table.from_pandas(frame.reset_index(drop=True), schema=self.schema, preserve_index=False)
        self.write_table(table)

    def write_table(self, table) -> None:
        """Append one partition as a pyarrow table (its schema must match)."""

        table = table.replace_schema_metadata(None)
        if self._writer is not None:
            if table.num_rows:
                self._writer.write_table(table)
            return
        _write_table(table, self.reserve())

    def reserve(self) -> Path:
        """The path of the folder's next part, for a worker to write (:meth:`write_part`) before :meth:`close`."""
        if not self.partitioned:
            raise ValueError("ParquetParts: only a folder of parts has parts to reserve")
        part = self._tmp / f"part-{self._parts:05d}.parquet"
        self._parts += 1
        return part

    def adopt(self, part: str | os.PathLike) -> None:
        """Append a parquet file a worker wrote (of this schema) as the next partition.

        A folder takes the file itself, hard-linked (copied only where the link cannot be made,
        across file systems): its bytes are not read here, and ``part`` stays where it was. One
        file reads it and appends it as a row group.
        """
        import pyarrow.parquet as pq

        if self._writer is not None:
            self.write_table(pq.read_table(part))
            return
        target = self.reserve()
        try:
            os.link(part, target)
        except OSError:
            shutil.copyfile(part, target)
            os.chmod(target, 0o644)

    @staticmethod
    def write_part(frame: pd.DataFrame, schema, path: str | os.PathLike) -> None:
        """Write one part as :meth:`write` would (anywhere: a worker writes the part it was given)."""
        import pyarrow as pa

        table = pa.Table.from_pandas(frame.reset_index(drop=True), schema=schema.remove_metadata(),
                                     preserve_index=False)
        _write_table(table.replace_schema_metadata(None), Path(path))

    def close(self) -> Path:
        """Finish the file or folder and move it to ``target`` (replacing what was there)."""
        if self._writer is not None:
            self._writer.close()
            produced = self._tmp / "data.parquet"
            os.chmod(produced, 0o644)
        else:
            if not self._parts:  # an empty table still has its schema
                self.write(self.schema.empty_table().to_pandas())
            produced = self._tmp
        _replace_any(produced, self.target)
        shutil.rmtree(self._tmp, ignore_errors=True)
        _remove_stale_temporaries(self.target)
        return self.target

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "ParquetParts":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _write_table(table, part: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, part, compression="zstd", write_statistics=True)
    os.chmod(part, 0o644)


def _replace_any(source: Path, target: Path) -> None:
    """Move ``source`` (file or folder) to ``target``, replacing a file or folder there."""
    if source.is_file() and not target.is_dir():
        os.chmod(source, 0o644)
        os.replace(source, target)
        return
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(source, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_csv(frame: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Write ``frame`` as UTF-8 CSV without the index, atomically."""
    return write_text(target, frame.to_csv(index=False, lineterminator="\n"))


def release_arrow_memory() -> None:
    """Hand the memory Arrow's allocator kept after a large read back to the system.

    Arrow's default pool (mimalloc) keeps what a read freed for its next one: reading the ×16
    news corpus's tfidf.parquet for the topic sample left the process some 260 MiB larger than
    the matrices it built, memory that only Arrow could reuse. After a large read that is done,
    this gives it back (``MemoryPool.release_unused``).
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def read_parquet(path: str | os.PathLike, *, without: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a parquet file (or folder of parts) written here; ``without``: columns not to read.

    ``without=("text",)`` reads documents.parquet's metadata without loading a word of text.
    """
    import pyarrow.dataset as ds

    names = ds.dataset(path, format="parquet").schema.names
    frame = pd.read_parquet(path, columns=[name for name in names if name not in without] if without else None)
    release_arrow_memory()  # what the read held beside the frame
    return frame


def wanted_texts(path: str | os.PathLike, doc_ids) -> Iterator[tuple[list[str], list[str]]]:
    """The (doc_ids, texts) of the rows of documents.parquet (a file or a folder of parts) whose doc_id is in
    ``doc_ids``, row group by row group in file order; a row group's texts are read only when it holds one.

    One row group is read at a time: a dataset scan with a filter, or ``iter_batches``, read ahead and held
    some 450 or 200 MiB for the 20,000 texts of the ×16 news corpus's topic sample; this reading, 90 MiB.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    wanted = pa.array(sorted(set(doc_ids)), type=pa.large_string())
    if not len(wanted):
        return
    for name in parquet_files(path):
        with pq.ParquetFile(name) as parquet:
            for group in range(parquet.metadata.num_row_groups):
                ids = parquet.read_row_group(group, columns=["doc_id"]).column("doc_id")
                mask = pc.is_in(ids.cast(pa.large_string()), value_set=wanted)
                if not pc.any(mask).as_py():
                    continue
                texts = parquet.read_row_group(group, columns=["text"]).column("text").filter(mask)
                yield ids.filter(mask).to_pylist(), texts.to_pylist()
    release_arrow_memory()  # the row groups read and dropped


def texts_of(path: str | os.PathLike, doc_ids) -> pd.Series:
    """The texts of ``doc_ids`` from documents.parquet (a file or a folder of parts), by doc_id.

    The file is scanned a batch at a time (:func:`wanted_texts`) and only the chosen documents' texts are
    kept, so a stage that shows or refits a few documents never holds the corpus's texts.
    """
    ids: list[str] = []
    texts: list[str] = []
    for batch_ids, batch_texts in wanted_texts(path, doc_ids):
        ids += batch_ids
        texts += batch_texts
    if not ids:
        return pd.Series([], index=pd.Index([], name="doc_id", dtype=object), dtype=object, name="text")
    return pd.Series(texts, index=pd.Index(ids, name="doc_id"), name="text")


def with_texts(documents: pd.DataFrame, path: str | os.PathLike, doc_ids) -> pd.DataFrame:
    """``documents`` (read without their texts) with a ``text`` column: the texts of ``doc_ids``, None elsewhere."""
    texts = texts_of(path, doc_ids)
    return documents.assign(text=documents["doc_id"].map(texts).astype(object).where(
        documents["doc_id"].isin(texts.index), None))


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
