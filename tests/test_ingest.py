"""Tests of the ingest stage: ids, units, dates, near-duplicates, focus, and the log that
accounts for every input file and row."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newslens import config
from newslens.corpus import ingest, near_duplicates, partitions
from newslens.corpus.clean import clean_text
from newslens.corpus.dates import parse_dates
from newslens.corpus.ingest import change_snippets, log_summary
from newslens.corpus.near_duplicates import NEAR_DUPLICATE_JACCARD, NearDuplicateIndex, sketch_units
from newslens.corpus.partitions import BATCH_SIZE, base_doc_id, split_units
from newslens.corpus.focus import resolve_focus
from newslens.params import load_run, validate_params
from newslens.corpus.sources import RawDocument

SEED_ID = "xi-lukashenko-call-2022-01-10"
SEED_LOCATION = f"data/raw/seed/{SEED_ID}.txt"
SEED_TXT = config.PROJECT_ROOT / SEED_LOCATION
SEED_SENTENCES = 19
NEWS_CSV = config.RAW_DIR / "news-articles" / "NewsArticles.csv"

# Real text from the seed article (artifacts included) ...
SEED_OPENING = (
    "Chinese President Xi Jinping said on Monday that China is ready to work with Belarus to make "
    "the 30th anniversary of their diplomatic ties a new starting point to further promote bilateral "
    "ties. In a telephone conversation with Belarusian President Alexander Lukashenko, Xi called for "
    "joint efforts to strengthen mutual political trust, deepen mutually beneficial cooperation and "
    "seek new results in the China-Belarus comprehensive strategic partnership.")
SEED_CLOSING = (
    "For his part, Lukashenko once again congratulated the Chinese Communist Party on the centenary. "
    "Noting that the Belarusian people always have sincere and friendly feelings towards the Chinese "
    "people, Lukashenko thanked China for always providing strong political and moral support to "
    "Belarus. Belarus will always be a staunch cooperation partner of China, he said.")
SEED_ARTIFACTS = (
    "the two sides have become comprehensive strategic partners. mutual trust and win-win "
    "cooperation. . He noted that between the two countries trade has multiplied by 50 in 30 years.")
# ... and tiny news-like texts for the mixed corpus.
UTF8_TEXT = "Ministers met in Minsk on Monday to discuss rail freight and new trade routes."
LATIN1_TEXT = "The café in Zürich served crème brûlée to the délégation after the summit in Genève."
UTF16_TEXT = "Die Straße nach Görlitz was closed for the ceremony on Tuesday morning."
MD_TEXT = "# Notes\n\nThe harbour reopened after the storm, officials said on Friday."
COPY_TEXT = "Exports of potash rose sharply in the second quarter, the ministry said."
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
# Row 1 has a quoted field with an embedded newline and quotes, row 2 an empty text,
# row 3 the UTF-8 folder document again (other spacing: still an exact duplicate).
GOOD_CSV = """id,text,date,outlet
r1,"Officials said ""the line
is open"" on Tuesday.",2017/2/7,dw.com
r2,,2016/12/30 7:11,dw.com
r3,"Ministers met in Minsk  on Monday to discuss rail freight
and new trade routes.",2022-01-10,tass.com
r4,Barges carried grain down the Dnieper river this week.,garbage,rte.ie
"""
NOCOL_CSV = "id,body\nx1,A table whose text sits in a column named body.\n"
JSONL_LINES = [
    json.dumps({"text": "Grain harvests in the north were the best in a decade."}),
    '{"text": "an unterminated line',
    json.dumps({"text": "Wind farms offshore will power a million homes by 2030."}),
]
PARQUET_TEXTS = ["Steel tariffs rose again in March.", "Fishing quotas were cut by a fifth."]


def _sha256_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _raw(text: str = UTF8_TEXT, *, source: str = "data/raw/x/", location: str = "data/raw/x/a.txt",
         source_id: str | None = None) -> RawDocument:
    return RawDocument(source, location, text, None, None, None, source_id, "utf-8")


@pytest.fixture(scope="module")
def seed_result() -> partitions.Ingested:
    return ingest.ingest(load_run("params/seed.yaml").params)


# --------------------------------------------------------------------------- base_doc_id


@pytest.mark.parametrize("raw, expected", [
    (_raw(source="builtin:news-articles", location="data/raw/news-articles/NewsArticles.csv:17",
          source_id="17"), "news-articles-17"),
    (_raw(source="data/my.csv", location="data/my.csv:3", source_id="AP 2017/01"), "my-AP-2017/01"),
    (_raw(source="data/raw/seed/", location=SEED_LOCATION, source_id=SEED_ID), SEED_ID),
    (_raw(source="/elsewhere/", location="2017/feb/story one.txt", source_id="2017/feb/story one"),
     "2017/feb/story-one"),
    (_raw(source="/elsewhere/", location="Zürich notes.md", source_id="Zürich notes"), "Z-rich-notes"),
])
def test_base_doc_id_from_ids_and_stems(raw: RawDocument, expected: str) -> None:
    assert base_doc_id(raw) == expected


@pytest.mark.parametrize("source, location, prefix", [
    ("/data/lines.jsonl", "lines.jsonl:2", "lines"),
    ("data/raw/t/table.v2.parquet", "data/raw/t/table.v2.parquet:9", "table.v2"),  # the stem
    ("builtin:news-articles", "data/raw/news-articles/NewsArticles.csv:5", "news-articles"),
])
def test_base_doc_id_without_id_is_a_content_hash(source: str, location: str, prefix: str) -> None:
    first = base_doc_id(_raw(UTF8_TEXT, source=source, location=location))
    assert first == f"{prefix}-{hashlib.sha1(UTF8_TEXT.encode('utf-8')).hexdigest()[:12]}"
    assert base_doc_id(_raw(UTF8_TEXT, source=source, location=location)) == first  # stable
    assert base_doc_id(_raw(COPY_TEXT, source=source, location=location)) != first


# --------------------------------------------------------------------------- split_units

TWO_PARAGRAPHS = "Dr. Smith met U.S. officials on Jan. 10. Talks went well.\n\nA second paragraph."


@pytest.mark.parametrize("unit, expected", [
    ("document", [TWO_PARAGRAPHS]),
    ("paragraph", ["Dr. Smith met U.S. officials on Jan. 10. Talks went well.", "A second paragraph."]),
    ("sentence", ["Dr. Smith met U.S. officials on Jan. 10.", "Talks went well.", "A second paragraph."]),
])
def test_split_units(unit: str, expected: list[str]) -> None:
    assert split_units(TWO_PARAGRAPHS, unit) == expected


def test_split_units_seed_sentences_keep_every_word() -> None:
    cleaned = clean_text(SEED_TXT.read_text(encoding="utf-8")).text
    sentences = split_units(cleaned, "sentence")
    assert len(sentences) == SEED_SENTENCES
    assert all(s and s == s.strip() for s in sentences)
    assert " ".join(sentences).split() == cleaned.split()
    assert split_units(cleaned, "document") == [cleaned]
    assert split_units(cleaned, "paragraph") == [cleaned]  # the article is one paragraph


# --------------------------------------------------------------------------- parse_dates


@pytest.mark.parametrize("raw, expected", [
    ("2017/2/7", "2017-02-07"),
    ("2016/12/30 7:11", "2016-12-30"),
    ("2022-01-10", "2022-01-10"),
    ("10 January 2022", "2022-01-10"),
    ("2022-01-10T23:30:00+08:00", "2022-01-10"),  # the local calendar day, not the UTC one
    ("garbage", None),
])
def test_parse_dates_one_value(raw: str, expected: str | None) -> None:
    parsed, _, problems = parse_dates(pd.Series([raw], dtype=object))
    assert parsed.dtype == "datetime64[ms]"
    if expected is None:
        assert pd.isna(parsed.iloc[0]) and problems == [raw]
    else:
        assert parsed.iloc[0] == pd.Timestamp(expected) and problems == []


def test_parse_dates_mixed_formats_report_only_garbage() -> None:
    raw = pd.Series(["2017/2/7", "2016/12/30 7:11", None, "garbage", "2022-01-10", "garbage"], dtype=object)
    parsed, _, problems = parse_dates(raw)
    assert parsed.tolist()[:2] == [pd.Timestamp("2017-02-07"), pd.Timestamp("2016-12-30")]
    assert parsed.iloc[4] == pd.Timestamp("2022-01-10")
    assert parsed.isna().tolist() == [False, False, True, True, False, True]
    assert problems == ["garbage"]  # None is missing, not unparseable; each value reported once


@pytest.mark.parametrize("raw, expected, problems", [
    # Mixed UTC offsets, and offsets next to naive dates, are not fatal: each keeps its own day.
    (["2022-01-10T23:30:00+08:00", "2022-01-10T10:00:00Z", "2022-01-12"],
     ["2022-01-10", "2022-01-10", "2022-01-12"], []),
    (["2022-01-10T10:00:00-05:00", "garbage"], ["2022-01-10", None], ["garbage"]),
    # Beyond pandas' nanosecond range (1677-2262): kept, as datetime64[s].
    (["9999-12-31", "2017-02-07"], ["9999-12-31", "2017-02-07"], []),
    (["1066-10-14", "0001-01-01", "9999-12-31T23:59:59-05:00"], ["1066-10-14", "0001-01-01", "9999-12-31"], []),
    # Not dates: a bare number that is not a four-digit year, an impossible day, year 0, a year past 9999.
    (["12", "3.5", "2017-02-30", "0000-01-01", "12345-01-01"], [None] * 5,
     ["0000-01-01", "12", "12345-01-01", "2017-02-30", "3.5"]),
])
def test_parse_dates_never_fails_on_odd_values(raw, expected, problems) -> None:
    parsed, _, found = parse_dates(pd.Series(raw, dtype=object))
    assert parsed.dtype == "datetime64[ms]"
    assert [None if pd.isna(v) else v for v in parsed] == [pd.Timestamp(e) if e else None for e in expected]
    assert found == problems


@pytest.mark.parametrize("raw, expected, precision", [
    ("1850", "1850-01-01", "year"),
    ("1850-03", "1850-03-01", "month"),
    ("March 1850", "1850-03-01", "month"),
    ("1850-03-04", "1850-03-04", "day"),
    ("2 Feb 1850 10:00 +0300", "1850-02-02", "day"),
    ("0800", "0800-01-01", "year"),
])
def test_parse_dates_keeps_the_precision_of_partial_dates(raw, expected, precision) -> None:
    parsed, found, problems = parse_dates(pd.Series([raw], dtype=object))
    assert parsed.iloc[0] == pd.Timestamp(expected) and found.tolist() == [precision] and problems == []


def test_parse_dates_empty_and_all_missing() -> None:
    for raw in (pd.Series([], dtype=object), pd.Series([None, None], dtype=object)):
        parsed, precision, problems = parse_dates(raw)
        assert parsed.dtype == "datetime64[ms]" and parsed.isna().all() and problems == []
        assert precision.isna().all()


# --------------------------------------------------------------------------- near-duplicates

NEAR_COPY = SEED_OPENING.replace("on Monday", "on Tuesday")  # one word of 60 changed
NEAR_COPY_2 = SEED_OPENING.replace("bilateral", "two-way", 1)


def _frame(*texts: str) -> pd.DataFrame:
    return pd.DataFrame({"doc_id": [f"d{i}" for i in range(1, len(texts) + 1)], "text": list(texts)})


def flag_near_duplicates(documents: pd.DataFrame, *, threshold: float = NEAR_DUPLICATE_JACCARD,
                         chunk_size: int = BATCH_SIZE) -> pd.Series:
    """Each document's earlier near-duplicate, the documents fed to the index ``chunk_size`` at a time
    as ingest feeds it partition by partition (the result must not depend on it)."""
    flags: list = []
    with NearDuplicateIndex(threshold) as index:
        for start in range(0, len(documents), chunk_size):
            part = documents.iloc[start:start + chunk_size]
            flags += index.add(part["doc_id"].tolist(), sketch_units(part["text"].tolist()))
    return pd.Series(flags, index=documents.index, dtype=object)


@pytest.mark.parametrize("chunk_size", [1, 2, 2000])
def test_flag_near_duplicates_earliest_wins(chunk_size: int) -> None:
    docs = _frame(SEED_OPENING, SEED_CLOSING, NEAR_COPY, NEAR_COPY_2)
    flags = flag_near_duplicates(docs, chunk_size=chunk_size)
    assert flags.tolist() == [None, None, "d1", "d1"]  # not "d3" for the last: the earliest


def test_flag_near_duplicates_leaves_distinct_texts_and_respects_threshold() -> None:
    assert flag_near_duplicates(_frame(SEED_OPENING, SEED_CLOSING, SEED_ARTIFACTS)).isna().all()
    assert flag_near_duplicates(_frame(SEED_OPENING, NEAR_COPY), threshold=0.99).tolist() == [None, None]
    assert flag_near_duplicates(_frame(SEED_OPENING)).tolist() == [None]
    assert flag_near_duplicates(_frame("Too short.", "Too short.")).tolist() == [None, None]  # no 5-grams


def test_flag_near_duplicates_keeps_the_index() -> None:
    docs = _frame(SEED_OPENING, NEAR_COPY).set_axis([10, 20])
    assert flag_near_duplicates(docs).to_dict() == {10: None, 20: "d1"}


# --------------------------------------------------------------------------- resolve_focus


@pytest.mark.parametrize("focus, expected", [
    (SEED_ID, [f"{SEED_ID}#s{i:03d}" for i in range(1, SEED_SENTENCES + 1)]),  # the parent id
    (f"{SEED_ID}#s003", [f"{SEED_ID}#s003"]),  # one unit
    (SEED_LOCATION, [f"{SEED_ID}#s{i:03d}" for i in range(1, SEED_SENTENCES + 1)]),  # the file
    (f"./{SEED_LOCATION}", [f"{SEED_ID}#s{i:03d}" for i in range(1, SEED_SENTENCES + 1)]),
    (str(SEED_TXT), [f"{SEED_ID}#s{i:03d}" for i in range(1, SEED_SENTENCES + 1)]),  # absolute
    (None, []),
    ("", []),
])
def test_resolve_focus_sentence_mode(seed_result, focus, expected) -> None:
    assert resolve_focus(seed_result.documents, focus) == expected


def test_resolve_focus_document_mode() -> None:
    docs = pd.DataFrame({"doc_id": ["a", "b"], "parent_id": ["a", "b"],
                         "location": ["data/raw/x/a.txt", "data/x.csv:1"]})
    assert resolve_focus(docs, "b") == ["b"]
    assert resolve_focus(docs, "data/raw/x/a.txt") == ["a"]


@pytest.mark.parametrize("focus", ["nope-2022", "data/raw/seed/missing.txt", f"{SEED_ID}#s999"])
def test_resolve_focus_unknown_names_it(seed_result, focus: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"focus: {focus!r} matches no doc_id")):
        resolve_focus(seed_result.documents, focus)


# --------------------------------------------------------------------------- log_summary and snippets


def test_log_summary_counts_and_folds_duplicate_targets() -> None:
    sidecar = "sidecar metadata for minutes of the board.txt (merged into that document)"
    log = pd.DataFrame([
        ("s", "a.txt", "ingested", "", "a"),
        ("s", "b.txt", "ingested", None, "b"),  # as read back from CSV: NaN
        ("s", "c.txt", "duplicate", "exact duplicate of a", "a"),
        ("s", "d.txt", "duplicate", "exact duplicate of b", "b"),
        ("s", "e.txt", "skipped", "empty file", None),
        ("s", "f.bin", "skipped", "unsupported extension .bin (expected .txt, .md)", None),
        ("s", "g.txt", "skipped", "empty file", None),
        ("s", "minutes of the board.json", "metadata", sidecar, None),
    ], columns=partitions.LOG_COLUMNS)
    summary = log_summary(log)
    assert summary.columns.tolist() == ["status", "reason", "entries"]
    assert list(summary.itertuples(index=False, name=None)) == [
        ("duplicate", "exact duplicate", 2),
        ("ingested", "", 2),
        ("metadata", sidecar, 1),
        ("skipped", "empty file", 2),
        ("skipped", "unsupported extension .bin (expected .txt, .md)", 1),
    ]
    assert summary["entries"].sum() == len(log)


def test_change_snippets_show_the_repairs() -> None:
    after = clean_text(SEED_ARTIFACTS).text
    snippets = change_snippets(SEED_ARTIFACTS, after)
    assert len(snippets) == 2  # "partners. mutual" -> "partners, mutual"; "cooperation. . He" -> "cooperation. He"
    assert all(old != new for old, new in snippets)
    assert any(". ." in old for old, _ in snippets)
    assert not any(". ." in new for _, new in snippets)
    assert len(change_snippets(SEED_ARTIFACTS, after, limit=1)) == 1
    assert all(len(old) < 20 for old, _ in change_snippets(SEED_ARTIFACTS, after, context=5))


@pytest.mark.parametrize("before, after", [
    (SEED_OPENING, SEED_OPENING),
    ("Xi said  on Monday", "Xi said on Monday"),  # whitespace only
])
def test_change_snippets_ignore_unchanged_and_whitespace(before: str, after: str) -> None:
    assert change_snippets(before, after) == []


def test_change_snippets_of_a_long_text_compare_window_by_window(monkeypatch) -> None:
    """A text longer than DIFF_CHARS (a State of the Union address runs to 60,000 characters) is
    compared a window at a time: each change is found, none of whitespace only, and no comparison
    holds more than a window of each text (the whole comparison of these two took 30 s)."""
    import difflib

    before = "\n\n".join(f"{number:03d}. {SEED_OPENING}" for number in range(80))
    after = (before.replace("003. Chinese", "003: Chinese")  # a repair near the start
             .replace("041. Chinese", "041. Chinese ")  # whitespace only: no excerpt
             .replace("057. Chinese President", "057. President")  # a word dropped far in
             .replace("078. Chinese", "078.  Chinese"))
    assert len(before) > ingest.DIFF_CHARS
    compared = []
    real = difflib.SequenceMatcher

    def matcher(junk, a, b, autojunk):
        compared.append(max(len(a), len(b)))
        return real(junk, a, b, autojunk=autojunk)

    monkeypatch.setattr(difflib, "SequenceMatcher", matcher)
    windowed = change_snippets(before, after, limit=3)
    assert max(compared) <= ingest.DIFF_WINDOW
    assert len(windowed) == 2 and "003: Chinese" in windowed[0][1] and "057. President" in windowed[1][1]
    assert [old.split() != new.split() for old, new in windowed] == [True, True]
    assert "003. Chinese" in windowed[0][0] and "057. Chinese President" in windowed[1][0]
    assert change_snippets(before, after, limit=1) == windowed[:1]


# --------------------------------------------------------------------------- a mixed folder and tables


def _mixed_corpus(root: Path, unit: str = "document"):
    """Good and bad files and tables; returns the params and the expected log, built independently."""
    folder = root / "folder"
    folder.mkdir(parents=True)
    files = {
        "a-utf8.txt": UTF8_TEXT.encode("utf-8"),
        "b-latin1.txt": LATIN1_TEXT.encode("latin-1"),
        "c-utf16.txt": UTF16_TEXT.encode("utf-16"),  # with its BOM
        "d-empty.txt": b"",
        "e-binary.txt": PNG,
        "f-notes.xyz": b"a file of an unknown kind",
        "g-notes.md": MD_TEXT.encode("utf-8"),
        "h-copy.txt": COPY_TEXT.encode("utf-8"),
        "i-copy.txt": COPY_TEXT.encode("utf-8"),
    }
    assert files["c-utf16.txt"].startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    for name, payload in files.items():
        (folder / name).write_bytes(payload)
    (root / "good.csv").write_text(GOOD_CSV, encoding="utf-8", newline="")
    (root / "nocol.csv").write_text(NOCOL_CSV, encoding="utf-8")
    (root / "lines.jsonl").write_text("\n".join(JSONL_LINES) + "\n", encoding="utf-8")
    pq.write_table(pa.table({"text": PARQUET_TEXTS}), root / "table.parquet")

    table = {"text_column": "text"}
    sources = [
        {"path": str(folder), "group": "desk"},
        {"path": str(root / "good.csv"), **table, "id_column": "id", "date_column": "date",
         "group_column": "outlet"},
        {"path": str(root / "nocol.csv"), **table},
        {"path": str(root / "lines.jsonl"), **table},
        {"path": str(root / "table.parquet"), **table},
    ]
    params = validate_params({"title": "Mixed inputs", "sources": sources, "unit": unit})

    csv_rows = len(list(csv.DictReader(io.StringIO(GOOD_CSV))))
    expected = {(str(folder), name): None for name in files}
    expected.update({(str(root / "good.csv"), f"good.csv:{n}"): None for n in range(1, csv_rows + 1)})
    expected[(str(root / "nocol.csv"), "nocol.csv")] = None  # the whole table is skipped
    expected.update({(str(root / "lines.jsonl"), f"lines.jsonl:{n}"): None
                     for n in range(1, len(JSONL_LINES) + 1)})
    expected.update({(str(root / "table.parquet"), f"table.parquet:{n}"): None
                     for n in range(1, len(PARQUET_TEXTS) + 1)})
    return params, list(expected)


# location -> (status, reason pattern, doc_id of a kept duplicate)
EXPECTED_OUTCOMES = {
    "a-utf8.txt": ("ingested", "$", None),
    "b-latin1.txt": ("ingested", "$", None),
    "c-utf16.txt": ("ingested", "$", None),
    "d-empty.txt": ("skipped", "empty file$", None),
    "e-binary.txt": ("skipped", r"binary file \(NUL bytes\)$", None),
    "f-notes.xyz": ("skipped", r"unsupported extension \.xyz ", None),
    "g-notes.md": ("ingested", "$", None),
    "h-copy.txt": ("ingested", "$", None),
    "i-copy.txt": ("duplicate", "exact duplicate of h-copy$", "h-copy"),
    "good.csv:1": ("ingested", "$", None),
    "good.csv:2": ("skipped", "empty text$", None),
    "good.csv:3": ("duplicate", "exact duplicate of a-utf8$", "a-utf8"),
    "good.csv:4": ("ingested", "$", None),
    "nocol.csv": ("skipped", r"missing column 'text' \(columns: id, body\)$", None),
    "lines.jsonl:1": ("ingested", "$", None),
    "lines.jsonl:2": ("skipped", "malformed JSON: ", None),
    "lines.jsonl:3": ("ingested", "$", None),
    "table.parquet:1": ("ingested", "$", None),
    "table.parquet:2": ("ingested", "$", None),
}


@pytest.mark.parametrize("unit", ["document", "sentence"])
def test_ingest_mixed_inputs_accounts_for_everything(tmp_path: Path, unit: str) -> None:
    params, expected_entries = _mixed_corpus(tmp_path, unit)
    before = _sha256_tree(tmp_path)

    result = ingest.ingest(params)
    log, docs = result.log, result.documents

    # Every input file and row exactly once.
    entries = Counter(zip(log["source"], log["location"]))
    assert sorted(entries) == sorted(expected_entries)
    assert set(entries.values()) == {1}
    assert set(EXPECTED_OUTCOMES) == set(log["location"])
    # The right outcome for each.
    for row in log.itertuples(index=False):
        status, reason, kept = EXPECTED_OUTCOMES[row.location]
        assert (row.status, row.location) == (status, row.location)
        assert re.match(reason, row.reason or ""), (row.location, row.reason)
        if status == "duplicate":
            assert row.doc_id == kept
    ingested = log.loc[log["status"] == "ingested", "doc_id"]
    assert set(log.loc[log["status"] == "duplicate", "doc_id"]) <= set(ingested)
    assert log.loc[log["status"] == "skipped", "doc_id"].isna().all()
    # Nothing lost, nothing invented; ids unique.
    assert ingested.is_unique
    assert set(ingested) == set(docs["parent_id"])
    assert docs["doc_id"].is_unique
    assert (docs["text"].str.strip() != "").all()
    assert list(docs.columns) == partitions.DOCUMENT_COLUMNS
    # Decoding and mapping.
    by_loc = docs.groupby("location")
    assert " ".join(by_loc.get_group("b-latin1.txt")["text"]) == LATIN1_TEXT
    assert " ".join(by_loc.get_group("c-utf16.txt")["text"]) == UTF16_TEXT
    assert by_loc.get_group("c-utf16.txt")["encoding"].unique().tolist() == ["utf-16"]
    first_row = by_loc.get_group("good.csv:1")
    assert "\n".join(first_row["text"]) == 'Officials said "the line\nis open" on Tuesday.'
    assert set(first_row["group"]) == {"dw.com"} and set(first_row["date"]) == {pd.Timestamp("2017-02-07")}
    assert by_loc.get_group("good.csv:4")["date"].isna().all()  # "garbage": kept, date empty
    assert result.date_problems == ["garbage"]
    assert set(by_loc.get_group("a-utf8.txt")["group"]) == {"desk"}
    if unit == "document":
        assert (docs["doc_id"] == docs["parent_id"]).all()
        assert len(docs) == len(ingested)
    else:
        assert (docs["doc_id"].str.split("#").str[0] == docs["parent_id"]).all()
        assert len(docs) > len(ingested)
    # Raw files are never modified.
    assert _sha256_tree(tmp_path) == before


def test_ingest_same_file_names_in_two_folders_get_distinct_ids(tmp_path: Path) -> None:
    for folder, text in (("one", UTF8_TEXT), ("two", COPY_TEXT)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "story.txt").write_text(text, encoding="utf-8")
    params = validate_params({"title": "t", "sources": [{"path": str(tmp_path / "one")},
                                                        {"path": str(tmp_path / "two")}]})
    result = ingest.ingest(params)
    assert result.log["status"].tolist() == ["ingested", "ingested"]
    first, second = result.log["doc_id"]
    assert first == "story" and second.startswith("story-") and second != first
    assert result.documents["doc_id"].tolist() == [first, second]


def test_ingest_table_with_mixed_time_zones_is_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "zones.csv").write_text(
        "text,date\nA morning report from Beijing.,2022-01-10T08:00:00+08:00\n"
        "An evening report from Minsk.,2022-01-10T20:00:00+03:00\nA report with no zone.,2022-01-11\n",
        encoding="utf-8")
    params = validate_params({"title": "t", "sources": [
        {"path": str(tmp_path / "zones.csv"), "text_column": "text", "date_column": "date"}]})
    result = ingest.ingest(params)
    assert result.documents["date"].tolist() == [pd.Timestamp("2022-01-10")] * 2 + [pd.Timestamp("2022-01-11")]
    assert result.date_problems == []


# --------------------------------------------------------------------------- outputs


def test_write_outputs_round_trip(tmp_path: Path) -> None:
    params, _ = _mixed_corpus(tmp_path / "in")
    result = ingest.ingest(params)
    out = tmp_path / "out"
    ingest.write_outputs(result, out)
    assert sorted(p.name for p in out.iterdir()) == ["cleaning.csv", "documents.parquet", "ingest_log.csv"]

    documents = pd.read_parquet(out / "documents.parquet")
    pd.testing.assert_frame_equal(documents, result.documents, check_dtype=False)
    assert documents.dtypes["date"] == "datetime64[ms]"
    log = pd.read_csv(out / "ingest_log.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(log, result.log.fillna("").astype(str), check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(out / "cleaning.csv"), result.changes, check_dtype=False)


def test_ingest_and_write_are_byte_identical_across_runs(tmp_path: Path) -> None:
    params, _ = _mixed_corpus(tmp_path / "in", unit="sentence")
    for run in ("first", "second"):
        ingest.write_outputs(ingest.ingest(params), tmp_path / run)
    for name in ("documents.parquet", "ingest_log.csv", "cleaning.csv"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


# --------------------------------------------------------------------------- the real runs


def test_seed_run(seed_result) -> None:
    log, docs = seed_result.log, seed_result.documents
    assert log["status"].tolist() == ["metadata", "ingested"]
    assert log["location"].tolist() == [f"data/raw/seed/{SEED_ID}.json", SEED_LOCATION]
    assert log["doc_id"].tolist()[1] == SEED_ID
    assert len(docs) == SEED_SENTENCES
    assert docs["doc_id"].tolist() == [f"{SEED_ID}#s{i:03d}" for i in range(1, SEED_SENTENCES + 1)]
    assert docs["unit_index"].tolist() == list(range(SEED_SENTENCES))
    assert set(docs["parent_id"]) == {SEED_ID}
    assert set(docs["dateline"]) == {"BEIJING"}
    assert set(docs["date"]) == {pd.Timestamp("2022-01-10")}
    assert set(docs["title"]) == {"Xi Jinping and Alexander Lukashenko phone call, 10 January 2022"}
    assert set(docs["group"]) == {"seed"}
    assert not docs["text"].str.contains(". .", regex=False).any()
    assert docs["text"].iloc[0].startswith("Chinese President Xi Jinping said on Monday")
    assert seed_result.date_problems == []
    changes = dict(zip(seed_result.changes["kind"], seed_result.changes["count"]))
    assert changes["stray_period_removed"] == 2


@pytest.mark.slow
def test_news_run_accounts_for_every_row() -> None:
    if not NEWS_CSV.is_file():
        pytest.skip(f"{config.relative_to_root(NEWS_CSV)} is absent; run `make data` to fetch it")
    raw = pd.read_csv(NEWS_CSV, dtype=str, keep_default_na=False)
    assert len(raw) == 3824
    numbers = raw["text"].str.fullmatch(r"\s*-?\d+\s*")  # four broken rows whose text is "-1"
    texts = raw["text"][(raw["text"].str.strip() != "") & ~numbers]
    distinct = texts.map(lambda t: " ".join(t.casefold().split())).nunique()

    result = ingest.ingest(load_run("params/news.yaml").params)
    log, docs = result.log, result.documents
    news = log[log["source"] == "builtin:news-articles"]
    assert len(log) == 3824 + 2  # every row, plus the seed and its sidecar
    assert news["location"].tolist() == [f"data/raw/news-articles/NewsArticles.csv:{n}"
                                         for n in range(1, 3825)]
    counts = news["status"].value_counts().to_dict()
    assert counts["ingested"] + counts["duplicate"] + counts["skipped"] == 3824
    assert set(counts) == {"ingested", "duplicate", "skipped"}
    reasons = news.loc[news["status"] == "skipped", "reason"].value_counts().to_dict()
    assert reasons == {"empty text": 36, "text column 'text' holds a number, not text": 4}
    assert sum(reasons.values()) == len(raw) - len(texts)
    assert counts["ingested"] == distinct
    assert counts["duplicate"] == len(texts) - distinct
    assert log.loc[log["source"] == "data/raw/seed/", "status"].tolist() == ["metadata", "ingested"]
    assert len(docs) == 1 + distinct
    assert docs["doc_id"].is_unique
    assert set(docs["parent_id"]) == set(log.loc[log["status"] == "ingested", "doc_id"])
    assert docs["group"].nunique() == 10
    assert docs["group"].value_counts()["seed"] == 1
    assert docs["group"].notna().all()
    assert resolve_focus(docs, load_run("params/news.yaml").params.focus) == [SEED_ID]


def test_long_texts_hash_and_shingle_in_pieces_exactly_as_whole() -> None:
    """Texts over a piece are fingerprinted and shingled piece by piece, with the same result."""
    import hashlib

    from sklearn.feature_extraction.text import HashingVectorizer

    text = " ".join(f"Word{i % 997} straße\tvalue{i % 13}\n" for i in range(300))
    whole = hashlib.sha1(" ".join(text.casefold().split()).encode("utf-8")).hexdigest()
    assert partitions._fingerprint(text) == whole
    original = partitions._PIECE
    try:
        partitions._PIECE = 50  # many pieces, each cut at whitespace
        assert len(list(partitions._text_pieces(text, 50))) > 100
        assert partitions._fingerprint(text) == whole
        pieces = [s for part in near_duplicates._shingle_pieces(text, 50) for s in part]
        direct = HashingVectorizer(analyzer="word", ngram_range=(5, 5)).build_analyzer()(text)
        assert pieces == direct
    finally:
        partitions._PIECE = original


# --------------------------------------------------------------------------- builtin integrity

PINNED_NEWS_SHA256 = "1f70ad5730756d01b9d0be7b3f8433102ea3ec46f8ee82a52485f3772f83b3fe"
SMALL_NEWS = (b"article_id,publish_date,article_source_link,title,subtitle,text\n"
              b"1,2017/2/7,http://www.dw.com/en/a,Rail,,Ministers met in Minsk on Monday about freight.\n"
              b"2,2017/2/8,http://www.bbc.co.uk/news/b,Port,,The harbour reopened after the storm.\n")


@pytest.fixture
def news_sandbox(make_sandbox, monkeypatch: pytest.MonkeyPatch):
    """A project copy whose builtin news corpus is a copy (not the shared file), with its root in effect.

    Returns a function that writes the sandbox's NewsArticles.csv (the real one by default)
    and points the registry at it with ``sha256`` (the real pin by default).
    """
    from newslens import corpora

    root = make_sandbox("builtin-integrity")
    target = root / "data" / "raw" / "news-articles" / "NewsArticles.csv"
    monkeypatch.setattr(config, "PROJECT_ROOT", root)

    def place(payload: bytes | None = None, sha256: str | None = None) -> Path:
        if payload is None:
            if not NEWS_CSV.is_file():
                pytest.skip(f"{NEWS_CSV.name} is absent; run `make data` to fetch it")
            payload = NEWS_CSV.read_bytes()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)
        corpus = corpora.BUILTINS["news-articles"]
        monkeypatch.setitem(corpora.BUILTINS, "news-articles", replace(
            corpus, target=target, csv_sha256=sha256 or corpus.csv_sha256))
        return target

    return place


def _news_params():
    return load_run("params/news.yaml").params  # the sandbox's: the seed folder and the builtin


def test_ingest_refuses_a_changed_builtin_before_writing_anything(news_sandbox, monkeypatch) -> None:
    from newslens.corpus.integrity import IntegrityError, ModifiedBuiltinError

    target = news_sandbox()
    with target.open("ab") as handle:
        handle.write(b"x")  # one byte appended after `make data`
    actual = hashlib.sha256(target.read_bytes()).hexdigest()
    monkeypatch.setattr(ingest, "engine_scope", lambda *a: pytest.fail("read before the hash check"))
    out_dir = config.PROJECT_ROOT / "data" / "processed" / "news"  # the sandbox's
    message = (r"builtin corpus 'news-articles': data/raw/news-articles/NewsArticles\.csv\n"
               rf"  expected: {PINNED_NEWS_SHA256}\n  actual:   {actual}\n.*run `make data`.* to restore it")
    for where in (out_dir, None):
        with pytest.raises(ModifiedBuiltinError, match=message) as info:
            ingest.ingest(_news_params(), where)
        assert isinstance(info.value, IntegrityError)
    assert not (config.PROJECT_ROOT / "data" / "processed").exists()
    text = str(info.value)
    assert PINNED_NEWS_SHA256 in text and actual in text and "`make data`" in text
    assert target.read_bytes().endswith(b"x")  # the check never repairs or touches the file


def test_an_unchanged_builtin_passes_the_check(news_sandbox, tmp_path: Path) -> None:
    news_sandbox()  # the real corpus, copied: its pinned hash matches
    ingest.verify_builtins(_news_params())
    # A small builtin with its own pin is read and written as usual.
    news_sandbox(SMALL_NEWS, hashlib.sha256(SMALL_NEWS).hexdigest())
    params = validate_params({"title": "Small builtin", "sources": [{"builtin": "news-articles"}]})
    result = ingest.ingest(params, tmp_path / "out")
    assert result.documents["doc_id"].tolist() == ["news-articles-1", "news-articles-2"]
    assert (tmp_path / "out" / "documents.parquet").is_file()


def test_a_users_own_files_are_not_hash_checked(tmp_path: Path, monkeypatch) -> None:
    from newslens.corpus import fetch

    monkeypatch.setattr(fetch, "verify_builtin", lambda name: pytest.fail("a user's file was hash-checked"))
    (tmp_path / "NewsArticles.csv").write_bytes(SMALL_NEWS + b"3,,,Edited,,A line added by hand.\n")
    params = validate_params({"title": "Own table", "sources": [
        {"path": str(tmp_path / "NewsArticles.csv"), "text_column": "text", "id_column": "article_id"}]})
    assert len(ingest.ingest(params).documents) == 3


@pytest.mark.slow
def test_stage_01_stops_on_a_changed_builtin(make_sandbox, run_pipeline) -> None:
    """Through the pipeline (papermill): the stage fails with the message, data/processed/ stays absent."""
    if not NEWS_CSV.is_file():
        pytest.skip(f"{NEWS_CSV.name} is absent; run `make data` to fetch it")
    root = make_sandbox("builtin-stage")
    target = root / "data" / "raw" / "news-articles" / "NewsArticles.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(NEWS_CSV.read_bytes() + b"x")
    actual = hashlib.sha256(target.read_bytes()).hexdigest()
    done = run_pipeline(root, "stage", "params/news.yaml", "01-ingest", timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    assert re.search(r"stage 01-ingest failed for run news: ModifiedBuiltinError: sha256 mismatch for "
                     r"builtin corpus 'news-articles': data/raw/news-articles/NewsArticles\.csv", done.stderr)
    assert PINNED_NEWS_SHA256 in done.stderr and actual in done.stderr and "`make data`" in done.stderr
    assert not (root / "data" / "processed").exists()
