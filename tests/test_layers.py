"""The layers contract (pyproject.toml, import-linter): imports only go down the data flow.

``pipeline`` → ``report`` → ``analysis`` → ``text`` → ``corpus`` → the root modules. The
contract is checked on the package as it is, and on a copy with one upward import planted,
which it must reject, naming the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newslens import config

LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([str(LINT), "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_package_keeps_its_layers():
    done = lint(config.PROJECT_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("module, planted, named", [
    ("corpus/clean.py", "from newslens.analysis import keyness", "newslens.corpus.clean -> newslens.analysis.keyness"),
    ("analysis/keyness.py", "from newslens.report import markup", "newslens.analysis.keyness -> newslens.report.markup"),
    ("precision.py", "from newslens.text import words", "newslens.precision -> newslens.text.words"),
])
def test_a_planted_upward_import_breaks_the_contract(tmp_path, module, planted, named):
    shutil.copytree(config.PROJECT_ROOT / "src" / "newslens", tmp_path / "src" / "newslens",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(config.PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / "newslens" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n\ndef _planted():\n    {planted}\n", encoding="utf-8")
    done = lint(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "0 kept, 1 broken" in done.stdout and named in done.stdout
