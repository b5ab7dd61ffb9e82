"""Comparing runs: invariants (a run against itself, reordered documents, A and B swapped) and bad input."""

from __future__ import annotations

import copy
import json
import subprocess

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newslens import config
from newslens.analysis import compare
from newslens.report import compare_page

MIRROR = {"split": "merged", "merged": "split", "new": "vanished", "vanished": "new",
          "stable": "stable", "changed": "changed"}


def findings(topics: dict[int, dict[str, float]], *, run: str = "tiny", dominant=None,
             keyness=None, vocabulary=None) -> dict:
    """A run's findings as :func:`newslens.analysis.compare.findings` writes them, from a topic–term table."""
    docs = sorted({d for ds in (dominant or {}).values() for d in ds})
    return {"format": compare.FORMAT, "run": run, "title": run,
            "corpus": {"documents": len(docs), "doc_ids_sha256": str(hash(tuple(docs)))},
            "topics": [{"id": t, "terms": list(w), "weights": list(w.values()), "prevalence": round(1 / len(topics), 3)}
                       for t, w in sorted(topics.items())],
            "dominant": {str(t): sorted(ds) for t, ds in (dominant or {}).items()},
            "keyness": keyness or {"left": ["tax", "budget"], "right": ["war", "army"]},
            "focus_keywords": [],
            "vocabulary": {"kept": 6, "min_df": 5, "terms": vocabulary or ["tax", "budget", "war", "army"]}}


TAX = {"tax": 0.5, "budget": 0.4, "spending": 0.2}
WAR = {"war": 0.6, "army": 0.3, "troops": 0.2}
HEALTH = {"hospital": 0.6, "nurse": 0.4, "doctor": 0.3}
TAX_INCOME = {"tax": 0.6, "income": 0.5, "rate": 0.2}
TAX_BUDGET = {"budget": 0.6, "spending": 0.5, "deficit": 0.2}
DOCS = {1: ["d1", "d2", "d3"], 2: ["d4", "d5"], 3: ["d6"]}


def test_a_run_against_itself_is_stable_everywhere():
    run = findings({1: TAX, 2: WAR, 3: HEALTH}, dominant=DOCS)
    result = compare.compare(run, copy.deepcopy(run))
    assert set(result["topics"]["classes_a"].values()) == {"stable"}
    assert compare.unchanged(result)
    assert all(p["moved"] == {"stayed": len(DOCS[p["a"]]), "left": 0, "joined": 0, "left_examples": [],
                              "joined_examples": []} for p in result["topics"]["pairs"])
    assert result["same_corpus"] and compare.counts(result) == {"stable": 3}


def test_reordered_documents_and_topics_change_nothing():
    run = findings({1: TAX, 2: WAR, 3: HEALTH}, dominant=DOCS)
    reordered = copy.deepcopy(run)
    reordered["topics"].reverse()
    reordered["dominant"] = {t: list(reversed(ds)) for t, ds in reversed(list(reordered["dominant"].items()))}
    assert compare.unchanged(compare.compare(run, reordered))


def test_a_split_seen_from_the_other_side_is_a_merge():
    before = findings({1: TAX, 2: WAR})
    after = findings({5: TAX_INCOME, 6: TAX_BUDGET, 7: WAR, 8: HEALTH})
    forward = compare.compare(before, after)["topics"]
    assert forward["classes_a"] == {1: "split", 2: "stable"}
    assert forward["classes_b"] == {5: "split", 6: "split", 7: "stable", 8: "new"}
    backward = compare.compare(after, before)["topics"]
    assert backward["classes_a"] == {5: "merged", 6: "merged", 7: "stable", 8: "vanished"}
    assert backward["classes_b"] == {1: "merged", 2: "stable"}


