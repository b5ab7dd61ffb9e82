"""Compare two runs: their topics aligned, keyness ranks, vocabulary, and the documents that moved.

A run's findings are summed up in ``reports/<run>/findings.json`` (:func:`write_findings`, a
pipeline step after the stages): the topics with their top terms, weights and prevalence,
each document's dominant topic, each group's keyness list, the kept vocabulary, and the
run's limits (``limits``: the dated span, whether the focus lies outside it, the similarity
floor; absent in findings written before stage 03 measured them). The file
is small, deterministic and committed, so a run can also be compared with itself as it was
at an earlier revision (``git show REV:reports/<run>/findings.json``).

Topics are aligned by optimal matching (the Hungarian method, by the one matcher
:func:`newslens.analysis.matching.optimal_pairs`) on their similarity: the cosine between two
topics' top-term weight vectors over the union of their terms. Each topic is then classed
(:func:`classify`) with the thresholds :data:`STABLE` and :data:`LINKED`.

Example
-------
>>> a = {1: {"tax": 0.5, "budget": 0.4}, 2: {"war": 0.6, "army": 0.3}}
>>> b = {7: {"war": 0.5, "army": 0.4}, 8: {"tax": 0.5, "budget": 0.4, "spending": 0.1}}
>>> alignment = align(a, b)
>>> [(p["a"], p["b"], p["class_a"]) for p in alignment["pairs"]]
[(1, 8, 'stable'), (2, 7, 'stable')]
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from newslens import config, vcs
from newslens.analysis.limits import findings_limits, read_limits
from newslens.analysis.matching import optimal_pairs
from newslens.files import write_text
from newslens.precision import display_value

FINDINGS = "findings.json"
FORMAT = 1
STABLE = 0.7   # a matched pair at least this similar is the same topic
LINKED = 0.3   # two topics at least this similar share a theme (splits, merges, changes)
KEYNESS_TOP = 15  # terms of each group's keyness list kept in the findings
VOCABULARY_MIN_DF = 5  # the findings keep the kept terms found in at least this many documents
MOVED_EXAMPLES = 5
MEASURE = ("cosine similarity between two topics' top-term weight vectors, over the union of their "
           "top terms")


class CompareError(ValueError):
    """Two runs cannot be compared: one was never built, a revision lacks it, or they share no terms."""


# ---------------------------------------------------------------- a run's findings

def _dominant(doc_topics: pd.DataFrame) -> dict[str, list[str]]:
    """Each topic's documents: those whose largest weight (at display precision) is that topic's."""
    if doc_topics.empty:
        return {}
    frame = doc_topics.assign(shown=[display_value(w) for w in doc_topics["weight"]])
    frame = frame[frame["shown"] > 0].sort_values(["doc_id", "shown", "topic"], ascending=[True, False, True])
    top = frame.drop_duplicates("doc_id")
    return {str(topic): sorted(group["doc_id"].astype(str)) for topic, group in top.groupby("topic")}


def findings(folder: Path, *, run: str, title: str = "") -> dict[str, Any]:
    """The findings of a run from its processed data (``folder``): small, sorted, at display precision."""
    folder = Path(folder)
    needed = ["documents.parquet", "vocabulary.parquet", "keyness.parquet", "topic_terms.parquet",
              "topics.csv", "doc_topics.parquet"]
    missing = [name for name in needed if not (folder / name).exists()]
    if missing:
        raise CompareError(f"run {run!r} has not been built: {', '.join(missing)} missing in "
                           f"{config.relative_to_root(folder)}; run `make report PARAMS=params/{run}.yaml`")
    doc_ids = sorted(pd.read_parquet(folder / "documents.parquet", columns=["doc_id"])["doc_id"].astype(str))
    terms = pd.read_parquet(folder / "topic_terms.parquet").sort_values(["topic", "rank"])
    table = pd.read_csv(folder / "topics.csv")
    prevalence = dict(zip(table["topic"].astype(int), table["prevalence"].astype(float)))
    topics = [{"id": int(topic), "terms": group["term"].astype(str).tolist(),
               "weights": [display_value(w) for w in group["weight"]],
               "prevalence": display_value(prevalence.get(int(topic), 0.0))}
              for topic, group in terms.groupby("topic")]
    keyness = pd.read_parquet(folder / "keyness.parquet")
    keyness = keyness[(keyness["by"] == "group") & (keyness["direction"] == "over")].sort_values(["group", "rank"])
    vocabulary = pd.read_parquet(folder / "vocabulary.parquet")
    if "display" not in vocabulary:  # a vocabulary without display forms shows its terms as stored
        vocabulary["display"] = vocabulary["term"]
    kept = vocabulary[vocabulary["kept"]].sort_values(["df", "term"], ascending=[False, True])
    focus = folder / "focus_keywords.csv"
    focus_terms = (pd.read_csv(focus, keep_default_na=False).sort_values("rank")["term"].astype(str).tolist()
                   if focus.exists() and focus.stat().st_size else [])
    data = {
        "format": FORMAT, "run": run, "title": title,
        "corpus": {"documents": len(doc_ids),
                   "doc_ids_sha256": hashlib.sha256("\n".join(doc_ids).encode("utf-8")).hexdigest()},
        "topics": topics,
        "dominant": _dominant(pd.read_parquet(folder / "doc_topics.parquet")),
        "keyness": {str(group): frame["term"].astype(str).tolist()[:KEYNESS_TOP]
                    for group, frame in keyness.groupby("group")},
        "focus_keywords": focus_terms,
        "vocabulary": {"kept": int(len(kept)), "min_df": VOCABULARY_MIN_DF,
                       "terms": kept[kept["df"] >= VOCABULARY_MIN_DF]["term"].astype(str).tolist()},
    }
    # Each listed term's display form where it differs from the stored one ("white_house": "White
    # House"), so the comparison and sensitivity pages never show a stored form: every term of the
    # topics, keyness and focus lists, and of the vocabulary list those whose form differs beyond case.
    named = ({t for topic in topics for t in topic["terms"]} | {t for ts in data["keyness"].values() for t in ts}
             | set(focus_terms))
    differs = vocabulary["term"] != vocabulary["display"]
    beyond_case = vocabulary["term"] != vocabulary["display"].str.lower()
    shown = vocabulary[differs & (vocabulary["term"].isin(named)
                                  | (vocabulary["term"].isin(set(data["vocabulary"]["terms"])) & beyond_case))]
    data["display"] = dict(sorted(zip(shown["term"].astype(str), shown["display"].astype(str))))
    # What the run cannot say (the focus outside the corpus's span, the similarity floor); a run
    # built before stage 03 measured them has none, and comparisons never read them.
    limits = findings_limits(read_limits(folder / "limits.json"))
    if limits is not None:
        data["limits"] = limits
    return data


def findings_json(data: dict[str, Any]) -> str:
    """Findings as committed: sorted keys, one list item a line (readable diffs), no NaN."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=0, allow_nan=False) + "\n"


