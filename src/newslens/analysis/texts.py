"""The documents' texts for the keywords stage's passes over them, never all held in one process.

The keywords stage reads the original texts for its keywords in context and the keyness
explorer's lines and word forms. :class:`Texts` names the partitions of documents.parquet
(row ranges of :data:`newslens.engine.PARTITION_DOCUMENTS` documents, a file or the dask
engine's folder of parts); a pass is a fold over them on the run's engine
(:meth:`newslens.engine.Engine.fold`): each task reads its rows' ``doc_id``, ``text`` and
``group``, and the results merge in document order. In process the partitions are read
one at a time, so the stage holds one partition's texts, not the corpus's.

A frame already in memory (a test's, a notebook's) is one partition (:meth:`Texts.in_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import pandas as pd

from newslens.text import passes

if TYPE_CHECKING:
    from newslens.engine import Engine


class Loaded(NamedTuple):
    """A partition already in memory: its documents' ids, texts and groups, in order."""

    doc_ids: list
    texts: list
    groups: list


@dataclass(frozen=True)
class Texts:
    """Where the texts are: partitions of documents.parquet read by ``runner``'s workers, or in memory."""

    parts: list  # passes.Rows of documents.parquet, or Loaded partitions
    runner: "Engine | None" = None  # None: in this process

    @classmethod
    def in_file(cls, path: str | Path, runner: "Engine") -> "Texts":
        return cls(passes.row_partitions(path), runner)

    @classmethod
    def in_frame(cls, documents: pd.DataFrame) -> "Texts":
        groups = documents["group"].tolist() if "group" in documents else [None] * len(documents)
        return cls([Loaded(documents["doc_id"].tolist(), documents["text"].tolist(), groups)])

    def fold(self, function: Callable[[Any, Any], Any], combine: Callable[[list], Any], shared: Any) -> Any:
        """``combine`` of ``function(shared, partition)`` over the partitions, in order (None when there are none)."""
        if self.runner is None:
            results = [function(shared, part) for part in self.parts]
            return combine(results) if results else None
        return self.runner.fold(function, self.parts, combine, shared=shared)


def read(part: "passes.Rows | Loaded") -> Loaded:
    """A partition's documents: read from documents.parquet on the worker, or as held."""
    if isinstance(part, Loaded):
        return part
    table = passes.read_columns(part, ["doc_id", "text", "group"])
    return Loaded(*(table.column(name).to_pylist() for name in ("doc_id", "text", "group")))
