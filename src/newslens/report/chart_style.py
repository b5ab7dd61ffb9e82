"""The charts' house style and the value helpers behind their axes: stable bytes, plain-text labels.

:func:`setup` fixes fonts, sizes and PNG metadata so the same data always gives
the same image bytes. No axis is a matplotlib log scale, which would take numpy's
``log`` of the data while drawing: log-scaled charts plot log10 values computed
here (:func:`log10_values`, ``math.log10`` per value, rounded to 4 decimals) on
linear axes (:func:`log_axis`), with ticks at 1, 10, 100, … labelled as plain
text ("1", "10", "1,000", "10k": ``text.parse_math`` is off, so matplotlib's
mathtext tick labels would show as raw markup). The charts themselves are
:mod:`newslens.report.plots`.
"""

from __future__ import annotations

import math
import textwrap
from decimal import Decimal

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

PALETTE = ["#0b5cad", "#d1495b", "#2e8b57", "#edae49", "#66a182", "#8d5a97",
           "#00798c", "#c1666b", "#4f6d7a", "#e07a5f"]
# One convention in every chart of every run: over-use (a positive log ratio, G² or difference)
# blue, under-use red; a heat map of signed values runs from red through white to blue.
OVER, UNDER = "#0b5cad", "#d1495b"
DIVERGING = matplotlib.colors.LinearSegmentedColormap.from_list("newslens-diverging", [UNDER, "#ffffff", OVER])
STYLE = {
    "figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (9, 4.5),
    "font.size": 11, "axes.titlesize": 13, "axes.titleweight": "bold", "axes.titlelocation": "left",
    "axes.labelsize": 11, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#e5e5e5", "grid.linewidth": 0.8, "axes.axisbelow": True,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE), "svg.hashsalt": "newslens",
    "path.simplify": True, "legend.frameon": False,
    # Labels are corpus data (outlet names, titles): "$5 and $6" or "$\foo$" is text, not mathtext.
    "text.parse_math": False,
}
LOG_DECIMALS = 4    # decimals of the log10 coordinates of log-scaled charts (a ten-thousandth of a decade)
MINUS = "\u2212"


def setup() -> None:
    """Apply the house style; in a notebook, also make inline PNGs deterministic."""
    plt.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        get_ipython().run_line_magic("matplotlib", "inline")
        set_matplotlib_formats("png", bbox_inches="tight", metadata={"Software": None})


def wrap(label: object, width: int = 38) -> str:
    """Wrap and shorten a label so long titles stay readable on an axis."""
    text = str(label)
    return textwrap.shorten(text, width=width * 2, placeholder="…") if len(text) > width * 2 else \
        "\n".join(textwrap.wrap(text, width)) or text


# ---------------------------------------------------------------- log10 axes

def log10_values(values, decimals: int = LOG_DECIMALS) -> np.ndarray:
    """log10 of positive values, each by ``math.log10`` and rounded to ``decimals``.

    numpy's vectorised ``log10`` takes another code path on another CPU (AVX-512,
    AVX2 or none) and can end in other last bits; ``math.log10`` on one value at a
    time, rounded, does not.

    >>> log10_values([1, 10, 2, 1000]).tolist()
    [0.0, 1.0, 0.301, 3.0]
    """
    array = np.asarray(values, dtype=float)
    if array.size and not (array > 0).all():
        raise ValueError("log10_values: every value must be positive")
    unique, inverse = np.unique(array.ravel(), return_inverse=True)
    logs = np.asarray([round(math.log10(v), decimals) for v in unique.tolist()], dtype=float)
    return logs[inverse].reshape(array.shape)


def _superscript(exponent: int) -> str:
    return str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def power_label(mantissa: int, exponent: int) -> str:
    """Plain text for mantissa × 10**exponent (mantissa 1–9), as a log axis labels its ticks.

    >>> [power_label(1, p) for p in (-4, -1, 0, 1, 3, 4, 5, 6, 9)]
    ['10⁻⁴', '0.1', '1', '10', '1,000', '10k', '100k', '1M', '10⁹']
    >>> [power_label(2, 3), power_label(5, -2), power_label(2, 9)]
    ['2,000', '0.05', '2×10⁹']
    """
    if exponent >= 9 or exponent <= -4:
        power = f"10{_superscript(exponent)}"
        return power if mantissa == 1 else f"{mantissa}×{power}"
    if exponent >= 6:
        return f"{mantissa * 10 ** (exponent - 6):,}M"
    if exponent >= 4:
        return f"{mantissa * 10 ** (exponent - 3):,}k"
    if exponent >= 0:
        return f"{mantissa * 10 ** exponent:,}"
    return format(Decimal(mantissa).scaleb(exponent), "f")


def _tick_position(mantissa: int, exponent: int) -> float:
    return round(exponent + math.log10(mantissa), LOG_DECIMALS)


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str], list[float]]:
    """Ticks of a log10 axis spanning [lo, hi] (in log10 units): positions, labels, minor positions.

    Whole powers of ten when the span holds three or more; else 1, 2, 5 × 10**p; else
    every 1–9 × 10**p inside. A span narrower than one such step gets the steps on
    either side of it (the caller widens the axis to show them), so no axis is unlabelled.

    >>> log_ticks(-0.05, 3.2)[:2]
    ([0.0, 1.0, 2.0, 3.0], ['1', '10', '100', '1,000'])
    >>> log_ticks(1.2, 3.8)[1]
    ['20', '50', '100', '200', '500', '1,000', '2,000', '5,000']
    >>> log_ticks(1.2, 1.9)[:2]
    ([1.301, 1.699], ['20', '50'])
    >>> log_ticks(0.32, 0.45)[:2]
    ([0.301, 0.4771], ['2', '3'])
    """
    candidates = [(m, p) for p in range(math.floor(lo) - 1, math.ceil(hi) + 1) for m in range(1, 10)]
    inside = [(m, p) for m, p in candidates if lo <= _tick_position(m, p) <= hi]
    major = inside
    for mantissas, enough in (((1,), 3), ((1, 2, 5), 2)):
        if len([1 for m, _ in inside if m in mantissas]) >= enough:
            major = [(m, p) for m, p in inside if m in mantissas]
            break
    if not major:
        major = [[c for c in candidates if _tick_position(*c) < lo][-1],
                 [c for c in candidates if _tick_position(*c) > hi][0]]
    minor = [_tick_position(m, p) for m, p in inside if (m, p) not in major]
    return [_tick_position(m, p) for m, p in major], [power_label(m, p) for m, p in major], minor


def log_axis(axis, label: str) -> None:
    """Label an axis that carries log10 values with plain-text ticks at 1, 10, 100, …"""
    lo, hi = sorted(axis.get_view_interval())
    major, labels, minor = log_ticks(lo, hi)
    axis.set_ticks(major, labels)
    axis.set_ticks(minor, minor=True)
    axis.set_label_text(label)
    limits = (min(lo, major[0]), max(hi, major[-1]))
    (axis.axes.set_xlim if axis.axis_name == "x" else axis.axes.set_ylim)(*limits)


def signed(value: float, spec: str) -> str:
    """A number formatted with ``spec``, with a real minus sign (as matplotlib's tick labels)."""
    return format(value, spec).replace("-", MINUS)
