"""Time resolution from the span of the dates, and documents per period, over any span."""

from __future__ import annotations

import pandas as pd
import pytest

from newslens.corpus import periods


def documents(dates: list[str], groups: list[str | None] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"doc_id": [f"d{i}" for i in range(len(dates))],
                         "date": pd.to_datetime(pd.Series(dates, dtype=object)),
                         "group": groups if groups is not None else ["a"] * len(dates)})


@pytest.mark.parametrize("first, last, expected", [
    ("2017-01-01", "2017-02-15", "day"),
    ("2016-12-02", "2017-03-30", "week"),     # the news corpus: 118 days
    ("2014-01-01", "2017-06-30", "month"),
    ("2000-01-01", "2015-12-31", "quarter"),
    ("1900-01-01", "2010-12-31", "year"),
    ("1790-01-08", "2020-02-04", "decade"),   # the State of the Union addresses
])
def test_the_resolution_follows_the_span(first, last, expected):
    dates = pd.Series(pd.date_range(first, last, periods=40))
    chosen = periods.choose_resolution(dates)
    assert chosen.name == expected
    assert chosen.reason.startswith(f"by {expected}: the dates span")


def test_params_override_and_bad_values_are_named():
    assert periods.choose_resolution(pd.Series(pd.to_datetime(["2017-01-01"])), "year").name == "year"
    with pytest.raises(ValueError, match="period: got 'fortnight'; expected one of day, week"):
        periods.choose_resolution(pd.Series([], dtype="datetime64[ns]"), "fortnight")


def test_two_centuries_are_counted_by_decade_without_overflow():
    dates = [f"{year}-06-01" for year in range(1790, 2021, 5)]
    table, outside, resolution = periods.counts_over_time(documents(dates))
    assert resolution.name == "decade" and outside.empty
    assert table.index[0] == "1790s" and table.index[-1] == "2020s"
    assert len(table) == 24 and int(table.to_numpy().sum()) == len(dates)


def test_an_outlier_is_listed_not_dropped_and_empty_periods_are_kept():
    dates = ["2016-10-03", "2016-10-04", "2017-01-09", "2017-01-10", "2017-01-11", "2022-01-10"]
    table, outside, resolution = periods.counts_over_time(documents(dates, ["x", "y", "x", None, "x", "z"]))
    assert resolution.name == "week"
    assert outside["doc_id"].tolist() == ["d5"]  # the 2022 article, apart
    assert int(table.to_numpy().sum()) == 5 and list(table.columns) == ["x", "(no group)", "y"]
    assert table.index[0] == "3 Oct 2016" and table.index[-1] == "9 Jan 2017"
    assert len(table) == 15 and (table.loc["19 Dec 2016"] == 0).all()  # weeks without documents stay


def test_labels_of_every_resolution():
    start = pd.Timestamp("2017-02-06")
    assert [periods.period_label(start, r) for r in periods.RESOLUTIONS] == \
        ["2017-02-06", "6 Feb 2017", "Feb 2017", "2017 Q1", "2017", "2017s"]
    starts = periods.period_start(pd.Series(pd.to_datetime(["2017-02-08", "2013-11-30", None])), "decade")
    assert starts.tolist()[:2] == [pd.Timestamp("2010-01-01"), pd.Timestamp("2010-01-01")]
    assert pd.isna(starts.iloc[2])


def test_undated_runs_get_an_empty_table():
    table, outside, resolution = periods.counts_over_time(documents([None, None]))
    assert table.empty and outside.empty and resolution.evidence == "no document is dated"
    assert resolution.reason == "by week: no document is dated"
