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
from newslens.pipeline import sandbox

@pytest.fixture(scope="session")
def make_sandbox(tmp_path_factory) -> Callable[[str], Path]:
    """A factory of fresh project copies (params/, notebooks/, data/raw/seed/) in a temporary folder."""
    def make(name: str = "project") -> Path:
        return sandbox.make(tmp_path_factory.mktemp(name))
    return make


@pytest.fixture(scope="session")
def run_pipeline() -> Callable[..., subprocess.CompletedProcess]:
    """Run ``python -m newslens ARGS`` with the sandbox as project root and working folder."""
    def run(root: Path, *args: str, timeout: float = 600, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        """``env`` entries override the defaults (e.g. another PYTHONHASHSEED); ``cwd`` defaults to root."""
        full_env = {**os.environ, "NEWSLENS_ROOT": str(root), "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
                    **(env or {})}
        return subprocess.run([sys.executable, "-m", "newslens", *args], cwd=cwd or root,
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
# Skips that depend on the machine, allowed under CI: no browser; a CPU code path this CPU cannot
# run, or runs as another path already compared (tests/test_cpu_paths.py says which and why).
ALLOWED_SKIPS = ("chromium", "skipped by +skip option", "cannot be compared on this cpu")
# The markers of the tests that are not in the fast tier (``--tier fast``, ``make test``).
FULL_TIER_MARKERS = ("slow", "browser", "cpu_paths")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """Headless Chromium through playwright; skips (saying why) when Chromium is absent."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium):
    """Open a file offline: ``(page, seen)``, seen holding requests off the page, errors and dialogs."""
    from urllib.parse import urlparse

    contexts = []

    def open_page(path: Path, *, width: int = 1200, height: int = 900):
        context = chromium.new_context(offline=True, viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        seen: dict[str, list[str]] = {"requests": [], "errors": [], "dialogs": []}
        page.on("request", lambda r: seen["requests"].append(r.url)
                if urlparse(r.url).scheme not in ("file", "data") else None)
        page.on("console", lambda m: seen["errors"].append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))

        def on_dialog(dialog) -> None:
            seen["dialogs"].append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(path.as_uri(), wait_until="load")
        return page, seen

    yield open_page
    for context in contexts:
        context.close()


def pytest_addoption(parser) -> None:
    parser.addoption("--tier", choices=("fast", "full"), default="full",
                     help="fast: the tests that run in process on small inputs (make test); "
                          "full: every test (make check; the default)")


# Fixtures that start processes (the pipeline, papermill, make) or build a real run: a test that
# uses one is marked slow, so the fast tier stays in process.
PROCESS_FIXTURES = {"news_run", "run_pipeline", "make_sandbox"}


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the tests that use a process fixture slow; ``--tier fast`` deselects the tests marked
    with a full-tier marker."""
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    if config.getoption("--tier") != "fast":
        return
    keep, drop = [], []
    for item in items:
        (drop if any(item.get_closest_marker(m) for m in FULL_TIER_MARKERS) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
