"""What notebooks display: escaped tables, text, headings and token lists.

Every string that comes from the corpus passes through :func:`html.escape`
before it reaches a report, and every float at the precision it is shown with
(:func:`display_values` for what charts draw). Turning executed notebooks into HTML
files, with their provenance, is :mod:`newslens.render`.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

import numpy as np
import pandas as pd

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
    array = array.astype(float)
    rounded = [_round_significant(v, digits) for v in array.ravel().tolist()]
    return np.asarray(rounded, dtype=float).reshape(array.shape)


def display_value(value: float, digits: int = DISPLAY_DIGITS) -> float:
    """One value at display precision (see :func:`display_values`)."""
    return _round_significant(float(value), digits)


# ---------------------------------------------------------------- display helpers

def escape(value: object) -> str:
    """HTML-escape any value for display; None and NaN show as an empty cell."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    return html.escape(str(value), quote=True)


def table_html(frame: pd.DataFrame, *, numeric_format: dict[str, str] | None = None,
               css_class: str = "", caption: str | None = None) -> str:
    """An HTML table of ``frame`` with every cell escaped and numbers right-aligned."""
    numeric_format = numeric_format or {}
    head = "".join(
        f'<th class="{"num" if pd.api.types.is_numeric_dtype(frame[c]) else ""}">{escape(c)}</th>'
        for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, values):
            numeric = pd.api.types.is_numeric_dtype(frame[column]) and not isinstance(value, bool)
            if numeric and value == value and value is not None:
                shown = format(value, numeric_format.get(column, ",.4g" if isinstance(value, float) else ","))
            else:
                shown = value
            cells.append(f'<td class="{"num" if numeric else ""}">{escape(shown)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (f'<table class="{escape(css_class)}">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def show_table(frame: pd.DataFrame, **kwargs) -> None:
    """Display :func:`table_html` in a notebook."""
    from IPython.display import HTML, display

    display(HTML(table_html(frame, **kwargs)))


def show_text(text: str, *, tag: str = "p", css_class: str = "") -> None:
    """Display corpus or generated text, escaped, as one paragraph (or other block tag)."""
    from IPython.display import HTML, display

    display(HTML(f'<{tag} class="{escape(css_class)}">{escape(text)}</{tag}>'))


def show_html(markup: str) -> None:
    """Display HTML built by this module's helpers (which escape all corpus text)."""
    from IPython.display import HTML, display

    display(HTML(markup))


def show_heading(text: str, level: int = 2) -> None:
    """Display an escaped heading; used where the heading carries data (titles, run names)."""
    from IPython.display import HTML, display

    display(HTML(f"<h{level}>{escape(text)}</h{level}>"))


def tokens_html(sentences: Sequence[Sequence[str]], display: dict[str, str]) -> str:
    """Tokenized sentences, one per line, phrases marked; every token escaped."""
    lines = []
    for index, sentence in enumerate(sentences, start=1):
        parts = [f"<mark>{escape(display.get(t, t))}</mark>" if "_" in t else escape(t) for t in sentence]
        lines.append(f"<li>{' · '.join(parts) or '<em>(no tokens)</em>'}</li>")
    return f'<ol class="tokens">{"".join(lines)}</ol>'
