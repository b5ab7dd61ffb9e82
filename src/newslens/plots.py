"""Charts for the reports: one style, readable labels, stable bytes.

Every function takes tidy data and returns the matplotlib Figure, so notebooks
only call and display. :func:`setup` fixes fonts, sizes and PNG metadata so the
same data always gives the same image bytes.
"""

from __future__ import annotations

import textwrap
from typing import Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

PALETTE = ["#0b5cad", "#d1495b", "#2e8b57", "#edae49", "#66a182", "#8d5a97",
           "#00798c", "#c1666b", "#4f6d7a", "#e07a5f"]
OVER, UNDER = "#0b5cad", "#d1495b"
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


def barh(values: pd.Series, *, title: str, xlabel: str, color: str = PALETTE[0],
         fmt: str = "{:,.0f}", ax=None, annotate: bool = True):
    """Horizontal bars, largest on top, with the value printed at each bar's end."""
    values = values.iloc[::-1]
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, max(2.2, 0.32 * len(values) + 1.2)))
    else:
        fig = ax.figure
    positions = np.arange(len(values))
    ax.barh(positions, values.to_numpy(), color=color)
    ax.set_yticks(positions, [wrap(v) for v in values.index])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    if annotate and len(values):
        span = float(np.nanmax(np.abs(values.to_numpy()))) or 1.0
        for y, v in zip(positions, values.to_numpy()):
            ax.text(v + span * 0.01, y, fmt.format(v), va="center", fontsize=9, color="#444")
        ax.set_xlim(0, span * 1.15)
    return fig


def histogram(values: Sequence[float], *, title: str, xlabel: str, log: bool = False, bins: int = 40):
    """A histogram, on log-spaced bins when ``log`` is set; the median is marked."""
    values = np.asarray(values, dtype=float)
    fig, ax = plt.subplots(figsize=(9, 3.8))
    if log:
        positive = values[values > 0]
        edges = np.logspace(np.log10(positive.min()), np.log10(positive.max()) + 1e-9, bins) \
            if positive.size else bins
        ax.set_xscale("log")
    else:
        edges = bins
    ax.hist(values, bins=edges, color=PALETTE[0], edgecolor="white", linewidth=0.5)
    if values.size:
        median = float(np.median(values))
        ax.axvline(median, color=UNDER, linestyle="--", linewidth=1.2)
        ax.text(median, ax.get_ylim()[1] * 0.95, f" median {median:,.0f}", color=UNDER, va="top", fontsize=9)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("documents")
    return fig


def heatmap(table: pd.DataFrame, *, title: str, fmt: str = "{:.2f}", cmap: str = "Blues",
            xlabel: str = "", ylabel: str = "", annotate: bool = True, symmetric: bool = False):
    """A labelled heatmap of a small table, with each cell's value printed.

    ``symmetric`` centres the colour scale on zero, for signed values.
    """
    rows, cols = table.shape
    fig, ax = plt.subplots(figsize=(max(6, 0.75 * cols + 3), max(3, 0.38 * rows + 1.6)))
    values = table.to_numpy(dtype=float)
    limit = float(np.nanmax(np.abs(values))) if symmetric and values.size else None
    image = ax.imshow(values, cmap=cmap, aspect="auto",
                      vmin=-limit if limit else None, vmax=limit)
    ax.set_xticks(range(cols), [wrap(c, 18) for c in table.columns], rotation=35, ha="right")
    ax.set_yticks(range(rows), [wrap(r, 40) for r in table.index])
    ax.grid(False)
    if annotate and rows * cols <= 600:
        threshold = np.nanmax(np.abs(values)) * 0.6 if values.size else 0
        for (r, c), v in np.ndenumerate(values):
            ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=8,
                    color="white" if (abs(v) if symmetric else v) > threshold else "#222")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def zipf(frequencies: pd.Series, *, title: str = "Rank–frequency (Zipf)"):
    """Term frequency against rank on log–log axes, with the slope of a fitted line."""
    counts = np.sort(frequencies.to_numpy(dtype=float))[::-1]
    counts = counts[counts > 0]
    ranks = np.arange(1, len(counts) + 1)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.loglog(ranks, counts, ".", markersize=3, color=PALETTE[0], label="terms")
    if len(counts) > 10:
        slope, intercept = np.polyfit(np.log(ranks), np.log(counts), 1)
        ax.loglog(ranks, np.exp(intercept) * ranks ** slope, "--", color=UNDER,
                  label=f"fit: frequency ∝ rank^{slope:.2f}")
    ax.set_xlabel("rank (log)")
    ax.set_ylabel("collection frequency (log)")
    ax.set_title(title)
    ax.legend()
    return fig


def heaps(curve: pd.DataFrame, k: float, beta: float, *, title: str = "Vocabulary growth (Heaps' law)"):
    """Distinct terms against tokens read, with the fitted V = K·n^β."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(curve["tokens"], curve["types"], "o", markersize=3, color=PALETTE[0], label="observed")
    if beta == beta:
        ax.plot(curve["tokens"], k * curve["tokens"] ** beta, "--", color=UNDER,
                label=f"fit: V = {k:.1f}·n^{beta:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tokens read (log)")
    ax.set_ylabel("distinct terms (log)")
    ax.set_title(title)
    ax.legend()
    return fig


def stacked_bars(table: pd.DataFrame, *, title: str, ylabel: str):
    """Stacked bars per period (rows) and group (columns), with a legend outside the axes."""
    fig, ax = plt.subplots(figsize=(10, 4.2))
    bottom = np.zeros(len(table))
    labels = [f"{d:%d %b %Y}" for d in table.index]
    positions = np.arange(len(table))
    for i, column in enumerate(table.columns):
        ax.bar(positions, table[column].to_numpy(), bottom=bottom, label=wrap(column, 26),
               color=PALETTE[i % len(PALETTE)], width=0.8)
        bottom += table[column].to_numpy()
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
    top.errorbar(table["k"], table["coherence"], yerr=table.get("coherence_sd"), marker="o",
                 color=PALETTE[0], capsize=3)
    top.set_ylabel("coherence (NPMI)")
    bottom.plot(table["k"], table["stability"], marker="o", color=PALETTE[2])
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
    fig, axes = plt.subplots(rows, columns, figsize=(cell[0] * columns, cell[1] * rows), squeeze=False)
    for ax, (name, values) in zip(axes.ravel(), frames):
        values = values.iloc[::-1]
        positions = np.arange(len(values))
        ax.barh(positions, values.to_numpy(), color=[color_of(v) for v in values.to_numpy()])
        ax.set_yticks(positions, [wrap(v, 22) for v in values.index], fontsize=8)
        if diverging:
            ax.axvline(0, color="#444", linewidth=0.8)
        ax.set_title(wrap(name, 36), fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=7)
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


def diverging_multiples(frames: list[tuple[str, pd.Series]], *, title: str, columns: int = 3,
                        xlabel: str = "G² (over-used → right, under-used ← left)"):
    """Small multiples of diverging bars: positive values right (over), negative left (under)."""
    return _bar_grid(frames, title=title, columns=columns, cell=(3.8, 3.1), xlabel=xlabel,
                     color_of=lambda v: OVER if v >= 0 else UNDER, diverging=True)