def write_findings(params_file: str) -> Path:
    """Write ``reports/<run>/findings.json`` from ``data/processed/<run>/``."""
    from newslens.params import load_run

    run = load_run(params_file)
    data = findings(run.processed_dir, run=run.name, title=run.params.title)
    return write_text(run.reports_dir / FINDINGS, findings_json(data))


# ---------------------------------------------------------------- which findings

def side_label(spec: str, other: str | None = None) -> str:
    """A side's short name: the run (``news``) or the run at a revision (``news@HEAD~5``)."""
    path = Path(spec)
    if spec.endswith(".yaml"):
        return path.stem
    if spec.endswith(".json"):
        return str(load_findings(spec)["run"])
    return f"{Path(other).stem if other else '?'}@{spec}"


def load_findings(spec: str, other: str | None = None) -> dict[str, Any]:
    """One side of a comparison: a params file (its built findings) or a git revision of ``other``'s run.

    ``other`` is the params file of the other side, which names the run a bare revision means.
    A findings file itself (``build/sensitivity/news/lemmas-off/findings.json``, a variant) also works.
    """
    if spec.endswith(".json"):
        path = config.resolve_path(spec)
        if not path.exists():
            raise CompareError(f"findings file {spec} does not exist")
        return json.loads(path.read_text(encoding="utf-8"))
    if spec.endswith(".yaml"):
        run = Path(spec).stem
        path = config.reports_dir(run) / FINDINGS
        if not path.exists():
            raise CompareError(f"run {run!r} has not been built: {config.relative_to_root(path)} does not "
                               f"exist; run `make report PARAMS={spec}` (make compare builds it)")
        return json.loads(path.read_text(encoding="utf-8"))
    if other is None or not other.endswith(".yaml"):  # a revision of which run?
        raise CompareError(f"{spec!r} is a revision: the other side must be a params file, which names the run")
    run = Path(other).stem
    if not vcs.is_revision(spec):
        raise CompareError(f"{spec!r} is neither a params file (.yaml) nor a git revision")
    text = vcs.show(spec, f"reports/{run}/{FINDINGS}")
    if text is None:
        has_run = vcs.show(spec, f"reports/{run}/topics.json") is not None
        why = (f"reports/{run}/ at {spec} predates {FINDINGS} (written since runs record their findings); "
               "compare with a later revision" if has_run else f"revision {spec} has no run {run!r}")
        raise CompareError(why)
    return json.loads(text)


