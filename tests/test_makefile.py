"""The Makefile's contract: help lists every target, and a stage reruns exactly when what it reads changes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import pytest
import yaml

from newslens import config, stages

pytestmark = pytest.mark.slow  # every test here runs make

MAKEFILE = (config.PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")


def make(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=config.PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_help_is_the_default_and_lists_every_target():
    shown = make().stdout
    for target in ("help", "env", "data", "init", "report", "test", "check", "lab", "bench", "stress", "clean"):
        assert re.search(rf"^\s+{target}: \S", shown, re.MULTILINE), f"`make help` lists {target}"


def test_clean_never_touches_raw_data_or_reports():
    recipe = MAKEFILE.split("\nclean:", 1)[1].split("\n\n", 1)[0]
    assert "data/raw" not in recipe and "reports" not in recipe
    assert "data/processed" in recipe and "build" in recipe


def test_the_included_stage_rules_are_the_stage_table():
    done = make("build/stages.mk")
    assert done.returncode == 0, done.stderr
    assert (config.BUILD_DIR / "stages.mk").read_text(encoding="utf-8") == stages.makefile()


# ---------------------------------------------------------------- no stale stage

RUN = "stale-probe"
BASE = {"title": "Stale probe", "sources": [{"path": "data/raw/seed/", "group": "seed"}], "unit": "sentence",
        "focus": "data/raw/seed/xi-lukashenko-call-2022-01-10.txt",
        "tokenize": {"phrase_min_count": 3}, "keywords": {"min_df": 1, "max_df": 0.9},
        "topics": {"k_min": 2, "k_max": 4, "k_step": 1}}
CHANGES = {  # one real change to each top-level key, and the stages whose slice holds it
    "title": ("A new title", set(stages.NAMES)),
    # the summary cites the run's sources
    "sources": ([{"path": "data/raw/seed/", "group": "renamed"}], {"01-ingest", "05-summary"}),
    "unit": ("paragraph", {"01-ingest", "02-tokenize", "03-keywords", "04-topics", "05-summary"}),
    "unit_name": ("speech", set(stages.NAMES)),  # every report says what a unit is called
    "group_name": ("party", set(stages.NAMES)),
    # ingest splits and detects by it, tokenize reads by it, topics' baseline takes its stop words
    "language": ("de", {"01-ingest", "02-tokenize", "04-topics"}),
    "other_languages": ("skip", {"01-ingest"}),
    "focus": (None, {"02-tokenize", "03-keywords", "04-topics", "05-summary"}),
    "tokenize": ({"phrase_min_count": 5}, {"02-tokenize"}),
    "keywords": ({"min_df": 1, "max_df": 0.8}, {"03-keywords"}),  # topics follows through 03's .done
    "topics": ({"k_min": 2, "k_max": 3, "k_step": 1}, {"04-topics"}),
    "engine": ("dask", {"01-ingest", "02-tokenize", "03-keywords"}),
}
KWIC_ONLY = ({"min_df": 1, "max_df": 0.9, "kwic_terms": ["trade"]}, {"03-keywords"})


def _directly_stale(params_path) -> set[str]:
    """Stages whose own prerequisites (not an upstream .done) are newer than their .done."""
    done = make(f"PARAMS={params_path}", f"build/{RUN}/params.stamp")
    assert done.returncode == 0, done.stderr
    # The slices are written (above); -o keeps make from re-deciding them in a dry run.
    dry = make("-n", "--debug=b", "-o", f"build/{RUN}/params.stamp", f"PARAMS={params_path}",
               f"build/{RUN}/05-summary.done")
    assert dry.returncode == 0, dry.stderr
    stale = set()
    for prerequisite, target in re.findall(r"Prerequisite '([^']+)' is newer than target '([^']+)'", dry.stdout):
        if target.startswith(f"build/{RUN}/") and target.endswith(".done") and not prerequisite.endswith(".done"):
            stale.add(target.rsplit("/", 1)[1].removesuffix(".done"))
    return stale


def _marked_done(tmp_path, params: dict, extra: list | None = None):
    """Write the params, then mark every stage done, newer than every prerequisite; yields the params path."""
    params_path = tmp_path / f"{RUN}.yaml"
    params_path.write_text(yaml.safe_dump(params), encoding="utf-8")
    build = config.BUILD_DIR / RUN
    done = make(f"PARAMS={params_path}", f"build/{RUN}/params.stamp", f"build/{RUN}/sources.txt",
                f"build/{RUN}/validation.listing")  # the listings, written before the markers
    assert done.returncode == 0, done.stderr
    watched = [p for part in ("src", "notebooks", "params", "data/raw") for p in (config.PROJECT_ROOT / part).rglob("*")]
    newest = max(p.stat().st_mtime for p in [*watched, *build.rglob("*"), params_path, *(extra or [])] if p.is_file())
    for index, name in enumerate(stages.NAMES):
        marker = build / f"{name}.done"
        marker.write_text(f"{name}\n")
        os.utime(marker, (newest + 0.01 * (index + 1),) * 2)
    time.sleep(max(0.0, newest + 0.2 - time.time()))
    assert _directly_stale(params_path) == set(), "a freshly marked run is up to date"
    yield params_path
    shutil.rmtree(build, ignore_errors=True)


@pytest.fixture()
def probe(tmp_path):
    """A run whose stages all look done, newer than every prerequisite."""
    yield from _marked_done(tmp_path, BASE)


@pytest.fixture()
def folder_probe(tmp_path):
    """A run of a source folder of its own (a copy of the seed), every stage marked done."""
    folder = tmp_path / "texts"
    shutil.copytree(config.RAW_DIR / "seed", folder)
    params = {**BASE, "sources": [{"path": f"{folder}/", "group": "seed"}]}
    params.pop("focus")
    for params_path in _marked_done(tmp_path, params, list(folder.rglob("*"))):
        yield params_path, folder


@pytest.mark.parametrize("edit", ["add", "change", "remove"])
def test_a_file_added_changed_or_removed_in_a_source_folder_reruns_ingest(folder_probe, edit):
    params_path, folder = folder_probe
    article = folder / "xi-lukashenko-call-2022-01-10.txt"
    if edit == "add":
        (folder / "another-article.txt").write_text("Another article, added after the last build.\n")
    elif edit == "change":
        article.write_text(article.read_text() + "\nA sentence added after the last build.\n")
    else:
        (folder / "xi-lukashenko-call-2022-01-10.json").unlink()
    assert _directly_stale(params_path) == {"01-ingest"}


def _change(params_path, key, value) -> None:
    changed = dict(BASE)
    if key == "focus":
        changed.pop("focus")
    elif key == "engine":
        changed["engine"] = value
    else:
        changed[key] = value
    params_path.write_text(yaml.safe_dump(changed), encoding="utf-8")


@pytest.mark.parametrize("key", list(CHANGES))
def test_changing_a_key_reruns_exactly_the_stages_that_read_it(probe, key):
    value, expected = CHANGES[key]
    _change(probe, key, value)
    assert _directly_stale(probe) == expected


def test_a_keywords_key_makes_only_keywords_stale_directly(probe):
    """Topics reads no keywords key: it reruns after keywords only because it models 03's matrices."""
    value, expected = KWIC_ONLY
    _change(probe, "keywords", value)
    assert _directly_stale(probe) == expected


