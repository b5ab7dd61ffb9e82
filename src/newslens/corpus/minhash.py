"""The MinHash signature loop of :func:`newslens.corpus.near_duplicates.signatures`, compiled with numba.

For every shingle hash ``x`` of a unit and every permutation ``(a, b)``, the value
``(a·(x >> 3) + b) mod (2**61 - 1)`` is computed exactly in ``uint64`` and the unit keeps
each permutation's lowest. The product is summed from 32-bit halves, using ``2**61 ≡ 1``
(so ``2**64 ≡ 8``) modulo the Mersenne prime; no intermediate reaches ``2**64``. The same
arithmetic in numpy took 25 passes over a (shingles × permutations) array and was a fifth
of ingest's compute on the news run; here each value is made in registers and compared once.
The values are exact residues, so they are the same integers on every CPU and in every
implementation (``tests/test_near_duplicates.py`` checks them against Python's own integers).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

_MERSENNE = np.uint64(2**61 - 1)
_LOW32 = np.uint64(2**32 - 1)
_LOW29 = np.uint64(2**29 - 1)
_3, _29, _32, _61 = np.uint64(3), np.uint64(29), np.uint64(32), np.uint64(61)

_VALUES = types.Array(types.uint64, 1, "C", readonly=True)
_PARAMETERS = types.Array(types.uint64, 1, "C", readonly=True)


# typed ahead (no type inference at the first call) and cached on disk (no compile in a worker)
@njit(types.void(_VALUES, types.int64[::1], _PARAMETERS, _PARAMETERS, _PARAMETERS, types.uint64[:, ::1]),
      cache=True, nogil=True)
def lowest_permuted(values, starts, a_high, a_low, b, out):
    """Fold ``values[starts[u]:starts[u + 1]]`` into row ``u`` of ``out``: each permutation's lowest value.

    ``a_high`` and ``a_low`` are the high and low 32 bits of each ``a`` (``a < 2**61``);
    ``out`` (units × permutations) holds the lowest so far and is lowered in place.
    """
    for unit in range(len(starts) - 1):
        for i in range(starts[unit], starts[unit + 1]):
            x = values[i] >> _3  # < 2**61
            x_high, x_low = x >> _32, x & _LOW32  # < 2**29, < 2**32
            for p in range(len(b)):
                low = a_low[p] * x_low  # < 2**64
                middle = a_high[p] * x_low + a_low[p] * x_high  # < 2**62, to be multiplied by 2**32
                total = (low & _MERSENNE) + (low >> _61)
                total += (middle >> _29) + ((middle & _LOW29) << _32)  # middle · 2**32, folded
                total += (a_high[p] * x_high) << _3  # · 2**64 ≡ · 8; total < 2**63
                total = (total & _MERSENNE) + (total >> _61) + b[p]  # < 2**62 + 4
                total = (total & _MERSENNE) + (total >> _61)  # ≤ 2**61
                if total >= _MERSENNE:
                    total -= _MERSENNE
                if total < out[unit, p]:
                    out[unit, p] = total
