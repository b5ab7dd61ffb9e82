"""The stage table holds: every notebook reads only its slice and imports only its modules.

The checks walk the syntax trees of each stage's notebook and of the newslens modules it
imports (transitively, function-level imports included). A parameter read outside the
slice, or a module missing from the stage's prerequisites, is a stale build waiting to
happen: make would not rerun the stage when that key or module changes.
"""

from __future__ import annotations

import ast
import json

import pytest

from newslens import config, stages
from newslens.params import RunParams, load_run
from newslens.stages import stage_slice, stage_slice_json

PACKAGE = config.PROJECT_ROOT / "src" / "newslens"
TOP_KEYS = tuple(RunParams.model_fields)
LAYERS = ("corpus", "text", "analysis", "report", "pipeline")


def notebook_source(name: str) -> str:
    """The code cells of a stage's notebook, the parameters cell excluded."""
    notebook = json.loads((config.PROJECT_ROOT / stages.stage(name).notebook).read_text(encoding="utf-8"))
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"
             and "parameters" not in c["metadata"].get("tags", [])]
    return "\n".join("".join(c["source"]) for c in cells)


def newslens_imports(tree: ast.AST) -> set[str]:
    """The newslens modules a syntax tree imports, at any depth."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "newslens" or node.module.removeprefix("newslens.") in LAYERS:
                prefix = node.module.removeprefix("newslens").lstrip(".")
                found.update(f"{prefix}.{a.name}".lstrip(".") for a in node.names)
            elif node.module.startswith("newslens."):
                found.add(node.module.removeprefix("newslens."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("newslens.") for a in node.names if a.name.startswith("newslens."))
    return found


def module_closure(tree: ast.AST) -> set[str]:
    """Every newslens module reached from ``tree`` through imports."""
    todo, seen = list(newslens_imports(tree)), set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = PACKAGE / stages.module_path(module)
        assert path.is_file(), f"newslens.{module} is imported but {path.name} does not exist"
        todo.extend(newslens_imports(ast.parse(path.read_text(encoding="utf-8"))))
    return seen


def _chain(node: ast.AST) -> list[str]:
    """``a.b.c`` as ["a", "b", "c"]; [] when the chain does not start at a name."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    return [node.id, *reversed(names)] if isinstance(node, ast.Name) else []


def params_reads(tree: ast.AST) -> set[str]:
    """Keys a notebook reads through ``run.params``: ``topics`` or ``keywords.min_df``.

    A section bound to a name (``settings = run.params.keywords``) is followed, so
    ``settings.top_n`` reads ``keywords.top_n``.
    """
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            chain = _chain(node.value)
            if chain[:2] == ["run", "params"] and len(chain) == 3:
                aliases[node.targets[0].id] = chain[2]
    reads: set[str] = set()
    longest = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    inner = {id(n.value) for n in longest if isinstance(n.value, ast.Attribute)}
    for node in longest:
        if id(node) in inner:
            continue  # part of a longer chain, read through it
        chain = _chain(node)
        if chain[:2] == ["run", "params"] and len(chain) >= 3:
            reads.add(".".join(chain[2:4]) if chain[2] in TOP_KEYS and len(chain) > 3 else chain[2])
        elif len(chain) >= 2 and chain[0] in aliases:
            reads.add(f"{aliases[chain[0]]}.{chain[1]}")
    return reads


