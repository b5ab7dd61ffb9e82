"""Dates as ingest reads them: lenient parsing to the day, years 1 to 9999, with their precision.

A value is a date as ISO text (``1850``, ``1850-03``, ``2017-02-07T10:00:00+03:00``) or in a
form dateutil reads (``10 January 2022``); partial dates keep their precision, a bare number
is a date only as a four-digit year, and what fails to parse is listed, never fatal.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

import numpy as np
import pandas as pd
from dateutil import parser as dateutil_parser

DATE_PRECISIONS = ("day", "month", "year")  # what a parsed date says: "1850" is a year, not 1 January
MIN_DATE_PARSE_RATE = 0.5  # a source's date column parsing below this is not used for dating
# Dates are milliseconds: years 1 to 9999 fit (nanoseconds hold only 1677-2262), and parquet
# stores milliseconds as they are (it has no seconds unit), so memory and disk agree.
DATE_UNIT = "ms"

_ISO_DATE = re.compile(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?"
                       r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?\s*")
_BARE_NUMBER = re.compile(r"\s*[+-]?\d+(?:[.,]\d+)*\s*")
# dateutil fills what a value lacks from its default: two defaults tell which parts it gave.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))


class ParsedDates(NamedTuple):
    """Dates parsed to the day (``datetime64[ms]``: years 1 to 9999), their precision, the failures."""

    dates: pd.Series
    precision: pd.Series  # "day", "month" or "year"; None where there is no date
    problems: list[str]  # the distinct values that could not be parsed, sorted


def parse_date(value: str) -> tuple[str, str] | None:
    """One date as ``("YYYY-MM-DD", precision)``, or None when it is not a date.

    ISO forms (``1850``, ``1850-03``, ``2017-02-07T10:00:00+03:00``) are read by
    hand, other forms (``10 January 2022``, ``2017/2/7``) by dateutil. A value
    with a UTC offset keeps its own calendar day. A bare number is a date only
    as a four-digit year: ``12`` or ``3.5`` are not dates.

    >>> parse_date("1850-03"), parse_date("9999-12-31T23:00:00-05:00"), parse_date("12")
    (('1850-03-01', 'month'), ('9999-12-31', 'day'), None)
    """
    match = _ISO_DATE.fullmatch(value)
    if match:
        year, month, day = match.groups()
        parts = (int(year), int(month or 1), int(day or 1))
        precision = "day" if day else "month" if month else "year"
    elif _BARE_NUMBER.fullmatch(value):
        return None
    else:
        try:
            first, second = (dateutil_parser.parse(value, default=d) for d in _DEFAULTS)
        except (ValueError, OverflowError):
            return None
        if first.year != second.year:  # no year given ("March 3")
            return None
        parts = (first.year, first.month, first.day)
        precision = "year" if first.month != second.month else "month" if first.day != second.day else "day"
    try:
        datetime(*parts)
    except ValueError:  # 2017-02-30, month 13, year 0
        return None
    return f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}", precision


def parse_dates(raw_dates: pd.Series) -> ParsedDates:
    """Parse dates leniently to day precision, each distinct value once (see :func:`parse_date`).

    Dates span years 1 to 9999 (:data:`DATE_UNIT`, not pandas' nanosecond 1677-2262),
    naive and UTC-offset values mix freely, and partial dates keep their precision.
    """
    values = raw_dates.astype(object)
    present = values.notna()
    parsed = {value: parse_date(str(value)) for value in dict.fromkeys(values[present])}
    days = [None if not ok or (found := parsed[value]) is None else found[0]
            for value, ok in zip(values, present)]
    precision = [None if day is None else parsed[value][1] for value, day in zip(values, days)]
    dates = pd.Series(np.array([np.datetime64("NaT") if d is None else np.datetime64(d) for d in days],
                               dtype=f"datetime64[{DATE_UNIT}]"), index=raw_dates.index, name=raw_dates.name)
    problems = sorted({str(value) for value, found in parsed.items() if found is None})
    return ParsedDates(dates, pd.Series(precision, index=raw_dates.index, dtype=object), problems)
