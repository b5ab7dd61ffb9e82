"""Time: the resolution a run's dates call for, and documents per period.

The ingest report charts documents over time and the topics report topic
prevalence over time; both bin dates here, at one resolution chosen from the
span of the dense part of the dates (or given in the params):

=========  ==========================  ====================
span       resolution                  label of a period
=========  ==========================  ====================
≤ 90 days  day                         ``2017-02-06``
≤ 1.5 y    week (ISO, from Monday)     ``6 Feb 2017``
≤ 7 y      month                       ``Feb 2017``
≤ 20 y     quarter                     ``2017 Q1``
≤ 120 y    year                        ``2017``
longer     decade                      ``2010s``
=========  ==========================  ====================

so a chart has at most about 80 bars. Dates far from the rest — beyond three
interquartile ranges from the quartiles, such as a 2022 article set among
2016–2017 news — are listed apart, never dropped, so that a few outliers do not
stretch the axis over years. The arithmetic is on fractional years, which no
span can overflow (pandas' Timedelta holds only ±292 years).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RESOLUTIONS = ("day", "week", "month", "quarter", "year", "decade")
# The longest span, in years, each resolution draws in about 80 periods or fewer.
_LONGEST = {"day": 90 / 365.25, "week": 1.5, "month": 7.0, "quarter": 20.0, "year": 120.0}
_MIN_SPREAD_YEARS = 7 / 365.25  # quartiles closer than a week still keep a week either side


@dataclass(frozen=True)
class Resolution:
    """The period length of a run's time axis, and the evidence it was chosen on."""

    name: str
    evidence: str  # "the dates span 118 days (from … to …)", or why no span decided it

    @property
    def reason(self) -> str:
        return f"by {self.name}: {self.evidence}"


def fractional_years(dates: pd.Series) -> pd.Series:
    """Each date as a float year (2017.0 is 1 January 2017); NaT stays NaN."""
    dates = pd.to_datetime(dates)
    start = dates.dt.day_of_year.astype(float) - 1
    length = np.where(dates.dt.is_leap_year, 366.0, 365.0)
    return dates.dt.year.astype(float) + start / length


def dense_mask(dates: pd.Series) -> pd.Series:
    """True for the dates within three interquartile ranges of the quartiles (NaT: False)."""
    years = fractional_years(dates)
    q1, q3 = years.quantile([0.25, 0.75])
    spread = max(q3 - q1, _MIN_SPREAD_YEARS)
    return years.between(q1 - 3 * spread, q3 + 3 * spread)


def choose_resolution(dates: pd.Series, requested: str | None = None) -> Resolution:
    """The resolution for ``dates``: ``requested`` when given, else the one their dense span calls for."""
    if requested is not None:
        if requested not in RESOLUTIONS:
            raise ValueError(f"period: got {requested!r}; expected one of {', '.join(RESOLUTIONS)}")
        return Resolution(requested, "as the params set it")
    dated = pd.to_datetime(dates).dropna()
    if dated.empty:
        return Resolution("week", "no document is dated")
    dense = dated[dense_mask(dated)]
    years = fractional_years(dense)
    span = float(years.max() - years.min())
    name = next((n for n, longest in _LONGEST.items() if span <= longest), "decade")
    shown = f"{span * 365.25:,.0f} days" if span < 2 else f"{span:,.1f} years"
    return Resolution(name, f"the dates span {shown} (from {dense.min():%d %B %Y} to {dense.max():%d %B %Y})")


def period_start(dates: pd.Series, resolution: str) -> pd.Series:
    """The first day of each date's period (NaT stays NaT)."""
    dates = pd.to_datetime(dates)
    if resolution == "day":
        return dates.dt.normalize()
    if resolution == "week":
        return (dates.dt.normalize() - pd.to_timedelta(dates.dt.day_of_week, unit="D"))
    if resolution in ("month", "quarter"):
        return dates.dt.to_period("M" if resolution == "month" else "Q").dt.start_time
    years = dates.dt.year
    if resolution == "decade":
        years = years // 10 * 10
    return pd.to_datetime(years.astype("Int64").astype(str).where(years.notna()) + "-01-01")


def period_label(start: pd.Timestamp, resolution: str) -> str:
    """How a period is named on an axis or in a table."""
    if resolution == "day":
        return f"{start:%Y-%m-%d}"
    if resolution == "week":
        return f"{start.day} {start:%b %Y}"
    if resolution == "month":
        return f"{start:%b %Y}"
    if resolution == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if resolution == "year":
        return f"{start.year}"
    return f"{start.year}s"


def _all_starts(first: pd.Timestamp, last: pd.Timestamp, resolution: str) -> list[pd.Timestamp]:
    """Every period start from ``first`` to ``last``, empty periods included."""
    if resolution == "decade":
        return [pd.Timestamp(year=y, month=1, day=1) for y in range(first.year, last.year + 1, 10)]
    freq = {"day": "D", "week": "7D", "month": "MS", "quarter": "QS", "year": "YS"}[resolution]
    return list(pd.date_range(first, last, freq=freq))


def counts_over_time(documents: pd.DataFrame, resolution: Resolution | None = None
                     ) -> tuple[pd.DataFrame, pd.DataFrame, Resolution]:
    """Documents per period and group over the dense part of the dates.

    Returns the table (period labels × groups, every period in the range, busiest
    group first), the documents dated outside the dense part, and the resolution.
    """
    resolution = resolution or choose_resolution(documents["date"])
    dated = documents.dropna(subset=["date"])
    if dated.empty:
        return pd.DataFrame(), dated, resolution
    inside = dense_mask(dated["date"])
    kept = dated[inside]
    starts = period_start(kept["date"], resolution.name)
    table = (pd.crosstab(starts, kept["group"].fillna("(none)").astype(str))
             .reindex(_all_starts(starts.min(), starts.max(), resolution.name), fill_value=0))
    order = table.sum().sort_values(ascending=False, kind="stable").index
    table = table[order]
    table.index = [period_label(start, resolution.name) for start in table.index]
    table.index.name = resolution.name
    table.columns.name = "group"
    return table, dated[~inside], resolution