# ---------------------------------------------------------------- topics

def similarity(a: dict[int, dict[str, float]], b: dict[int, dict[str, float]]) -> np.ndarray:
    """Cosine similarity of every A topic with every B topic, over the union of their top terms."""
    vocabulary = sorted({t for side in (a, b) for weights in side.values() for t in weights})
    index = {t: i for i, t in enumerate(vocabulary)}

    def matrix(side):
        out = np.zeros((len(side), len(vocabulary)))
        for row, topic in enumerate(sorted(side)):
            for term, weight in side[topic].items():
                out[row, index[term]] = weight
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)

    # Rounded, so that the last bits of a sum (which differ between CPUs) do not reach the matching.
    return np.round(matrix(a) @ matrix(b).T, 6)


def classify(sim: np.ndarray, pairs: list[tuple[int, int]]) -> tuple[list[str], list[str]]:
    """The class of each A topic and each B topic, from the similarities and the matching.

    * split: an A topic linked (similarity ≥ LINKED) to two or more B topics that are linked to it
      alone; those B topics are its parts, classed split too;
    * merged: the mirror image, two or more A topics linked to one B topic, linked to it alone;
    * vanished (A) or new (B): linked to no topic of the other side;
    * stable: matched, similarity ≥ STABLE; changed: every other topic.
    """
    linked = sim >= LINKED
    degree_a, degree_b = linked.sum(axis=1), linked.sum(axis=0)
    class_a = ["changed"] * sim.shape[0]
    class_b = ["changed"] * sim.shape[1]
    for i, j in pairs:
        if sim[i, j] >= STABLE:
            class_a[i] = class_b[j] = "stable"
    for i in range(sim.shape[0]):
        parts = [j for j in np.flatnonzero(linked[i]) if degree_b[j] == 1]
        if len(parts) >= 2:
            class_a[i] = "split"
            for j in parts:
                class_b[j] = "split"
    for j in range(sim.shape[1]):
        parts = [i for i in np.flatnonzero(linked[:, j]) if degree_a[i] == 1]
        if len(parts) >= 2:
            class_b[j] = "merged"
            for i in parts:
                class_a[i] = "merged"
    for i in np.flatnonzero(degree_a == 0):
        class_a[i] = "vanished"
    for j in np.flatnonzero(degree_b == 0):
        class_b[j] = "new"
    return class_a, class_b


