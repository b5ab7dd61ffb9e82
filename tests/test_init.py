"""``python -m newslens init``: a params file guessed from a corpus's files."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from newslens import config
from newslens.pipeline import scaffold
from newslens.params import validate_params

SPEECHES = [  # short real-looking speeches: the text column is the longest
    "Fellow citizens, I embrace with great satisfaction the opportunity which now presents itself.",
    "The recent accession of the important state of North Carolina to the Constitution is welcome.",
    "Among the many interesting objects which will engage your attention, defence is foremost.",
    "To be prepared for war is one of the most effectual means of preserving peace, I believe.",
    "A free people ought not only to be armed, but disciplined; a uniform plan is requisite.",
    "The welfare of our fellow citizens may also require a provision for the common defence.",
]


def speeches_table() -> pd.DataFrame:
    """Twelve speeches from four parties, dated over two centuries."""
    years = [1790, 1791, 1793, 1801, 1862, 1863, 1934, 1935, 1962, 2001, 2019, 2020]
    return pd.DataFrame({
        "speech_id": [f"s{i}" for i in range(12)],
        "delivered": [f"{year}-01-0{1 + i % 9}" for i, year in enumerate(years)],
        "party": ["Nonpartisan", "Nonpartisan", "Federalist", "Democratic-Republican", "Republican",
                  "Republican", "Democratic", "Democratic", "Democratic", "Republican", "Republican",
                  "Republican"],
        "headline": [f"Annual message number {i} to the Congress" for i in range(12)],
        "words": [1090 + 17 * i for i in range(12)],
        "body": [f"{SPEECHES[i % 6]} ({years[i]})" for i in range(12)],
    })


@pytest.fixture()
def params_dir(tmp_path, monkeypatch):
    folder = tmp_path / "params"
    folder.mkdir()
    monkeypatch.setattr(config, "PARAMS_DIR", folder)
    return folder


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_every_column_is_guessed_in_every_table_format(tmp_path, suffix):
    path = tmp_path / f"speeches{suffix}"
    table = speeches_table()
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".tsv":
        table.to_csv(path, index=False, sep="\t")
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in table.to_dict("records")) + "\n", encoding="utf-8")
    else:
        table.to_parquet(path)
    plan = scaffold.inspect_source(path)
    chosen = {key: guess.column for key, guess in plan.guesses.items()}
    assert chosen == {"text": "body", "id": "speech_id", "date": "delivered", "group": "party",
                      "title": "headline"}
    assert plan.kind == "table" and plan.rows == 12


def test_the_written_params_are_valid_and_comment_every_guess(tmp_path, params_dir):
    source = tmp_path / "State of the Union.csv"
    speeches_table().to_csv(source, index=False)
    target, command = scaffold.init(str(source))
    assert target == params_dir / "state-of-the-union.yaml"
    assert command == f"make report PARAMS={config.relative_to_root(target)}"
    text = target.read_text(encoding="utf-8")
    params = validate_params(yaml.safe_load(text))
    table = params.sources[0]
    assert (table.text_column, table.id_column, table.date_column, table.group_column, table.title_column) == \
        ("body", "speech_id", "delivered", "party", "headline")
    assert "# longest values (median" in text and "parse as dates" in text and "distinct values" in text
    assert params.title == "State of the union"


def test_a_table_without_text_says_so_and_lists_the_columns(tmp_path):
    source = tmp_path / "numbers.csv"
    pd.DataFrame({"id": [1, 2, 3], "count": [4, 5, 6], "code": ["a", "b", "c"]}).to_csv(source, index=False)
    with pytest.raises(scaffold.InitError, match=r"found no text column .*columns: id, count, code"):
        scaffold.inspect_source(source)


def test_a_folder_and_a_text_file_need_no_columns(tmp_path):
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "a.txt").write_text(SPEECHES[0], encoding="utf-8")
    (folder / "b.md").write_text(SPEECHES[1], encoding="utf-8")
    plan = scaffold.inspect_source(folder)
    assert (plan.kind, plan.files, plan.guesses) == ("folder", 2, {})
    assert plan.path.endswith("letters/")
    text = scaffold.params_yaml(plan, title="Letters")
    assert validate_params(yaml.safe_load(text)).sources[0].path == plan.path
    assert scaffold.inspect_source(folder / "a.txt").kind == "text file"


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing.csv", "no such file or folder"),
    (lambda p: (p / "x.docx").write_bytes(b"PK") and p / "x.docx", "unsupported file type .docx"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "holds no .txt or .md file"),
    (lambda p: (p / "header.csv").write_text("id,text\n") and p / "header.csv", "has no rows"),
])
def test_bad_sources_get_a_clear_error(tmp_path, make, message):
    with pytest.raises(scaffold.InitError, match=message):
        scaffold.inspect_source(make(tmp_path))


def test_an_existing_params_file_is_never_overwritten(tmp_path, params_dir):
    source = tmp_path / "speeches.csv"
    speeches_table().to_csv(source, index=False)
    (params_dir / "speeches.yaml").write_text("title: mine\n", encoding="utf-8")
    with pytest.raises(scaffold.InitError, match="exists; choose another NAME or pass --force"):
        scaffold.init(str(source))
    assert (params_dir / "speeches.yaml").read_text() == "title: mine\n"
    target, _ = scaffold.init(str(source), "speeches", force=True)
    assert "text_column" in target.read_text()


def test_the_command_line_prints_the_build_command(tmp_path):
    source = tmp_path / "speeches.csv"
    speeches_table().to_csv(source, index=False)
    (tmp_path / "params").mkdir()
    env = {"NEWSLENS_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "newslens", "init", str(source), "--name", "sotu"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "make report PARAMS=params/sotu.yaml" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "newslens", "init", str(tmp_path / "nope.csv")],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "no such file or folder" in bad.stderr


def test_news_articles_columns_are_found():
    csv = config.RAW_DIR / "news-articles" / "NewsArticles.csv"
    plan = scaffold.inspect_source(csv)
    chosen = {key: guess.column for key, guess in plan.guesses.items()}
    assert chosen["text"] == "text" and chosen["id"] == "article_id"
    assert chosen["date"] == "publish_date" and chosen["title"] == "title"


# ---------------------------------------------------------------- builtin corpora


@pytest.mark.parametrize("name", ["commons", "health-tweets", "sotu", "bundestag", "congreso"])
def test_init_of_a_builtin_writes_the_committed_params_file(params_dir, name):
    """params/<builtin>.yaml is exactly what `make init SOURCE=builtin:<name>` writes."""
    from newslens.corpora import BUILTINS

    target, command = scaffold.init(f"builtin:{name}")
    assert target == params_dir / f"{name}.yaml" and command == f"make report PARAMS={config.relative_to_root(target)}"
    written = target.read_text(encoding="utf-8")
    assert written == (config.PROJECT_ROOT / "params" / f"{name}.yaml").read_text(encoding="utf-8")
    params = validate_params(yaml.safe_load(written))
    corpus = BUILTINS[name]
    assert [s.builtin for s in params.sources] == [name]
    assert (params.title, params.unit_name, params.group_name) == (corpus.title, corpus.unit_name, corpus.group_name)
    keys = [line.split(":")[0] for line in written.splitlines() if line and not line.startswith(("#", " "))]
    commented = [line for line in written.splitlines() if line and not line.startswith(("#", "    #", "sources:"))]
    assert keys == ["title", "sources", "unit", "unit_name", "group_name", "language", "focus"]
    assert all("  # " in line for line in commented if not line.startswith("title:"))


def test_the_builtin_runs_are_opt_in_but_one_in_another_language():
    makefile = (config.PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "PARAMS ?= params/news.yaml params/seed.yaml params/bundestag.yaml\n" in makefile
    assert "CORPUS ?= news-articles\n" in makefile


@pytest.mark.parametrize("source, message", [
    ("builtin:tweedekamer", r"builtin:tweedekamer \(nl\) is not usable in a run yet"),
    ("builtin:reuters", "no builtin corpus has that name; known: news-articles, commons"),
])
def test_a_builtin_init_cannot_use_is_refused(params_dir, source, message):
    with pytest.raises(scaffold.InitError, match=message):
        scaffold.init(source)
    assert list(params_dir.iterdir()) == []


def test_the_command_line_inits_a_builtin(tmp_path):
    (tmp_path / "params").mkdir()
    env = {"NEWSLENS_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-m", "newslens", "init", "builtin:sotu"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the builtin maps its own columns" in done.stdout and "make report PARAMS=params/sotu.yaml" in done.stdout
    assert "unit_name: address" in (tmp_path / "params" / "sotu.yaml").read_text(encoding="utf-8")


def test_a_party_label_beats_its_numeric_code_as_the_group(tmp_path):
    """A ParlSpeech table (as `make data CORPUS=commons` writes it): party, not party.facts.id."""
    table = speeches_table().assign(**{"party.facts.id": [str(1000 + len(p)) for p in speeches_table()["party"]]})
    path = tmp_path / "en.csv"
    table[["party.facts.id", *speeches_table().columns]].to_csv(path, index=False)
    assert scaffold.inspect_source(path).guesses["group"].column == "party"


COMMONS_CSV = config.RAW_DIR / "commons" / "en.csv"


@pytest.mark.skipif(not COMMONS_CSV.is_file(), reason="commons not fetched (run `make data CORPUS=commons`)")
def test_the_fetched_commons_table_gets_sensible_guesses():
    chosen = {key: guess.column for key, guess in scaffold.inspect_source(COMMONS_CSV).guesses.items()}
    assert chosen == {"text": "text", "id": "parlspeech_row", "date": "date", "group": "party", "title": "agenda"}


def test_one_command_line_lists_every_verb():
    done = subprocess.run([sys.executable, "-m", "newslens", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for verb in ("init", "fetch", "slices", "stage", "render", "findings", "compare", "index", "makefile",
                 "sensitivity"):
        assert re.search(rf"^\s+{verb}\s+\S", done.stdout, re.MULTILINE), f"--help lists {verb}"


# ---------------------------------------------------------------- the chair's turns

@pytest.mark.parametrize("chair, proposed", [
    (["TRUE", "FALSE"], "true"), (["True", "False"], "true"), ([True, False], "true"), (["1", "0"], "1"),
])
def test_a_chair_column_is_proposed_as_the_row_filter(tmp_path, chair, proposed):
    table = speeches_table().assign(chair=[chair[0 if i % 3 == 0 else 1] for i in range(12)])
    path = tmp_path / "debate.parquet"
    table.to_parquet(path)
    text = scaffold.params_yaml(scaffold.inspect_source(path), title="Debate")
    line = next(line for line in text.splitlines() if "exclude:" in line)
    assert line.startswith(f'    exclude: {{"chair": {proposed}}}  # ') and "procedure, not debate" in line
    source = validate_params(yaml.safe_load(text)).sources[0]
    assert source.exclude == {"chair": (True,) if proposed == "true" else (1,)}


@pytest.mark.parametrize("column, values", [
    ("chair", ["Ms Bläss", "Mr Thierse", "Ms Bläss"]),  # who presided: not a mark of the chair's turns
    ("chair", ["FALSE", "FALSE", "FALSE"]),  # no turn of the chair
    ("chairs", ["TRUE", "FALSE", "TRUE"]),
])
def test_no_row_filter_is_proposed_without_a_true_false_chair_column(tmp_path, column, values):
    table = speeches_table().assign(**{column: [values[i % 3] for i in range(12)]})
    path = tmp_path / "debate.csv"
    table.to_csv(path, index=False)
    assert "exclude" not in scaffold.params_yaml(scaffold.inspect_source(path), title="Debate")


@pytest.mark.parametrize("name, chair", [("bundestag", True), ("commons", True), ("congreso", True),
                                         ("sotu", False), ("news-articles", False)])
def test_init_of_a_parliament_builtin_leaves_the_chair_out(name, chair):
    text = scaffold.builtin_yaml(name)
    assert ('    exclude: {"chair": true}  # the presiding officer' in text) is chair
    assert validate_params(yaml.safe_load(text)).sources[0].exclude == ({"chair": (True,)} if chair else None)
