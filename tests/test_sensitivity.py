"""The sensitivity grid: its design, how a finding's stability is counted, the summary's line, bad input."""

from __future__ import annotations

import copy
import json

import pytest
from pathlib import Path

from newslens.analysis import compare
from newslens.pipeline import sensitivity
from newslens.report import robustness
from newslens.params import load_run

NEWS = load_run("params/news.yaml").params


def test_the_grid_covers_every_factor_in_at_least_eight_variants():
    variants = sensitivity.grid(NEWS)
    assert len(variants) >= 8 and len({v.name for v in variants}) == len(variants)
    changed = {(key, json.dumps(value)) for v in variants for key, value in v.changes}
    for key, levels in sensitivity.FACTORS.values():
        base = sensitivity._get(NEWS, key)
        assert {(key, json.dumps(level)) for level in levels if level != base} <= changed, key
    assert all(sensitivity._get(NEWS, key) != value for v in variants for key, value in v.changes)


def test_a_grid_that_would_be_empty_is_refused():
    factors = {"lemmas": ("tokenize.lemmatize", (True,)), "min-df": ("keywords.min_df", (2,))}
    with pytest.raises(sensitivity.SensitivityError, match="the sensitivity grid is empty"):
        sensitivity.grid(NEWS, factors, combined=(("lemmas", "min-df"),))
    with pytest.raises(sensitivity.SensitivityError, match="unknown variant.*no-such"):
        sensitivity.select(sensitivity.grid(NEWS), ["no-such"])


def test_a_variant_fits_the_base_k_and_changes_only_its_keys():
    variant = sensitivity.grid(NEWS)[0]
    raw = {"title": "t", "sources": [{"path": "x/"}], "tokenize": {"lemmatize": True}, "topics": {"k": "auto"}}
    out = sensitivity.variant_params(raw, variant, 10)
    assert out["topics"]["k"] == 10 and out["tokenize"]["lemmatize"] is False
    assert raw["topics"]["k"] == "auto", "the base params are not changed"


def _run(topics, focus, keyness):
    return {"topics": [{"id": t, "terms": list(w), "weights": list(w.values()), "prevalence": 0.5}
                       for t, w in topics.items()],
            "focus_keywords": focus, "keyness": keyness}


TAX = {"tax": 0.5, "budget": 0.4, "spending": 0.2}
WAR = {"war": 0.6, "army": 0.3, "troops": 0.2}
BASE = _run({1: TAX, 2: WAR}, ["belarus", "china", "trade"], {"seed": ["belarus", "xi"]})


def test_stability_counts_the_variants_in_which_each_finding_holds():
    same = copy.deepcopy(BASE)
    other = _run({4: TAX, 5: {"hospital": 0.5, "nurse": 0.5}}, ["belarus", "trade", "minsk"], {"seed": ["xi"]})
    result = sensitivity.stability(BASE, {"same": same, "other": other})
    assert result["variants"] == 2
    assert [(k["term"], k["held"]) for k in result["focus_keywords"]] == [("belarus", 2), ("china", 1), ("trade", 2)]
    assert result["focus_keywords"][1]["missing_in"] == ["other"]
    assert [(t["topic"], t["held"]) for t in result["topics"]] == [(1, 2), (2, 1)]
    assert result["topics"][1]["similarity"] == {"other": 0.0, "same": 1.0}
    assert [(k["term"], k["held"]) for k in result["keyness"]] == [("belarus", 1), ("xi", 2)]


def test_the_summary_line_follows_the_committed_file(tmp_path):
    assert robustness.robustness_sentence(tmp_path / "absent.json") is None
    path = tmp_path / "sensitivity.json"
    variants = {f"v{i}": copy.deepcopy(BASE) for i in range(8)}
    variants["v0"]["focus_keywords"] = ["belarus"]
    variants["v1"]["topics"] = variants["v1"]["topics"][:1]
    variants["v2"]["topics"] = variants["v2"]["topics"][:1]
    path.write_text(json.dumps(sensitivity.stability(BASE, variants)))
    line = robustness.robustness_sentence(path, "focus article")
    assert line.startswith("Robustness: 1 of the focus article's 3 top keywords hold in all 8 variants; "
                           "topic 1 holds in at least 7; 2 of 2 keyness terms stay in their group's list in all 8.")


