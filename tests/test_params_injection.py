"""Parameters are data, never code, and bad parameters stop a run before any work.

(a) Strings from a params file (the title, KWIC terms) and the params file's own path reach
    the notebook only as data: papermill injects one parameter, ``params_file``, as an escaped
    string literal, and everything else is read from YAML inside the notebook.
(b) Every kind of bad params file raises :class:`ParamsError` naming the offending key, and the
    pipeline exits non-zero without creating build/<run>/ or data/processed/<run>/.
"""

from __future__ import annotations

import ast
import html
import json
import re
import time
from pathlib import Path

import pytest
import yaml

from newslens.analysis import kwic
from newslens.params import ParamsError, load_run, run_name, validate_params

PAYLOAD = "__import__('os').system('touch PWNED')"
EVIL_TITLE = ("He said \"it's\" fine;\n'''{}\"\"\" {0} %s {{ 7*7 }} {% if 1 %}x{% endif %} "
              f"$(touch PWNED) `touch PWNED` \\\"; {PAYLOAD}; #")
# A folder name every shell and string literal dislikes; the file stem itself is a valid run name.
EVIL_DIR = f"we'ird \"dir\" {{}} \\ \n {PAYLOAD}"
SEED_SOURCE = [{"path": "data/raw/seed/", "group": "seed"}]


def no_pwned(root: Path) -> list[Path]:
    return [p for p in root.rglob("*PWNED*") if p.name == "PWNED"]


# --------------------------------------------------------------------------- (a) strings stay data


def test_code_like_strings_are_valid_params_and_stay_verbatim():
    params = validate_params({"title": EVIL_TITLE, "sources": SEED_SOURCE,
                              "keywords": {"kwic_terms": ['said "it\'s"\n{}', "cooperation"]}})
    assert params.title == EVIL_TITLE
    assert params.keywords.kwic_terms[0] == 'said "it\'s"\n{}'
    # A KWIC term that is no word matches nothing (and runs nothing).
    frame = kwic.kwic({"d1": f"{PAYLOAD} said it's fine"}, params.keywords.kwic_terms[0])
    assert frame.empty


def test_kwic_term_that_can_never_be_a_token_is_rejected_up_front():
    """``__import__(...)`` splits into empty words: refused by validation, not a crash in stage 03."""
    with pytest.raises(ParamsError, match=r"keywords\.kwic_terms: .*has an empty word"):
        validate_params({"title": "t", "sources": SEED_SOURCE, "keywords": {"kwic_terms": [PAYLOAD]}})


@pytest.fixture(scope="module")
def injected_run(make_sandbox, run_pipeline):
    root = make_sandbox("injection")
    folder = root / "params" / EVIL_DIR
    folder.mkdir(parents=True)
    params_file = folder / "inj.yaml"
    params_file.write_text(yaml.safe_dump({"title": EVIL_TITLE, "sources": SEED_SOURCE, "unit": "sentence"},
                                          allow_unicode=True), encoding="utf-8")
    relative = params_file.relative_to(root).as_posix()
    done = run_pipeline(root, "stage", relative, "01-ingest")
    rendered = run_pipeline(root, "render", relative, "01-ingest") if done.returncode == 0 else None
    return root, done, rendered


@pytest.mark.slow
def test_hostile_title_and_params_path_pass_through_papermill_as_data(injected_run):
    root, done, rendered = injected_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert rendered is not None and rendered.returncode == 0, rendered and rendered.stderr[-3000:]
    assert no_pwned(root) == [], "a parameter was executed as code"  # the kernel runs in root/notebooks
    notebook = json.loads((root / "build" / "inj" / "01-ingest.ipynb").read_text(encoding="utf-8"))
    injected = [c for c in notebook["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    # The only injected line assigns the params path, as one escaped string literal equal to it.
    lines = [line for line in "".join(injected[0]["source"]).splitlines() if not line.startswith("#")]
    assert len(lines) == 1 and lines[0].startswith("params_file = ")
    assert ast.literal_eval(lines[0].split("=", 1)[1].strip()) == f"params/{EVIL_DIR}/inj.yaml"
    others = "".join("".join(c["source"]) for c in notebook["cells"] if c not in injected)
    assert "7*7" not in others and "PWNED" not in others  # the title never became code
    page = (root / "reports" / "inj" / "01-ingest.html").read_text(encoding="utf-8")
    heading = re.search(r"<h2>(.*?)</h2>", page, re.S).group(1)
    assert html.unescape(heading) == EVIL_TITLE  # verbatim, newline included
    assert "{{ 7*7 }}" in heading and "49" not in heading  # no template ran on the data
    assert html.escape(EVIL_TITLE, quote=False) in page or html.escape(EVIL_TITLE) in page


@pytest.mark.parametrize("name", ["we'ird run", "Caps", "dots.in.name", "sp ace", "ünï", "a;b"])
def test_params_file_names_outside_the_run_name_rule_are_refused(tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"title": "t", "sources": SEED_SOURCE}), encoding="utf-8")
    with pytest.raises(ParamsError, match=r"the run name .* may use only lowercase letters, digits, '-' and '_'"):
        load_run(path)
    with pytest.raises(ParamsError, match="run name"):
        run_name(f"params/{name}.yaml")


