"""Same inputs and parameters give the same bytes, whatever the hash seed, file order or working folder.

Three sandboxes run (and render) 01-ingest, 02-tokenize and 03-keywords of the same run (the seed article plus a folder of
eight short articles, two with sidecars) through the pipeline's command line:

* ``base``: PYTHONHASHSEED=0, the folder's files created in name order, run from the sandbox root;
* ``hashseed``: as base but PYTHONHASHSEED=12345 (set and string iteration orders change);
* ``elsewhere``: the files created in reverse order with reversed modification times (so the
  directory listing order differs), run from a folder outside the sandbox.

Every output file of the three stages, the executed notebooks and the rendered reports must be
byte-identical to base.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from newslens import config

pytestmark = pytest.mark.slow

STAGES = ("01-ingest", "02-tokenize", "03-keywords")
OUTPUTS = ("documents.parquet", "ingest_log.csv", "cleaning.csv", "tokens.parquet", "vocabulary.parquet",
           "phrases.csv", "stopwords.txt", "stopword_sources.csv", "tokenize_stats.json", "tokenizer.json",
           "phrases.model", "keywords.parquet", "keyness.parquet", "similar.csv", "corpus_terms.csv",
           "focus_keywords.csv")
PARAMS = {
    "title": "Determinism check",
    "sources": [{"path": "data/raw/seed/", "group": "seed"}, {"path": "data/raw/order/", "group": "order"}],
    "unit": "document",
    "focus": "data/raw/seed/xi-lukashenko-call-2022-01-10.txt",
    "tokenize": {"phrase_min_count": 2, "phrase_threshold": 0.3, "stopword_max_df": 0.8,
                 "extra_stopwords": ["lukashenko said", "zeta"]},
    # a tiny corpus: every group is compared, however small, so keyness has rows to reproduce
    "keywords": {"min_df": 1, "max_df": 0.9, "top_n": 8, "similar_n": 5, "kwic_terms": ["cooperation"],
                 "keyness_min_freq": 2, "keyness_min_documents": 1, "keyness_min_tokens": 1},
}


def order_files() -> dict[str, bytes]:
    from newslens.corpus.sentences import split_text_sentences

    text = next((config.PROJECT_ROOT / "data" / "raw" / "seed").glob("*.txt")).read_text(encoding="utf-8")
    sentences = split_text_sentences(text.strip())
    n = len(sentences)
    files = {f"art-{i:02d}.txt": f"{sentences[i]} {sentences[(i * 5 + 2) % n]} {sentences[(i + 9) % n]}".encode()
             for i in range(8)}
    files["art-03.json"] = json.dumps({"title": "Third", "date": "2022-01-12"}).encode()
    files["art-06.json"] = json.dumps({"title": "Sixth", "date": "2022-02-01", "group": "side"}).encode()
    files["nested/art-99.md"] = f"{sentences[1]}\n\n{sentences[4]}".encode()
    return files


def build(make_sandbox, name: str, *, reverse: bool) -> Path:
    root = make_sandbox(name)
    folder = root / "data" / "raw" / "order"
    items = sorted(order_files().items(), reverse=reverse)
    for index, (rel, payload) in enumerate(items):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        os.utime(path, (1_600_000_000 + index, 1_600_000_000 + index))
    (root / "params" / "order.yaml").write_text(yaml.safe_dump(PARAMS), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def runs(make_sandbox, run_pipeline, tmp_path_factory) -> dict[str, Path]:
    outside = tmp_path_factory.mktemp("elsewhere-cwd")
    plans = {
        "base": (build(make_sandbox, "det-base", reverse=False), {}, None),
        "hashseed": (build(make_sandbox, "det-hashseed", reverse=False), {"PYTHONHASHSEED": "12345"}, None),
        "elsewhere": (build(make_sandbox, "det-elsewhere", reverse=True), {}, outside),
    }
    listing = {name: os.listdir(root / "data" / "raw" / "order") for name, (root, _, _) in plans.items()}
    assert sorted(listing["base"]) == sorted(listing["elsewhere"])

    def execute(plan):
        root, env, cwd = plan
        for stage in STAGES:  # a stage renders its report too
            done = run_pipeline(root, "stage", "params/order.yaml", stage, env=env, cwd=cwd)
            assert done.returncode == 0, f"stage {stage} in {root.name}:\n{done.stderr[-3000:]}"
        return root

    with ThreadPoolExecutor(max_workers=min(len(plans), os.cpu_count() or 1)) as pool:
        roots = dict(zip(plans, pool.map(execute, plans.values())))
    return roots


def test_the_run_did_real_work(runs):
    import pandas as pd

    out = runs["base"] / "data" / "processed" / "order"
    documents = pd.read_parquet(out / "documents.parquet")
    assert len(documents) == 10  # the seed article, eight articles and a nested .md
    assert (pd.read_csv(out / "phrases.csv")["phrase"].str.contains("_").sum()) > 0  # phrases were learned
    assert len(pd.read_csv(out / "similar.csv")) == 5 and len(pd.read_parquet(out / "keyness.parquet")) > 0


# gensim pickles the phrase model's connector words as a frozenset, whose order follows the hash
# seed; the Makefile and the test fixtures pin PYTHONHASHSEED=0. Under another seed the model is
# compared by content instead (see test_phrase_model_content_is_identical_under_another_hash_seed).
BYTE_CASES = [(variant, name) for variant in ("hashseed", "elsewhere") for name in OUTPUTS
              if (variant, name) != ("hashseed", "phrases.model")]


@pytest.mark.parametrize("variant, name", BYTE_CASES, ids=[f"{v}-{n}" for v, n in BYTE_CASES])
def test_outputs_are_byte_identical(runs, variant, name):
    base = (runs["base"] / "data" / "processed" / "order" / name).read_bytes()
    other = (runs[variant] / "data" / "processed" / "order" / name).read_bytes()
    assert other == base, f"{name} differs under {variant}"


def test_phrase_model_content_is_identical_under_another_hash_seed(runs):
    from gensim.models.phrases import FrozenPhrases

    base, other = (FrozenPhrases.load(str(runs[v] / "data" / "processed" / "order" / "phrases.model"))
                   for v in ("base", "hashseed"))
    assert base.phrasegrams and other.phrasegrams == base.phrasegrams
    assert other.connector_words == base.connector_words
    assert (other.threshold, other.min_count, other.delimiter) == (base.threshold, base.min_count, base.delimiter)


@pytest.mark.parametrize("variant", ["hashseed", "elsewhere"])
@pytest.mark.parametrize("stage", STAGES)
def test_executed_notebooks_are_byte_identical(runs, variant, stage):
    base = (runs["base"] / "build" / "order" / f"{stage}.ipynb").read_bytes()
    other = (runs[variant] / "build" / "order" / f"{stage}.ipynb").read_bytes()
    assert other == base, f"build/order/{stage}.ipynb differs under {variant}"


@pytest.mark.parametrize("variant", ["hashseed", "elsewhere"])
@pytest.mark.parametrize("stage", STAGES)
def test_rendered_reports_are_byte_identical(runs, variant, stage):
    base = (runs["base"] / "reports" / "order" / f"{stage}.html").read_bytes()
    other = (runs[variant] / "reports" / "order" / f"{stage}.html").read_bytes()
    assert other == base, f"reports/order/{stage}.html differs under {variant}"