def test_editing_a_module_reruns_the_stages_that_import_it(probe):
    module = config.PROJECT_ROOT / "src" / "newslens" / "measures.py"
    before = module.stat().st_mtime
    try:
        os.utime(module, (time.time() + 5,) * 2)
        stale = _directly_stale(probe)
    finally:
        os.utime(module, (before, before))
    assert stale == {s.name for s in stages.STAGES if "measures" in s.all_modules}
    # G² and the log ratio: 02 learns formulas by them, 03 ranks keyness (04 reads 02's tokens
    # and 03's matrices from their files, not through the tokenizer's modules)
    assert stale == {"02-tokenize", "03-keywords"}


@pytest.fixture()
def answers_probe(tmp_path):
    """The probe run with an answers folder of its own (removed afterwards: no answers stay in validation/)."""
    folder = config.PROJECT_ROOT / "validation" / RUN
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ann.csv").write_text("run,coder\nstale-probe,ann\n", encoding="utf-8")
    try:
        yield from ((params_path, folder) for params_path in _marked_done(tmp_path, BASE, [folder / "ann.csv"]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("edit", ["add", "change", "remove", "remove the folder"])
def test_an_answers_file_added_changed_or_removed_reruns_the_stages_that_score_them(answers_probe, edit):
    params_path, folder = answers_probe
    if edit == "add":
        (folder / "bob.csv").write_text("run,coder\nstale-probe,bob\n", encoding="utf-8")
    elif edit == "change":
        (folder / "ann.csv").write_text("run,coder\nstale-probe,ann\nstale-probe,ann\n", encoding="utf-8")
    elif edit == "remove":
        (folder / "ann.csv").unlink()
    else:
        shutil.rmtree(folder)
    assert _directly_stale(params_path) == {"04-topics", "05-summary"}
