"""Tests of the near-duplicate index (MinHash banding, then an exact Jaccard check): its flags
agree with a brute-force Jaccard, its sketches do not depend on PYTHONHASHSEED, and its
scratch file goes away."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from newslens import config
from newslens.corpus import near_duplicates as nd
from newslens.corpus.near_duplicates import NEAR_DUPLICATE_JACCARD, NearDuplicateIndex, sketch_units
from newslens.corpus.language import Detected
from newslens.corpus.partitions import Reducer, _Prepared
from newslens.corpus.sentences import split_text_sentences
from newslens.corpus.sources import RawDocument

SEED_TXT = config.PROJECT_ROOT / "data" / "raw" / "seed" / "xi-lukashenko-call-2022-01-10.txt"
SENTENCES = [s for s in split_text_sentences(SEED_TXT.read_text(encoding="utf-8"), "en") if len(s.split()) >= 6]


def shingles(text: str) -> set[str]:
    return {shingle for piece in nd._shingle_pieces(text, 10**9) for shingle in piece}


def brute_force(texts: list[str], threshold: float = NEAR_DUPLICATE_JACCARD) -> list[int | None]:
    """For each text, the index of the earliest earlier text at Jaccard ≥ threshold (on shingle strings)."""
    sets, found = [shingles(text) for text in texts], []
    for i, own in enumerate(sets):
        match = None
        for j in range(i):
            union = len(own | sets[j])
            if union and len(own & sets[j]) >= threshold * union:
                match = j
                break
        found.append(match)
    return found


def flags(texts: list[str], chunk_size: int, threshold: float = NEAR_DUPLICATE_JACCARD) -> list[int | None]:
    ids = [f"d{i}" for i in range(len(texts))]
    found: list = []
    with NearDuplicateIndex(threshold) as index:
        for start in range(0, len(texts), chunk_size):
            found += index.add(ids[start:start + chunk_size], sketch_units(texts[start:start + chunk_size]))
    return [None if flag is None else int(flag[1:]) for flag in found]


def variants(seed: int, n: int) -> list[str]:
    """Texts of seed-article sentences, many of them edited copies of earlier ones (Jaccard near 0.8 and far)."""
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    for _ in range(n):
        if texts and rng.random() < 0.7:
            words = texts[int(rng.integers(len(texts)))].split()
            for _ in range(int(rng.integers(0, 4))):  # replace, drop or add a word or two
                at = int(rng.integers(len(words)))
                action = rng.integers(3)
                if action == 0:
                    words[at] = str(SENTENCES[int(rng.integers(len(SENTENCES)))].split()[0])
                elif action == 1 and len(words) > 6:
                    del words[at]
                else:
                    words.insert(at, "reportedly")
            texts.append(" ".join(words))
        else:
            picked = rng.choice(len(SENTENCES), size=int(rng.integers(1, 4)), replace=False)
            texts.append(" ".join(SENTENCES[int(i)] for i in picked))
    return texts


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("chunk_size", [1, 7, 500])
def test_flags_agree_with_brute_force_jaccard(seed: int, chunk_size: int) -> None:
    texts = variants(seed, 60)
    expected = brute_force(texts)
    assert sum(flag is not None for flag in expected) >= 5  # the test exercises matches ...
    assert flags(texts, chunk_size) == expected  # ... earliest first, within and across partitions


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, len(SENTENCES) - 1), min_size=1, max_size=8),
       st.lists(st.integers(0, len(SENTENCES) - 1), min_size=1, max_size=6),
       st.sampled_from([0.75, 0.8, 0.9]), st.integers(1, 4))
def test_flags_agree_with_brute_force_on_sentence_mixes(first, second, threshold, chunk_size) -> None:
    """Texts made of overlapping runs of the same sentences: many pairs near any threshold."""
    texts = [" ".join(SENTENCES[i] for i in first[:k]) for k in range(1, len(first) + 1)]
    texts += [" ".join(SENTENCES[i] for i in first + second[:k]) for k in range(len(second) + 1)]
    assert flags(texts, chunk_size, threshold) == brute_force(texts, threshold)


def test_earliest_match_wins_even_when_a_later_one_is_closer() -> None:
    words = " ".join(SENTENCES[:3]).split()
    base = " ".join(words)
    closer = " ".join(words[:-1] + ["changed"])  # one 5-gram changed
    far = " ".join(words[:30] + ["changed"] + words[31:])  # five changed
    expected = brute_force([far, closer, base])
    assert expected == [None, 0, 0]  # both earlier texts pass; the first one is named
    assert flags([far, closer, base], 3) == flags([far, closer, base], 1) == expected


def test_shingle_hashes_count_the_distinct_five_grams() -> None:
    for text in SENTENCES[:20] + ["A a a a a a a a", "one two three four", "", "Too short."]:
        hashes = nd.shingle_hashes(text)
        assert hashes.dtype == np.uint64 and len(hashes) == len(shingles(text))
        assert (np.diff(hashes.astype(object)) > 0).all()  # sorted, unique


def test_long_texts_are_hashed_in_pieces_exactly_as_whole() -> None:
    text = " ".join(f"Word{i % 997} straße\tvalue{i % 13}\n" for i in range(2000))
    whole = nd.shingle_hashes(text)
    assert len(list(nd.text_pieces(text, 50))) > 100
    assert np.array_equal(nd.shingle_hashes(text, piece=50), whole)
    assert len(whole) == len(shingles(text))


def test_empty_and_short_texts_never_match() -> None:
    sketches = sketch_units(["", "Too short.", "", "Too short."])
    assert [len(s) for s in sketches.shingles] == [0, 0, 0, 0]
    assert (sketches.signatures == np.iinfo(np.uint64).max).all()
    assert flags(["", "", "Too short.", "Too short.", SENTENCES[0], SENTENCES[0]], 2) == [None] * 5 + [4]
    with NearDuplicateIndex() as index:
        assert index.add([], sketch_units([])) == []


_SKETCH = """
import json, sys
from newslens.corpus.near_duplicates import sketch_units
sketch = sketch_units([sys.argv[1]])
print(json.dumps([sketch.shingles[0].tolist(), sketch.signatures[0].tolist()]))
"""


def test_sketches_do_not_depend_on_pythonhashseed() -> None:
    text = SENTENCES[0] + " " + SENTENCES[1]
    sketch = sketch_units([text])
    mine = [sketch.shingles[0].tolist(), sketch.signatures[0].tolist()]
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed,
               "PYTHONPATH": str(Path(nd.__file__).resolve().parents[2])}
        out = subprocess.run([sys.executable, "-c", _SKETCH, text], env=env, capture_output=True,
                             text=True, check=True).stdout
        assert json.loads(out) == mine


def _permuted(v: int) -> list[int]:
    """Each permutation's value of one shingle hash, in Python's own integers."""
    a = [int(high) * 2**32 + int(low) for high, low in zip(nd._A_HIGH, nd._A_LOW)]
    return [(a[j] * (v >> 3) + int(nd._B[j])) % (2**61 - 1) for j in range(nd.PERMUTATIONS)]


def test_permutations_are_exact_modulo_the_mersenne_prime() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.integers(0, 2**64, 40, dtype=np.uint64, endpoint=False),
                        np.array([0, 2**64 - 1, 2**63, 8 * (2**61 - 1), 8 * (2**61 - 2)], dtype=np.uint64)])
    signatures = nd.signatures([np.array([v], dtype=np.uint64) for v in x])  # one shingle per unit
    assert signatures.tolist() == [_permuted(int(v)) for v in x]


def test_signatures_are_the_minimum_of_each_units_permuted_hashes() -> None:
    sets = [nd.shingle_hashes(" ".join(SENTENCES[i:i + 2])) for i in range(6)] + [nd._EMPTY]
    signatures = nd.signatures(sets)
    for row, hashes in zip(signatures, sets):
        expected = ([min(column) for column in zip(*(_permuted(int(v)) for v in hashes))] if len(hashes)
                    else [2**64 - 1] * nd.PERMUTATIONS)
        assert row.tolist() == expected


def test_word_hashes_are_blake2b_whatever_the_worker_has_hashed_before(monkeypatch) -> None:
    import hashlib

    text = " ".join(SENTENCES[:3])
    first = nd.shingle_hashes(text)
    monkeypatch.setattr(nd, "_KNOWN_WORDS", 5)  # the table starts afresh at every unit
    monkeypatch.setattr(nd, "_word_hash", {})
    assert nd.shingle_hashes(text).tolist() == first.tolist()
    words = nd._SHINGLE_TOKEN.findall(text.lower())
    table = nd._word_hashes(words)
    assert all(table[w] == int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
               for w in words)


def test_ranges() -> None:
    starts, counts = np.array([5, 10, 0, 7]), np.array([2, 3, 1, 1])
    assert nd._ranges(starts, counts).tolist() == [5, 6, 10, 11, 12, 0, 7]


def test_the_scratch_file_is_removed() -> None:
    index = NearDuplicateIndex()
    index.add(["a", "b"], sketch_units([SENTENCES[0], SENTENCES[0]]))
    path = Path(index.path)
    assert path.exists() and path.stat().st_size > 0
    index.close()
    index.close()
    assert not path.exists() and not path.parent.exists()
    with pytest.raises(ValueError, match="closed"):
        index.add(["c"], sketch_units([SENTENCES[1]]))


def test_the_reducer_removes_the_scratch_file_also_on_error() -> None:
    text = SENTENCES[0] + " " + SENTENCES[1]
    items = [RawDocument("s", f"s/{name}.txt", body, None, None, None, name, "utf-8")
             for name, body in [("a", text), ("b", text + " Yes.")]]
    english = Detected("en", "en", 1.0)  # prepare_partition's language detection is not what is tested
    entries = [_Prepared(item.source_id, item, None, {}, item.text, [item.text], item.text, None, english,
                         sketch_units([item.text]), [len(item.text)], [len(item.text.split())]) for item in items]
    with pytest.raises(RuntimeError), Reducer("document") as reducer:
        path = Path(reducer.near.path)
        documents = reducer.add(entries)
        assert documents["near_duplicate_of"].fillna("").tolist() == ["", "a"]
        raise RuntimeError("a later partition failed")
    assert not path.exists()


def test_a_threshold_the_banding_cannot_serve_is_refused() -> None:
    with pytest.raises(ValueError, match="banding"):
        NearDuplicateIndex(0.5)
