"""One matcher for topics: the optimal one-to-one pairs of a similarity matrix.

Three steps pair topics, each with its own similarity: the stability of k (Jaccard overlap of
two fits' top-term sets), topic identities across reruns (the same overlap against the last
committed run) and the comparison of two runs (cosine of top-term weights). All three take the
pairs from :func:`optimal_pairs`: the Hungarian method
(:func:`scipy.optimize.linear_sum_assignment`) maximising the summed similarity.

Among assignments of equal total, the solver's choice depends on which side is the rows. The
matrix is therefore solved in one fixed orientation: the side with fewer topics as the rows
(scipy transposes a matrix with more rows than columns itself), and when both sides have as
many, the side with the smaller ``key``. A caller that gives each side a key made from its
content (:func:`newslens.analysis.compare.align`) gets the mirror pairs when it swaps the sides.
The solver is deterministic, so equal inputs give equal pairs on every run.

>>> optimal_pairs(np.array([[0.1, 0.9], [0.8, 0.2]]))
[(0, 1), (1, 0)]
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def optimal_pairs(similarity: np.ndarray, key_a: str = "", key_b: str = "") -> list[tuple[int, int]]:
    """(row, column) pairs maximising the summed similarity, one per topic of the smaller side, sorted.

    ``key_a`` and ``key_b`` name the rows' side and the columns' side; on a square matrix the
    side with the smaller key is solved as the rows (equal keys: the rows as given).
    """
    similarity = np.asarray(similarity, dtype=float)
    if similarity.size == 0:
        return []
    if (similarity.shape[0], key_a) <= (similarity.shape[1], key_b):
        rows, cols = linear_sum_assignment(-similarity)
    else:
        cols, rows = linear_sum_assignment(-similarity.T)
    return sorted(zip(rows.tolist(), cols.tolist()))
