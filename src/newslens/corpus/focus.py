"""The focus: the document (or source file) a run's reports centre on.

Every stage after ingest shows the focus, so finding it lives here, apart from
ingest and its dependencies.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from newslens import config


def resolve_focus(documents: pd.DataFrame, focus: str | None) -> list[str]:
    """The doc_ids the run centres on: a doc_id, or every unit of a source file path.

    >>> docs = pd.DataFrame({"doc_id": ["a#1", "a#2", "b"], "parent_id": ["a", "a", "b"],
    ...                      "location": ["x/a.txt", "x/a.txt", "x/b.txt"]})
    >>> resolve_focus(docs, "a"), resolve_focus(docs, "x/b.txt"), resolve_focus(docs, None)
    (['a#1', 'a#2'], ['b'], [])
    """
    if not focus:
        return []
    by_id = documents.loc[(documents["doc_id"] == focus) | (documents["parent_id"] == focus), "doc_id"]
    if by_id.empty:
        wanted = focus.rstrip("/")
        path = Path(os.path.normpath(config.resolve_path(wanted)))  # ./a.txt or /abs/a.txt as logged
        if path.is_relative_to(config.PROJECT_ROOT):
            wanted = path.relative_to(config.PROJECT_ROOT).as_posix()
        by_id = documents.loc[documents["location"].isin([focus.rstrip("/"), wanted]), "doc_id"]
    if by_id.empty:
        raise ValueError(f"focus: {focus!r} matches no doc_id or source file of this run; "
                         "give a doc_id from documents.parquet or a file path listed in ingest_log.csv")
    return by_id.tolist()


def focus_or_first(documents: pd.DataFrame, focus: str | None) -> list[str]:
    """The focus, or else the units of the run's first document (for showing an example)."""
    chosen = resolve_focus(documents, focus)
    if chosen or documents.empty:
        return chosen
    first = documents["parent_id"].iloc[0]
    return documents.loc[documents["parent_id"] == first, "doc_id"].tolist()


def title_of(documents: pd.DataFrame, doc_id: str) -> str:
    """A document's title, or its id when it has none (a table without a title column).

    >>> docs = pd.DataFrame({"doc_id": ["a", "b"], "title": ["Call", None]})
    >>> title_of(docs, "a"), title_of(docs, "b")
    ('Call', 'b')
    """
    title = documents.loc[documents["doc_id"] == doc_id, "title"].iloc[0]
    return doc_id if pd.isna(title) or not str(title).strip() else str(title)