@pytest.mark.parametrize("name", ["ok", "a-b_9"])
def test_params_file_names_inside_the_rule_are_accepted(name):
    assert run_name(f"params/{name}.yaml") == name


def test_quoted_params_file_name_is_rejected_by_the_pipeline(make_sandbox, run_pipeline):
    root = make_sandbox("weird-name")
    (root / "params" / "we'ird run.yaml").write_text(
        yaml.safe_dump({"title": "t", "sources": SEED_SOURCE}), encoding="utf-8")
    done = run_pipeline(root, "stage", "params/we'ird run.yaml", "01-ingest")
    assert done.returncode == 1
    assert "params/we'ird run.yaml: the run name \"we'ird run\" (the file name) may use only" in done.stderr
    assert not (root / "build").exists() and not (root / "data" / "processed").exists()


# --------------------------------------------------------------------------- (b) bad params files

GOOD = {"title": "t", "sources": SEED_SOURCE}


def with_(**changes) -> dict:
    return {**GOOD, **changes}


BAD = [  # (id, YAML text or data, regex the ParamsError message must match)
    ("unknown-top-level", with_(titel="x"), r"titel: unknown key"),
    ("unknown-nested-topics", with_(topics={"kk": 3}), r"topics\.kk: unknown key"),
    ("unknown-in-source", {"title": "t", "sources": [{"path": "data/raw/seed/", "grup": "x"}]},
     r"sources\.0\.grup: unknown key"),
    ("wrong-type-top-n", with_(keywords={"top_n": "ten"}), r"keywords\.top_n: got 'ten'"),
    ("wrong-type-bool", with_(tokenize={"lemmatize": "maybe"}), r"tokenize\.lemmatize: got 'maybe'"),
    ("wrong-type-list", with_(tokenize={"extra_stopwords": "the"}), r"tokenize\.extra_stopwords: .*valid list"),
    ("wrong-type-title", with_(title=["a", "b"]), r"title: got \['a', 'b'\]"),
    ("k-1", with_(topics={"k": 1}), r"topics\.k: got 1; .*greater than or equal to 2 or .*'auto'"),
    ("k-min-above-k-max", with_(topics={"k_min": 10, "k_max": 5}), r"topics: .*k_min \(10\) must not exceed k_max \(5\)"),
    ("max-df-0", with_(keywords={"max_df": 0}), r"keywords\.max_df: got 0; .*greater than 0"),
    ("max-df-1.5", with_(keywords={"max_df": 1.5}), r"keywords\.max_df: got 1\.5; .*less than or equal to 1"),
    ("top-n-0", with_(keywords={"top_n": 0}), r"keywords\.top_n: got 0"),
    ("negative-seed", with_(topics={"seeds": [0, -1]}), r"topics\.seeds\.1: got -1"),
    ("duplicate-seeds", with_(topics={"seeds": [1, 1]}), r"topics: .*seeds must be distinct"),
    ("no-seeds", with_(topics={"seeds": []}), r"topics\.seeds: got \[\]"),
    ("phrase-threshold-1", with_(tokenize={"phrase_threshold": 1.0}), r"tokenize\.phrase_threshold: got 1\.0"),
    ("kwic-window-0", with_(keywords={"kwic_window": 0}), r"keywords\.kwic_window: got 0"),
    ("kwic-term-not-a-word", with_(keywords={"kwic_terms": ["a__b"]}), r"keywords\.kwic_terms: .*empty word"),
    ("period-fortnight", with_(keywords={"period": "fortnight"}), r"keywords\.period: got 'fortnight'"),
    ("min-token-length-0", with_(tokenize={"min_token_length": 0}), r"tokenize\.min_token_length: got 0"),
    ("unit-chapter", with_(unit="chapter"), r"unit: got 'chapter'; .*'document', 'paragraph' or 'sentence'"),
    ("language-xx", with_(language="xx"), r"language: got 'xx'; .*supported: de, en, es, fr, it, nl, pt, ru"),
    ("builtin-unknown", {"title": "t", "sources": [{"builtin": "unknown"}]}, r"sources\.0\.builtin: got 'unknown'"),
    ("table-without-text-column", {"title": "t", "sources": [{"path": "x.csv"}]},
     r"sources\.0: .*table source 'x\.csv' needs 'text_column'"),
    ("path-and-builtin", {"title": "t", "sources": [{"path": "x.csv", "builtin": "news-articles",
                                                     "text_column": "text"}]},
     r"sources\.0: .*exactly one of 'path' or 'builtin'"),
    ("neither-path-nor-builtin", {"title": "t", "sources": [{"group": "g"}]}, r"sources\.0: .*exactly one"),
    ("columns-on-a-folder", {"title": "t", "sources": [{"path": "data/raw/seed/", "text_column": "x"}]},
     r"sources\.0: .*column mappings apply to tables"),
    ("columns-on-builtin", {"title": "t", "sources": [{"builtin": "news-articles", "text_column": "x"}]},
     r"sources\.0: .*builtin corpus maps its own columns"),
    ("empty-sources", with_(sources=[]), r"sources: got \[\]; List should have at least 1 item"),
    ("missing-title", {"sources": SEED_SOURCE}, r"title: required key is missing"),
    ("empty-title", with_(title=""), r"title: got ''"),
    ("missing-sources", {"title": "t"}, r"sources: required key is missing"),
    ("yaml-list", "- title: t\n- sources: []\n", r"expected a mapping of keys .* got list"),
    ("yaml-scalar", "just a string\n", r"expected a mapping of keys .* got str"),
    ("yaml-empty", "", r"expected a mapping of keys .* got NoneType"),
    ("yaml-invalid", "title: [unclosed\nsources: {\n", r"not valid YAML"),
    ("yaml-tab-indent", "title: t\nsources:\n\t- path: x\n", r"not valid YAML"),
]


