"""Shared fixtures: a sandbox copy of the project, so stage runs never touch the real outputs.

``newslens.config`` derives every path from ``NEWSLENS_ROOT`` when it is set; a pipeline run
as a subprocess with that variable (and the papermill kernel it starts, which inherits the
environment) reads and writes only inside the sandbox.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from newslens import config

SANDBOX_PARTS = ("params", "notebooks", "data/raw/seed")


@pytest.fixture(scope="session")
def make_sandbox(tmp_path_factory) -> Callable[[str], Path]:
    """A factory of fresh project copies (params/, notebooks/, data/raw/seed/) in a temporary folder."""
    def make(name: str = "project") -> Path:
        root = tmp_path_factory.mktemp(name)
        for part in SANDBOX_PARTS:
            shutil.copytree(config.PROJECT_ROOT / part, root / part)
        return root
    return make


@pytest.fixture(scope="session")
def run_pipeline() -> Callable[..., subprocess.CompletedProcess]:
    """Run ``python -m newslens.pipeline ARGS`` with the sandbox as project root and working folder."""
    def run(root: Path, *args: str, timeout: float = 600, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        """``env`` entries override the defaults (e.g. another PYTHONHASHSEED); ``cwd`` defaults to root."""
        full_env = {**os.environ, "NEWSLENS_ROOT": str(root), "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
                    **(env or {})}
        return subprocess.run([sys.executable, "-m", "newslens.pipeline", *args], cwd=cwd or root,
                              env=full_env, capture_output=True, text=True, timeout=timeout)
    return run


def clean_make_env() -> dict[str, str]:
    """The environment for a make started by a test: without the flags of a make that runs pytest."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


@pytest.fixture(scope="session")
def news_run() -> Path:
    """``data/processed/news/``, built first by ``make report PARAMS=params/news.yaml`` (incremental).

    The tests on the real news run build it rather than skip, so they run on a clean clone too.
    """
    done = subprocess.run(["make", "--no-print-directory", "report", "PARAMS=params/news.yaml"],
                          cwd=config.PROJECT_ROOT, env=clean_make_env(), capture_output=True, text=True,
                          timeout=3600)
    assert done.returncode == 0, f"make report PARAMS=params/news.yaml failed:\n{done.stderr[-4000:]}"
    return config.processed_dir("news")


# The browser tests skip only where Chromium cannot be installed; a docstring example marked
# +SKIP (it needs a built run) is documentation, not a test.
ALLOWED_SKIPS = ("chromium", "skipped by +skip option")


def pytest_sessionfinish(session, exitstatus) -> None:
    """Under CI, a skipped test fails the run: every test must run on a clean clone."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    unexpected = [r for r in skipped if not any(a in str(r.longrepr).lower() for a in ALLOWED_SKIPS)]
    if unexpected:
        for report in unexpected:
            print(f"\nnot allowed to skip under CI: {report.nodeid}: {report.longrepr}")
        session.exitstatus = 1
