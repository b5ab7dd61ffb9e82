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
span can overflow (pandas' Timedelta holds only ±292 years), and periods are cut
with numpy's calendar units, so dates run from year 1 to 9999 (held in milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from newslens.corpus.clean import MISSING_GROUP

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


_PRECISION_FLOOR = {"year": "year", "month": "month"}  # a date's precision: the finest resolution it allows


def _coarsest_precision(precision: pd.Series | None) -> str | None:
    """The coarsest precision among dated documents ("year" before "month"), or None for days."""
    if precision is None:
        return None
    present = set(pd.Series(precision, dtype=object).dropna())
    return next((p for p in ("year", "month") if p in present), None)


def choose_resolution(dates: pd.Series, requested: str | None = None, *,
                      precision: pd.Series | None = None) -> Resolution:
    """The resolution for ``dates``: ``requested`` when given, else the one their dense span calls for.

    ``precision`` (documents.parquet's ``date_precision``: day, month or year) sets a floor:
    the axis is never finer than the dates are, so a corpus dated by year gets years at least.
    """
    if requested is not None and requested not in RESOLUTIONS:
        raise ValueError(f"period: got {requested!r}; expected one of {', '.join(RESOLUTIONS)}")
    dated = pd.to_datetime(dates).dropna()
    if requested is not None:
        chosen = Resolution(requested, "as the params set it")
    elif dated.empty:
        return Resolution("week", "no document is dated")
    else:
        dense = dated[dense_mask(dated)]
        years = fractional_years(dense)
        span = float(years.max() - years.min())
        name = next((n for n, longest in _LONGEST.items() if span <= longest), "decade")
        shown = f"{span * 365.25:,.0f} days" if span < 2 else f"{span:,.1f} years"
        chosen = Resolution(name, f"the dates span {shown} (from {format_date(dense.min())} "
                                  f"to {format_date(dense.max())})")
        precision = None if precision is None else pd.Series(precision, dtype=object).reindex(dense.index)
    floor = _coarsest_precision(precision)
    if floor is not None and RESOLUTIONS.index(chosen.name) < RESOLUTIONS.index(floor):
        return Resolution(floor, f"{chosen.evidence}; some dates are given only to the {floor}, "
                                 f"so no period is shorter than a {floor}")
    return chosen


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")


def format_date(stamp: pd.Timestamp, precision: str | None = "day") -> str:
    """A date as prose shows it, for years 1 to 9999: ``7 February 2017``, ``March 1850``, ``1066``.

    >>> format_date(pd.Timestamp("1066-10-14")), format_date(pd.Timestamp("1850-03-01"), "month")
    ('14 October 1066', 'March 1850')
    """
    if precision == "year":
        return f"{stamp.year}"
    if precision == "month":
        return f"{_MONTH_NAMES[stamp.month - 1]} {stamp.year}"
    return f"{stamp.day} {_MONTH_NAMES[stamp.month - 1]} {stamp.year}"


def _as_seconds(dates: pd.Series) -> np.ndarray:
    return pd.to_datetime(dates).to_numpy().astype("datetime64[s]")


def period_start(dates: pd.Series, resolution: str) -> pd.Series:
    """The first day of each date's period (NaT stays NaT); numpy calendar units, so years 1 to 9999."""
    values = _as_seconds(dates)
    valid = ~np.isnat(values)
    days = values[valid].astype("datetime64[D]")
    if resolution == "day":
        starts = days
    elif resolution == "week":  # ISO weeks from Monday; day 0 (1970-01-01) was a Thursday
        starts = days - ((days.astype("int64") + 3) % 7).astype("timedelta64[D]")
    elif resolution in ("month", "quarter"):
        months = days.astype("datetime64[M]")
        if resolution == "quarter":  # month 0 is January 1970, so quarters start at multiples of 3
            months = months - (months.astype("int64") % 3).astype("timedelta64[M]")
        starts = months
    else:
        years = days.astype("datetime64[Y]")
        if resolution == "decade":  # year 0 of the unit is 1970; the first decade starts in year 1
            years = (np.maximum((years.astype("int64") + 1970) // 10 * 10, 1) - 1970).astype("datetime64[Y]")
        starts = years
    result = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
    result[valid] = starts.astype("datetime64[s]")
    return pd.Series(result, index=getattr(dates, "index", None), name=getattr(dates, "name", None))


def period_label(start: pd.Timestamp, resolution: str) -> str:
    """How a period is named on an axis or in a table."""
    if resolution == "day":
        return f"{start.year:04d}-{start.month:02d}-{start.day:02d}"
    if resolution == "week":
        return f"{start.day} {_MONTHS[start.month - 1]} {start.year}"
    if resolution == "month":
        return f"{_MONTHS[start.month - 1]} {start.year}"
    if resolution == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if resolution == "year":
        return f"{start.year}"
    return f"{start.year if start.year >= 10 else 0}s"  # the first decade is years 1-9


_STEPS = {"day": (1, "D"), "week": (7, "D"), "month": (1, "M"), "quarter": (3, "M"), "year": (1, "Y"),
          "decade": (10, "Y")}


def all_starts(first: pd.Timestamp, last: pd.Timestamp, resolution: str) -> list[pd.Timestamp]:
    """Every period start from ``first`` to ``last``, empty periods included."""
    step, unit = _STEPS[resolution]
    if resolution == "decade" and first.year == 1:  # the first decade is years 1-9
        starts = [first] + [pd.Timestamp(year=y, month=1, day=1) for y in range(10, last.year + 1, 10)]
        return [pd.Timestamp(np.datetime64(s.to_datetime64(), "s")) for s in starts]
    begin = np.datetime64(first.to_datetime64(), unit)
    end = np.datetime64(last.to_datetime64(), unit)
    starts = np.arange(begin, end + np.timedelta64(1, unit), np.timedelta64(step, unit))
    return [pd.Timestamp(value) for value in starts.astype("datetime64[s]")]


def counts_over_time(documents: pd.DataFrame, resolution: Resolution | None = None
                     ) -> tuple[pd.DataFrame, pd.DataFrame, Resolution]:
    """Documents per period and group over the dense part of the dates.

    Returns the table (period labels × groups, every period in the range, busiest
    group first), the documents dated outside the dense part, and the resolution.
    """
    resolution = resolution or choose_resolution(documents["date"], precision=documents.get("date_precision"))
    dated = documents.dropna(subset=["date"])
    if dated.empty:
        return pd.DataFrame(), dated, resolution
    inside = dense_mask(dated["date"])
    kept = dated[inside]
    starts = period_start(kept["date"], resolution.name)
    table = (pd.crosstab(starts, kept["group"].fillna(MISSING_GROUP).astype(str))
             .reindex(all_starts(starts.min(), starts.max(), resolution.name), fill_value=0))
    order = table.sum().sort_values(ascending=False, kind="stable").index
    table = table[order]
    table.index = [period_label(start, resolution.name) for start in table.index]
    table.index.name = resolution.name
    table.columns.name = "group"
    return table, dated[~inside], resolution
