"""Near-duplicate detection for the ingest stage: word 5-gram Jaccard, partition by partition.

Near-duplicates are flagged, never removed: wire copy republished with small
edits is still a separate publication. Only the shingle hashes of earlier
documents are kept, never their texts.
"""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

import numpy as np

NEAR_DUPLICATE_JACCARD = 0.8
PIECE = 1_000_000  # characters: long texts are hashed and shingled in pieces of about this size
BATCH = 200_000  # shingles of short texts hashed in one call (a call per text cost 3 s of the news run)


class _Block(NamedTuple):
    """Documents already indexed: their shingles (shingles × documents CSR), sizes and doc_ids."""

    inverted: object  # scipy.sparse.csr_matrix
    sizes: np.ndarray
    ids: np.ndarray


class NearDuplicateIndex:
    """Flags each document whose word 5-gram Jaccard with an earlier one is ≥ ``threshold``.

    Documents arrive partition by partition; each new partition is compared with
    every earlier one and with itself (sparse products of binary shingle matrices),
    so only the shingle hashes are kept, never the texts. A text over :data:`PIECE`
    characters is shingled piece by piece (with the last words carried over), so a
    huge file never becomes one list of millions of strings.
    """

    PIECE = PIECE

    def __init__(self, threshold: float = NEAR_DUPLICATE_JACCARD):
        from sklearn.feature_extraction.text import HashingVectorizer

        self.threshold = threshold
        self._hasher = HashingVectorizer(analyzer=lambda shingles: shingles, n_features=2**22,
                                         binary=True, norm=None, alternate_sign=False,
                                         dtype=np.float32)
        self._blocks: list[_Block] = []  # oldest first

    def _matrix(self, texts: list[str]):
        """Binary shingle rows of ``texts``: short texts hashed in one call, long ones piece by piece."""
        import scipy.sparse as sp

        blocks, batch, size = [], [], 0

        def flush():
            if batch:
                blocks.append(self._hasher.transform(batch))
                batch.clear()

        for text in texts:
            if len(text) <= self.PIECE:  # one piece: hashed with its neighbours in a single call
                batch.extend(_shingle_pieces(text, self.PIECE))
                size += len(batch[-1])
                if size >= BATCH:
                    flush()
                    size = 0
                continue
            flush()
            size, matrix = 0, None
            for piece in _shingle_pieces(text, self.PIECE):  # one piece's shingles at a time
                hashed = self._hasher.transform([piece])
                matrix = hashed if matrix is None else matrix.maximum(hashed).tocsr()
            blocks.append(matrix)
        flush()
        if not blocks:
            return sp.csr_matrix((0, 2**22), dtype=np.float32)
        return blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")

    def add(self, doc_ids: list[str], texts: list[str]) -> list[str | None]:
        """Index one partition; for each of its documents, the doc_id of an earlier near-duplicate."""
        import scipy.sparse as sp

        matrix = self._matrix(texts)
        sizes = np.asarray(matrix.sum(axis=1)).ravel()
        ids = np.asarray(doc_ids, dtype=object)
        found = np.full(len(doc_ids), None, dtype=object)
        # Earlier blocks first (their documents come first), then the partition itself.
        own = _Block(matrix.T.tocsr(), sizes, ids)
        for number, block in enumerate(self._blocks + [own]):
            if not len(doc_ids) or not len(block.ids):
                continue
            product = (matrix @ block.inverted).tocoo()  # shared shingles of each (new, earlier) pair
            rows, cols, shared = product.row, product.col, product.data
            if number == len(self._blocks):  # the partition itself: earlier documents only
                keep = cols < rows
                rows, cols, shared = rows[keep], cols[keep], shared[keep]
            union = sizes[rows] + block.sizes[cols] - shared
            similar = (union > 0) & (shared >= self.threshold * np.maximum(union, 1))
            for row, col in sorted(zip(rows[similar].tolist(), cols[similar].tolist())):
                if found[row] is None:
                    found[row] = block.ids[col]
        self._blocks.append(own)
        # Merge blocks like a binary counter, so that there are O(log n) of them: each new
        # partition is compared with a few large inverted indexes, not with every partition.
        while len(self._blocks) > 1 and len(self._blocks[-1].ids) >= len(self._blocks[-2].ids):
            a, b = self._blocks[-2], self._blocks[-1]
            self._blocks[-2:] = [_Block(sp.hstack([a.inverted, b.inverted], format="csr"),
                                        np.concatenate([a.sizes, b.sizes]), np.concatenate([a.ids, b.ids]))]
        return found.tolist()


_SHINGLE_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _shingle_pieces(text: str, piece: int) -> Iterator[list[str]]:
    """Lowercase word 5-grams of ``text`` (scikit-learn's word pattern), in pieces of text."""
    carry: list[str] = []
    for part in text_pieces(text, piece) if text else [""]:
        words = carry + _SHINGLE_TOKEN.findall(part.lower())
        yield [" ".join(words[i:i + 5]) for i in range(len(words) - 4)]
        carry = words[-4:]


def text_pieces(text: str, size: int) -> Iterator[str]:
    """Consecutive pieces of about ``size`` characters, each cut at whitespace."""
    start = 0
    while start < len(text):
        stop = len(text) if len(text) - start <= size else _space_after(text, start + size)
        yield text[start:stop]
        start = stop


_SPACE = re.compile(r"\s")


def _space_after(text: str, index: int) -> int:
    match = _SPACE.search(text, index)
    return match.start() if match else len(text)
