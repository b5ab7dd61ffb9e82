"""What a reader cites for each source of a run: a builtin's citation and licence, a text's stated origin.

A builtin corpus carries both in its one record (:data:`newslens.corpora.BUILTINS`). A folder
or file of texts states its origin in a text's sidecar JSON (key ``origin``, with ``title`` and
optionally ``licence``), as the seed article does; a source that states none is listed as such.

>>> from newslens.params import load_run
>>> [c.name for c in run_citations(load_run("params/news.yaml").params.sources)]
['Xi Jinping and Alexander Lukashenko phone call, 10 January 2022', 'News articles from nine outlets, 2016-2017']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, NamedTuple

from newslens import config
from newslens.corpora import get_builtin

NOT_STATED = "not stated by the source"


class Citation(NamedTuple):
    """One source: what it is, what to cite (or where it comes from), and its terms."""

    name: str
    cite: str
    licence: str


def _sidecar_citations(path: Path) -> list[Citation]:
    """The origins the sidecar JSON files under ``path`` state, in path order."""
    sidecars = sorted(path.glob("*.json")) if path.is_dir() else [path.with_suffix(".json")]
    found = []
    for sidecar in sidecars:
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("origin"):
            found.append(Citation(str(meta.get("title") or sidecar.stem), str(meta["origin"]),
                                  str(meta.get("licence") or NOT_STATED)))
    return found


def run_citations(sources: Iterable) -> list[Citation]:
    """Each source of a run (``params.sources``), in the run's order, with what to cite for it."""
    citations: list[Citation] = []
    for source in sources:
        if source.builtin:
            corpus = get_builtin(source.builtin)
            citations.append(Citation(corpus.title or corpus.name, corpus.citation, corpus.licence))
            continue
        path = config.resolve_path(source.path)
        citations.extend(_sidecar_citations(path) or [
            Citation(config.relative_to_root(path), "no origin stated (no sidecar with an origin)", NOT_STATED)])
    return citations