def align(a: dict[int, dict[str, float]], b: dict[int, dict[str, float]]) -> dict[str, Any]:
    """Topics of A and B aligned: the Hungarian pairs with their similarity, and every topic's class.

    ``a`` and ``b`` map a topic id to its top terms' weights. Pairs below LINKED are not
    matches: such topics are listed alone. A and B swapped give the mirror result.
    """
    ids_a, ids_b = sorted(a), sorted(b)
    sim = similarity(a, b)
    key = lambda side: json.dumps(sorted((t, sorted(w.items())) for t, w in side.items()))
    matched = [(i, j) for i, j in optimal_pairs(sim, key(a), key(b)) if sim[i, j] >= LINKED]
    class_a, class_b = classify(sim, matched)
    pairs = [{"a": ids_a[i], "b": ids_b[j], "similarity": display_value(sim[i, j]),
              "class_a": class_a[i], "class_b": class_b[j]} for i, j in matched]
    paired_a, paired_b = {i for i, _ in matched}, {j for _, j in matched}

    def best(row):
        return (int(np.argmax(row)), display_value(float(np.max(row)))) if row.size else (None, 0.0)

    alone_a = [{"a": ids_a[i], "class": class_a[i], "closest": ids_b[best(sim[i])[0]] if sim.shape[1] else None,
                "similarity": best(sim[i])[1]} for i in range(len(ids_a)) if i not in paired_a]
    alone_b = [{"b": ids_b[j], "class": class_b[j], "closest": ids_a[best(sim[:, j])[0]] if sim.shape[0] else None,
                "similarity": best(sim[:, j])[1]} for j in range(len(ids_b)) if j not in paired_b]
    return {"pairs": pairs, "alone_a": alone_a, "alone_b": alone_b,
            "classes_a": dict(zip(ids_a, class_a)), "classes_b": dict(zip(ids_b, class_b)),
            "similarity": sim}


def _weights(data: dict[str, Any]) -> dict[int, dict[str, float]]:
    return {t["id"]: dict(zip(t["terms"], t["weights"])) for t in data["topics"]}


def _documents(data: dict[str, Any]) -> set[str]:
    return {doc for docs in data["dominant"].values() for doc in docs}


def _moved(dominant_a: dict, dominant_b: dict, shared: set[str], pair: dict) -> dict[str, Any]:
    """Shared documents whose dominant topic is in the pair on one side only."""
    in_a = set(dominant_a.get(str(pair["a"]), ())) & shared
    in_b = set(dominant_b.get(str(pair["b"]), ())) & shared
    left, joined = sorted(in_a - in_b), sorted(in_b - in_a)
    return {"stayed": len(in_a & in_b), "left": len(left), "joined": len(joined),
            "left_examples": left[:MOVED_EXAMPLES], "joined_examples": joined[:MOVED_EXAMPLES]}


