"""Do the findings survive other preprocessing choices? A grid of variant runs, and how each finding holds.

Each variant changes the base run's tokenize or keywords settings (:data:`FACTORS`) and is
a real run of stages 02 to 04 in its own project folder, ``build/sensitivity/<run>/<variant>/``
(``NEWSLENS_ROOT``), on the base run's ingest (its ``documents.parquet``, linked) and at the base
run's chosen k (no sweep). A variant whose tokenize settings are the base's reuses the base's
tokens. Variants are independent make targets, so ``make -j2 sensitivity`` runs two at a time.

The design (:data:`DESIGN`): each factor changed alone (one variant per other level), then
three variants that change several factors at once. With the defaults that is 8 variants,
covering lemmas on/off, phrases on/off, the stop-word document-frequency threshold at 0.3 and 0.7
(the base 0.5) and ``keywords.min_df`` at 5 (the base 2). The report says, for every finding,
in how many variants it holds (:func:`stability`).

Example
-------
>>> from newslens.params import load_run
>>> [v.name for v in grid(load_run("params/news.yaml").params)][:3]
['lemmas-off', 'phrases-off', 'stop-df-0.3']
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from newslens import config
from newslens.analysis.compare import STABLE
from newslens.files import write_text

logger = logging.getLogger(__name__)

# Each factor: its params key and the levels the grid tries (the base run's own level is skipped).
FACTORS: dict[str, tuple[str, tuple]] = {
    "lemmas": ("tokenize.lemmatize", (True, False)),
    "phrases": ("tokenize.phrases", (True, False)),
    "stop-df": ("tokenize.stopword_max_df", (0.3, 0.5, 0.7)),
    "min-df": ("keywords.min_df", (2, 5)),
}
# What each factor's setting is called on the page (a reader sees no params key).
SETTING_WORDS = {"tokenize.lemmatize": "lemmas", "tokenize.phrases": "phrases",
                 "tokenize.stopword_max_df": "stop words above this share of documents",
                 "keywords.min_df": "a term kept in at least this many documents"}
# Variants that change several factors at once: each factor's first level unlike the base's.
COMBINED = (("lemmas", "phrases", "min-df"), ("lemmas", "stop-df"), ("phrases", "stop-df", "min-df"))
DESIGN = ("one factor at a time (each level other than the base's), then three combinations: "
          + "; ".join(" + ".join(c) for c in COMBINED))
TOP_KEYWORDS = 15   # a focus keyword holds in a variant when it stays in its top 15
SUMMARY_KEYWORDS = 10  # the summary's line counts the focus document's top 10
# A topic holds in a variant when it is matched with at least the similarity at which the comparison
# pages call two topics the same (compare.STABLE): one threshold, so no page calls "held" what another
# calls "changed".
TAU = STABLE
STAGES_RUN = ("02-tokenize", "03-keywords", "04-topics")
TOKENIZE_OUTPUTS = ("tokens.parquet", "vocabulary.parquet", "phrases.csv", "stopwords.txt", "stopword_sources.csv",
                    "formulas.csv", "tokenize_stats.json", "tokenizer.json", "phrases.model")
INGEST_OUTPUTS = ("documents.parquet", "ingest_log.csv", "cleaning.csv")
FILE = "sensitivity.json"


class SensitivityError(ValueError):
    """The grid is empty, names an unknown variant, or the base run is not built."""


@dataclass(frozen=True)
class Variant:
    name: str
    changes: tuple[tuple[str, Any], ...]  # (params key, value)

    def describe(self) -> str:
        return ", ".join(f"{key} = {json.dumps(value)}" for key, value in self.changes)

    def in_words(self) -> str:
        """The variant's changes as the page says them: "lemmas off, stop words above this share of documents: 0.3"."""
        return setting_words(dict(self.changes))


