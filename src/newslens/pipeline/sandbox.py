"""A copy of the project that runs the pipeline in isolation: tests, benchmarks and the CPU-path check.

``newslens.config`` derives every path from ``NEWSLENS_ROOT`` when it is set; a pipeline run
started with that variable pointing at a sandbox reads and writes only inside it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Iterable

from newslens import config

# What a stage run reads from the project: the run files, the notebooks and the seed corpus.
PARTS = ("params", "notebooks", "data/raw/seed")
# What `make report` needs on top of PARTS (Python still imports the package of PYTHONPATH).
MAKE_PARTS = (*PARTS, "src", "Makefile", "pyproject.toml", "requirements.lock")
_IGNORE = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")


def make(root: Path, *, parts: Iterable[str] = PARTS, links: Iterable[str] = (),
         params: Path | None = None, git: bool = False) -> Path:
    """Copy ``parts`` (folders or files of the project) into ``root``; returns ``root``.

    ``links`` are symlinked instead of copied (read-only inputs such as ``.venv`` or a builtin
    corpus), unless ``root`` already holds them; with ``params``, that run's committed topic ids
    (``reports/<run>/topics.json``) are copied too, as ``make report`` sees them; ``git`` makes
    ``root`` a git repository (the Makefile asks git for the code state).
    """
    source, root = config.PROJECT_ROOT, Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for part in parts:
        if (source / part).is_dir():
            shutil.copytree(source / part, root / part, ignore=_IGNORE)
        else:
            (root / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, root / part)
    for link in links:
        if not (root / link).exists():
            (root / link).parent.mkdir(parents=True, exist_ok=True)
            (root / link).symlink_to((source / link).resolve(), target_is_directory=(source / link).is_dir())
    if params is not None:
        identities = Path("reports") / Path(params).stem / "topics.json"
        if (source / identities).exists():
            (root / identities).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / identities, root / identities)
    if git:
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root