def module_params_reads(modules: set[str]) -> set[str]:
    """Top-level keys read as ``params.<key>`` inside the given modules (a whole RunParams passed in)."""
    reads = set()
    for module in modules:
        tree = ast.parse((PACKAGE / stages.module_path(module)).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            chain = _chain(node) if isinstance(node, ast.Attribute) else []
            if len(chain) == 2 and chain[0] == "params" and chain[1] in TOP_KEYS:
                reads.add(chain[1])
    return reads


def out_of_slice(item: stages.Stage, reads: set[str]) -> set[str]:
    """The reads that the stage's slice does not hold."""
    sections = item.sections()
    bad = set()
    for key in reads:
        top, _, inner = key.partition(".")
        if top in stages.HOW_KEYS:
            continue
        if top not in sections:
            bad.add(key)
        elif inner and sections[top] is not None and inner not in sections[top]:
            bad.add(key)
    return bad


def problems(item: stages.Stage, source: str) -> list[str]:
    """Everything in a notebook's source that breaks the stage table, as messages."""
    tree = ast.parse(source)
    modules = module_closure(tree)
    found = [f"imports newslens.{m}, which is not among its modules in stages.py"
             for m in sorted(modules - set(item.all_modules))]
    found += [f"declares newslens.{m} but never imports it" for m in sorted(set(item.all_modules) - modules)]
    reads = params_reads(tree) | module_params_reads(modules)
    found += [f"reads params key {key!r} outside its slice {item.reads}" for key in sorted(out_of_slice(item, reads))]
    for node in ast.walk(tree):
        call = _chain(node.func) if isinstance(node, ast.Call) else []
        if call[-2:] in (["run", "input"], ["run", "run_file"]) and node.args and \
                isinstance(node.args[0], ast.Constant):
            declared = item.inputs if call[-1] == "input" else dict(item.run_files)
            if node.args[0].value not in declared:
                found.append(f"reads {call[-1]} {node.args[0].value!r}, which stages.py does not declare")
    return found


# ---------------------------------------------------------------- the notebooks hold to the table

@pytest.mark.parametrize("name", stages.NAMES)
def test_notebook_reads_only_its_slice_and_modules(name):
    assert problems(stages.stage(name), notebook_source(name)) == []


@pytest.mark.parametrize("name", stages.NAMES)
def test_notebook_uses_the_one_setup_call(name):
    source = notebook_source(name)
    assert f'notebook.setup(params_file, "{name}")' in source
    assert "load_run(" not in source and "logging.basicConfig" not in source


PLANTED = [
    ("03-keywords", "x = run.params.topics.k", "'topics.k' outside its slice"),
    ("04-topics", "settings = run.params.keywords\nn = settings.top_n", "'keywords.top_n' outside its slice"),
    ("04-topics", "n = run.params.keywords.kwic_terms", "'keywords.kwic_terms' outside its slice"),
    ("02-tokenize", "from newslens.report import summary", "imports newslens.report.summary"),
    ("05-summary", "from newslens.corpus import ingest\ningest.ingest(run.params)", "imports newslens.corpus.ingest"),
    ("03-keywords", "run.input('doc_topics.parquet')", "reads input 'doc_topics.parquet'"),
]


@pytest.mark.parametrize("name, planted, message", PLANTED)
def test_a_planted_out_of_slice_read_is_caught(name, planted, message):
    found = problems(stages.stage(name), notebook_source(name) + "\n" + planted)
    assert any(message in p for p in found), found


def test_the_stale_topics_case_would_have_been_caught():
    """Topics refitting TF-IDF from keywords settings outside its slice (it reads stage 03's matrices)."""
    source = (PACKAGE / "analysis" / "topics.py").read_text(encoding="utf-8")
    assert "model_inputs(stage_run.input, settings, hold_sample=False)" in source  # in run(): stage 03's files, read by
    assert "read_tfidf(*(input_path(name) for name in TFIDF_FILES)," in source  # model_inputs()
    assert "fit_tfidf" not in source and "newslens.analysis.keywords" not in source
    stage_run = stages.StageRun(load_run("params/seed.yaml"), stages.stage("04-topics"))
    assert stage_run.params.keywords.keyness_min_documents == 5  # its one key there: the intervals' minimum
    with pytest.raises(stages.OutOfSlice, match="read params key 'keywords.min_df'"):
        _ = stage_run.params.keywords.min_df  # what a refit (keywords.fit_tfidf(..., settings)) would read


# ---------------------------------------------------------------- everything else derives from it

def test_every_notebook_is_a_stage_and_every_stage_a_notebook():
    on_disk = sorted(p.stem for p in config.NOTEBOOKS_DIR.glob("*.ipynb") if p.stem != "compare")  # not a stage
    assert on_disk == sorted(stages.NAMES)


def test_upstream_follows_inputs():
    assert stages.upstream("01-ingest") == ()
    assert stages.upstream("02-tokenize") == ("01-ingest",)
    assert stages.upstream("04-topics") == ("01-ingest", "02-tokenize", "03-keywords")  # its TF-IDF
    assert stages.upstream("05-summary") == ("01-ingest", "02-tokenize", "03-keywords", "04-topics")
    produced = {out for s in stages.STAGES for out in s.outputs}
    for item in stages.STAGES:
        assert set(item.inputs) <= produced, f"{item.name} reads a file no stage writes"


def test_slices_follow_reads():
    params = load_run("params/news.yaml").params
    # Topics reads 03's matrices, not its settings: of keywords, only the minimum size of a compared group.
    assert stage_slice(params, "04-topics")["keywords"] == {"keyness_min_documents": 5}
    partial = stages.Stage(**{**stages.stage("04-topics").__dict__, "reads": ("topics", "keywords.min_df")})
    assert partial.sections() == {"topics": None, "keywords": ("min_df",)}
    assert stage_slice(params, "03-keywords")["keywords"] == params.keywords.model_dump(mode="json")
    for item in stages.STAGES:
        assert set(stage_slice(params, item.name)) == {k.partition(".")[0] for k in item.reads}


CHANGES = {  # one change to every top-level key
    "title": "Another title",
    "sources": [{"path": "data/raw/seed/", "group": "other"}],
    "unit": "paragraph",
    "unit_name": "speech",
    "group_name": "party",
    "language": "de",
    "other_languages": "skip",
    "focus": "data/raw/seed/",
    "tokenize": {"phrase_min_count": 4},
    "keywords": {"kwic_terms": ["trade"]},
    "topics": {"k": 7},
    "engine": "dask",
}


def test_every_top_level_key_has_a_change_case():
    assert set(CHANGES) == set(TOP_KEYS)


@pytest.mark.parametrize("key", TOP_KEYS)
def test_changing_a_key_changes_exactly_the_slices_that_hold_it(key):
    from newslens.params import validate_params

    raw = {"title": "Probe", "sources": [{"path": "data/raw/seed/"}], "focus": None, "unit": "sentence"}
    changed = {**raw, key: CHANGES[key]}
    before, after = validate_params(raw), validate_params(changed)
    moved = {s.name for s in stages.STAGES
             if stage_slice_json(before, s.name) != stage_slice_json(after, s.name)}
    holding = {s.name for s in stages.STAGES if key in {k.partition(".")[0] for k in s.reads}}
    if getattr(before, key) == getattr(after, key):
        assert moved == set()
    elif key == "keywords":  # kwic_terms: not among the TF-IDF settings topics reads
        assert moved == {"03-keywords"}
    else:
        assert moved == holding


def test_summary_links_and_provenance_paths_come_from_the_table():
    from newslens.pipeline import provenance
    from newslens.report import summary

    links = summary.links_html()
    for item in stages.detailed_reports():
        assert f'href="{item.name}.html"' in links and item.about in links
    assert "05-summary.html" not in links
    assert provenance.CODE_PATHS is stages.CODE_PATHS


# ---------------------------------------------------------------- the run-time guard

def test_a_stage_run_refuses_keys_outside_its_slice():
    run = load_run("params/news.yaml")
    # a stage that reads one key of a section (as topics once read keywords.min_df)
    topics = stages.stage("04-topics")
    partial = stages.Stage(**{**topics.__dict__, "reads": (*topics.reads, "keywords.min_df")})
    topics_view = stages.StageRun(run, partial)
    assert topics_view.params.keywords.min_df == run.params.keywords.min_df
    assert topics_view.params.engine == run.params.engine
    with pytest.raises(stages.OutOfSlice, match=r"stage 04-topics read params key 'keywords\.top_n'"):
        _ = topics_view.params.keywords.top_n
    keywords_view = stages.StageRun(run, stages.stage("03-keywords"))
    with pytest.raises(stages.OutOfSlice, match=r"read params key 'topics', which is not in its slice"):
        _ = keywords_view.params.topics
    with pytest.raises(stages.OutOfSlice, match="not among its inputs"):
        keywords_view.input("doc_topics.parquet")
    assert keywords_view.input("tokens.parquet") == run.processed_dir / "tokens.parquet"
    assert topics_view.run_file("labels") == run.params_file.with_name("news.labels.yaml")
    with pytest.raises(stages.OutOfSlice, match="no run file 'labels'"):
        keywords_view.run_file("labels")


def test_makefile_rules_name_every_prerequisite():
    rules = stages.makefile()
    assert rules.count("\t$(PY) -m newslens stage $(2) ") == len(stages.STAGES)
    topics = next(line for line in rules.splitlines() if line.startswith("build/$(1)/04-topics.done:"))
    for needed in ("notebooks/04-topics.ipynb", "build/$(1)/params/04-topics.json", "build/$(1)/02-tokenize.done",
                   "$(SRC)/analysis/tfidf.py", "$(SRC)/analysis/topics.py", "$(wildcard $(basename $(2)).labels.yaml)"):
        assert needed in topics
    assert "build/$(1)/03-keywords.done" in topics  # topics models the keywords stage's TF-IDF matrices
    assert "$(SRC)/analysis/keywords.py" not in topics  # ... without running the keywords stage's code
