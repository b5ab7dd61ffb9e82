"""The in-process runner names every stage's run(), and runs a run's stages in order."""

from __future__ import annotations

from newslens import stages
from newslens.pipeline import in_process


def test_every_stage_has_its_run():
    assert tuple(in_process.RUNS) == stages.NAMES
    assert all(function.__name__ == "run" for function in in_process.RUNS.values())
