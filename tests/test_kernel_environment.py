"""The environment the stages' kernels start in: the allocator's settings, unless the user set their own."""

from __future__ import annotations

import os
import subprocess
import sys

from newslens.pipeline import execute


def test_a_kernel_started_in_the_block_sees_the_settings_and_the_environment_is_restored(monkeypatch):
    for name in execute.KERNEL_ENV:
        monkeypatch.delenv(name, raising=False)
    names = sorted(execute.KERNEL_ENV)
    script = f"import os; print([os.environ.get(n) for n in {names!r}])"
    with execute.kernel_environment():
        seen = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert seen.strip() == str([execute.KERNEL_ENV[name] for name in names])
    assert not any(name in os.environ for name in names)


def test_a_setting_the_user_made_is_kept(monkeypatch):
    [name] = execute.KERNEL_ENV  # glibc's mmap threshold
    monkeypatch.setenv(name, "1048576")
    with execute.kernel_environment():
        assert os.environ[name] == "1048576"
    assert os.environ[name] == "1048576"
