"""Statistics of a run's kept tokens (``tokens.parquet``): vocabulary growth and tokens per document."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def heaps_curve(tokens: pd.DataFrame, points: int = 60) -> tuple[pd.DataFrame, float, float]:
    """Vocabulary growth V(n) over the running token count n, and the fit V = K·n^β.

    The fit is least squares on log V against log n over the sampled points.
    """
    seen: set[str] = set()
    steps, total = [], 0
    for lst in tokens["tokens"]:
        for token in lst:
            total += 1
            if token not in seen:
                seen.add(token)
                steps.append(total)
    return heaps_fit(steps, total, points)


def heaps_fit(steps: list[int], total: int, points: int = 60) -> tuple[pd.DataFrame, float, float]:
    """:func:`heaps_curve` from where each new type appears (``steps``, running counts) among ``total`` tokens."""
    import numpy as np
    import pandas as pd

    # geomspace goes through numpy's SIMD power: round before truncating, so a point a hair
    # below a whole number cannot truncate differently on another CPU
    marks = sorted(set(np.unique(np.floor(np.round(np.geomspace(1, max(total, 1), points), 6)).astype(int)).tolist()))
    rows = [(mark, int(np.searchsorted(steps, mark, side="right"))) for mark in marks if 1 <= mark <= total]
    curve = pd.DataFrame(rows, columns=["tokens", "types"])
    if len(curve) < 3:
        return curve, float("nan"), float("nan")
    beta, log_k = np.polyfit(np.log(curve["tokens"]), np.log(curve["types"]), 1)
    return curve, float(np.exp(log_k)), float(beta)


def tokens_per_document(tokens: pd.DataFrame) -> pd.Series:
    """Kept tokens per document (documents without tokens count 0)."""
    return tokens.assign(n=tokens["tokens"].map(len)).groupby("doc_id", sort=False)["n"].sum()


def _token_pieces(path: Path):
    """tokens.parquet piece by piece (row groups of the file, or the parts of a folder), as pyarrow tables."""
    import pyarrow.parquet as pq

    for part in (sorted(Path(path).glob("part-*.parquet")) if Path(path).is_dir() else [Path(path)]):
        file = pq.ParquetFile(part)
        for group in range(file.metadata.num_row_groups):
            yield file.read_row_group(group)


def tokens_per_document_in(path: Path) -> pd.Series:
    """:func:`tokens_per_document` of a tokens.parquet, read piece by piece (a document is never split)."""
    import pandas as pd
    import pyarrow.compute as pc

    from newslens.files import release_arrow_memory

    pieces = [pd.DataFrame({"doc_id": piece.column("doc_id").to_pandas(),
                            "n": pc.list_value_length(piece.column("tokens")).to_numpy().astype("int64")})
              .groupby("doc_id", sort=False)["n"].sum() for piece in _token_pieces(path)]
    release_arrow_memory()  # the pieces' token lists, read and dropped
    return pd.concat(pieces) if pieces else pd.Series([], dtype="int64", name="n").rename_axis("doc_id")


def sentences_of(path: Path, doc_ids: list) -> list[list[str]]:
    """The kept tokens of each sentence of ``doc_ids``, in file order, read piece by piece."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted, sentences = pa.array(list(dict.fromkeys(doc_ids))), []
    for piece in _token_pieces(path):
        chosen = piece.filter(pc.is_in(piece.column("doc_id"), value_set=wanted))
        sentences.extend(chosen.column("tokens").to_pylist())
    return sentences
