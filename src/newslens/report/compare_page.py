"""The comparison page: what ``notebooks/compare.ipynb`` shows of two runs' comparison, in order.

:func:`newslens.analysis.compare.compare` computes the comparison; :func:`report_parts` turns it
into the page's headings, sentences and tables, and :func:`report_name` names the page's file.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from newslens.analysis import compare

CLASS_ORDER = ("stable", "changed", "split", "merged", "vanished", "new")


def _terms(terms: list[str], n: int = 4, display: dict[str, str] | None = None) -> str:
    return ", ".join(compare.shown_term(t, display or {}) for t in terms[:n])


def topics_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per aligned pair, then the topics of one side alone."""
    display = result.get("display", {})
    _shown = lambda terms: _terms(terms, display=display)
    rows = []
    for p in result["topics"]["pairs"]:
        moved = p["moved"]
        rows.append({"topic A": p["a"], "topic B": p["b"], "class": p["class_a"] if p["class_a"] == p["class_b"]
                     else f"{p['class_a']} / {p['class_b']}", "similarity": p["similarity"],
                     "overlap": p["overlap"], "prev. A": p["prevalence_a"],
                     "prev. B": p["prevalence_b"], "Δ prev.": p["prevalence_change"],
                     "left": moved["left"] if moved else None, "joined": moved["joined"] if moved else None,
                     "terms A": _shown(p["terms_a"]), "terms B": _shown(p["terms_b"])})
    for side in ("a", "b"):
        for item in result["topics"][f"alone_{side}"]:
            rows.append({"topic A": item["a"] if side == "a" else None,
                         "topic B": item["b"] if side == "b" else None, "class": item["class"],
                         "similarity": item["similarity"], "terms A": _shown(item["terms"]) if side == "a" else "",
                         "terms B": _shown(item["terms"]) if side == "b" else ""})
    return pd.DataFrame(rows)  # counts with gaps are floats (NaN shows as a blank cell), shown as integers


def summary_sentence(result: dict[str, Any], label_a: str, label_b: str) -> str:
    """What the comparison found, in one sentence."""
    found = compare.counts(result)
    parts = [f"{found[c]} {c}" for c in CLASS_ORDER if found.get(c)]
    same = ("the same documents" if result["same_corpus"] else
            f"{result['topics']['shared_documents']:,} shared documents" if result["topics"]["shared_documents"]
            else "no shared documents (different corpora)")
    vocabulary = result["vocabulary"]
    return (f"{label_a} ({len(result['topics']['classes_a'])} topics) against {label_b} "
            f"({len(result['topics']['classes_b'])} topics), on {same}: topics {', '.join(parts) or 'none'}; "
            f"{len(vocabulary['added']):,} terms added and {len(vocabulary['dropped']):,} dropped.")


def report_parts(result: dict[str, Any], label_a: str, label_b: str) -> list[tuple[str, Any]]:
    """What the compare notebook shows, in order: ("heading" | "text" | "table", content)."""
    topics, vocabulary = result["topics"], result["vocabulary"]
    parts: list[tuple[str, Any]] = [("text", summary_sentence(result, label_a, label_b)), ("heading", "Topics")]
    parts.append(("text", f"Topics are paired one to one so that the pairs are as similar as possible overall, "
                          f"the {compare.MEASURE}. A matched pair at least {compare.STABLE} similar is stable; two topics at "
                          f"least {compare.LINKED} similar are linked. A topic linked to two or more topics of the other "
                          "run that are linked to it alone was split (A to B) or merged (B from A); a topic "
                          "linked to none vanished (A) or is new (B); every other topic changed. Overlap is "
                          "the share of the pair's top terms they have in common (Jaccard); prev. is each topic's "
                          "prevalence, Δ prev. its change from A to B."))
    parts.append(("table", topics_frame(result)))
    if result["topics"]["shared_documents"]:
        parts.append(("text", f"Documents moved, among the {topics['shared_documents']:,} shared documents with a "
                              "dominant topic in both runs: left, those whose dominant topic is the pair's topic in A "
                              "and not in B; joined, the reverse."))
        examples = [{"topic A": p["a"], "topic B": p["b"], "moved": way, "documents": ", ".join(docs)}
                    for p in topics["pairs"] if p["moved"]
                    for way, docs in (("left", p["moved"]["left_examples"]), ("joined", p["moved"]["joined_examples"]))
                    if docs]
        if examples:
            parts.append(("table", pd.DataFrame(examples)))
    else:
        parts.append(("text", "The two runs share no documents, so no document can move between topics."))
    parts.append(("heading", "Keyness"))
    display = result.get("display", {})
    keyness = pd.DataFrame(result["keyness"]["rows"], columns=["group", "term", "rank_a", "rank_b", "change"])
    keyness["term"] = keyness["term"].map(lambda t: compare.shown_term(t, display))
    keyness[["rank_a", "rank_b", "change"]] = keyness[["rank_a", "rank_b", "change"]].astype(float)
    parts.append(("text", "Per group in both runs, each term in either run's top 10 of the group's keyness list, "
                          "with its rank in A and B (blank: beyond the list's top "
                          f"{compare.KEYNESS_TOP}); change is how many places it rose in B."))
    parts.append(("table", keyness.rename(columns={"rank_a": "rank A", "rank_b": "rank B"})))
    for side, groups in (("A", result["keyness"]["only_a"]), ("B", result["keyness"]["only_b"])):
        if groups:
            parts.append(("text", f"Groups only in {side}: {', '.join(groups)}."))
    parts.append(("heading", "Vocabulary"))
    parts.append(("text", f"Kept terms: {vocabulary['kept_a']:,} in A, {vocabulary['kept_b']:,} in B. Among the "
                          f"kept terms found in at least {vocabulary['min_df']} documents, "
                          f"{vocabulary['common']:,} are in both, {len(vocabulary['added']):,} were added in B and "
                          f"{len(vocabulary['dropped']):,} dropped from A (most frequent first)."))
    terms = pd.DataFrame({"change": ["added"] * len(vocabulary["added"]) + ["dropped"] * len(vocabulary["dropped"]),
                          "term": [compare.shown_term(t, display) for t in vocabulary["added"] + vocabulary["dropped"]]})
    if len(terms):
        parts.append(("table", terms))
    return parts


def report_name(label_a: str, label_b: str) -> str:
    """The report's file stem: ``<a>--<b>``, with a revision's ``~^:`` spelt safely."""
    import re

    safe = lambda s: re.sub(r"[^A-Za-z0-9._@-]+", "-", s)
    return f"{safe(label_a)}--{safe(label_b)}"


COLUMN_CLASSES = {"class": "nowrap", "moved": "nowrap"}  # one-word labels never break mid-word
NUMERIC_FORMAT = {"similarity": ".2f", "overlap": ".2f", "prev. A": ".1%", "prev. B": ".1%", "Δ prev.": "+.1%",
                  "change": "+.0f", "topic A": ".0f", "topic B": ".0f", "left": ",.0f", "joined": ",.0f",
                  "rank A": ".0f", "rank B": ".0f"}
