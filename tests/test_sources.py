"""Tests of the source readers: every file and row comes out once, as a document or a skip."""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newslens import config
from newslens.corpus import tables
from newslens.params import Source
from newslens.corpus.decode import UndecodableError, decode_bytes
from newslens.corpus.sources import RawDocument, Skipped, outlet_from_url, read_source

LATIN = "Café déjà vu in Zürich"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
SEED = config.RAW_DIR / "seed"
REAL_BUILTIN = config.RAW_DIR / "news-articles" / "NewsArticles.csv"


def _read(path: Path | str, **mapping) -> list[RawDocument | Skipped]:
    return list(read_source(Source(path=str(path), **mapping)))


def _docs(items) -> list[RawDocument]:
    return [item for item in items if isinstance(item, RawDocument)]


def _skips(items) -> dict[str, str]:
    return {item.location: item.reason for item in items if isinstance(item, Skipped)}


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("payload, encoding", [
    ("plain ascii\n".encode("ascii"), "utf-8"),
    ("naïve “quotes” – ok".encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + "naïve façade".encode("utf-8"), "utf-8-sig"),
    ("naïve façade".encode("utf-16"), "utf-16"),
    (codecs.BOM_UTF16_BE + "naïve façade".encode("utf-16-be"), "utf-16"),
    ("naïve façade".encode("utf-32"), "utf-32"),
])
def test_decode_bytes_unicode(payload: bytes, encoding: str) -> None:
    text, found = decode_bytes(payload)
    assert found == encoding
    assert text.lstrip("\ufeff") == text  # BOM removed
    assert "ï" in text or text == "plain ascii\n"


@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
@pytest.mark.parametrize("text", [LATIN, f"{LATIN}.\nA naïve façade, a résumé and a crème brûlée.\n"])
def test_decode_bytes_western_single_byte(codec: str, text: str) -> None:
    decoded, found = decode_bytes(text.encode(codec))
    assert decoded == text
    assert found in {"cp1252", "latin-1", "iso8859-15"}


@pytest.mark.parametrize("payload, match", [
    (PNG, r"binary file \(NUL bytes\)"),
    (b"abc\x00def", r"binary file \(NUL bytes\)"),
    (codecs.BOM_UTF16_LE + b"\x00\xd8", r"undecodable bytes \(utf-16 BOM"),
    (bytes(range(1, 32)) * 20 + b"\x81\x8d\x8f\x90\x9d" * 20, r"undecodable bytes|binary file"),
])
def test_decode_bytes_refuses(payload: bytes, match: str) -> None:
    with pytest.raises(UndecodableError, match=match):
        decode_bytes(payload)
    assert issubclass(UndecodableError, ValueError)


# --------------------------------------------------------------------------- outlets


@pytest.mark.parametrize("url, outlet", [
    ("http://www.aljazeera.com/news/2017/02/x.html", "aljazeera.com"),
    ("http://tass.com/politics/929530", "tass.com"),
    ("http://abcnews.go.com/Politics/story?id=45310061", "abcnews.go.com"),
    ("http://www.rte.ie/news/2017/0207/850516-x/", "rte.ie"),
    ("http://www.huffingtonpost.com/entry/x_us_589a", "huffingtonpost.com"),
    ("http://www.dw.com/en/x/a-37441451", "dw.com"),
    ("http://europe.chinadaily.com.cn/world/2017-02/08/content_28134234.htm", "europe.chinadaily.com.cn"),
    ("http://www.bbc.co.uk/news/uk-38897433", "bbc.co.uk"),
    ("http://www.cnn.com/2017/02/07/politics/x/index.html", "cnn.com"),
    ("https://WWW.CNN.com:443/x", "cnn.com"),
    ("www.bbc.co.uk/news", "bbc.co.uk"),
])
def test_outlet_from_url(url: str, outlet: str) -> None:
    assert outlet_from_url(url) == outlet


@pytest.mark.parametrize("url", ["", "   ", "http:///path-only"])
def test_outlet_from_url_without_host(url: str) -> None:
    with pytest.raises(ValueError, match="no host"):
        outlet_from_url(url)


# --------------------------------------------------------------------------- text files and folders


@pytest.mark.parametrize("name", ["note.txt", "note.md"])
def test_single_text_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("# Heading\n\nBody text.\n", encoding="utf-8")
    [doc] = _read(tmp_path / name)
    assert doc == RawDocument(str(tmp_path / name), name, "# Heading\n\nBody text.\n",
                              None, None, None, "note", "utf-8", {})


