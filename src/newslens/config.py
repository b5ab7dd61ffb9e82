"""Every path the project uses, derived from this file's location.

No notebook or module builds a path such as "../data" by hand: they ask here.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(
    os.environ.get("NEWSLENS_ROOT", Path(__file__).resolve().parents[2])
).resolve()
DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"
BUILD_DIR = PROJECT_ROOT / "build"
PARAMS_DIR = PROJECT_ROOT / "params"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DOWNLOADS_DIR = RAW_DIR / ".downloads"


def processed_dir(run: str) -> Path:
    """Folder of a run's processed data, ``data/processed/<run>/``."""
    return PROCESSED_DIR / run


def reports_dir(run: str) -> Path:
    """Folder of a run's rendered reports, ``reports/<run>/``."""
    return REPORTS_DIR / run


def build_dir(run: str) -> Path:
    """Folder of a run's executed notebooks and intermediate files, ``build/<run>/``."""
    return BUILD_DIR / run


def resolve_path(path: str | os.PathLike) -> Path:
    """Resolve a path from a params file: absolute as is, otherwise from the project root."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (PROJECT_ROOT / candidate)


def relative_to_root(path: Path) -> str:
    """Show a path relative to the project root when it lies inside it (no machine paths in reports)."""
    try:
        return Path(path).resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return Path(path).name
