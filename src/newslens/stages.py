"""The stage table: what each stage reads and writes, declared once.

Everything else derives from :data:`STAGES`:

* the parameter slices (:func:`stage_slice`), so a stage reruns
  only when a key it reads changes;
* the Makefile's prerequisites (:func:`makefile`, written to ``build/stages.mk``
  by ``python -m newslens makefile``);
* the summary's links to the detailed reports and the index's thumbnails;
* the code paths that provenance names (:data:`CODE_PATHS`).

``tests/test_stage_table.py`` holds the notebooks to the table: a notebook that
reads a parameter outside its slice, or imports a newslens module missing from
its stage's ``modules``, fails it. At run time, :func:`setup` hands a notebook
its run with only its slice of the parameters readable.

Example
-------
>>> [stage.name for stage in STAGES][:2]
['01-ingest', '02-tokenize']
>>> stage("04-topics").reads
('title', 'unit', 'unit_name', 'group_name', 'language', 'focus', 'topics', 'keywords.keyness_min_documents')
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from newslens.corpora import BUILTINS
from newslens.params import ParamsError
from newslens.wording import run_words

if TYPE_CHECKING:
    from newslens.params import Run, RunParams

# Modules every stage's execution uses (setup, params, paths, displays, charts).
COMMON_MODULES = ("config", "corpora", "params", "precision", "stages", "wording", "report.chart_style", "report.markup",
                  "report.notebook", "report.plots", "report.views")
# Modules rendering any report uses; rendering is separate from execution (see pipeline.py).
RENDER_MODULES = ("pipeline.render", "pipeline.execute", "pipeline.provenance", "report.markup", "report.views", "vcs")
# Data files a module reads, as make patterns under src/newslens/: editing them reruns its stages.
MODULE_DATA = {"text.stopwords": "text/data/stopwords/*.txt", "text.spelling": "text/data/spelling/*.txt"}
# The shared tokenization: every stage that reads the tokens loads them through these
# (tokenize learns the formulas, which compare groups and periods by keyness).
# What the keywords stage writes of its TF-IDF fit and the topics stage reads back, rather than
# refitting it: every non-zero cell (document row, term column, TF-IDF weight, count), the terms
# with their idf, the documents in row order (newslens.analysis.tfidf.write_tfidf and read_tfidf).
TFIDF_FILES = ("tfidf.parquet", "tfidf_terms.parquet", "tfidf_documents.parquet")
TOKENS_MODULES = ("measures", "text.spelling", "text.tokenization", "text.tokenizer", "text.words", "text.stopwords", "text.phrases",
                  "corpus.sentences", "text.formulas", "corpus.periods", "corpus.clean", "text.passes",
                  "text.token_tables", "text.token_stats")
# The validation by hand (make validate): the answer files coders return, kept in a folder of the
# project (a run file whose template ends with "/": adding, changing or removing a file reruns
# the stages that score them), and the modules that read and show them.
VALIDATION_FILES = ("validation", "validation/{run}/")
VALIDATION_MODULES = ("analysis.validation", "report.validation_page")  # validation_form: make validate only
# Keys that say how a stage runs, not what it computes: readable by every stage, in no slice.
# A changed engine still reruns the stages that use it (build/<run>/params/engine.txt).
HOW_KEYS = ("engine",)
# What provenance's code commit covers, and what make watches for the git state.
CODE_PATHS = ("src", "notebooks", "params", "Makefile", "pyproject.toml", "requirements.lock",
              "data/raw/seed")


@dataclass(frozen=True)
class Stage:
    """One stage: a notebook, the parameters and modules it uses, its files, and its report.

    ``reads`` names top-level keys (``topics``) or one key inside a section
    (``keywords.min_df``). ``inputs`` and ``outputs`` are file names in the run's
    ``data/processed/<run>/`` folder; ``run_files`` are files of the run outside
    it, as (name, template) pairs: ``{run}`` is the run name and ``{params}`` the
    params file's path without ``.yaml`` (the labels file, the topic identities).
    """

    name: str
    title: str
    about: str
    reads: tuple[str, ...]
    modules: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    run_files: tuple[tuple[str, str], ...] = ()
    # Run files the stage rewrites as well as reads (the topic identities): dated, like the
    # stage's marker, when the stage started, so that its own write does not make it stale.
    rewrites: tuple[str, ...] = ()
    engine: bool = False  # runs work on the engine, so a changed engine reruns it
    raw: bool = False     # reads the run's raw sources

    @property
    def notebook(self) -> str:
        """The notebook's path, relative to the project root."""
        return f"notebooks/{self.name}.ipynb"

    @property
    def all_modules(self) -> tuple[str, ...]:
        """Every newslens module the stage's execution may import, sorted."""
        return tuple(sorted(set(COMMON_MODULES) | set(self.modules)))

    def sections(self) -> dict[str, tuple[str, ...] | None]:
        """The keys it reads by top-level key: None for the whole key, else the names inside it."""
        out: dict[str, tuple[str, ...] | None] = {}
        for key in self.reads:
            top, _, inner = key.partition(".")
            if not inner:
                out[top] = None
            elif out.get(top, ()) is not None:
                out[top] = (*out.get(top, ()), inner)
        return out