def compare_topics(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Aligned topics with term overlap, prevalence change and (same corpus) documents moved."""
    weights_a, weights_b = _weights(a), _weights(b)
    if not set(t for w in weights_a.values() for t in w) & set(t for w in weights_b.values() for t in w):
        raise CompareError(f"runs {a['run']!r} and {b['run']!r} have no top terms in common: their topics "
                           "cannot be aligned (different languages, or nothing kept?)")
    alignment = align(weights_a, weights_b)
    shared = _documents(a) & _documents(b)  # the documents with a dominant topic in both runs
    prevalence_a = {t["id"]: t["prevalence"] for t in a["topics"]}
    prevalence_b = {t["id"]: t["prevalence"] for t in b["topics"]}
    for pair in alignment["pairs"]:
        terms_a, terms_b = set(weights_a[pair["a"]]), set(weights_b[pair["b"]])
        pair["shared_terms"] = sorted(terms_a & terms_b, key=lambda t: -weights_a[pair["a"]][t])
        pair["overlap"] = display_value(len(terms_a & terms_b) / len(terms_a | terms_b))
        pair["terms_a"], pair["terms_b"] = list(weights_a[pair["a"]]), list(weights_b[pair["b"]])
        pair["prevalence_a"], pair["prevalence_b"] = prevalence_a[pair["a"]], prevalence_b[pair["b"]]
        pair["prevalence_change"] = display_value(prevalence_b[pair["b"]] - prevalence_a[pair["a"]])
        pair["moved"] = _moved(a["dominant"], b["dominant"], shared, pair) if shared else None
    for alone, side, weights in ((alignment["alone_a"], "a", weights_a), (alignment["alone_b"], "b", weights_b)):
        for item in alone:
            item["terms"] = list(weights[item[side]])
    alignment["shared_documents"] = len(shared)
    alignment.pop("similarity")
    return alignment


# ---------------------------------------------------------------- keyness and vocabulary

def compare_keyness(a: dict[str, Any], b: dict[str, Any], top: int = 10) -> dict[str, Any]:
    """Per group in both runs: the rank in A and in B of each term in either top ``top``."""
    rows = []
    for group in sorted(set(a["keyness"]) & set(b["keyness"])):
        rank_a = {t: r for r, t in enumerate(a["keyness"][group], 1)}
        rank_b = {t: r for r, t in enumerate(b["keyness"][group], 1)}
        terms = dict.fromkeys([*a["keyness"][group][:top], *b["keyness"][group][:top]])
        for term in terms:
            ra, rb = rank_a.get(term), rank_b.get(term)
            rows.append({"group": group, "term": term, "rank_a": ra, "rank_b": rb,
                         "change": (ra - rb) if ra and rb else None})
    return {"rows": rows, "only_a": sorted(set(a["keyness"]) - set(b["keyness"])),
            "only_b": sorted(set(b["keyness"]) - set(a["keyness"]))}


def compare_vocabulary(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Kept terms (in at least the findings' min_df documents) added in B and dropped from A."""
    terms_a, terms_b = a["vocabulary"]["terms"], b["vocabulary"]["terms"]
    set_a, set_b = set(terms_a), set(terms_b)
    return {"kept_a": a["vocabulary"]["kept"], "kept_b": b["vocabulary"]["kept"],
            "min_df": max(a["vocabulary"]["min_df"], b["vocabulary"]["min_df"]),
            "common": len(set_a & set_b),
            "added": [t for t in terms_b if t not in set_a], "dropped": [t for t in terms_a if t not in set_b]}


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The whole comparison of two runs' findings."""
    vocabulary = compare_vocabulary(a, b)
    if not vocabulary["common"] and a["vocabulary"]["terms"] and b["vocabulary"]["terms"]:
        raise CompareError(f"runs {a['run']!r} and {b['run']!r} have no kept terms in common: there is "
                           "nothing to compare (different languages?)")
    return {"a": {k: a[k] for k in ("run", "title", "corpus")}, "b": {k: b[k] for k in ("run", "title", "corpus")},
            "same_corpus": a["corpus"]["doc_ids_sha256"] == b["corpus"]["doc_ids_sha256"],
            "topics": compare_topics(a, b), "keyness": compare_keyness(a, b), "vocabulary": vocabulary,
            "display": {**a.get("display", {}), **b.get("display", {})}}


def shown_term(term: str, display: dict[str, str]) -> str:
    """A term as a reader reads it: its display form, else (findings written before they carried
    display forms) the stored form with spaces for the phrase joiner.

    >>> shown_term("white_house", {"white_house": "White House"}), shown_term("health_care", {})
    ('White House', 'health care')
    """
    return display.get(term, term.replace("_", " "))


def counts(result: dict[str, Any]) -> dict[str, int]:
    """How many topics of each class, on both sides (a stable pair counts once)."""
    out: dict[str, int] = {}
    topics = result["topics"]
    for cls in topics["classes_a"].values():
        out[cls] = out.get(cls, 0) + 1
    for cls in topics["classes_b"].values():
        if cls not in ("stable", "changed"):  # pairs are counted on A's side; B's parts and new ones here
            out[cls] = out.get(cls, 0) + 1
    return dict(sorted(out.items()))


def unchanged(result: dict[str, Any]) -> bool:
    """True when nothing differs: every topic stable, no rank change, no term added or dropped, none moved."""
    topics = result["topics"]
    return (all(c == "stable" for c in [*topics["classes_a"].values(), *topics["classes_b"].values()])
            and all(p["prevalence_change"] == 0 and p["similarity"] == 1 and
                    (p["moved"] is None or not (p["moved"]["left"] or p["moved"]["joined"]))
                    for p in topics["pairs"])
            and all(r["change"] == 0 for r in result["keyness"]["rows"])
            and not result["keyness"]["only_a"] and not result["keyness"]["only_b"]
            and not result["vocabulary"]["added"] and not result["vocabulary"]["dropped"])
