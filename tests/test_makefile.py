"""The Makefile's contract: help lists every target, code paths agree with provenance."""

from __future__ import annotations

import re
import subprocess

from newslens import config
from newslens.render import CODE_PATHS

MAKEFILE = (config.PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")


def test_code_paths_match_the_provenance():
    match = re.search(r"^CODE_PATHS := (.+)$", MAKEFILE, re.MULTILINE)
    assert match, "Makefile defines CODE_PATHS"
    assert tuple(match.group(1).split()) == CODE_PATHS


def test_help_is_the_default_and_lists_every_target():
    shown = subprocess.run(["make", "--no-print-directory"], cwd=config.PROJECT_ROOT,
                           capture_output=True, text=True, check=True).stdout
    for target in ("help", "env", "data", "report", "test", "lab", "bench", "stress", "clean"):
        assert re.search(rf"^\s+{target}: \S", shown, re.MULTILINE), f"`make help` lists {target}"


def test_clean_never_touches_raw_data_or_reports():
    recipe = MAKEFILE.split("\nclean:", 1)[1].split("\n\n", 1)[0]
    assert "data/raw" not in recipe and "reports" not in recipe
    assert "data/processed" in recipe and "build" in recipe