def test_a_changed_topic_and_moved_documents():
    before = findings({1: TAX, 2: WAR}, dominant={1: ["d1", "d2"], 2: ["d3"]})
    after = findings({1: {"tax": 0.5, "income": 0.4, "pension": 0.3}, 2: WAR}, dominant={1: ["d1"], 2: ["d2", "d3"]})
    topics = compare.compare(before, after)["topics"]
    pair = next(p for p in topics["pairs"] if p["a"] == 1)
    assert pair["class_a"] == "changed" and compare.LINKED <= pair["similarity"] < compare.STABLE
    assert pair["overlap"] == 0.2 and pair["shared_terms"] == ["tax"]
    assert pair["moved"]["left"] == 1 and pair["moved"]["left_examples"] == ["d2"]
    war = next(p for p in topics["pairs"] if p["a"] == 2)
    assert war["moved"]["joined_examples"] == ["d2"]


def test_different_corpora_share_no_documents():
    result = compare.compare(findings({1: TAX}, dominant={1: ["a1"]}), findings({1: TAX}, dominant={1: ["b1"]}))
    assert result["topics"]["shared_documents"] == 0 and not result["same_corpus"]
    assert all(p["moved"] is None for p in result["topics"]["pairs"])
    texts = [content for kind, content in compare_page.report_parts(result, "a", "b") if kind == "text"]
    assert any("share no documents" in text for text in texts)


def test_keyness_ranks_and_vocabulary_changes():
    before = findings({1: TAX}, keyness={"left": ["tax", "budget", "deficit"]}, vocabulary=["tax", "budget", "war"])
    after = findings({1: TAX}, keyness={"left": ["budget", "tax", "income"], "new": ["x"]},
                     vocabulary=["tax", "budget", "income"])
    result = compare.compare(before, after)
    rows = {r["term"]: (r["rank_a"], r["rank_b"], r["change"]) for r in result["keyness"]["rows"]}
    assert rows == {"tax": (1, 2, -1), "budget": (2, 1, 1), "deficit": (3, None, None), "income": (None, 3, None)}
    assert result["keyness"]["only_b"] == ["new"]
    assert result["vocabulary"]["added"] == ["income"] and result["vocabulary"]["dropped"] == ["war"]


# ---------------------------------------------------------------- properties

TERMS = [f"t{i}" for i in range(12)]
topic_table = st.dictionaries(st.integers(0, 30), st.dictionaries(st.sampled_from(TERMS),
                              st.floats(0.01, 1.0, allow_nan=False), min_size=1, max_size=6),
                              min_size=1, max_size=7)


@settings(max_examples=150, deadline=None)
@given(topic_table, topic_table)
def test_swapping_a_and_b_mirrors_every_class(a, b):
    forward, backward = compare.align(a, b), compare.align(b, a)
    assert forward["classes_a"] == {t: MIRROR[c] for t, c in backward["classes_b"].items()}
    assert forward["classes_b"] == {t: MIRROR[c] for t, c in backward["classes_a"].items()}
    assert sorted((p["a"], p["b"]) for p in forward["pairs"]) == sorted((p["b"], p["a"]) for p in backward["pairs"])


@settings(max_examples=100, deadline=None)
@given(topic_table)
def test_a_table_against_itself_is_all_stable(a):
    alignment = compare.align(a, a)
    assert set(alignment["classes_a"].values()) <= {"stable", "merged", "split", "changed"}
    # Two identical topics in one table are one theme twice; every other topic is stable.
    distinct = [t for t in a if sum(compare.similarity({0: a[t]}, {0: a[u]})[0, 0] >= compare.LINKED for u in a) == 1]
    assert all(alignment["classes_a"][t] == "stable" for t in distinct)
    assert all(p["a"] == p["b"] for p in alignment["pairs"] if p["a"] in distinct)


# ---------------------------------------------------------------- bad input

def test_a_run_never_built_is_named():
    with pytest.raises(compare.CompareError, match="has not been built.*make report PARAMS=params/never-built.yaml"):
        compare.load_findings("params/never-built.yaml", "params/seed.yaml")