STAGES: tuple[Stage, ...] = (
    Stage(
        name="01-ingest", title="Ingest", about="what was read, cleaned and skipped",
        reads=("title", "sources", "unit", "unit_name", "group_name", "language", "other_languages"),
        modules=("files", "engine", "corpus.archives", "corpus.clean", "corpus.dates", "corpus.decode", "corpus.documents",
                 "corpus.fetch", "corpus.ingest", "corpus.integrity", "corpus.language", "corpus.language_id", "corpus.minhash",
                 "corpus.near_duplicates", "corpus.partitions", "corpus.periods", "corpus.sentences", "corpus.slices", "corpus.sources",
                 "corpus.tables", "corpus.wheels", "corpus.citations", "report.distinctive", "report.prose",
                 "report.ingest_page"),
        inputs=(), outputs=("documents.parquet", "ingest_log.csv", "cleaning.csv"),
        engine=True, raw=True),
    Stage(
        name="02-tokenize", title="Tokenize", about="sentences, tokens, phrases and stop words",
        reads=("title", "unit", "unit_name", "group_name", "language", "focus", "tokenize"),
        modules=("files", *TOKENS_MODULES, "engine", "corpus.focus", "analysis.short_texts", "report.tokenize_page"),
        inputs=("documents.parquet",),
        outputs=("tokens.parquet", "vocabulary.parquet", "phrases.csv", "stopwords.txt",
                 "stopword_sources.csv", "formulas.csv", "tokenize_stats.json", "tokenizer.json",
                 "phrases.model"),
        engine=True),
    Stage(
        name="03-keywords", title="Keywords",
        about="TF-IDF, keyness between groups, keywords in context",
        reads=("title", "unit", "unit_name", "group_name", "focus", "keywords"),
        modules=("files", "analysis.keywords", "analysis.limits", "analysis.tfidf", "analysis.tfidf_parts",
                 "analysis.topic_sample", "analysis.texts", "analysis.keyness", "analysis.keyness_data", "analysis.keyness_uncertainty",
                 "analysis.kwic", "report.keyness_explorer", "report.keywords_page", "report.limits_prose", "report.prose",
                 "measures", "text.tokenizer", "text.words", "text.stopwords", "text.phrases", "corpus.sentences",
                 "text.formulas", "corpus.periods", "corpus.clean", "text.passes", "engine", "corpus.focus"),
        inputs=("documents.parquet", "vocabulary.parquet", "tokens.parquet", "tokenizer.json",
                "phrases.model", "stopwords.txt"),
        outputs=("keywords.parquet", "keyness.parquet", "keyness_groups.csv", "similar.csv", "corpus_terms.csv",
                 "focus_keywords.csv", "limits.json", *TFIDF_FILES),
        engine=True),
    Stage(
        name="04-topics", title="Topics", about="how k was chosen, the topics, by group and over time",
        # The topic model is fitted on the keywords stage's TF-IDF matrix (TFIDF_FILES), not refitted.
        # Its shares by group and period get intervals only where keyness compares (the same minimum).
        reads=("title", "unit", "unit_name", "group_name", "language", "focus", "topics",
               "keywords.keyness_min_documents"),
        modules=("files", "vcs", "text.words", "text.stopwords", "corpus.sentences", "corpus.periods", "corpus.clean",
                 "text.token_stats", "engine", "corpus.focus", "analysis.anchors", "analysis.identities",
                 "analysis.matching", "analysis.short_texts", "analysis.tfidf", "analysis.topic_effects",
                 "analysis.topic_explorer_data", "analysis.topic_quality", "analysis.topic_pass", "analysis.topic_sample", "analysis.topic_views",
                 "analysis.topics", "analysis.limits", "report.limits_prose", "report.prose", "report.topic_explorer",
                 "report.topics_page", *VALIDATION_MODULES),
        inputs=("documents.parquet", "vocabulary.parquet", "tokens.parquet", "limits.json", *TFIDF_FILES),
        outputs=("sweep.csv", "topic_terms.parquet", "doc_topics.parquet", "topics.csv",
                 "k_choice.json", "topic_explorer.json", "focus_topics.csv", "topic_effects.parquet",
                 "topic_periods.parquet"),
        run_files=(("labels", "{params}.labels.yaml"), ("identities", "reports/{run}/topics.json"), VALIDATION_FILES),
        rewrites=("identities",)),
    Stage(
        name="05-summary", title="Summary", about="the findings of the run on one page",
        reads=("title", "sources", "unit", "unit_name", "group_name", "focus"),
        modules=("files", "corpus.citations", "corpus.clean", "corpus.focus", "corpus.periods", "analysis.topic_explorer_data",
                 "analysis.limits", "analysis.topic_views", "report.distinctive", "report.limits_prose", "report.prose",
                 "report.robustness", "report.summary", "report.summary_page", "report.topic_explorer",
                 *VALIDATION_MODULES),
        inputs=("documents.parquet", "ingest_log.csv", "tokenize_stats.json", "focus_keywords.csv",
                "similar.csv", "keyness.parquet", "keyness_groups.csv", "topics.csv", "doc_topics.parquet",
                "topic_periods.parquet", "corpus_terms.csv", "k_choice.json", "vocabulary.parquet",
                "topic_explorer.json", "focus_topics.csv", "limits.json"),
        outputs=(),
        # The committed robustness of the findings (make sensitivity), for the summary's one line.
        run_files=(("sensitivity", "reports/{run}/sensitivity.json"), ("identities", "reports/{run}/topics.json"),
                   VALIDATION_FILES)),
)
NAMES = tuple(s.name for s in STAGES)
# The key figure of a run for the index: the summary's first chart, else a detailed report's.
THUMBNAIL_ORDER = ("05-summary", "03-keywords", "04-topics", "02-tokenize", "01-ingest")


