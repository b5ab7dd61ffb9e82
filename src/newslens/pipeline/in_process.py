"""Every stage's ``run()`` by the stage's name, for tests and benchmarks that run stages in process.

make runs a stage through its notebook (:mod:`newslens.pipeline.execute`); the notebook calls the
stage's one function, ``run(stage_run) -> Result``. This module names that function for each
stage of the table, so a caller can run a stage, or a run up to a stage, without papermill.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from newslens.analysis import keywords, topics
from newslens.corpus import ingest
from newslens.params import load_run
from newslens.report import summary
from newslens.stages import NAMES, StageRun, stage
from newslens.text import tokenization

RUNS: dict[str, Callable[[StageRun], Any]] = {
    "01-ingest": ingest.run, "02-tokenize": tokenization.run, "03-keywords": keywords.run,
    "04-topics": topics.run, "05-summary": summary.run,
}


def stage_run(params_file: str | Path, name: str, *, root: Path | None = None) -> StageRun:
    """The run of stage ``name`` for ``params_file``, its outputs under ``root`` (the project's without)."""
    return StageRun(load_run(params_file), stage(name), root=root)


def run_stages(params_file: str | Path, *, root: Path | None = None, through: str = NAMES[-1],
               start: str = NAMES[0]) -> dict[str, Any]:
    """Run the stages from ``start`` through ``through``, in order; each stage's Result by name."""
    names = NAMES[NAMES.index(start):NAMES.index(through) + 1]
    if not names:
        raise ValueError(f"no stage from {start} through {through}")
    run = load_run(params_file)
    return {name: RUNS[name](StageRun(run, stage(name), root=root)) for name in names}
