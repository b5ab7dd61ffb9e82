"""Charts for the reports: one style, readable labels, stable bytes.

Every function takes tidy data and returns the matplotlib Figure, so notebooks
only call and display. The style, the labels and the log10 axes are
:mod:`newslens.report.chart_style` (its :func:`~newslens.report.chart_style.setup`
makes the same data always give the same image bytes).

Floats reach a figure only at display precision. The last bits of a computed
value depend on the machine (numpy's SIMD code paths, the BLAS kernel and thread
count, the order of a sum), and a last bit can move a pixel. So every function
rounds what it draws (:func:`newslens.precision.display_values`: 4 significant digits, by Python's
correctly rounded decimal conversion, the same on every CPU), and fitted lines
are drawn from fit parameters rounded the same way. Log-scaled charts plot log10
values on linear axes (:func:`~newslens.report.chart_style.log10_values`,
:func:`~newslens.report.chart_style.log_axis`), never a matplotlib log scale.
"""

from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from newslens.precision import display_value, display_values
from newslens.report.chart_style import (DIVERGING, LOG_DECIMALS, OVER, PALETTE, UNDER, log10_values, log_axis, signed,
                                         wrap)


def barh(values: pd.Series, *, title: str, xlabel: str, color: str = PALETTE[0],
         fmt: str = "{:,.0f}", ax=None, annotate: bool = True):
    """Horizontal bars, largest on top, with the value printed at each bar's end.

    Bars are drawn at display precision; each printed value is ``fmt`` of the value given.
    """
    values = values.iloc[::-1]
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, max(2.2, 0.32 * len(values) + 1.2)))
    else:
        fig = ax.figure
    positions = np.arange(len(values))
    lengths = display_values(values.to_numpy())
    ax.barh(positions, lengths, color=color)
    ax.set_yticks(positions, [wrap(v) for v in values.index])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    if annotate and len(values):
        span = float(np.nanmax(np.abs(lengths))) or 1.0
        for y, length, v in zip(positions, lengths, values.to_numpy()):
            ax.text(display_value(length + span * 0.01), y, fmt.format(v), va="center", fontsize=9,
                    color="#444")
        ax.set_xlim(0, display_value(span * 1.15))
    return fig


def _log_bin_edges(logs: np.ndarray, bins: int) -> np.ndarray:
    """``bins`` equal steps in log10 from the smallest to the largest value (a span of at least
    0.1 decade, so that edges rounded to LOG_DECIMALS stay strictly increasing)."""
    lo, hi = float(logs.min()), float(logs.max())
    if hi - lo < 0.1:
        middle = (lo + hi) / 2
        lo, hi = middle - 0.05, middle + 0.05
    edges = [round(lo + (hi - lo) * i / (bins - 1), LOG_DECIMALS) for i in range(bins)]
    edges[0], edges[-1] = min(edges[0], float(logs.min())), max(edges[-1], float(logs.max()))
    return np.asarray(edges)


def histogram(values: Sequence[float], *, title: str, xlabel: str, log: bool = False, bins: int = 40):
    """A histogram, on log-spaced bins when ``log`` is set; the median is marked.

    With ``log``, the bars are drawn over log10 of the positive values (zeros and negative
    values have no place on a log axis and are left out of the bars, not of the median) on
    an axis labelled 1, 10, 100, … (``xlabel`` gains " (log scale)" unless it says so);
    ``bins`` is the number of bin edges there, as before.
    Without it, numpy's equal-width bins (only + − × ÷ of the smallest and largest values,
    correctly rounded on every CPU) over the values at display precision.
    """
    values = display_values(np.asarray(values, dtype=float))
    fig, ax = plt.subplots(figsize=(9, 3.8))
    positive = values[values > 0]
    if log and positive.size:
        logs = log10_values(positive)
        ax.hist(logs, bins=_log_bin_edges(logs, bins), color=PALETTE[0], edgecolor="white", linewidth=0.5)
    elif log:  # nothing to put on a log axis
        ax.hist(positive, bins=bins, color=PALETTE[0])
    else:
        ax.hist(values, bins=bins, color=PALETTE[0], edgecolor="white", linewidth=0.5)
    if values.size:
        median = float(np.median(values))
        if not log or median > 0:
            at = float(log10_values([median])[0]) if log else display_value(median)
            ax.axvline(at, color=UNDER, linestyle="--", linewidth=1.2)
            ax.text(at, ax.get_ylim()[1] * 0.95, f" median {median:,.0f}", color=UNDER, va="top", fontsize=9)
    ax.set_title(title)
    ax.set_ylabel("documents")
    if log:
        log_axis(ax.xaxis, xlabel if "log" in xlabel.lower() else f"{xlabel} (log scale)")
    else:
        ax.set_xlabel(xlabel)
    return fig


