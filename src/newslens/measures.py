"""Association measures of a 2×2 corpus-comparison table: log-likelihood G² and log ratio.

They sit at the root because two layers use them: the text layer, to learn formulaic
openers (:mod:`newslens.text.formulas`), and the analysis layer, for keyness and
collocates (:mod:`newslens.analysis.keyness`, :mod:`newslens.analysis.kwic`). The
formulas and their sources are in :mod:`newslens.analysis.keyness`'s docstring.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def _as_float_arrays(**values) -> list[np.ndarray]:
    """Broadcast the 2×2 table arguments to float arrays; reject NaN and negative values."""
    try:
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values.values()))
    except ValueError as error:
        raise ValueError(f"{', '.join(values)}: shapes do not broadcast ({error})") from None
    for name, array in zip(values, arrays):
        if np.isnan(array).any():
            raise ValueError(f"{name}: contains NaN")
        if (array < 0).any():
            raise ValueError(f"{name}: counts must be >= 0; got {array.min():g}")
    return arrays


def _o_ln_o_over_e(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """O · ln(O / E) with 0 · ln 0 = 0 (``xlogy`` is 0 when O is 0, whatever E is)."""
    return special.xlogy(observed, observed) - special.xlogy(observed, expected)


def g2(a, b, c, d) -> np.ndarray:
    """Rayson & Garside's log-likelihood G² for 2×2 corpus-comparison tables (vectorised).

    Parameters
    ----------
    a, b : array_like
        Frequency of the term in the target and in the reference.
    c, d : array_like
        Total tokens of the target and of the reference (``a <= c``, ``b <= d``).

    Returns
    -------
    numpy.ndarray
        ``G² = 2 [a ln(a/E1) + b ln(b/E2)]`` with ``E1 = c(a+b)/(c+d)``,
        ``E2 = d(a+b)/(c+d)`` and ``0 · ln 0 = 0``; unsigned (>= 0), broadcast
        over the inputs. Only the two term cells are summed (see the module
        docstring for the full-table variant).

    Examples
    --------
    >>> round(float(g2(30, 70, 1000, 9000)), 4)
    30.7327
    >>> float(g2(0, 0, 10, 10))
    0.0
    """
    a, b, c, d = _as_float_arrays(a=a, b=b, c=c, d=d)
    if (a > c).any() or (b > d).any():
        raise ValueError("g2: a term's frequency cannot exceed its corpus total (need a <= c, b <= d)")
    total = c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.divide(a + b, total, out=np.zeros_like(total), where=total > 0)
    value = 2.0 * (_o_ln_o_over_e(a, c * share) + _o_ln_o_over_e(b, d * share))
    return np.maximum(value, 0.0)  # rounding can leave -1e-15 where a/c == b/d


def log_ratio(a, b, c, d, *, smoothing: float = 0.5) -> np.ndarray:
    """Hardie's log ratio, smoothed so that its sign is always the sign of the raw rate difference.

    ``log2((a / c + k) / (b / d + k))`` with ``k = 2 · smoothing / (c + d)``: ``smoothing``
    pseudo-tokens on each side when both sides are the same size, shared in proportion to their
    sizes otherwise (``a + 2s·c/(c+d)`` over ``c`` against ``b + 2s·d/(c+d)`` over ``d``). The same
    pseudo-rate is added to both rates, so a term absent from a small group can never come out
    over-used, as it did with ``s`` added to both counts.

    Positive when the term is relatively more frequent in the target; +1 means twice as frequent.
    ``c`` and ``d`` (corpus totals) must be positive.

    >>> float(log_ratio(20, 10, 1000, 1000, smoothing=0))
    1.0
    >>> round(float(log_ratio(0, 9, 100, 100)), 4)  # equal sizes: log2(0.5 / 9.5)
    -4.2479
    >>> float(log_ratio(0, 304, 400, 2_000_000)) < 0  # absent from a one-document group
    True
    """
    if smoothing < 0:
        raise ValueError(f"smoothing: must be >= 0; got {smoothing!r}")
    a, b, c, d = _as_float_arrays(a=a, b=b, c=c, d=d)
    if (c <= 0).any() or (d <= 0).any():
        raise ValueError("log_ratio: corpus totals c and d must be positive")
    pseudo_rate = 2.0 * smoothing / (c + d)
    with np.errstate(divide="ignore"):
        return np.log2(a / c + pseudo_rate) - np.log2(b / d + pseudo_rate)


PRIOR_TOKENS = 500.0  # the informative prior's weight, in pseudo-tokens (see log_odds_z)


def log_odds_z(a, b, c, d, *, prior_tokens: float = PRIOR_TOKENS) -> np.ndarray:
    """Monroe, Colaresi and Quinn's (2008) log-odds ratio with an informative Dirichlet prior, as a z-score.

    The prior spreads ``α0 = prior_tokens`` pseudo-tokens over the vocabulary by the corpus's own
    rates (``α_w = α0 · (a + b) / (c + d)``) and adds them to each side::

        δ = ln((a + α_w) / (c + α0 − a − α_w)) − ln((b + α_w) / (d + α0 − b − α_w))
        σ² = 1 / (a + α_w) + 1 / (b + α_w),   z = δ / σ

    It shrinks a term seen a handful of times towards no difference, so a rare term in a small group
    does not outrank a frequent one, and it barely moves a term seen hundreds of times. 500
    pseudo-tokens is our choice: a few paragraphs' worth, small against any group the comparisons
    admit. Positive when the target uses the term more; 0 where the term is absent from both sides.

    >>> round(float(log_odds_z(30, 70, 1000, 9000)), 3)
    5.37
    >>> abs(float(log_odds_z(10, 90, 1000, 9000))) < 1e-12  # the same rate on both sides
    True
    """
    if prior_tokens <= 0:
        raise ValueError(f"prior_tokens: must be > 0; got {prior_tokens!r}")
    a, b, c, d = _as_float_arrays(a=a, b=b, c=c, d=d)
    if (a > c).any() or (b > d).any():
        raise ValueError("log_odds_z: a term's frequency cannot exceed its corpus total (need a <= c, b <= d)")
    total = c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        prior = prior_tokens * np.divide(a + b, total, out=np.zeros_like(total), where=total > 0)
        target, reference = a + prior, b + prior
        delta = ((np.log(target) - np.log(c + prior_tokens - target))
                 - (np.log(reference) - np.log(d + prior_tokens - reference)))
        z = delta / np.sqrt(1.0 / target + 1.0 / reference)
    return np.where(a + b > 0, z, 0.0)
