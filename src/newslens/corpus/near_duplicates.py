"""Near-duplicate detection for the ingest stage: word 5-gram Jaccard, by MinHash banding and an exact check.

Near-duplicates are flagged, never removed: wire copy republished with small
edits is still a separate publication. A unit is flagged with the earliest
earlier unit (in input order, its own partition included) whose word 5-gram
Jaccard with it is at least :data:`NEAR_DUPLICATE_JACCARD`.

The work is split in two:

* On the workers (:func:`sketch_units`, called by ``prepare_partition``), each unit's
  lowercase word 5-grams are hashed to 64 bits (each word by blake2b, the five word
  hashes combined by multiply-add and a splitmix64 finaliser: stable, whatever
  PYTHONHASHSEED is) and kept as a sorted unique ``uint64`` array, with its MinHash
  signature: :data:`PERMUTATIONS` hash functions ``(a·x + b) mod (2**61 - 1)`` with
  parameters drawn from a fixed seed, computed exactly in ``uint64`` (the products are
  split in 32-bit halves; the loop is compiled, :mod:`newslens.corpus.minhash`). The cost is
  one blake2b call per word the worker has not met before and, per shingle and permutation,
  a handful of integer operations in registers: about 0.35 ms of CPU for a news article of
  540 words (0.31 ms hashing, 0.04 ms signature; it was 1.2 ms with the signature in numpy
  and a blake2b call per distinct word of each unit). The shingle set (8 bytes per distinct
  5-gram) goes to the worker's scratch file; only the band keys (8 bytes per band) travel
  to the driver with the unit, instead of its text being shingled there.
* On the driver (:class:`NearDuplicateIndex`), a unit's candidates are the earlier units
  with an identical band (the worker cut the signature into :data:`BANDS` bands of
  :data:`ROWS` rows and keyed each). A pair at Jaccard 0.8 shares no band with
  probability ``(1 - 0.8**4)**32``, about 5e-8; a pair at 0.3 is a candidate about a
  fifth of the time. Each candidate is then checked exactly, on the two shingle-hash
  sets, earliest first, so a flag is exact up to the rare miss of the banding (and 64-bit
  hash collisions). A candidate whose set size alone rules it out is skipped unread. Shingle sets are appended to a scratch
  file and read back for candidates only; the driver keeps, per unit, one 12-byte
  band-table entry per band (a uint64 key and a uint32 unit number: 384 bytes), its offset
  and size in the scratch file (16 bytes) and a reference to its doc_id. The band table is
  a few sorted runs merged like a binary counter, so indexing n units costs O(n log n); the
  exact checks grow with the number of candidates, not with the square of the units that
  share a shingle. (Units that share a band with very many earlier ones, such as one
  boilerplate sentence repeated as a unit, still cost one candidate per earlier copy.)

A unit without a 5-gram (under five words) never matches. A text over :data:`PIECE`
characters is shingled piece by piece (with the last words carried over), so a
huge file never becomes one list of millions of strings.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from typing import Iterator, NamedTuple

import numpy as np

NEAR_DUPLICATE_JACCARD = 0.8
PIECE = 1_000_000  # characters: long texts are hashed and shingled in pieces of about this size
BANDS = 32  # MinHash bands ...
ROWS = 4  # ... of this many rows each
PERMUTATIONS = BANDS * ROWS
# The lowest threshold the banding serves: a pair at 0.75 shares no band with probability
# (1 - 0.75**4)**32, about 5e-6.
MIN_THRESHOLD = 0.75
SEED = 20220110  # of the permutations' parameters

_LOW32 = np.uint64(2**32 - 1)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # combines the five word hashes of a shingle
_EMPTY = np.zeros(0, dtype=np.uint64)
_OPEN_FILES = 64  # workers' sketch files the index keeps open


def _permutations() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The MinHash parameters: ``a`` (split in its high and low 32 bits) and ``b``, from :data:`SEED`."""
    rng = np.random.default_rng(SEED)
    a = rng.integers(1, 2**61 - 1, PERMUTATIONS, dtype=np.uint64)
    b = rng.integers(0, 2**61 - 1, PERMUTATIONS, dtype=np.uint64)
    return a >> np.uint64(32), a & _LOW32, b


