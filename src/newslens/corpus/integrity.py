"""Checking bytes and files against a pinned sha256, and the errors a mismatch raises."""

from __future__ import annotations

import os

from newslens.files import sha256_bytes, sha256_file


class IntegrityError(ValueError):
    """A file's sha256 differs from the pinned one."""

    def __init__(self, label: str, expected: str, actual: str, hint: str = "") -> None:
        self.label, self.expected, self.actual, self.hint = label, expected, actual, hint
        message = f"sha256 mismatch for {label}\n  expected: {expected}\n  actual:   {actual}"
        if hint:
            message += f"\n{hint}"
        super().__init__(message)


class ModifiedBuiltinError(IntegrityError):
    """A fetched builtin corpus no longer has its pinned sha256 (raw data changed after ``make data``)."""


def check_sha256(label: str, expected: str, actual: str, hint: str = "") -> str:
    """Return ``actual``; raise :class:`IntegrityError` naming ``label`` if it is not ``expected``."""
    if actual != expected:
        raise IntegrityError(label, expected, actual, hint)
    return actual


def verify_file(path: str | os.PathLike, expected_sha256: str, label: str | None = None,
                *, hint: str = "") -> str:
    """Return the sha256 of ``path``; raise :class:`IntegrityError` if it is not ``expected_sha256``."""
    return check_sha256(label or str(path), expected_sha256, sha256_file(path), hint)


def verify_bytes(payload: bytes, expected_sha256: str, label: str, *, hint: str = "") -> str:
    """Return the sha256 of ``payload``; raise :class:`IntegrityError` if it is not ``expected_sha256``."""
    return check_sha256(label, expected_sha256, sha256_bytes(payload), hint)