def test_the_make_rules_have_one_target_a_variant(news_run):  # the grid runs at the built run's k
    rules = sensitivity.makefile(["params/news.yaml"], ["lemmas-off", "min-df-5"])
    targets = [line.split(":")[0] for line in rules.splitlines() if line.endswith(".py") and "/done:" in line]
    assert targets == ["build/sensitivity/news/lemmas-off/done", "build/sensitivity/news/min-df-5/done"]
    assert "reports/news/sensitivity.json: build/sensitivity/news/lemmas-off/done" in rules
    assert "sensitivity-reports: reports/news/sensitivity.json" in rules
    # every source file a rule depends on exists (a moved module once left make with no rule to make it)
    import re

    sources = set(re.findall(r"\$\(SRC\)/(\S+\.py)", rules))
    assert sources == {"pipeline/sensitivity.py", "analysis/compare.py"}
    assert all((Path("src/newslens") / source).is_file() for source in sources)


def test_the_committed_news_sensitivity_is_complete():
    path = compare.config.reports_dir("news") / sensitivity.FILE
    assert path.exists(), "reports/news/sensitivity.json is committed (make -j2 sensitivity PARAMS=params/news.yaml)"
    result = json.loads(path.read_text(encoding="utf-8"))
    assert result["variants"] == len(result["grid"]) >= 8
    assert path.read_text(encoding="utf-8") == json.dumps(result, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
    assert all(0 <= t["held"] <= result["variants"] for t in result["topics"])


def test_real_variants_of_the_seed_run(make_sandbox, run_pipeline):
    """Two variants of the seed run, each a real run in its own folder, and the report on them."""
    import os
    import subprocess
    import sys

    root = make_sandbox("sensitivity")
    for stage in ("01-ingest", "02-tokenize", "03-keywords", "04-topics"):
        done = run_pipeline(root, "stage", "params/seed.yaml", stage)
        assert done.returncode == 0, done.stderr[-3000:]
    assert run_pipeline(root, "findings", "params/seed.yaml").returncode == 0
    env = {**os.environ, "NEWSLENS_ROOT": str(root), "PYTHONHASHSEED": "0"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "newslens", "sensitivity", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=900)

    for name in ("min-df-2", "lemmas-off"):
        done = cli("variant", "params/seed.yaml", name)
        assert done.returncode == 0, done.stderr[-3000:]
    variant = root / "build" / "sensitivity" / "seed" / "min-df-2"
    assert (variant / "data" / "processed" / "seed" / "tokens.parquet").is_symlink(), "same tokenize: tokens reused"
    assert not (root / "build" / "sensitivity" / "seed" / "lemmas-off" / "data" / "processed" / "seed"
                / "tokens.parquet").is_symlink()
    k = json.loads((root / "data" / "processed" / "seed" / "k_choice.json").read_text())["k"]
    assert json.loads((variant / "data" / "processed" / "seed" / "k_choice.json").read_text())["k"] == k
    done = cli("report", "params/seed.yaml", "--variants", "min-df-2 lemmas-off")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((root / "reports" / "seed" / "sensitivity.json").read_text())
    assert result["variants"] == 2 and [v["name"] for v in result["grid"]] == ["min-df-2", "lemmas-off"]
    assert result["focus_keywords"] and all(0 <= f["held"] <= 2 for f in result["focus_keywords"])
    page = (root / "reports" / "seed" / "sensitivity.html").read_text()
    assert 'class="provenance"' in page and str(root) not in page
    line = robustness.robustness_sentence(root / "reports" / "seed" / "sensitivity.json")
    assert line.startswith("Robustness: ") and "The 2 preprocessing variants change the lemmas and the minimum" in line