def write_bad(folder: Path, name: str, content) -> Path:
    path = folder / f"{name}.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_at_least_fifteen_kinds_of_bad_params():
    assert len(BAD) >= 15 and len({case_id for case_id, _, _ in BAD}) == len(BAD)


@pytest.mark.parametrize("case_id, content, message", BAD, ids=[case[0] for case in BAD])
def test_bad_params_raise_params_error_naming_the_key(tmp_path, case_id, content, message):
    path = write_bad(tmp_path, case_id, content)
    with pytest.raises(ParamsError, match=f"(?s){message}") as info:
        load_run(path)
    assert str(path) in str(info.value)  # the message says which file
    assert "Traceback" not in str(info.value)


def test_missing_params_file(tmp_path):
    with pytest.raises(ParamsError, match="params file not found"):
        load_run(tmp_path / "nope.yaml")


@pytest.mark.parametrize("case_id", ["unknown-nested-topics", "k-min-above-k-max", "yaml-invalid"])
@pytest.mark.parametrize("command", ["stage", "slices"])
def test_pipeline_rejects_bad_params_before_any_work(make_sandbox, run_pipeline, case_id, command):
    root = make_sandbox("bad-params")
    content, message = next((c, m) for i, c, m in BAD if i == case_id)
    write_bad(root / "params", case_id, content)
    args = [command, f"params/{case_id}.yaml"] + (["01-ingest"] if command == "stage" else [])
    started = time.perf_counter()
    done = run_pipeline(root, *args, timeout=120)
    elapsed = time.perf_counter() - started
    assert done.returncode == 1
    assert re.search(f"(?s)error: params/{re.escape(case_id)}\\.yaml: .*{message}", done.stderr), done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 30, f"rejecting bad params took {elapsed:.1f}s: was work started?"
    assert not (root / "build").exists(), "a notebook or slice was written for a rejected run"
    assert not (root / "data" / "processed").exists()
    assert not (root / "reports").exists()