def stage(name: str) -> Stage:
    """The stage called ``name``; a ``ValueError`` lists the stages otherwise."""
    for candidate in STAGES:
        if candidate.name == name:
            return candidate
    raise ValueError(f"unknown stage {name!r}; expected one of {', '.join(NAMES)}")


_stage_by_name = stage  # for functions whose parameter is called stage


def upstream(name: str) -> tuple[str, ...]:
    """The earlier stages whose outputs ``name`` reads, in order."""
    wanted = set(stage(name).inputs)
    return tuple(s.name for s in STAGES[:NAMES.index(name)] if wanted & set(s.outputs))


def detailed_reports() -> tuple[Stage, ...]:
    """The stages the summary links to: every stage but the summary itself."""
    return tuple(s for s in STAGES if s.outputs)


# ---------------------------------------------------------------- Makefile

def module_path(module: str) -> str:
    """A module's file under ``src/newslens/``: ``corpus.ingest`` is ``corpus/ingest.py``."""
    return module.replace(".", "/") + ".py"


def _sources(modules) -> str:
    return " ".join(f"$(SRC)/{module_path(m)}" for m in sorted(modules))


def makefile() -> str:
    """Make rules of every stage, for one run: ``$(1)`` is the run name, ``$(2)`` its params file.

    The Makefile includes the result (``build/stages.mk``) and evaluates
    ``STAGE_RULES`` once per run, and a fetch rule per ``BUILTIN_RAW`` pair (each builtin
    corpus and its raw file, from :data:`newslens.corpora.BUILTINS`). A stage's prerequisites are its notebook, its
    parameter slice, the modules it uses, the stages it reads from and its run files.
    """
    lines = ["# Generated from src/newslens/stages.py by `python -m newslens makefile`.",
             "# Do not edit: change the stage table and make regenerates this file.",
             f"STAGES := {' '.join(NAMES)}",
             # Each builtin corpus and the raw file ingest reads of it: the Makefile's fetch rules.
             f"BUILTIN_RAW := {' '.join(f'{name}={corpus.raw_file}' for name, corpus in BUILTINS.items())}",
             f"CODE_PATHS := {' '.join(CODE_PATHS)}",
             f"RENDER_SRC := {_sources(set(RENDER_MODULES) | set(COMMON_MODULES) | {'files'})}"
             " $(wildcard $(SRC)/report/templates/newslens/*)",
             "define STAGE_RULES"]
    for item in STAGES:
        prerequisites = [item.notebook, f"build/$(1)/params/{item.name}.json"]
        if item.engine:
            prerequisites.append("build/$(1)/params/engine.txt")
        prerequisites += [f"build/$(1)/{name}.done" for name in upstream(item.name)]
        prerequisites.append(_sources(item.all_modules))
        prerequisites += [f"$(wildcard $(SRC)/{MODULE_DATA[m]})" for m in item.all_modules if m in MODULE_DATA]
        prerequisites += [_run_file_prerequisite(name, template) for name, template in item.run_files]
        if item.raw:  # the builtin corpora's files, and a listing of the path sources' files
            prerequisites += ["$(call raw_inputs,$(2))", "build/$(1)/sources.txt"]
        lines.append(f"build/$(1)/{item.name}.done: {' '.join(prerequisites)}")
        lines.append(f"\t$(PY) -m newslens stage $(2) {item.name}")
        lines.append("")
    folders = dict.fromkeys((name, t) for item in STAGES for name, t in item.run_files if t.endswith("/"))
    for name, template in folders:
        lines += _folder_listing_rule(name, template)
    lines.append("endef")
    return "\n".join(lines) + "\n"