def setting_words(changes: dict[str, Any]) -> str:
    """Settings in words (see :data:`SETTING_WORDS`).

    >>> setting_words({"tokenize.lemmatize": False, "keywords.min_df": 5})
    'lemmas off, a term kept in at least this many documents: 5'
    """
    def one(key: str, value) -> str:
        name = SETTING_WORDS.get(key, key.rpartition(".")[2].replace("_", " "))
        return f"{name} {'on' if value else 'off'}" if isinstance(value, bool) else f"{name}: {value}"
    return ", ".join(one(key, value) for key, value in changes.items())


def _get(params, key: str):
    section, _, name = key.partition(".")
    return getattr(getattr(params, section), name)


def _label(factor: str, value) -> str:
    if isinstance(value, bool):
        return f"{factor}-{'on' if value else 'off'}"
    return f"{factor}-{value}"


def grid(params, factors: dict[str, tuple[str, tuple]] = FACTORS, combined=COMBINED) -> list[Variant]:
    """The variants of a run: :data:`DESIGN` over ``factors``, skipping the base's own settings.

    A ``SensitivityError`` when nothing is left (every level is the base's).
    """
    others = {f: [v for v in levels if v != _get(params, key)] for f, (key, levels) in factors.items()}
    variants = [Variant(_label(f, v), ((factors[f][0], v),)) for f in factors for v in others[f]]
    for names in combined:
        if all(others.get(f) for f in names):
            variants.append(Variant("+".join(_label(f, others[f][0]) for f in names),
                                    tuple((factors[f][0], others[f][0]) for f in names)))
    unique = list({v.changes: v for v in variants}.values())
    if not unique:
        raise SensitivityError("the sensitivity grid is empty: every level of every factor "
                               f"({', '.join(f'{k} {lv}' for k, (_, lv) in factors.items())}) is the base run's own")
    return unique


def select(variants: list[Variant], names: list[str] | None) -> list[Variant]:
    """The variants named (VARIANTS=...), or all; unknown names and an empty choice are errors."""
    if not names:
        return variants
    known = {v.name: v for v in variants}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SensitivityError(f"unknown variant(s) {', '.join(unknown)}; the grid has {', '.join(known)}")
    return [known[n] for n in names]


# ---------------------------------------------------------------- one variant, a real run

def variant_root(run: str, variant: str) -> Path:
    return config.BUILD_DIR / "sensitivity" / run / variant


def variant_params(raw: dict, variant: Variant, k: int) -> dict:
    """The base params with the variant's changes, topics at the base's chosen k (no sweep)."""
    out = json.loads(json.dumps(raw))
    for key, value in variant.changes:
        section, _, name = key.partition(".")
        out.setdefault(section, {})[name] = value
    topics = out.setdefault("topics", {})
    topics["k"] = int(k)
    # At a given k the sweep only scores stability, which a variant is not measured on: one seed,
    # the base's first, which is also the seed of the base's final fit.
    topics["seeds"] = list(topics.get("seeds") or [0, 1, 2])[:1]
    # What a variant is not measured on, it need not compute: keyness between periods, KWIC lines.
    out.setdefault("keywords", {}).update(period=None, kwic_terms=[])
    return out


def _base_k(run) -> int:
    choice = run.processed_dir / "k_choice.json"
    if not choice.exists():
        raise SensitivityError(f"run {run.name!r} has no topics yet ({config.relative_to_root(choice)}); "
                               f"run `make report PARAMS={config.relative_to_root(run.params_file)}` first")
    return int(json.loads(choice.read_text(encoding="utf-8"))["k"])


def write_variant_params(params_file: str, variant: Variant) -> Path:
    """``build/sensitivity/<run>/<variant>/params/<run>.yaml``, rewritten only when it changes."""
    from newslens.params import load_run

    run = load_run(params_file)
    raw = yaml.safe_load(Path(params_file).read_text(encoding="utf-8"))
    # Paths stay relative: the variant's folder links data/raw/, so they mean the same files there.
    text = yaml.safe_dump(variant_params(raw, variant, _base_k(run)), sort_keys=True, allow_unicode=True)
    target = variant_root(run.name, variant.name) / "params" / f"{run.name}.yaml"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        write_text(target, text)
    return target


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(source)


