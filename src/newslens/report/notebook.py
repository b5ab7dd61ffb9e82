"""What every stage notebook does first: logging, the chart style, and its validated run."""

from __future__ import annotations

import logging

from newslens.params import load_run
from newslens.report import chart_style
from newslens.stages import StageRun, stage


def setup(params_file: str, name: str) -> StageRun:
    """The run of stage ``name`` for ``params_file``, validated before any work; charts styled."""
    logging.basicConfig(level=logging.WARNING)
    chart_style.setup()
    return StageRun(load_run(params_file), stage(name))  # validates the params before any work