def _run_file_prerequisite(name: str, template: str) -> str:
    """A run file as make sees it: the file if it exists; for a folder (a template ending with "/"),
    a listing of its files (:func:`_folder_listing_rule`), so that a file added, removed or changed
    there counts, and the folder's removal too.

    >>> _run_file_prerequisite("validation", "validation/{run}/")
    'build/$(1)/validation.listing'
    """
    path = template.format(run="$(1)", params="$(basename $(2))")
    if path.endswith("/"):
        return f"build/$(1)/{name}.listing"
    return f"$(wildcard {path})"


def _folder_listing_rule(name: str, template: str) -> list[str]:
    """The rule of a folder's listing (path, size, modification time of each file; the Makefile's
    LIST_SOURCES), rewritten only when it changes, like the listing of a run's source folders."""
    path = template.format(run="$(1)", params="$(basename $(2))").rstrip("/")
    # $(wildcard): a folder that does not exist (yet) lists as empty rather than failing find.
    return [f"build/$(1)/{name}.listing: FORCE", f"\t+@$$(call LIST_SOURCES,$$(wildcard {path}),$$@)", ""]


# ---------------------------------------------------------------- parameter slices

def stage_slice(params: RunParams, stage: str) -> dict[str, Any]:
    """The part of the params that ``stage`` reads, as plain JSON-able data.

    A key such as ``keywords.min_df`` puts only that key of its section in the slice.
    """
    try:
        sections = _stage_by_name(stage).sections()
    except ValueError as exc:
        raise ParamsError(str(exc)) from None
    dumped = params.model_dump(mode="json")
    return {key: dumped[key] if names is None else {name: dumped[key][name] for name in names}
            for key, names in sections.items()}