def test_single_file_with_sidecar_and_group(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Text.", encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps({"title": "T", "date": "2020-01-02", "group": "g",
                                                 "origin": "o"}), encoding="utf-8")
    sidecar, doc = read_source(Source(path=str(tmp_path / "a.txt"), group="override"))
    assert sidecar == Skipped(str(tmp_path / "a.txt"), "a.json",
                              "sidecar metadata for a.txt (merged into that document)")
    assert (doc.title, doc.date, doc.group, doc.metadata) == ("T", "2020-01-02", "override", {"origin": "o"})


def test_single_file_unsupported_extension(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    assert _read(tmp_path / "notes.json") == [
        Skipped(str(tmp_path / "notes.json"), "notes.json", "unsupported extension .json (expected .txt, .md)")]


def test_seed_folder() -> None:
    sidecar_meta = json.loads((SEED / "xi-lukashenko-call-2022-01-10.json").read_text(encoding="utf-8"))
    items = list(read_source(Source(path="data/raw/seed/")))
    assert len(items) == len(list(SEED.iterdir())) == 2
    sidecar, doc = items
    assert sidecar == Skipped("data/raw/seed/", "data/raw/seed/xi-lukashenko-call-2022-01-10.json",
                              "sidecar metadata for xi-lukashenko-call-2022-01-10.txt "
                              "(merged into that document)")
    assert doc.source == "data/raw/seed/"
    assert doc.location == "data/raw/seed/xi-lukashenko-call-2022-01-10.txt"
    assert doc.source_id == "xi-lukashenko-call-2022-01-10"
    assert (doc.title, doc.date, doc.encoding) == (sidecar_meta["title"], "2022-01-10", "utf-8")
    assert doc.group is None
    assert set(doc.metadata) == set(sidecar_meta) - {"title", "date"}
    assert doc.text.startswith("\n\n\n\nBEIJING:")  # not cleaned


def test_seed_folder_by_absolute_path_has_the_same_locations() -> None:
    relative = list(read_source(Source(path="data/raw/seed/")))
    absolute = list(read_source(Source(path=str(SEED))))
    assert [item.location for item in absolute] == [item.location for item in relative]
    assert absolute[1].source == str(SEED)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A folder mixing good and bad files (and a nested and a hidden folder)."""
    root = tmp_path / "mixed"
    (root / "sub").mkdir(parents=True)
    (root / ".git").mkdir()
    files = {
        "good.txt": "A good text.\n".encode("utf-8"),
        "readme.md": "# Title\n\nMarkdown body.".encode("utf-8"),
        "latin1.txt": LATIN.encode("latin-1"),
        "utf16.txt": "UTF-16 text with a BOM: naïve.".encode("utf-16"),
        "empty.txt": b"",
        "blank.md": b"  \n\t\n",
        "binary.txt": PNG,
        "data.xyz": b"whatever",
        "table.csv": b"id,text\n1,hello\n",
        "noext": b"no extension",
        ".hidden.txt": b"hidden text",
        ".git/config": b"[core]",
        "sub/nested.txt": b"Nested text.",
        "sub/nested.json": json.dumps({"title": "Nested", "event": "e"}).encode("utf-8"),
        "bad.txt": b"Doc with a broken sidecar.",
        "bad.json": b"{not json",
        "list.md": b"Doc whose sidecar is a list.",
        "list.json": b"[1, 2]",
        "orphan.json": b"{}",
    }
    for name, payload in files.items():
        (root / name).write_bytes(payload)
    return root


def test_mixed_folder_accounts_for_every_file(mixed: Path) -> None:
    before = _digest(mixed)
    items = _read(mixed, group="press")
    assert _digest(mixed) == before  # raw files are never modified
    locations = [item.location for item in items]
    visible = [name for name in before if not name.startswith(".git/")]
    assert sorted(locations) == sorted(visible + [".git/"])
    assert len(locations) == len(set(locations)) == len(before)  # .git/ has one file here
    assert locations == sorted(locations)  # deterministic, sorted path order
    docs = {doc.location: doc for doc in _docs(items)}
    assert set(docs) == {"good.txt", "readme.md", "latin1.txt", "utf16.txt", "sub/nested.txt",
                         "bad.txt", "list.md"}
    assert (docs["latin1.txt"].text, docs["latin1.txt"].encoding[:2]) == (LATIN, "cp")
    assert docs["utf16.txt"].text == "UTF-16 text with a BOM: naïve."
    assert docs["utf16.txt"].encoding == "utf-16"
    assert (docs["sub/nested.txt"].title, docs["sub/nested.txt"].source_id) == ("Nested", "sub/nested")
    assert docs["sub/nested.txt"].metadata == {"event": "e"}
    assert docs["bad.txt"].title is None and docs["list.md"].metadata == {}
    assert {doc.group for doc in docs.values()} == {"press"}
    skips = _skips(items)
    assert skips["empty.txt"] == skips["blank.md"] == "empty file"
    assert skips["binary.txt"] == "binary file (NUL bytes)"
    assert skips["data.xyz"] == "unsupported extension .xyz (expected .txt, .md)"
    assert skips["table.csv"] == "unsupported extension .csv (expected .txt, .md)"
    assert skips["noext"] == "unsupported extension (none) (expected .txt, .md)"
    assert skips["orphan.json"] == "unsupported extension .json (expected .txt, .md)"
    assert skips[".hidden.txt"] == "hidden file"
    assert skips[".git/"] == "hidden folder (not read)"
    assert skips["sub/nested.json"] == "sidecar metadata for nested.txt (merged into that document)"
    assert skips["bad.json"].startswith("sidecar for bad.txt ignored: invalid JSON")
    assert skips["list.json"] == "sidecar for list.md ignored: not a JSON object (got list)"


def test_folder_order_is_independent_of_listing(mixed: Path) -> None:
    assert _read(mixed) == _read(mixed)
    assert isinstance(read_source(Source(path=str(mixed))), Iterator)


def test_symlinked_folder_is_listed_not_followed(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text("x", encoding="utf-8")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "a.txt").write_text("a", encoding="utf-8")
    try:
        (tmp_path / "root" / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    except OSError:
        pytest.skip("symlinks not supported here")
    items = _read(tmp_path / "root")
    assert [item.location for item in items] == ["a.txt", "link/"]
    assert items[1].reason == "symlinked folder (not followed)"


def test_missing_path_raises_at_call_time() -> None:
    with pytest.raises(FileNotFoundError, match=r"source 'data/raw/nope/'.*does not exist"):
        read_source(Source(path="data/raw/nope/"))


def test_logs_a_summary(mixed: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="newslens.corpus.sources"):
        _read(mixed)
    assert f"{mixed}: 7 documents, 12 skipped" in caplog.text


# --------------------------------------------------------------------------- tables

CSV_TRICKY = (
    'doc_id,body,headline,when,desk\n'
    '1,"First line\nsecond line, with a comma","She said ""hi""",2020-01-02,World\n'
    '2,,Empty text,2020-01-03,World\n'
    '3,"  ",Blank text,,\n'
    '4,"Quote "" inside, and\r\nCRLF",,2020-01-05,\n'
)


