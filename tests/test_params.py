"""The run contract: strict validation with messages that name the key and the value."""

import pytest

from newslens import config
from newslens.params import (ParamsError, load_run, run_name, validate_params)
from newslens.stages import stage_slice_json

VALID = {"title": "A run", "sources": [{"path": "data/raw/seed/"}]}


def with_(**changes):
    params = {**VALID, **changes}
    return params


@pytest.mark.parametrize("raw, key, fragment", [
    (with_(colour="red"), "colour", "unknown key"),
    (with_(unit="chapter"), "unit", "'chapter'"),
    (with_(sources=[]), "sources", "at least 1"),
    (with_(sources=[{"path": "x.csv"}]), "sources.0", "text_column"),
    (with_(sources=[{"path": "a.txt", "builtin": "news-articles"}]), "sources.0", "exactly one"),
    (with_(sources=[{"builtin": "reuters"}]), "sources.0.builtin", "'reuters'"),
    (with_(sources=[{"path": "a.txt", "text_column": "t"}]), "sources.0", "column mappings"),
    (with_(topics={"k": 1}), "topics.k", "1"),
    (with_(topics={"k": "many"}), "topics.k", "'many'"),
    (with_(topics={"k_min": 20, "k_max": 10}), "topics", "k_min"),
    (with_(topics={"model": "bertopic"}), "topics.model", "'bertopic'"),
    (with_(keywords={"max_df": 1.5}), "keywords.max_df", "1.5"),
    (with_(keywords={"top_n": "ten"}), "keywords.top_n", "'ten'"),
    (with_(tokenize={"lemmatise": True}), "tokenize.lemmatise", "unknown key"),
    (with_(language="xx"), "language", "'xx'"),
    ({"sources": [{"path": "a.txt"}]}, "title", "missing"),
])
def test_bad_params_name_the_key_and_value(raw, key, fragment):
    with pytest.raises(ParamsError, match="invalid parameters") as error:
        validate_params(raw, origin="bad.yaml")
    message = str(error.value)
    assert f"{key}:" in message
    assert fragment in message
    assert message.startswith("bad.yaml")


def test_not_a_mapping_is_rejected():
    with pytest.raises(ParamsError, match="expected a mapping"):
        validate_params(["title"], origin="list.yaml")


def test_defaults_fill_in():
    params = validate_params(VALID)
    assert params.unit == "document"
    assert params.topics.k == "auto" and params.topics.model == "auto"
    assert params.tokenize.lemmatize is True


@pytest.mark.parametrize("name", ["news", "seed"])
def test_shipped_params_are_valid(name):
    run = load_run(f"params/{name}.yaml")
    assert run.name == name
    assert run.processed_dir == config.PROCESSED_DIR / name


def test_params_path_may_be_absolute(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("title: mine\nsources:\n  - path: data/raw/seed/\n")
    assert load_run(str(path)).name == "mine"


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        load_run(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: [unclosed\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_run(broken)


def test_run_name_must_be_a_safe_folder_name():
    with pytest.raises(ParamsError, match="run name"):
        run_name("My Run!.yaml")


def test_stage_slices_only_hold_what_the_stage_reads():
    params = validate_params(with_(topics={"k": 7}))
    changed = validate_params(with_(topics={"k": 8}))
    assert stage_slice_json(params, "01-ingest") == stage_slice_json(changed, "01-ingest")
    assert stage_slice_json(params, "03-keywords") == stage_slice_json(changed, "03-keywords")
    assert stage_slice_json(params, "04-topics") != stage_slice_json(changed, "04-topics")
