"""Decoding raw bytes to text: UTF-8, a byte-order mark, else the most plausible single-byte encoding."""

from __future__ import annotations

import codecs

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# English news: among about equally plausible single-byte guesses, prefer the Western ones.
_WESTERN, _WESTERN_TOLERANCE, _MAX_CONTROL_SHARE = ("cp1252", "latin_1", "iso8859_15"), 0.1, 0.05


class UndecodableError(ValueError):
    """Bytes that cannot be decoded as text; the message is the skip reason."""


def bom_encoding(payload: bytes) -> str | None:
    """The encoding a UTF-8/16/32 byte-order mark at the start of ``payload`` names; None without one."""
    return next((name for bom, name in _BOMS if payload.startswith(bom)), None)


def _detect(payload: bytes) -> tuple[str, str]:
    """Decode BOM-less, non-UTF-8 bytes with charset-normalizer, guarding against poor guesses."""
    import charset_normalizer

    matches = charset_normalizer.from_bytes(payload)
    best = matches.best()
    if best is None:
        raise UndecodableError("undecodable bytes (no text encoding fits)")
    western = [m for m in matches if m.encoding in _WESTERN and m.chaos <= best.chaos + _WESTERN_TOLERANCE]
    chosen = min(western, key=lambda m: (_WESTERN.index(m.encoding), m.chaos)) if western else best
    text = str(chosen)
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 127 <= ord(ch) < 160)
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise UndecodableError(f"binary file ({controls} control characters as {chosen.encoding})")
    return text, chosen.encoding.replace("_", "-")


def decode_bytes(payload: bytes) -> tuple[str, str]:
    """Decode raw bytes: UTF-8, a UTF-8/16/32 BOM, else charset-normalizer's guess.

    Parameters
    ----------
    payload : bytes
        The file's bytes.

    Returns
    -------
    tuple of (str, str)
        The text (BOM removed) and the encoding found, e.g. ``"utf-8"``, ``"utf-8-sig"``,
        ``"utf-16"``, ``"utf-32"``, ``"cp1252"``.

    Raises
    ------
    UndecodableError
        ``"binary file (NUL bytes)"`` (NULs without a UTF-16/32 BOM) or ``"undecodable bytes (...)"``.
    """
    bom = bom_encoding(payload)
    if bom is not None:
        try:
            return payload.decode(bom), bom
        except UnicodeDecodeError as exc:
            raise UndecodableError(f"undecodable bytes ({bom} BOM but invalid {bom}: {exc.reason})") from None
    if b"\x00" in payload:
        raise UndecodableError("binary file (NUL bytes)")
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return _detect(payload)
