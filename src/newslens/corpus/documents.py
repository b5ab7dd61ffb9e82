"""What reading a source yields: a document, or an input that yields none and why."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newslens import config


@dataclass(frozen=True)
class RawDocument:
    """One decoded, uncleaned document and where it came from."""

    source: str
    location: str
    text: str
    title: str | None
    date: str | None
    group: str | None
    source_id: str | None
    encoding: str
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """An input file or row that yields no document, and why."""

    source: str
    location: str
    reason: str


def location(path: Path, base: Path | None = None) -> str:
    """Path from the project root; outside it, the path within the source folder (or the file name)."""
    for candidate in (Path(os.path.normpath(path.absolute())), path.resolve()):
        if candidate.is_relative_to(config.PROJECT_ROOT):
            return candidate.relative_to(config.PROJECT_ROOT).as_posix()
    return path.relative_to(base).as_posix() if base else path.name


def cell(value: Any) -> str | None:
    """A cell as a string; None for missing, NaN, empty or whitespace-only values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():  # 1999.0 from a column with gaps: "1999"
        return str(int(value))
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text if text.strip() else None
