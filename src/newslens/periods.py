"""Time: documents per period, over the dense part of a run's date range.

The ingest report charts documents over time and the topics report topic
prevalence over time; both bin dates here.
"""

from __future__ import annotations

import pandas as pd


def counts_over_time(documents: pd.DataFrame, *, freq: str = "W") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Documents per period and group, over the dense part of the date range.

    Returns the wide table (periods × groups) and the documents dated far from
    the rest — beyond three interquartile ranges from the quartiles, such as a
    2022 article set among 2016–2017 news — so that a few outliers do not
    stretch the axis over years. They are listed, never dropped.
    """
    dated = documents.dropna(subset=["date"])
    if dated.empty:
        return pd.DataFrame(), dated
    q1, q3 = dated["date"].quantile([0.25, 0.75])
    spread = max(q3 - q1, pd.Timedelta(days=7))
    inside = dated["date"].between(q1 - 3 * spread, q3 + 3 * spread)
    table = (dated[inside].assign(group=dated["group"].fillna("(none)"))
             .set_index("date").groupby("group").resample(freq)["doc_id"].count()
             .unstack("group", fill_value=0).sort_index())
    order = table.sum().sort_values(ascending=False).index
    return table[order], dated[~inside]