def test_csv_with_embedded_newlines_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(CSV_TRICKY.encode("utf-8"))
    items = _read(path, text_column="body", id_column="doc_id", title_column="headline",
                  date_column="when", group_column="desk")
    assert [item.location for item in items] == [f"t.csv:{n}" for n in (1, 2, 3, 4)]
    first, fourth = _docs(items)
    assert first == RawDocument(str(path), "t.csv:1", "First line\nsecond line, with a comma",
                                'She said "hi"', "2020-01-02", "World", "1", "utf-8", {})
    assert (fourth.text, fourth.title, fourth.group) == ('Quote " inside, and\r\nCRLF', None, None)
    assert _skips(items) == {"t.csv:2": "empty text", "t.csv:3": "empty text"}


def test_tsv_and_group_override(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("id\ttext\tg\na\tAlpha, with comma\tx\nb\tBeta\ty\n", encoding="utf-8")
    items = _read(path, text_column="text", id_column="id", group_column="g", group="fixed")
    assert [(d.source_id, d.text, d.group) for d in items] == [("a", "Alpha, with comma", "fixed"),
                                                                ("b", "Beta", "fixed")]


@pytest.mark.parametrize("codec, expected", [("cp1252", "cp"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16")])
def test_csv_encodings(tmp_path: Path, codec: str, expected: str) -> None:
    path = tmp_path / "enc.csv"
    path.write_bytes(f"id,text\n1,{LATIN}\n2,Plain\n".encode(codec))
    docs = _read(path, text_column="text", id_column="id")
    assert [d.text for d in docs] == [LATIN, "Plain"]
    assert {d.encoding[: len(expected)] for d in docs} == {expected}


@pytest.mark.parametrize("mapping, missing", [
    ({"text_column": "body"}, "body"),
    ({"text_column": "text", "title_column": "headline"}, "headline"),
])
def test_table_missing_column_skips_whole_file(tmp_path: Path, mapping: dict, missing: str) -> None:
    for name, payload in {"t.csv": b"a,text,c\n1,x,y\n2,z,w\n",
                          "t.jsonl": b'{"a": 1, "text": "x"}\n{"c": 2}\n'}.items():
        path = tmp_path / name
        path.write_bytes(payload)
        [skip] = _read(path, **mapping)
        assert isinstance(skip, Skipped) and skip.location == name
        assert skip.reason.startswith(f"missing column '{missing}' (columns: a, ")


def test_parquet_missing_column(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1], "b": ["x"]}), tmp_path / "t.parquet")
    [skip] = _read(tmp_path / "t.parquet", text_column="text")
    assert skip.reason == "missing column 'text' (columns: a, b)"


@pytest.mark.parametrize("name, payload, reason", [
    ("empty.csv", b"", "empty file"),
    ("blank.csv", b" \n\n", "empty file"),
    ("header.csv", b"id,text\n", "no data rows (header only)"),
    ("binary.csv", PNG, "binary file (NUL bytes)"),
    ("wide.csv", b"id,text\n1,a,extra\n2,b\n", "unreadable table"),
    ("blank.jsonl", b"\n  \n", "empty file"),
    ("broken.parquet", b"PAR1 not really parquet", "unreadable parquet file"),
])
def test_table_whole_file_skips(tmp_path: Path, name: str, payload: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(payload)
    [skip] = _read(tmp_path / name, text_column="text")
    assert isinstance(skip, Skipped) and skip.location == name
    assert skip.reason.startswith(reason)


def test_csv_bad_row_later_skips_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "CHUNK_ROWS", 2)
    path = tmp_path / "t.csv"
    path.write_text("id,text\n1,a\n2,b\n3,c,extra\n4,d\n", encoding="utf-8")
    items = _read(path, text_column="text")
    assert [d.text for d in _docs(items)] == ["a", "b"]
    assert list(_skips(items)) == ["t.csv:3"]
    assert _skips(items)["t.csv:3"].startswith("unreadable from data row 3 to the end (ParserError")


@pytest.mark.parametrize("name, header, line, reason", [
    ("late.csv", b"id,text\n", "{n},row {n}\n", "unreadable from data row 16 to the end (UnicodeDecodeError"),
    ("late.jsonl", b"", '{{"id": {n}, "text": "row {n}"}}\n', "undecodable bytes (utf-8: invalid"),
])
def test_undecodable_bytes_after_the_sample_are_accounted_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, header: bytes, line: str, reason: str) -> None:
    monkeypatch.setattr(tables, "SAMPLE_BYTES", 64)
    monkeypatch.setattr(tables, "CHUNK_ROWS", 5)
    rows = [line.format(n=n).encode() for n in range(1, 21)]
    rows[-1] = rows[-1].replace(b"row", b"r\xe9ow\xff")  # invalid UTF-8, after the sample
    (tmp_path / name).write_bytes(header + b"".join(rows))
    items = _read(tmp_path / name, text_column="text")
    [skip] = [item for item in items if isinstance(item, Skipped)]
    assert skip.reason.startswith(reason)
    if name.endswith(".csv"):  # rows 1-15 read; the chunk holding the bad bytes and the rest: one skip
        assert [d.location for d in _docs(items)] == [f"late.csv:{n}" for n in range(1, 16)]
        assert skip.location == "late.csv:16"
    else:  # JSON Lines are decoded in the first pass: the whole file is skipped
        assert items == [skip] and skip.location == name


