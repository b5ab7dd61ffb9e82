"""Every chart the reports show: plain-text labels only, and bytes that do not depend on last bits.

``text.parse_math`` is off in ``chart_style.STYLE`` (corpus text such as "$5 and $6" must stay
text), so any mathtext that matplotlib itself emits, such as a log axis's
``$\\mathdefault{10^{2}}$`` tick labels, would show as raw markup. Each chart below is
drawn and every Text artist, tick labels included, is checked.

A float's last bits depend on the machine (numpy's SIMD code paths, the BLAS kernel, the
order of a sum); the charts round what they draw, so data that differs by one unit in the
last place gives the same PNG bytes.
"""

from __future__ import annotations

import inspect
import io
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.collections
import matplotlib.image
import matplotlib.lines
import matplotlib.patches
import matplotlib.pyplot as plt
import matplotlib.text
import numpy as np
import pandas as pd
import pytest

from newslens.precision import display_values
from newslens.report import chart_style, plots

# Public functions of plots that are not charts.
HELPERS = {"heaps_parameters"}
MARKUP = re.compile(r"\$[^$]*\$|\\mathdefault|\\times|\^\{")


@pytest.fixture(autouse=True)
def house_style():
    with matplotlib.rc_context():
        chart_style.setup()
        yield
    plt.close("all")


def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def terms(n: int) -> list[str]:
    return [f"term {i}" for i in range(n)]


def zipf_counts(n: int) -> pd.Series:
    return pd.Series(np.maximum(1, (5000 / np.arange(1, n + 1) ** 1.07).round()).astype(int),
                     index=terms(n))


def heaps_curve(total: int) -> tuple[pd.DataFrame, float, float]:
    tokens = np.unique(np.geomspace(1, total, 60).astype(int))
    types = np.minimum(tokens, np.maximum(1, (7.3 * tokens ** 0.64).astype(int)))
    curve = pd.DataFrame({"tokens": tokens, "types": types})
    beta, log_k = np.polyfit(np.log(tokens), np.log(types), 1)
    return curve, float(np.exp(log_k)), float(beta)


def weekly_table() -> pd.DataFrame:
    index = pd.date_range("2017-01-02", periods=14, freq="W-MON")
    return pd.DataFrame(rng().integers(0, 30, size=(14, 3)), index=index, columns=["outlet a", "outlet b", "c"])


def sweep_table(ks=(5, 10, 15, 20)) -> pd.DataFrame:
    r = rng()
    return pd.DataFrame({"k": list(ks), "coherence": r.uniform(0.05, 0.2, len(ks)).round(6),
                         "coherence_sd": r.uniform(0.001, 0.02, len(ks)).round(6),
                         "stability": r.uniform(0.4, 0.9, len(ks)).round(6), "fits": 3})


