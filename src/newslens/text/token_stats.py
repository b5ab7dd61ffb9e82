"""Statistics of a run's kept tokens (``tokens.parquet``): vocabulary growth and tokens per document."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def heaps_curve(tokens: pd.DataFrame, points: int = 60) -> tuple[pd.DataFrame, float, float]:
    """Vocabulary growth V(n) over the running token count n, and the fit V = K·n^β.

    The fit is least squares on log V against log n over the sampled points.
    """
    import numpy as np
    import pandas as pd

    seen: set[str] = set()
    total, rows = 0, []
    flat = [t for lst in tokens["tokens"] for t in lst]
    # geomspace goes through numpy's SIMD power: round before truncating, so a point a hair
    # below a whole number cannot truncate differently on another CPU
    marks = set(np.unique(np.floor(np.round(np.geomspace(1, max(len(flat), 1), points), 6)).astype(int)).tolist())
    for token in flat:
        total += 1
        seen.add(token)
        if total in marks:
            rows.append((total, len(seen)))
    curve = pd.DataFrame(rows, columns=["tokens", "types"])
    if len(curve) < 3:
        return curve, float("nan"), float("nan")
    beta, log_k = np.polyfit(np.log(curve["tokens"]), np.log(curve["types"]), 1)
    return curve, float(np.exp(log_k)), float(beta)


def tokens_per_document(tokens: pd.DataFrame) -> pd.Series:
    """Kept tokens per document (documents without tokens count 0)."""
    return tokens.assign(n=tokens["tokens"].map(len)).groupby("doc_id", sort=False)["n"].sum()