def test_runs_with_no_terms_in_common():
    with pytest.raises(compare.CompareError, match="no kept terms in common"):
        compare.compare(findings({1: TAX}), findings({1: {"krieg": 0.5}}, vocabulary=["krieg"]))
    with pytest.raises(compare.CompareError, match="no top terms in common: their topics cannot be aligned"):
        compare.compare(findings({1: TAX}), findings({1: {"krieg": 0.5}}))


@pytest.fixture()
def history(tmp_path, monkeypatch):
    """A git repository with three commits: no run, the run without findings, the run with findings."""
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "test@example.org")
    git("config", "user.name", "test")
    (tmp_path / "README").write_text("x\n")
    git("add", "-A")
    git("commit", "-qm", "no run")
    run_dir = tmp_path / "reports" / "tiny"
    run_dir.mkdir(parents=True)
    (run_dir / "topics.json").write_text("{}\n")
    git("add", "-A")
    git("commit", "-qm", "a run before findings")
    (run_dir / "findings.json").write_text(compare.findings_json(findings({1: TAX, 2: WAR})))
    git("add", "-A")
    git("commit", "-qm", "findings")
    (run_dir / "findings.json").write_text(compare.findings_json(findings({1: TAX_INCOME, 2: WAR})))
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")
    return tmp_path


def test_a_run_against_itself_at_a_revision(history):
    now = compare.load_findings("params/tiny.yaml", "HEAD")
    then = compare.load_findings("HEAD", "params/tiny.yaml")
    result = compare.compare(then, now)
    assert result["topics"]["classes_a"] == {1: "changed", 2: "stable"}
    assert compare.side_label("HEAD", "params/tiny.yaml") == "tiny@HEAD"
    assert compare_page.report_name("tiny@HEAD~2", "tiny") == "tiny@HEAD-2--tiny"


def test_a_revision_before_findings_or_without_the_run(history):
    with pytest.raises(compare.CompareError, match="at HEAD~1 predates findings.json"):
        compare.load_findings("HEAD~1", "params/tiny.yaml")
    with pytest.raises(compare.CompareError, match="revision HEAD~2 has no run 'tiny'"):
        compare.load_findings("HEAD~2", "params/tiny.yaml")
    with pytest.raises(compare.CompareError, match="neither a params file"):
        compare.load_findings("no-such-branch", "params/tiny.yaml")


# ---------------------------------------------------------------- real runs

def test_the_findings_of_a_real_run_are_small_sorted_and_rounded(news_run):
    folder = news_run
    data = compare.findings(folder, run="news", title="news")
    text = compare.findings_json(data)
    assert len(text.encode("utf-8")) < 300_000
    assert text == compare.findings_json(json.loads(text))
    assert all(w == float(f"{w:.4g}") for t in data["topics"] for w in t["weights"])
    result = compare.compare(data, json.loads(text))
    assert compare.unchanged(result) and result["topics"]["shared_documents"] > 3000


def test_a_real_run_with_reordered_documents_gives_the_same_findings(make_sandbox, run_pipeline):
    """Two runs of one table, the second with its rows reversed: every topic stable, nothing moved or re-ranked."""
    raw = config.RAW_DIR / "commons" / "en.csv"
    if not raw.exists():
        pytest.skip("the commons corpus is not fetched (make data CORPUS=commons)")
    root = make_sandbox("reorder")
    table = pd.read_csv(raw, nrows=400)
    text = max(table.columns, key=lambda c: table[c].astype(str).str.len().mean())
    table = table.assign(row_id=[f"speech-{i}" for i in range(len(table))]).drop_duplicates(text)
    for name, rows in (("forward", table), ("backward", table.iloc[::-1])):
        (root / name).mkdir()  # one file name, since a table's ids are prefixed with its stem
        rows[["row_id", text]].to_csv(root / name / "speeches.csv", index=False)
    found = {}
    for name in ("forward", "backward"):
        params = {"title": name, "sources": [{"path": f"{name}/speeches.csv", "text_column": text,
                                              "id_column": "row_id"}],
                  "keywords": {"min_df": 3}, "topics": {"model": "nmf", "k": 5, "seeds": [0]}}
        (root / "params" / f"{name}.yaml").write_text(json.dumps(params))
        for stage in ("01-ingest", "02-tokenize", "03-keywords", "04-topics"):
            done = run_pipeline(root, "stage", f"params/{name}.yaml", stage)
            assert done.returncode == 0, done.stderr[-3000:]
        found[name] = compare.findings(root / "data" / "processed" / name, run="r")
    result = compare.compare(found["forward"], found["backward"])
    topics = result["topics"]
    assert result["same_corpus"] and compare.counts(result) == {"stable": 5}
    assert all(p["a"] == p["b"] and p["similarity"] >= 0.999 and p["terms_a"] == p["terms_b"] for p in topics["pairs"])
    assert all(p["moved"]["left"] == p["moved"]["joined"] == 0 for p in topics["pairs"])
    assert all(r["change"] == 0 for r in result["keyness"]["rows"])
    assert not result["vocabulary"]["added"] and not result["vocabulary"]["dropped"]
    # NMF's coordinate descent stops at a tolerance, so the row order moves a weight in its third
    # digit (measured: prevalence by at most 0.001); no term, rank, class or dominant topic changes.
    assert all(abs(p["prevalence_change"]) <= 0.002 for p in topics["pairs"])