def weight_frames(n_frames: int, n_terms: int, signed: bool = False) -> list[tuple[str, pd.Series]]:
    r = rng()
    frames = []
    for f in range(n_frames):
        values = np.sort(r.uniform(0.01, 0.5, n_terms))[::-1]
        if signed:
            values = np.concatenate([values[: n_terms // 2 + 1] * 300, -values[n_terms // 2 + 1:] * 200])
        frames.append((f"T{f + 1}: topic {f + 1} ({values[0]:.0%})", pd.Series(values, index=terms(n_terms))))
    return frames


def effect_frames(n_frames: int, levels: list[str], n_docs: list[int], min_documents: int = 5,
                  ) -> list[tuple[str, pd.DataFrame]]:
    """Per topic, shares with intervals per level as topic_effects.chart_frames gives them (NaN: none)."""
    r = rng()
    counts = np.asarray(n_docs)
    frames = []
    for f in range(n_frames):
        share = np.where(counts > 0, r.uniform(0.01, 0.4, len(levels)), np.nan)
        spread = r.uniform(0.005, 0.08, len(levels))
        defined = counts >= min_documents
        frames.append((f"T{f + 1}: topic {f + 1} · a long label of three terms",
                       pd.DataFrame({"share": share, "share_low": np.where(defined, np.maximum(share - spread, 0), np.nan),
                                     "share_high": np.where(defined, share + spread, np.nan), "n_docs": counts,
                                     "small": (counts > 0) & ~defined}, index=levels)))
    return frames


GROUP_LEVELS = ["aljazeera.com", "tass.com", "europe.chinadaily.com.cn", "bbc.co.uk", "seed", "(no group)"]
WEEKS = [f"{d.day} {d:%b %Y}" for d in pd.date_range("2016-11-28", periods=30, freq="W-MON")]
WEEK_COUNTS = [12, 43, 38, 1, 0, 33] + [40 + 37 * i for i in range(24)]


# name → a function building the chart as the notebooks do (small, realistic data, edge cases).
CHARTS = {
    "barh counts": lambda: plots.barh(pd.Series([812, 640, 77, 3], index=["bbc.co.uk", "reuters.com", "x", "y"]),
                                      title="Documents per group", xlabel="documents"),
    "barh scores": lambda: plots.barh(pd.Series(rng().uniform(0.05, 0.4, 12), index=terms(12)),
                                      title="Top TF-IDF terms", xlabel="TF-IDF weight", fmt="{:.3f}"),
    "barh shares": lambda: plots.barh(pd.Series([0.61, 0.2, 0.013], index=["T1: a", "T4: b", "T2: c"]),
                                      title="Topic mixture", xlabel="share", fmt="{:.0%}"),
    "barh one bar": lambda: plots.barh(pd.Series([1], index=["seed"]), title="One group", xlabel="documents"),
    "barh empty": lambda: plots.barh(pd.Series([], dtype=float), title="Nothing", xlabel="documents"),
    "histogram": lambda: plots.histogram(rng().poisson(40, 500), title="Tokens", xlabel="tokens"),
    "histogram floats": lambda: plots.histogram(rng().normal(5, 2, 300), title="Floats", xlabel="value"),
    "histogram log": lambda: plots.histogram(rng().lognormal(6, 0.9, 3000).round(), title="Words per document",
                                             xlabel="words (log scale)", log=True),
    "histogram log with zeros": lambda: plots.histogram(np.r_[np.zeros(40), rng().lognormal(4, 1.2, 400).round()],
                                                        title="Kept tokens", xlabel="tokens", log=True),
    "histogram log mostly zeros": lambda: plots.histogram(np.r_[np.zeros(40), [250, 3]], title="Zeros",
                                                          xlabel="tokens", log=True),
    "histogram log one value": lambda: plots.histogram([300, 300, 300], title="One value", xlabel="words",
                                                       log=True),
    "histogram log narrow": lambda: plots.histogram([210, 230, 260, 280], title="Narrow", xlabel="words",
                                                    log=True),
    "histogram log all zeros": lambda: plots.histogram([0, 0, 0], title="Zeros", xlabel="words", log=True),
    "histogram empty": lambda: plots.histogram([], title="Empty", xlabel="words"),
    "histogram log empty": lambda: plots.histogram([], title="Empty", xlabel="words", log=True),
    "heatmap": lambda: plots.heatmap(pd.DataFrame(rng().dirichlet(np.ones(4), 6).T, index=terms(4),
                                                  columns=[f"outlet {i}" for i in range(6)]),
                                     title="Topic prevalence by group", colorbar="mean share"),
    "heatmap signed": lambda: plots.heatmap(pd.DataFrame(rng().normal(0, 2.5, (9, 5)), index=terms(9),
                                                         columns=list("abcde")),
                                            title="Log ratio", colorbar="log ratio", fmt="{:+.1f}", xlabel="group",
                                            ylabel="term", symmetric=True),
    "heatmap over time": lambda: plots.heatmap(pd.DataFrame(rng().uniform(0, 0.3, (8, 40)), index=terms(8),
                                                            columns=[f"{d:%d %b %Y}" for d in
                                                                     pd.date_range("2017-01-02", periods=40,
                                                                                   freq="W-MON")]),
                                               title="Topic prevalence by week", colorbar="mean share", cmap="Greens",
                                               annotate=False),
    "heatmap with nan": lambda: plots.heatmap(pd.DataFrame([[0.1, np.nan], [0.3, 0.2]], index=["a", "b"],
                                                           columns=["x", "y"]), title="Gaps",
                                          colorbar="share"),
    "heatmap zeros": lambda: plots.heatmap(pd.DataFrame([[0.0, 0.0]], index=["a"], columns=["x", "y"]),
                                           title="Zeros", colorbar="log ratio", symmetric=True),
    "zipf": lambda: plots.zipf(zipf_counts(3000)),
    "zipf few terms": lambda: plots.zipf(zipf_counts(8)),
    "zipf one term": lambda: plots.zipf(pd.Series([4], index=["only"])),
    "zipf empty": lambda: plots.zipf(pd.Series([], dtype="int64")),
    "heaps": lambda: plots.heaps(*heaps_curve(2_500_000)),
    "heaps small": lambda: plots.heaps(*heaps_curve(420)),
    "heaps two points": lambda: plots.heaps(pd.DataFrame({"tokens": [1, 2], "types": [1, 2]}),
                                            float("nan"), float("nan")),
    "heaps empty": lambda: plots.heaps(pd.DataFrame({"tokens": [], "types": []}, dtype="int64"),
                                       float("nan"), float("nan")),
    "stacked bars": lambda: plots.stacked_bars(weekly_table(), title="Documents per week", ylabel="documents"),
    "stacked bars one week": lambda: plots.stacked_bars(weekly_table().iloc[:1], title="One week",
                                                        ylabel="documents"),
    "sweep": lambda: plots.sweep(sweep_table(), 10),
    "sweep two ks, no spread": lambda: plots.sweep(sweep_table((2, 3)).drop(columns="coherence_sd"), 2),
    "small multiples": lambda: plots.small_multiples(weight_frames(6, 8), title="Top terms per topic"),
    "small multiples one": lambda: plots.small_multiples(weight_frames(1, 1), title="One topic"),
    "diverging multiples": lambda: plots.diverging_multiples(weight_frames(4, 12, signed=True),
                                                             title="Over- and under-used terms per group",
                                                             xlabel="log ratio"),
    "diverging multiples over only": lambda: plots.diverging_multiples(weight_frames(2, 3),
                                                                       title="Over-used only",
                                                                       xlabel="log ratio"),
    "interval multiples": lambda: plots.interval_multiples(effect_frames(10, GROUP_LEVELS, [539, 482, 359, 353, 1, 193]),
                                                           title="Topic share by outlet", xlabel="share"),
    "interval multiples one panel, all small": lambda: plots.interval_multiples(
        effect_frames(1, ["a", "b"], [2, 1]), title="Tiny", xlabel="share"),
    "band multiples": lambda: plots.band_multiples(effect_frames(10, WEEKS, WEEK_COUNTS), title="Topic share by week",
                                                   ylabel="share", count_label="articles"),
    "band multiples one topic, two periods": lambda: plots.band_multiples(
        effect_frames(1, ["2017", "2018"], [3, 9]), title="Two years", ylabel="share", count_label="speeches"),
}


def chart_functions() -> set[str]:
    return {name for name, member in inspect.getmembers(plots, inspect.isfunction)
            if member.__module__ == plots.__name__ and not name.startswith("_") and name not in HELPERS}


def called(name: str) -> set[str]:
    source = inspect.getsource(CHARTS[name])
    return set(re.findall(r"plots\.(\w+)\(", source)) & chart_functions()


def png(figure) -> bytes:
    """The PNG bytes as a notebook's inline backend writes them (see chart_style.setup)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def texts(figure) -> list[str]:
    figure.canvas.draw()
    return [t.get_text() for t in figure.findobj(matplotlib.text.Text) if t.get_text()]


def test_every_chart_function_is_drawn_here():
    covered = set().union(*(called(name) for name in CHARTS))
    assert chart_functions() - covered == set(), "a chart of newslens.report.plots is not exercised by CHARTS"


@pytest.mark.parametrize("name", list(CHARTS))
def test_chart_text_is_plain(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. "Glyph … missing from font(s)"
        figure = CHARTS[name]()
        shown = texts(figure)
        png(figure)
    markup = [t for t in shown if MARKUP.search(t)]
    assert markup == [], f"{name}: raw markup in chart text: {markup}"
    for axis in (a for ax in figure.axes if ax.get_visible() for a in (ax.xaxis, ax.yaxis)):
        assert axis.get_scale() == "linear", f"{name}: a {axis.get_scale()} axis computes on the data at draw time"


def tick_labels(axis) -> list[str]:
    lo, hi = sorted(axis.get_view_interval())
    return [t.get_text() for t in axis.get_ticklabels() if lo <= t.get_position()[axis.axis_name == "y"] <= hi]


def test_log_scaled_charts_read_as_plain_numbers():
    heaps = CHARTS["heaps"]()
    heaps.canvas.draw()
    ax = heaps.axes[0]
    assert tick_labels(ax.xaxis) == ["1", "10", "100", "1,000", "10k", "100k", "1M"]
    assert tick_labels(ax.yaxis)[:4] == ["1", "10", "100", "1,000"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "observed" and re.fullmatch(r"fit: V = K·nᵝ, K = [\d.]+, β = 0\.\d{3}", legend[1])

    zipf = CHARTS["zipf"]()
    zipf.canvas.draw()
    ax = zipf.axes[0]
    assert tick_labels(ax.xaxis) == ["1", "10", "100", "1,000"]
    assert re.fullmatch(r"fit over ranks 10–[\d,]+ \(terms used 10\+ times\): frequency ∝ rankˢ, s = −\d\.\d\d",
                        ax.get_legend().get_texts()[1].get_text())

    histogram = CHARTS["histogram log"]()
    histogram.canvas.draw()
    labels = tick_labels(histogram.axes[0].xaxis)
    assert {"100", "1,000"} <= set(labels) and all(re.fullmatch(r"[\d,]+k?", t) for t in labels)


def test_the_fitted_lines_follow_the_rounded_fit():
    curve, k, beta = heaps_curve(2_500_000)
    ax = plots.heaps(curve, k, beta).axes[0]
    (x0, x1), (y0, y1) = ax.get_lines()[1].get_data()
    shown_k, shown_beta = plots.heaps_parameters(k, beta)
    assert (y1 - y0) / (x1 - x0) == pytest.approx(shown_beta, abs=1e-3)
    assert 10 ** (y0 - shown_beta * x0) == pytest.approx(shown_k, rel=1e-3)
    assert 0.6 < shown_beta < 0.8  # the test curve: V = min(n, 7.3·n^0.64)
    observed = ax.get_lines()[0].get_data()
    assert np.array_equal(observed[0], np.round(np.log10(curve["tokens"]), 4))


# ------------------------------------------------------------------ last bits

def nudge(value):
    """The same data one unit in the last place higher (floats only; counts are exact)."""
    if isinstance(value, pd.DataFrame):
        return value.apply(nudge)
    if isinstance(value, pd.Series):
        return pd.Series(nudge(value.to_numpy()), index=value.index, name=value.name) \
            if value.dtype.kind == "f" else value
    if isinstance(value, list):
        return [(name, nudge(v)) for name, v in value]
    if isinstance(value, float):
        return float(np.nextafter(value, np.inf))
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.nextafter(value, np.inf)
    return value


def float_frame(rows, cols, seed=3, signed=False):
    r = np.random.default_rng(seed)
    values = r.normal(0, 2, (rows, cols)) if signed else r.uniform(0, 0.4, (rows, cols))
    return pd.DataFrame(values, index=terms(rows), columns=[f"g{i}" for i in range(cols)])


# chart → (function, data arguments, keyword arguments); every float argument is nudged.
NUDGED = {
    "barh": (plots.barh, lambda: [pd.Series(np.random.default_rng(1).uniform(0.05, 0.4, 12), index=terms(12))],
             {"title": "t", "xlabel": "x", "fmt": "{:.3f}"}),
    "histogram": (plots.histogram, lambda: [np.random.default_rng(2).normal(5, 2, 400)], {"title": "t", "xlabel": "x"}),
    "histogram log": (plots.histogram, lambda: [np.random.default_rng(2).lognormal(5, 1, 400)],
                      {"title": "t", "xlabel": "x", "log": True}),
    "heatmap": (plots.heatmap, lambda: [float_frame(6, 5)], {"title": "t", "colorbar": "c"}),
    "heatmap signed": (plots.heatmap, lambda: [float_frame(6, 5, signed=True)],
                       {"title": "t", "colorbar": "c", "fmt": "{:+.1f}", "symmetric": True}),
    "zipf": (plots.zipf, lambda: [zipf_counts(2000).astype(float)], {}),
    "heaps": (plots.heaps, lambda: list(heaps_curve(800_000)), {}),
    "stacked bars": (plots.stacked_bars, lambda: [weekly_table().astype(float) * 1.1],
                     {"title": "t", "ylabel": "y"}),
    "sweep": (plots.sweep, lambda: [sweep_table().assign(coherence=lambda t: t["coherence"] / 3)], {"chosen_k": 10}),
    "small multiples": (plots.small_multiples, lambda: [weight_frames(5, 8)], {"title": "t"}),
    "diverging multiples": (plots.diverging_multiples, lambda: [weight_frames(3, 10, signed=True)],
                            {"title": "t", "xlabel": "x"}),
    "interval multiples": (plots.interval_multiples, lambda: [effect_frames(4, GROUP_LEVELS, [539, 482, 359, 353, 1, 193])],
                           {"title": "t", "xlabel": "x"}),
    "band multiples": (plots.band_multiples, lambda: [effect_frames(3, WEEKS, WEEK_COUNTS)],
                       {"title": "t", "ylabel": "y", "count_label": "c"}),
}


def test_every_chart_function_is_nudged_here():
    assert chart_functions() - {function.__name__ for function, _, _ in NUDGED.values()} == set()


@pytest.mark.parametrize("name", list(NUDGED))
def test_last_bits_do_not_change_the_png(name):
    function, data, options = NUDGED[name]
    arguments = data()
    nudged = [nudge(a) for a in arguments]
    assert any(not _same(a, b) for a, b in zip(arguments, nudged)), "the nudge changed nothing"
    before, after = function(*arguments, **options), function(*nudged, **options)
    # What matplotlib is handed, exactly: a last bit there may or may not move a pixel.
    assert drawn(after) == drawn(before)
    assert png(after) == png(before)


def drawn(figure) -> list:
    """Every number the figure's artists hold: line and bar coordinates, images and colour
    limits, collections, text positions and ticks, as exact float bytes."""
    figure.canvas.draw()
    seen = []
    for artist in figure.findobj():
        if isinstance(artist, matplotlib.lines.Line2D):
            seen.append(("line", np.asarray(artist.get_xydata(), dtype=float).tobytes()))
        elif isinstance(artist, matplotlib.patches.Rectangle):
            seen.append(("bar", np.array(artist.get_bbox().get_points(), dtype=float).tobytes()))
        elif isinstance(artist, matplotlib.image.AxesImage):
            seen.append(("image", np.ma.filled(artist.get_array(), np.nan).tobytes(), artist.get_clim()))
        elif isinstance(artist, matplotlib.collections.Collection):
            seen.append(("collection", tuple(np.asarray(p.vertices, dtype=float).tobytes()
                                             for p in artist.get_paths())))
        elif isinstance(artist, matplotlib.text.Text):
            seen.append(("text", artist.get_text(), tuple(map(float, artist.get_position()))))
    for ax in figure.axes:
        seen.append(("limits", ax.get_xlim(), ax.get_ylim()))
    return seen


def test_a_visible_change_does_change_the_png():
    """The comparison above can fail: a change of 1% in the data gives other bytes."""
    data = pd.Series(np.random.default_rng(1).uniform(0.05, 0.4, 12), index=terms(12))
    assert png(plots.barh(data * 1.01, title="t", xlabel="x")) != png(plots.barh(data, title="t", xlabel="x"))


def _same(a, b) -> bool:
    if isinstance(a, (pd.Series, pd.DataFrame)):
        return a.equals(b)
    if isinstance(a, list):
        return all(x[1].equals(y[1]) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


# ------------------------------------------------------------------ the helpers

def test_display_values_round_floats_and_keep_counts():
    assert display_values(np.array([123456789, 7])).tolist() == [123456789, 7]
    assert display_values([0.000123456, -3.14159, 98765.4321, np.inf]).tolist() == \
        [0.0001235, -3.142, 98765.0, np.inf]
    x = np.random.default_rng(0).uniform(-5, 5, 1000)
    assert np.array_equal(display_values(x), display_values(np.nextafter(x, np.inf)))


def test_display_values_round_a_chunk_at_a_time_as_they_would_at_once(monkeypatch):
    from newslens import precision

    x = np.random.default_rng(1).uniform(0, 1e-3, (3, 7))
    whole = display_values(x)
    monkeypatch.setattr(precision, "_CHUNK", 4)  # 21 values: chunks of 4 and one of 1
    chunked = display_values(x)
    assert chunked.shape == (3, 7) and np.array_equal(chunked, whole)
    assert whole.ravel().tolist() == [float(f"{v:.4g}") for v in x.ravel().tolist()]


def test_log10_values_match_numpy_at_display_precision():
    x = np.random.default_rng(0).uniform(1, 1e6, 500)
    assert np.allclose(chart_style.log10_values(x), np.log10(x), atol=5e-5)
    with pytest.raises(ValueError):
        chart_style.log10_values([1, 0])


@pytest.mark.parametrize("lo, hi", [(-0.05, 6.4), (0.0, 0.3), (2.1, 2.2), (-3.5, -1.2), (8.7, 9.6), (0, 0)])
def test_log_ticks_always_label_the_axis(lo, hi):
    major, labels, minor = chart_style.log_ticks(lo, hi)
    assert major and len(major) == len(labels) and all(labels)
    assert major == sorted(major) and not set(major) & set(minor)
    assert not any(MARKUP.search(label) for label in labels)


def test_a_log_histogram_says_its_axis_is_logarithmic():
    def label(**options):
        return plots.histogram([3, 40, 500, 6000], title="t", **options).axes[0].get_xlabel()

    assert label(xlabel="tokens", log=True) == "tokens (log scale)"
    assert label(xlabel="words (log scale)", log=True) == "words (log scale)"
    assert label(xlabel="tokens", log=False) == "tokens"


def test_the_zipf_line_is_drawn_only_over_the_ranks_it_was_fitted_on():
    counts = zipf_counts(3000)
    fig = plots.zipf(counts)
    line = fig.axes[0].get_lines()[1]
    x = line.get_xdata()
    last = int((counts >= plots.ZIPF_MIN_FREQUENCY).sum())
    assert x[0] == pytest.approx(np.log10(plots.ZIPF_FIRST_RANK), abs=1e-4)
    assert x[-1] == pytest.approx(np.log10(last), abs=1e-4)  # plotted at 4 decimals


def test_signed_heatmaps_and_bars_share_one_colour_convention():
    from matplotlib.colors import to_hex

    from newslens.report.chart_style import OVER, UNDER

    fig = plots.heatmap(pd.DataFrame([[2.0, -2.0]], index=["t"], columns=["a", "b"]), title="t",
                        colorbar="log ratio", symmetric=True)
    image = fig.axes[0].get_images()[0]
    over, under = (to_hex(image.cmap(image.norm(v))) for v in (2.0, -2.0))
    assert (over, under) == (OVER, UNDER)
    assert fig.axes[1].get_ylabel() == "log ratio"  # the colour bar says what it shows
    bars = plots.diverging_multiples([("a", pd.Series([1.0, -1.0], index=["x", "y"])),
                                      ("b", pd.Series([3.0], index=["z"]))], title="t", xlabel="log ratio")
    colours = {to_hex(p.get_facecolor()) for p in bars.axes[0].patches}
    assert colours == {OVER, UNDER}
    assert bars.axes[0].get_xlim() == bars.axes[1].get_xlim()  # compared panels share one scale