def run_variant(params_file: str, name: str) -> Path:
    """Run stages 02–04 of one variant in its own project folder; write its findings.json."""
    from newslens.analysis import compare
    from newslens.params import load_run

    run = load_run(params_file)
    variant = select(grid(run.params), [name])[0]
    root = variant_root(run.name, name)
    variant_file = write_variant_params(params_file, variant)
    for part in ("notebooks", "data/raw"):
        _link(config.PROJECT_ROOT / part, root / part)
    processed = root / "data" / "processed" / run.name
    for output in INGEST_OUTPUTS:
        _link(run.processed_dir / output, processed / output)
    same_tokens = all(key.startswith("keywords.") for key, _ in variant.changes)
    stages = STAGES_RUN[1:] if same_tokens else STAGES_RUN
    if same_tokens:
        for output in TOKENIZE_OUTPUTS:
            if (run.processed_dir / output).exists():
                _link(run.processed_dir / output, processed / output)
    env = {**os.environ, "NEWSLENS_ROOT": str(root)}
    started = time.perf_counter()
    for stage in stages:
        logger.info("run %s: variant %s: %s", run.name, name, stage)
        done = subprocess.run([sys.executable, "-m", "newslens", "stage", str(variant_file), stage],
                              cwd=root, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SensitivityError(f"variant {name} of run {run.name}: stage {stage} failed\n{done.stderr[-2000:]}")
    data = compare.findings(processed, run=f"{run.name}/{name}", title=variant.describe())
    write_text(root / "findings.json", compare.findings_json(data))
    logger.info("run %s: variant %s (%s) in %.0fs", run.name, name, variant.describe(), time.perf_counter() - started)
    return write_text(root / "done", f"{name}\n")


# ---------------------------------------------------------------- how the findings hold

def stability(base: dict, variants: dict[str, dict], tau: float = TAU) -> dict[str, Any]:
    """For each finding of ``base``, the variants (name → findings) in which it holds."""
    from newslens.analysis import compare
    from newslens.precision import display_value

    n = len(variants)
    names = sorted(variants)
    focus = [{"rank": r, "term": t, "held": sum(t in variants[v]["focus_keywords"][:TOP_KEYWORDS] for v in names),
              "missing_in": [v for v in names if t not in variants[v]["focus_keywords"][:TOP_KEYWORDS]]}
             for r, t in enumerate(base["focus_keywords"][:TOP_KEYWORDS], 1)]
    keyness = [{"group": g, "rank": r, "term": t,
                "held": sum(t in variants[v]["keyness"].get(g, []) for v in names)}
               for g, terms in sorted(base["keyness"].items()) for r, t in enumerate(terms, 1)]
    weights = {t["id"]: dict(zip(t["terms"], t["weights"])) for t in base["topics"]}
    matched: dict[int, dict[str, float]] = {t: {} for t in weights}
    for v in names:
        other = {t["id"]: dict(zip(t["terms"], t["weights"])) for t in variants[v]["topics"]}
        for pair in compare.align(weights, other)["pairs"]:
            matched[pair["a"]][v] = pair["similarity"]
    topics = [{"topic": t["id"], "terms": t["terms"][:6],
               "held": sum(s >= tau for s in matched[t["id"]].values()),
               "similarity": {v: matched[t["id"]].get(v, 0.0) for v in names},
               "mean_similarity": display_value(sum(matched[t["id"]].get(v, 0.0) for v in names) / n) if n else 0.0}
              for t in base["topics"]]
    listed = {f["term"] for f in focus} | {k["term"] for k in keyness} | {w for t in topics for w in t["terms"]}
    display = {t: d for t, d in base.get("display", {}).items() if t in listed}
    return {"variants": n, "tau": tau, "top_keywords": TOP_KEYWORDS,
            "focus_keywords": focus, "keyness": keyness, "topics": topics, "display": display}


def write_report(params_file: str, names: list[str] | None = None) -> Path:
    """``reports/<run>/sensitivity.json`` and ``sensitivity.html`` from the variants' findings."""
    from newslens.analysis import compare
    from newslens.params import load_run

    run = load_run(params_file)
    variants = select(grid(run.params), names)
    base = json.loads((run.reports_dir / compare.FINDINGS).read_text(encoding="utf-8"))
    found = {v.name: json.loads((variant_root(run.name, v.name) / "findings.json").read_text(encoding="utf-8"))
             for v in variants}
    result = {"run": run.name, "design": DESIGN,
              "grid": [{"name": v.name, "changes": {k: val for k, val in v.changes}} for v in variants],
              "findings": _findings_read(run, [v.name for v in variants]), **stability(base, found)}
    write_text(run.reports_dir / FILE, json.dumps(result, sort_keys=True, ensure_ascii=False, indent=1) + "\n")
    return write_page(run, result)


def rewrite_page(params_file: str) -> Path:
    """Render ``sensitivity.html`` again from the committed ``sensitivity.json``, without the variants.

    For a change of the page's layout (its header, its wording): the numbers and the findings'
    sha256 come from the JSON, so the variants need not be run again (nor be on this machine).
    """
    from newslens.params import load_run

    run = load_run(params_file)
    result = json.loads((run.reports_dir / FILE).read_text(encoding="utf-8"))
    if "findings" not in result:
        raise ValueError(f"{config.relative_to_root(run.reports_dir / FILE)} does not record the findings it "
                         f"compared; run `make -j2 sensitivity PARAMS={config.relative_to_root(run.params_file)}`")
    return write_page(run, result)


def frames(result: dict[str, Any]) -> dict[str, Any]:
    """The page's tables: the grid, the focus keywords, the topics and the keyness lists."""
    import pandas as pd

    from newslens.analysis import compare
    from newslens.precision import display_value

    n = result["variants"]
    share = lambda held: display_value(held / n) if n else 0.0
    short = {v["name"]: f"v{i}" for i, v in enumerate(result["grid"], 1)}  # the topics table's columns
    grid_frame = pd.DataFrame([{"column": short[v["name"]], "variant": v["name"], "changes": setting_words(v["changes"])}
                               for v in result["grid"]])
    display = result.get("display", {})
    term = lambda t: compare.shown_term(t, display)
    focus = pd.DataFrame([{"rank": f["rank"], "term": term(f["term"]), "variants held": f["held"], "share": share(f["held"]),
                           "dropped out in": ", ".join(f["missing_in"])} for f in result["focus_keywords"]],
                         columns=["rank", "term", "variants held", "share", "dropped out in"])
    topics = pd.DataFrame([{"topic": t["topic"], "top terms": ", ".join(map(term, t["terms"])), "variants held": t["held"],
                            "mean similarity": t["mean_similarity"],
                            **{short[v]: t["similarity"][v] for v in short}} for t in result["topics"]])
    keyness = pd.DataFrame([{"group": k["group"], "rank": k["rank"], "term": term(k["term"]), "variants held": k["held"],
                             "share": share(k["held"])} for k in result["keyness"]],
                           columns=["group", "rank", "term", "variants held", "share"])
    return {"grid": grid_frame, "focus": focus, "topics": topics, "keyness": keyness}


def _findings_read(run, names: list[str]) -> list[list]:
    """The base's and each variant's findings, as [name, bytes, sha256]: what the page compared."""
    import hashlib

    rows = []
    for name in [None, *names]:
        path = (run.reports_dir / "findings.json") if name is None else variant_root(run.name, name) / "findings.json"
        data = path.read_bytes()
        rows.append([name or "base", len(data), hashlib.sha256(data).hexdigest()])
    return rows


def _provenance(run, result: dict[str, Any]) -> str:
    from newslens.pipeline import provenance

    return provenance.sensitivity(run, [tuple(row) for row in result["findings"]])


def write_page(run, result: dict[str, Any]) -> Path:
    """``reports/<run>/sensitivity.html``: the full tables, rendered like every report."""
    import nbformat

    from newslens.pipeline.render import render_html
    from newslens.report import navigation
    from newslens.report.markup import escape, table_html
    from newslens.report.views import with_library

    tables = frames(result)
    n, tau = result["variants"], result["tau"]
    parts = [f"<h2>{escape(run.params.title)}</h2>",
             f"<p>How the run's findings hold across {n} preprocessing variants, each a full run of the "
             "tokenize, keywords and topics stages on the same documents, with topics at the base run's k. "
             f"Design: {escape(result['design'])}.</p>", table_html(tables["grid"]),
             "<h2>The focus document's keywords</h2>",
             f"<p>Each of the base run's top {result['top_keywords']} keywords of the focus document, and the number "
             f"of variants in which it stays in the top {result['top_keywords']}.</p>"
             if len(tables["focus"]) else "<p>The run has no focus document.</p>",
             table_html(tables["focus"], numeric_format={"share": ".0%"}) if len(tables["focus"]) else "",
             "<h2>Topics</h2>",
             f"<p>Each topic of the base run, matched in each variant by optimal matching on topic–term similarity "
             f"(the cosine between top-term weights); it holds in a variant matched with similarity at least {tau}. "
             "The last columns give the similarity in each variant (v1, v2, …: the grid's column; 0: unmatched).</p>",
             table_html(tables["topics"], numeric_format={c: ".2f" for c in tables["topics"].columns
                                                          if c not in ("topic", "top terms", "variants held")}),
             "<h2>Keyness between groups</h2>",
             "<p>Each term of each group's keyness list (its most over-used terms), and the number of variants in "
             "which it stays in the group's list.</p>",
             table_html(tables["keyness"], numeric_format={"share": ".0%"})]
    notebook = nbformat.v4.new_notebook()
    for index, markup in enumerate([p for p in parts if p] + [_provenance(run, result)]):
        cell = nbformat.v4.new_code_cell(source="")
        cell.id = f"cell-{index:02d}"
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": with_library(markup)})]
        notebook.cells.append(cell)
    page = render_html(notebook, run.reports_dir / "sensitivity.html", title=f"{run.params.title} · sensitivity",
                       header=navigation.run_header(run.reports_dir, run.params.title, "sensitivity.html"))
    navigation.refresh_run(run.reports_dir, run.params.title)  # the stage pages link it too
    return page


# ---------------------------------------------------------------- make

def _source(module) -> str:
    """A module's file as the Makefile names it (``$(SRC)/pipeline/sensitivity.py``), from the module itself."""
    import newslens

    return "$(SRC)/" + Path(module.__file__).relative_to(Path(newslens.__file__).parent).as_posix()


def makefile(params_files: list[str], names: list[str] | None = None) -> str:
    """The variant rules (one target a variant, so `make -j` runs them side by side) and the reports."""
    import sys

    from newslens.analysis import compare
    from newslens.params import load_run

    code = f"{_source(sys.modules[__name__])} {_source(compare)}"

    lines = ["# Written by `python -m newslens sensitivity makefile`; do not edit.", ""]
    reports = []
    for params_file in params_files:
        run = load_run(params_file)
        variants = select(grid(run.params), names)
        dones = []
        for variant in variants:
            write_variant_params(params_file, variant)
            root = config.relative_to_root(variant_root(run.name, variant.name))
            dones.append(f"{root}/done")
            lines += [f"{root}/done: build/{run.name}/04-topics.done build/{run.name}/03-keywords.done "
                      f"{root}/params/{run.name}.yaml {code}",
                      f"\t$(PY) -m newslens sensitivity variant {params_file} {variant.name}", ""]
        chosen = f" --variants \"{' '.join(names)}\"" if names else ""
        target = f"reports/{run.name}/{FILE}"
        reports.append(target)
        lines += [f"{target}: {' '.join(dones)} reports/{run.name}/findings.json {_source(sys.modules[__name__])}",
                  f"\t$(PY) -m newslens sensitivity report {params_file}{chosen}", ""]
    lines += [".PHONY: sensitivity-reports", f"sensitivity-reports: {' '.join(reports)}", ""]
    return "\n".join(lines)