def stage_slice_json(params: RunParams, stage: str) -> str:
    """Canonical JSON of a stage's slice: sorted keys, so equal params give equal bytes."""
    return json.dumps(stage_slice(params, stage), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def params_yaml(params: RunParams, stage: str | None = None) -> str:
    """The params (or one stage's slice of them) as YAML, for provenance blocks."""
    data = stage_slice(params, stage) if stage else params.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


# ---------------------------------------------------------------- a stage's run

class OutOfSlice(AttributeError):
    """A stage read a parameter, an input or a run file that the stage table does not give it."""


class _Section:
    """One section of the params (``keywords``) with only some of its keys readable."""

    def __init__(self, section: Any, key: str, names: tuple[str, ...], owner: str):
        self._section, self._key, self._names, self._owner = section, key, names, owner

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in self._names:
            return getattr(self._section, name)
        raise OutOfSlice(f"stage {self._owner} read params key '{self._key}.{name}', which is not in "
                         f"its slice (it reads {', '.join(self._key + '.' + n for n in self._names)}); "
                         "add it to the stage's `reads` in src/newslens/stages.py")


class SliceView:
    """A stage's view of the run parameters: the keys of its slice, and how it runs (``engine``)."""

    def __init__(self, params: "RunParams", item: Stage):
        self._params, self._stage = params, item

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        sections = self._stage.sections()
        if key in HOW_KEYS:
            return getattr(self._params, key)
        if key not in sections:
            raise OutOfSlice(f"stage {self._stage.name} read params key {key!r}, which is not in its "
                             f"slice ({', '.join(self._stage.reads)}); add it to the stage's `reads` "
                             "in src/newslens/stages.py")
        value = getattr(self._params, key)
        names = sections[key]
        return value if names is None else _Section(value, key, names, self._stage.name)


class StageRun:
    """The run as one stage sees it: its name and folders, its slice of the params, its files."""

    def __init__(self, run: "Run", item: Stage, *, root: Path | None = None):
        """``root`` puts the run's outputs under another project root (a test's or a benchmark's
        folder): ``data/processed/<run>/``, ``reports/<run>/``, ``build/<run>/`` and the run files
        there; the raw sources and the params stay where the params file says."""
        self.stage, self.name, self.params_file, self.root = item, run.name, run.params_file, root
        if root is None:
            self.processed_dir, self.reports_dir, self.build_dir = run.processed_dir, run.reports_dir, run.build_dir
        else:
            root = Path(root)
            self.processed_dir = root / "data" / "processed" / run.name
            self.reports_dir, self.build_dir = root / "reports" / run.name, root / "build" / run.name
        self.params = SliceView(run.params, item)
        self.words = run_words(self.params)  # "articles", "outlets": what the reports call units and groups

    def input(self, name: str) -> Path:
        """A file of ``data/processed/<run>/`` that the stage reads (declared in its ``inputs``)."""
        if name not in self.stage.inputs:
            raise OutOfSlice(f"stage {self.stage.name} read {name!r}, which is not among its inputs "
                             f"({', '.join(self.stage.inputs) or 'none'}) in src/newslens/stages.py")
        return self.processed_dir / name

    def run_file(self, name: str) -> Path:
        """A file of the run outside ``data/processed/`` (declared in the stage's ``run_files``)."""
        return run_file_path(self.stage, name, self.name, self.params_file, root=self.root)


def run_file_path(stage: Stage, name: str, run: str, params_file: Path, *, root: Path | None = None) -> Path:
    """Where the run file ``name`` of ``stage`` is for the run ``run`` (params at ``params_file``).

    With ``root``, a run file kept in the project (``reports/{run}/topics.json``) is under ``root``
    instead; one beside the params file (``{params}.labels.yaml``) stays there.
    """
    from newslens import config

    templates = dict(stage.run_files)
    if name not in templates:
        raise OutOfSlice(f"stage {stage.name} has no run file {name!r} "
                         f"(it has {', '.join(templates) or 'none'}) in src/newslens/stages.py")
    template = templates[name]
    path = template.format(run=run, params=Path(params_file).with_suffix("").as_posix())
    if root is not None and not template.startswith("{params}"):
        return Path(root) / path
    return config.resolve_path(path)