def test_the_index_links_comparisons_and_lists_no_card_for_them(tmp_path, monkeypatch):
    from newslens.report import index

    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path)
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "05-summary.html").write_text("<html></html>")
    (tmp_path / "compare").mkdir()
    (tmp_path / "compare" / "tiny--tiny@HEAD-5.html").write_text("<html></html>")
    page = index.write_index().read_text(encoding="utf-8")
    assert '<h2>Comparisons</h2>' in page and 'href="compare/tiny--tiny@HEAD-5.html"' in page
    assert "tiny against tiny@HEAD-5" in page and "run <code>compare</code>" not in page


def test_the_command_line_says_what_is_wrong():
    import sys

    done = subprocess.run([sys.executable, "-m", "newslens", "compare", "params/never-built.yaml",
                           "HEAD"], cwd=config.PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("error: run 'never-built' has not been built") and "Traceback" not in done.stderr


@pytest.mark.browser
def test_the_comparison_page_works_offline_and_keeps_corpus_text_inert(browser_page, tmp_path):
    from newslens.report import markup, views

    hostile = "<img src=x onerror=alert(1)></script>"
    many = [f"term{i:03d}" for i in range(40)]
    before = findings({1: TAX, 2: WAR}, dominant=DOCS, keyness={"left": ["tax", hostile]}, vocabulary=["tax", *many])
    after = findings({1: {**TAX, hostile: 0.3}, 2: WAR}, dominant=DOCS, keyness={"left": [hostile, "tax"]},
                     vocabulary=["tax", hostile])
    result = compare.compare(before, after)
    parts = []
    for kind, content in compare_page.report_parts(result, "before", "after"):
        parts.append(f"<h2>{markup.escape(content)}</h2>" if kind == "heading" else
                      f"<p>{markup.escape(content)}</p>" if kind == "text" else
                      markup.table_html(content, numeric_format=compare_page.NUMERIC_FORMAT))
    css = "".join((views.TEMPLATES_DIR / name).read_text(encoding="utf-8") for name in ("newslens.css", "views.css"))
    path = tmp_path / "compare.html"
    path.write_text(views.finish_page(f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>t</title>"
                                      f"<style>{css}</style></head><body><main>{''.join(parts)}</main></body></html>\n"),
                    encoding="utf-8")
    page, seen = browser_page(path)
    vocabulary = page.locator('[data-view="table"]').last
    assert vocabulary.locator("tbody tr").count() == 41  # every added and dropped term, not the static 15
    vocabulary.locator("input[type=search]").fill("onerror")
    assert vocabulary.locator("tbody tr").count() == 1 and hostile in vocabulary.locator("tbody tr").text_content()
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    shots = config.BUILD_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "compare-view.png"), full_page=True)
    assert seen["requests"] == [] and seen["errors"] == [] and seen["dialogs"] == []