_A_HIGH, _A_LOW, _B = _permutations()
_BAND_SALT = np.random.default_rng(SEED + 1).integers(0, 2**63, BANDS, dtype=np.uint64)


class Sketches(NamedTuple):
    """The near-duplicate sketches of some units: their shingle-hash sets and MinHash signatures."""

    shingles: list[np.ndarray]  # per unit: sorted unique uint64 shingle hashes
    signatures: np.ndarray  # units × PERMUTATIONS, uint64 (all 2**64 - 1 for a unit without shingles)


class Stored(NamedTuple):
    """Sketches of some units as a worker leaves them: shingle sets in a file of its own, band keys to send.

    What travels to the driver is 8 bytes per band and 16 per unit (not the shingle sets,
    not the signatures); the index reads a unit's set from ``path`` only when it is a candidate.
    """

    path: str  # the units' shingle sets, concatenated little-endian uint64
    offsets: np.ndarray  # per unit: its first value in the file (int64)
    sizes: np.ndarray  # per unit: its distinct shingles (int64)
    keys: np.ndarray  # units × BANDS band keys (uint64)


# --------------------------------------------------------------------------- on the workers


def store_sketches(sketches: Sketches, path: str) -> Stored:
    """Write ``sketches``' shingle sets to ``path`` (a new file) and keep only what the driver needs."""
    sizes = np.array([len(s) for s in sketches.shingles], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(sizes) else sizes
    data = np.concatenate(sketches.shingles).astype("<u8", copy=False) if len(sizes) else _EMPTY
    with open(path, "wb") as handle:
        handle.write(data.tobytes())
    keys = band_keys(np.asarray(sketches.signatures, dtype=np.uint64).reshape(-1, PERMUTATIONS))
    return Stored(path, offsets, sizes, keys)

def sketch_units(texts: list[str]) -> Sketches:
    """Shingle-hash sets and MinHash signatures of ``texts`` (a document's units), computed in one go."""
    shingles = [shingle_hashes(text) for text in texts]
    return Sketches(shingles, signatures(shingles))


def shingle_hashes(text: str, piece: int | None = None) -> np.ndarray:
    """The sorted unique 64-bit hashes of the lowercase word 5-grams of ``text``."""
    found = [_hash_shingles(words) for words in _word_pieces(text, piece or PIECE)]
    if not found:
        return _EMPTY
    if len(found) == 1:
        return _sorted_unique(found[0])
    merged = _EMPTY
    for hashes in found:
        merged = np.union1d(merged, hashes)
    return merged


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by a sort and a comparison of neighbours (numpy's hash-based unique
    took four times as long on an article's few hundred hashes)."""
    values = np.sort(values)
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _hash_shingles(words: list[str]) -> np.ndarray:
    """The 64-bit hashes of the 5-grams of ``words`` (in order, repeats kept)."""
    if len(words) < 5:
        return _EMPTY
    hashes = np.fromiter(map(_word_hashes(words).__getitem__, words), dtype=np.uint64, count=len(words))
    n = len(words) - 4
    combined = hashes[:n].copy()
    for offset in range(1, 5):
        combined *= _MIX
        combined += hashes[offset:offset + n]
    return _finalise(combined)


_KNOWN_WORDS = 500_000  # words whose hashes a worker keeps between units (about 60 MB), then starts afresh
_word_hash: dict[str, int] = {}


def _word_hashes(words: list[str]) -> dict[str, int]:
    """The worker's word → 64-bit hash table (blake2b, 8 bytes, little-endian), with ``words`` in it.

    Most words of a unit were met in earlier units, so only the new ones are hashed:
    set operations and one ``blake2b`` per new word, instead of one per distinct word of each unit.
    """
    global _word_hash
    new = set(words).difference(_word_hash)
    if new:
        if len(_word_hash) + len(new) > _KNOWN_WORDS:
            _word_hash = {}
            new = set(words)
        digests = b"".join(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest() for word in new)
        _word_hash.update(zip(new, np.frombuffer(digests, dtype="<u8").tolist()))
    return _word_hash


def _finalise(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place: every input bit reaches every output bit."""
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def signatures(shingles: list[np.ndarray]) -> np.ndarray:
    """MinHash signatures (units × :data:`PERMUTATIONS`) of shingle-hash sets (:mod:`newslens.corpus.minhash`)."""
    from newslens.corpus.minhash import lowest_permuted  # numba: imported where units are sketched

    out = np.full((len(shingles), PERMUTATIONS), np.iinfo(np.uint64).max, dtype=np.uint64)
    sizes = np.array([len(s) for s in shingles], dtype=np.int64)
    if not sizes.sum():
        return out
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    lowest_permuted(np.concatenate(shingles).astype(np.uint64, copy=False), starts, _A_HIGH, _A_LOW, _B, out)
    return out


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """One 64-bit key per unit and band (units × :data:`BANDS`): equal keys, equal bands (but for collisions)."""
    bands = signatures.reshape(len(signatures), BANDS, ROWS)
    keys = bands[:, :, 0] ^ _BAND_SALT
    for row in range(1, ROWS):
        keys = keys * _MIX + bands[:, :, row]
    return _finalise(keys)


# --------------------------------------------------------------------------- on the driver

class _Run(NamedTuple):
    """Band-table entries of some indexed units, sorted by key."""

    keys: np.ndarray  # uint64
    units: np.ndarray  # uint32, the unit's number in input order


class NearDuplicateIndex:
    """Flags each unit whose word 5-gram Jaccard with an earlier one is ≥ ``threshold``.

    Units arrive partition by partition with their :class:`Sketches` (made on the
    workers by :func:`sketch_units`); :meth:`add` returns, for each, the doc_id of the
    earliest earlier unit that passes the exact check, or None. Shingle sets go to a
    scratch file in a temporary directory: :meth:`close` (or ``with``) removes it.

    The banding is tuned for thresholds from :data:`MIN_THRESHOLD` up: below it, pairs at
    the threshold would too often share no band (at 0.5, one pair in eight), so a lower
    threshold is refused rather than silently missed.
    """

    def __init__(self, threshold: float = NEAR_DUPLICATE_JACCARD):
        if not MIN_THRESHOLD <= threshold <= 1:
            raise ValueError(f"near-duplicate threshold {threshold}: the MinHash banding ({BANDS} bands of "
                             f"{ROWS} rows) finds pairs reliably from Jaccard {MIN_THRESHOLD} to 1")
        self.threshold = threshold
        self._dir = tempfile.mkdtemp(prefix="newslens-near-")
        self.path = os.path.join(self._dir, "shingles.u64")
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self._written = 0  # uint64 values in the scratch file
        self._offsets = _Column(np.int64)  # per unit: its first value in its file
        self._sizes = _Column(np.int64)  # per unit: its distinct shingles
        self._files = _Column(np.int32)  # per unit: its file (0: the scratch file, n: self._paths[n])
        self._paths: list[str | None] = [None]  # the workers' files of stored sketches
        self._handles: dict[int, int] = {}  # open descriptors of workers' files
        self._ids: list[str] = []
        self._runs: list[_Run] = []  # oldest (and largest) first

    def __enter__(self) -> NearDuplicateIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the scratch file (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            shutil.rmtree(self._dir, ignore_errors=True)
        for handle in self._handles.values():
            os.close(handle)
        self._handles.clear()

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, doc_ids: list[str], sketches: Sketches | Stored) -> list[str | None]:
        """Index one partition's units (in order); for each, the doc_id of its earliest earlier near-duplicate.

        ``sketches`` are in memory (:class:`Sketches`: their shingle sets go to the index's
        scratch file) or left by a worker in a file of its own (:class:`Stored`), which must
        stay until the index is closed.
        """
        if self._fd is None:
            raise ValueError("near-duplicate index is closed")
        first = len(self._ids)
        if isinstance(sketches, Stored):
            if not len(doc_ids) == len(sketches.sizes) == len(sketches.keys):
                raise ValueError("near-duplicate index: one sketch per doc_id is needed")
            self._paths.append(sketches.path)
            self._offsets.extend(sketches.offsets)
            self._sizes.extend(sketches.sizes)
            self._files.extend(np.full(len(doc_ids), len(self._paths) - 1, np.int32))
            keys = np.asarray(sketches.keys, dtype=np.uint64)
        else:
            if len(doc_ids) != len(sketches.shingles) or len(doc_ids) != len(sketches.signatures):
                raise ValueError("near-duplicate index: one sketch per doc_id is needed")
            self._store(sketches.shingles)
            keys = band_keys(np.asarray(sketches.signatures, dtype=np.uint64).reshape(-1, PERMUTATIONS))
        self._ids.extend(doc_ids)
        sizes = self._sizes.values[first:]
        keys = keys.ravel()
        units = np.repeat(np.arange(first, first + len(doc_ids), dtype=np.uint32), BANDS)
        indexed = np.repeat(sizes > 0, BANDS)  # a unit without shingles never matches
        keys, units = keys[indexed], units[indexed]
        candidates = self._candidates(keys, units)
        found: list[str | None] = []
        for offset in range(len(doc_ids)):
            earlier = candidates.get(first + offset)
            found.append(None if earlier is None else self._check(first + offset, earlier))
        self._insert(keys, units)
        return found

    def _store(self, shingles: list[np.ndarray]) -> None:
        """Append a partition's shingle sets to the scratch file; note their offsets and sizes."""
        sizes = np.array([len(s) for s in shingles], dtype=np.int64)
        offsets = self._written + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        data = np.concatenate(shingles).astype("<u8", copy=False) if len(shingles) else _EMPTY
        view = memoryview(data.tobytes())
        while view:  # os.write may write less than asked
            view = view[os.write(self._fd, view):]
        self._written += int(sizes.sum())
        self._offsets.extend(offsets)
        self._sizes.extend(sizes)
        self._files.extend(np.zeros(len(sizes), dtype=np.int32))

    def _read(self, unit: int) -> np.ndarray:
        size, file = int(self._sizes.values[unit]), int(self._files.values[unit])
        handle = self._fd if file == 0 else self._handles.get(file)
        if handle is None:
            if len(self._handles) >= _OPEN_FILES:  # a bounded number of workers' files open at once
                for old in self._handles.values():
                    os.close(old)
                self._handles.clear()
            handle = self._handles[file] = os.open(self._paths[file], os.O_RDONLY)
        raw = os.pread(handle, 8 * size, 8 * int(self._offsets.values[unit]))
        return np.frombuffer(raw, dtype="<u8")

    def _candidates(self, keys: np.ndarray, units: np.ndarray) -> dict[int, np.ndarray]:
        """For each new unit with any: the earlier units (sorted) that share one of its band keys."""
        news, olds = [], []
        order = np.lexsort((units, keys))  # sorted, the keys are looked up in about a third of the time
        sorted_keys, sorted_units = keys[order], units[order]
        for run in self._runs:  # earlier partitions
            left = np.searchsorted(run.keys, sorted_keys, side="left")
            right = np.searchsorted(run.keys, sorted_keys, side="right")
            counts = right - left
            hit = np.flatnonzero(counts)
            if len(hit):
                news.append(np.repeat(sorted_units[hit], counts[hit]))
                olds.append(run.units[_ranges(left[hit], counts[hit])])
        # the partition itself: equal keys, earlier units only
        same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
        if len(same):
            starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
            group_start = starts[np.searchsorted(starts, same, side="right") - 1]
            counts = same - group_start  # earlier members of the group
            news.append(np.repeat(sorted_units[same], counts))
            olds.append(sorted_units[_ranges(group_start, counts)])
        if not news:
            return {}
        new, old = np.concatenate(news), np.concatenate(olds)
        keep = old < new
        pairs = np.unique(np.stack([new[keep].astype(np.int64), old[keep].astype(np.int64)], axis=1), axis=0)
        if not len(pairs):
            return {}
        bounds = np.flatnonzero(np.r_[True, pairs[1:, 0] != pairs[:-1, 0], True])
        return {int(pairs[bounds[i], 0]): pairs[bounds[i]:bounds[i + 1], 1] for i in range(len(bounds) - 1)}

    def _check(self, unit: int, earlier: np.ndarray) -> str | None:
        """The doc_id of the earliest of ``earlier`` whose exact Jaccard with ``unit`` is ≥ the threshold."""
        sizes = self._sizes.values
        size = int(sizes[unit])
        others = sizes[earlier]
        possible = earlier[(np.minimum(others, size) >= self.threshold * np.maximum(others, size))]
        if not len(possible):
            return None
        own = self._read(unit)
        for other in possible.tolist():
            shared = len(np.intersect1d(own, self._read(other), assume_unique=True))
            union = size + int(sizes[other]) - shared
            if union > 0 and shared >= self.threshold * union:
                return self._ids[other]
        return None

    def _insert(self, keys: np.ndarray, units: np.ndarray) -> None:
        """Add a partition's band entries as a new run; merge runs like a binary counter (O(log n) of them)."""
        order = np.argsort(keys, kind="stable")
        self._runs.append(_Run(keys[order], units[order]))
        while len(self._runs) > 1 and len(self._runs[-1].keys) >= len(self._runs[-2].keys):
            a, b = self._runs[-2], self._runs[-1]
            keys = np.concatenate([a.keys, b.keys])
            order = np.argsort(keys, kind="stable")
            self._runs[-2:] = [_Run(keys[order], np.concatenate([a.units, b.units])[order])]


class _Column:
    """A numpy array that grows by appending, in amortised constant time per value.

    The index appends every partition's units: concatenating onto one array each time would
    copy all earlier units again, a cost quadratic in the corpus.
    """

    def __init__(self, dtype):
        self._data = np.zeros(1024, dtype=dtype)
        self._size = 0

    def extend(self, values: np.ndarray) -> None:
        end = self._size + len(values)
        if end > len(self._data):
            grown = np.zeros(max(end, 2 * len(self._data)), dtype=self._data.dtype)
            grown[:self._size] = self._data[:self._size]
            self._data = grown
        self._data[self._size:end] = values
        self._size = end

    @property
    def values(self) -> np.ndarray:
        """The values appended so far (a view: valid until the next ``extend``)."""
        return self._data[:self._size]


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``np.concatenate([np.arange(s, s + c) for s, c in zip(starts, counts)])``, vectorised."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    steps = np.ones(total, dtype=np.int64)
    steps[0] = starts[0]
    steps[ends[:-1]] = starts[1:] - (starts[:-1] + counts[:-1] - 1)
    return np.cumsum(steps)


_SHINGLE_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _word_pieces(text: str, piece: int) -> Iterator[list[str]]:
    """Lowercase words of ``text`` (scikit-learn's word pattern), piece by piece, each with the last 4 words before it."""
    carry: list[str] = []
    for part in text_pieces(text, piece) if text else [""]:
        words = carry + _SHINGLE_TOKEN.findall(part.lower())
        yield words
        carry = words[-4:]


def _shingle_pieces(text: str, piece: int) -> Iterator[list[str]]:
    """Lowercase word 5-grams of ``text`` as strings, in pieces of text (what :func:`shingle_hashes` hashes)."""
    for words in _word_pieces(text, piece):
        yield [" ".join(words[i:i + 5]) for i in range(len(words) - 4)]


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
