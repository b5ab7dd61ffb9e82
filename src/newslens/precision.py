"""Display precision: a float reaches a report only at the precision it is shown with.

It lives at the root so that the analysis rounds what it hands on without importing the
presentation layer.
"""

from __future__ import annotations

import math

import numpy as np

DISPLAY_DIGITS = 4  # significant digits of a value that is drawn, not printed (far below a pixel)


# ---------------------------------------------------------------- display precision
# A float's last bits depend on the machine (numpy's SIMD code paths, the BLAS kernel and
# its thread count, the order of a sum): a value reaches a chart or a table only rounded to
# the precision it is shown with, so that the report's bytes do not depend on them.

def _round_significant(value: float, digits: int) -> float:
    if value != value or value in (math.inf, -math.inf):
        return value
    if abs(value) >= 10 ** digits:  # never coarser than whole numbers: counts stay exact
        return float(round(value))
    return float(f"{value:.{digits}g}")


# Values rounded at a time by display_values: a topic explorer's k × V term probabilities (2.3 million
# at the ×16 news corpus) held as Python floats and their list would cost some 200 MiB at once.
_CHUNK = 65_536


def display_values(values, digits: int = DISPLAY_DIGITS) -> np.ndarray:
    """Values as a chart draws them: floats at ``digits`` significant digits, integers as they are.

    Values whose last bits differ (another CPU's SIMD path or BLAS kernel) give the same
    array, unless they straddle a rounding boundary. The rounding is Python's decimal
    conversion, which is correctly rounded and so the same on every machine; values of
    10**digits and more keep their whole part. NaN and infinities pass through.

    >>> display_values([0.123456789, 2 / 3, 12345.678, float("nan")]).tolist()
    [0.1235, 0.6667, 12346.0, nan]
    >>> display_values(np.array([0.1 + 0.2, np.nextafter(0.3, 1)])).tolist()
    [0.3, 0.3]
    """
    array = np.asarray(values)
    if array.dtype.kind in "iub":
        return array
    flat = array.astype(float).ravel()
    rounded = np.empty(flat.shape, dtype=float)
    for start in range(0, len(flat), _CHUNK):  # a chunk's Python floats at a time, not the array's
        rounded[start:start + _CHUNK] = [_round_significant(v, digits) for v in flat[start:start + _CHUNK].tolist()]
    return rounded.reshape(array.shape)


def display_value(value: float, digits: int = DISPLAY_DIGITS) -> float:
    """One value at display precision (see :func:`display_values`)."""
    return _round_significant(float(value), digits)