def test_csv_streams_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "CHUNK_ROWS", 3)
    path = tmp_path / "t.csv"
    path.write_text("text\n" + "".join(f"row {n}\n" for n in range(1, 11)), encoding="utf-8")
    items = read_source(Source(path=str(path), text_column="text"))
    assert next(items).location == "t.csv:1"
    assert [d.location for d in items][-1] == "t.csv:10"


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [
        {"id": 7, "text": "First", "title": "T1", "date": "2020-01-01", "extra": [1]},
        "",
        "{broken json",
        [1, 2],
        {"id": 8, "text": "", "title": "empty"},
        {"id": 9, "title": "no text key"},
        {"id": None, "text": "Second\nline", "title": None},
    ]
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
                    encoding="utf-8")
    items = _read(path, text_column="text", id_column="id", title_column="title", date_column="date")
    assert len(items) == len(lines) - 1  # the blank line is not a row
    first, second = _docs(items)
    assert (first.location, first.source_id, first.title, first.date) == ("t.jsonl:1", "7", "T1", "2020-01-01")
    assert (second.location, second.text, second.source_id, second.title) == ("t.jsonl:7", "Second\nline",
                                                                              None, None)
    skips = _skips(items)
    assert skips["t.jsonl:3"].startswith("malformed JSON: ")
    assert skips["t.jsonl:4"] == "not a JSON object (got list)"
    assert skips["t.jsonl:5"] == skips["t.jsonl:6"] == "empty text"


