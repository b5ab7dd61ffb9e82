"""The ingest page's group charts stay legible whatever the number of groups."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from newslens.report import ingest_page, plots
from newslens.wording import Words


def test_a_run_with_thousands_of_groups_charts_the_largest_and_says_how_many_are_left(monkeypatch) -> None:
    drawn, notes = {}, []
    monkeypatch.setattr(plots, "barh", lambda values, **kw: drawn.update(values=values, **kw))
    monkeypatch.setattr(ingest_page.markup, "show_text", lambda text, **kw: notes.append(text))
    per_group = pd.Series(range(5_000, 0, -1), index=[f"https://example.org/{i}" for i in range(5_000)])
    ingest_page.group_sizes(SimpleNamespace(per_group=per_group), Words("article", "outlet"))
    assert len(drawn["values"]) == ingest_page.SHOWN_GROUPS
    assert drawn["values"].equals(per_group.iloc[:ingest_page.SHOWN_GROUPS])  # the largest, in order
    assert "25 largest of 5,000" in drawn["title"]
    rest = per_group.iloc[ingest_page.SHOWN_GROUPS:]
    assert notes == [f"The other 4,975 outlets hold {rest.sum():,} articles (4,975 at most); "
                     "every count is in the ingest log."]


def test_a_run_with_few_groups_charts_them_all(monkeypatch) -> None:
    drawn = {}
    monkeypatch.setattr(plots, "barh", lambda values, **kw: drawn.update(values=values, **kw))
    per_group = pd.Series([30, 20, 10], index=["a", "b", "c"])
    ingest_page.group_sizes(SimpleNamespace(per_group=per_group), Words())
    assert drawn["values"].equals(per_group) and drawn["title"] == "Documents per group"


def test_the_chart_over_time_stacks_at_most_a_palette_of_groups() -> None:
    table = pd.DataFrame({f"g{i}": [i, 2 * i] for i in range(40)})
    folded = ingest_page.fold_groups(table, ingest_page.STACKED_GROUPS, "outlets")
    assert len(folded.columns) == ingest_page.STACKED_GROUPS == len(plots.PALETTE)
    assert folded.columns[-1] == "31 other outlets"
    assert folded.sum(axis=1).tolist() == table.sum(axis=1).tolist()  # nothing lost
    assert ingest_page.fold_groups(table.iloc[:, :10], 10).equals(table.iloc[:, :10])  # 10 fit: unchanged


def test_a_file_too_large_for_a_shared_page_is_named_not_embedded(tmp_path) -> None:
    from newslens.report import markup

    small, large = tmp_path / "small.csv", tmp_path / "ingest_log.csv"
    small.write_text("a,b\n1,2\n")
    large.write_bytes(b"x" * (markup.EMBED_LIMIT + 1))
    assert 'href="data:text/csv;charset=utf-8;base64,' in markup.download_link(small, "Download", "text/csv")
    named = markup.download_link(large, "Download the full log", "text/csv")
    assert "data:" not in named and "ingest_log.csv (1,000.0 kB) is too large" in named