def heatmap(table: pd.DataFrame, *, title: str, colorbar: str, fmt: str = "{:.2f}", cmap: str = "Blues",
            xlabel: str = "", ylabel: str = "", annotate: bool = True, symmetric: bool = False):
    """A labelled heatmap of a small table, with each cell's value printed and a titled colour bar.

    ``symmetric`` centres the colour scale on zero, for signed values, and draws them in the one
    convention of every chart: over-use (positive) blue, under-use (negative) red
    (:data:`~newslens.report.chart_style.DIVERGING`). Cells and colour limits are at display
    precision; each printed value is ``fmt`` of the value given.
    """
    cmap = DIVERGING if symmetric else cmap
    rows, cols = table.shape
    fig, ax = plt.subplots(figsize=(max(6, 0.75 * cols + 3), max(3, 0.38 * rows + 1.6)))
    given = table.to_numpy(dtype=float)
    values = display_values(given)
    finite = values[np.isfinite(values)]
    if symmetric:
        limit = float(np.abs(finite).max()) if finite.size else 0.0
        vmin, vmax = (-limit, limit) if limit else (None, None)
    else:
        vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (None, None)
    image = ax.imshow(values, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
    ax.set_xticks(range(cols), [wrap(c, 18) for c in table.columns], rotation=35, ha="right")
    ax.set_yticks(range(rows), [wrap(r, 40) for r in table.index])
    ax.grid(False)
    if annotate and rows * cols <= 600:
        threshold = display_value(np.abs(finite).max() * 0.6) if finite.size else 0
        for (r, c), v in np.ndenumerate(values):
            ax.text(c, r, fmt.format(given[r, c]), ha="center", va="center", fontsize=8,
                    color="white" if (abs(v) if symmetric else v) > threshold else "#222")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label(colorbar)
    return fig


# The Zipf line is fitted over the middle of the ranks: from rank ZIPF_FIRST_RANK (the few most
# frequent terms bend away from any power law) to the last term used at least ZIPF_MIN_FREQUENCY
# times (below, ties of rare counts make flat steps), and drawn over that range only.
ZIPF_FIRST_RANK = 10
ZIPF_MIN_FREQUENCY = 10


def zipf(frequencies: pd.Series, *, title: str = "Rank–frequency (Zipf)"):
    """Term frequency against rank on log–log axes, with a line fitted over the middle ranks.

    The fit is least squares on the plotted log10 values of ranks :data:`ZIPF_FIRST_RANK` to
    the last term with at least :data:`ZIPF_MIN_FREQUENCY` uses; its slope (3 decimals) and
    intercept (4 decimals) are rounded before the line is drawn, over the fitted ranks only.
    """
    counts = np.sort(frequencies.to_numpy(dtype=float))[::-1]
    counts = counts[counts > 0]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = log10_values(np.arange(1, len(counts) + 1))
    y = log10_values(counts)
    ax.plot(x, y, ".", markersize=3, color=PALETTE[0], label="terms")
    last = int((counts >= ZIPF_MIN_FREQUENCY).sum())
    if last - ZIPF_FIRST_RANK + 1 >= 10:
        fitted = slice(ZIPF_FIRST_RANK - 1, last)
        slope, intercept = (float(v) for v in np.polyfit(x[fitted], y[fitted], 1))
        slope, intercept = round(slope, 3), round(intercept, LOG_DECIMALS)
        ends = [float(x[ZIPF_FIRST_RANK - 1]), float(x[last - 1])]
        ax.plot(ends, [round(intercept + slope * e, LOG_DECIMALS) for e in ends], "--", color="#444",
                label=f"fit over ranks {ZIPF_FIRST_RANK}–{last:,} (terms used {ZIPF_MIN_FREQUENCY}+ times): "
                      f"frequency ∝ rankˢ, s = {signed(slope, '.2f')}")
    log_axis(ax.xaxis, "rank (log scale)")
    log_axis(ax.yaxis, "collection frequency (log scale)")
    ax.set_title(title)
    if len(counts):
        ax.legend(fontsize=8)
    return fig


def heaps_parameters(k: float, beta: float) -> tuple[float, float]:
    """The Heaps fit at display precision: K to 4 significant digits, β to 3 decimals.

    ``tokenize.heaps_curve`` fits by least squares (BLAS), whose last bits differ from
    machine to machine; the chart, and any text about the fit, use these values.

    >>> heaps_parameters(12.345678, 0.61249999)
    (12.35, 0.612)
    """
    if not (beta == beta and k == k):
        return float("nan"), float("nan")
    return display_value(k), round(float(beta), 3)


def heaps(curve: pd.DataFrame, k: float, beta: float, *, title: str = "Vocabulary growth (Heaps' law)"):
    """Distinct terms against tokens read, on log–log axes, with the fitted V = K·nᵝ.

    K and β are first rounded (:func:`heaps_parameters`); the fit is a straight line on
    these axes, drawn between the first and the last point of the curve.
    """
    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = log10_values(curve["tokens"].to_numpy())
    y = log10_values(curve["types"].to_numpy())
    ax.plot(x, y, "o", markersize=3, color=PALETTE[0], label="observed")
    k, beta = heaps_parameters(k, beta)
    if beta == beta and k > 0 and len(x):
        ends = [float(x.min()), float(x.max())]
        log_k = math.log10(k)
        ax.plot(ends, [round(log_k + beta * e, LOG_DECIMALS) for e in ends], "--", color=UNDER,
                label=f"fit: V = K·nᵝ, K = {k:.4g}, β = {signed(beta, '.3f')}")
    log_axis(ax.xaxis, "tokens read, n (log scale)")
    log_axis(ax.yaxis, "distinct terms, V (log scale)")
    ax.set_title(title)
    if len(x):
        ax.legend()
    return fig


def stacked_bars(table: pd.DataFrame, *, title: str, ylabel: str):
    """Stacked bars per period (rows) and group (columns), with a legend outside the axes."""
    fig, ax = plt.subplots(figsize=(10, 4.2))
    bottom = np.zeros(len(table))
    labels = [f"{d:%d %b %Y}" if isinstance(d, pd.Timestamp) else str(d) for d in table.index]
    positions = np.arange(len(table))
    for i, column in enumerate(table.columns):
        heights = display_values(table[column].to_numpy())
        ax.bar(positions, heights, bottom=bottom, label=wrap(column, 26),
               color=PALETTE[i % len(PALETTE)], width=0.8)
        bottom = display_values(bottom + heights)
    step = max(1, len(labels) // 12)
    ax.set_xticks(positions[::step], labels[::step], rotation=30, ha="right")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    return fig


def sweep(table: pd.DataFrame, chosen_k: int, *, title: str = "Choosing k: coherence and stability"):
    """Coherence (NPMI) and stability against k, in two aligned panels, chosen k marked."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True)
    spread = table.get("coherence_sd")
    top.errorbar(table["k"], display_values(table["coherence"].to_numpy()),
                 yerr=None if spread is None else display_values(spread.to_numpy()), marker="o",
                 color=PALETTE[0], capsize=3)
    top.set_ylabel("coherence (NPMI)")
    bottom.plot(table["k"], display_values(table["stability"].to_numpy()), marker="o", color=PALETTE[2])
    bottom.set_ylabel("stability (Jaccard)")
    bottom.set_xlabel("number of topics k")
    bottom.set_ylim(0, 1.05)
    for ax in (top, bottom):
        ax.axvline(chosen_k, color=UNDER, linestyle="--", linewidth=1.2)
    top.text(chosen_k, top.get_ylim()[1], f" chosen k = {chosen_k}", color=UNDER, va="top", fontsize=10)
    top.set_title(title)
    bottom.set_xticks(table["k"])
    return fig


def _bar_grid(frames: list[tuple[str, pd.Series]], *, title: str, columns: int, cell: tuple[float, float],
              xlabel: str, color_of, diverging: bool = False):
    """A grid of small horizontal bar charts, one per (title, values); unused cells hidden."""
    rows = -(-len(frames) // columns)
    # Panels to be compared (diverging: the groups' log ratios) share one x scale, each labelled.
    fig, axes = plt.subplots(rows, columns, figsize=(cell[0] * columns, cell[1] * rows), squeeze=False,
                             sharex="all" if diverging else "none")
    for ax, (name, values) in zip(axes.ravel(), frames):
        values = values.iloc[::-1]
        positions = np.arange(len(values))
        lengths = display_values(values.to_numpy())
        ax.barh(positions, lengths, color=[color_of(v) for v in lengths])
        ax.set_yticks(positions, [wrap(v, 22) for v in values.index], fontsize=8)
        if diverging:
            ax.axvline(0, color="#444", linewidth=0.8)
        ax.set_title(wrap(name, 36), fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=7, labelbottom=True)
        ax.grid(axis="y", visible=False)
    for ax in axes.ravel()[len(frames):]:
        ax.set_visible(False)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    fig.supxlabel(xlabel, fontsize=9)
    fig.tight_layout()
    return fig


def small_multiples(frames: list[tuple[str, pd.Series]], *, title: str, columns: int = 4,
                    color: str = PALETTE[0], xlabel: str = "weight"):
    """One small horizontal bar chart per (title, values) pair, in a grid."""
    return _bar_grid(frames, title=title, columns=columns, cell=(2.9, 2.5), xlabel=xlabel,
                     color_of=lambda v: color)


def diverging_multiples(frames: list[tuple[str, pd.Series]], *, title: str, xlabel: str, columns: int = 3):
    """Small multiples of diverging bars: positive values right (over), negative left (under)."""
    return _bar_grid(frames, title=title, columns=columns, cell=(3.8, 3.1), xlabel=xlabel,
                     color_of=lambda v: OVER if v >= 0 else UNDER, diverging=True)