def test_parquet_with_column_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "CHUNK_ROWS", 2)
    table = pa.table({"key": [10, 11, 12, 13, 14],
                      "content": ["one", None, "three", " ", "five"],
                      "outlet": ["a", "b", None, "d", "e"],
                      "ignored": [1.0, 2.0, 3.0, 4.0, 5.0]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)
    items = _read(tmp_path / "t.parquet", text_column="content", id_column="key", group_column="outlet")
    assert [(d.location, d.source_id, d.text, d.group, d.encoding) for d in _docs(items)] == [
        ("t.parquet:1", "10", "one", "a", "utf-8"), ("t.parquet:3", "12", "three", None, "utf-8"),
        ("t.parquet:5", "14", "five", "e", "utf-8")]
    assert _skips(items) == {"t.parquet:2": "empty text", "t.parquet:4": "empty text"}


# --------------------------------------------------------------------------- builtin

FAKE_NEWS = (
    "article_id,publish_date,article_source_link,title,subtitle,text\n"
    '1,2017/2/7,http://abcnews.go.com/Politics/x?id=1,"A, title",,"Body ""one""\nwith a newline"\n'
    "2,2017/2/8,http://www.bbc.co.uk/news/uk-1,,Sub,Body two\n"
    "3,2017/2/9,http://www.cnn.com/x,Empty,,\n"
    "4,2017/2/9,,No link,,Body four\n"
)


@pytest.fixture
def fake_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "NewsArticles.csv"
    path.write_text(FAKE_NEWS, encoding="utf-8")
    monkeypatch.setattr("newslens.corpus.fetch.builtin_path", lambda name: path, raising=False)
    return path


def test_builtin_reader(fake_builtin: Path) -> None:
    items = list(read_source(Source(builtin="news-articles")))
    first, second, third, fourth = items
    assert first == RawDocument("builtin:news-articles", "NewsArticles.csv:1", 'Body "one"\nwith a newline',
                                "A, title", "2017/2/7", "abcnews.go.com", "1", "utf-8",
                                {"url": "http://abcnews.go.com/Politics/x?id=1", "subtitle": None})
    assert (second.title, second.group, second.metadata["subtitle"]) == (None, "bbc.co.uk", "Sub")
    assert third == Skipped("builtin:news-articles", "NewsArticles.csv:3", "empty text")
    assert (fourth.group, fourth.metadata) == (None, {"url": None, "subtitle": None})


def test_builtin_not_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Path:
        raise FileNotFoundError(f"builtin corpus {name!r} is not fetched yet. Run `make data`.")

    monkeypatch.setattr("newslens.corpus.fetch.builtin_path", missing, raising=False)
    with pytest.raises(FileNotFoundError, match="make data"):
        read_source(Source(builtin="news-articles"))


@pytest.mark.slow
@pytest.mark.skipif(not REAL_BUILTIN.is_file(),
                    reason=f"{REAL_BUILTIN.relative_to(config.PROJECT_ROOT)} not fetched (run `make data`)")
def test_real_builtin_corpus() -> None:
    items = list(read_source(Source(builtin="news-articles")))
    docs = _docs(items)
    assert len(items) == 3_824
    assert len(docs) == 3_784
    assert sorted(_skips(items).values()) == ["empty text"] * 36 + ["text column 'text' holds a number, not text"] * 4
    assert len({d.group for d in docs}) == 9
    assert len({d.source_id for d in docs}) == 3_784
