"""The one place that calls git: the provenance's commit, committed files, revisions.

Every call runs in the project root, has a time limit, and answers None (or False) outside a
git checkout or when git is missing, so that a copy of the project without git still builds.
"""

from __future__ import annotations

import subprocess

from newslens import config


def git(*args: str, timeout: float = 60) -> subprocess.CompletedProcess | None:
    """``git ARGS`` in the project root; None when git cannot run there."""
    try:
        return subprocess.run(["git", *args], cwd=config.PROJECT_ROOT, capture_output=True, text=True,
                              timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None


def output(*args: str) -> str | None:
    """The stripped output of ``git ARGS``, or None when it fails."""
    done = git(*args)
    return done.stdout.strip() if done is not None and done.returncode == 0 else None


def show(revision: str, path: str) -> str | None:
    """The text of ``path`` (relative to the project root) at ``revision``, or None."""
    done = git("show", f"{revision}:{path}")
    return done.stdout if done is not None and done.returncode == 0 else None


def is_revision(revision: str) -> bool:
    """Whether ``revision`` names a commit of this checkout."""
    done = git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    return done is not None and done.returncode == 0
