"""How many topics have a formula among their top 3 terms, with the formula learner off and on.

    python benchmarks/formulas.py RUN.yaml [--k 20] [--seeds 0 1 2]

RUN.yaml is any run (its sources and settings; the run's own tokenize settings are used,
with ``formulas`` set off, then on). The documents are ingested, tokenized and modelled
in process (NMF on the run's TF-IDF settings), at the same k and seeds both times.

"Formula" in the count is the fixed list below, written down before the learner was run
on debate and independent of it: forms of address and procedure of the House of Commons.
A top term counts when it is on the list, or is a phrase all of whose parts are on the
list or are connector words (``hon_friend``, ``secretary_of_state``, ``point_of_order``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PARLIAMENTARY_FORMULAS = frozenset("""
hon right_hon friend friends gentleman gentlemen lady ladies member members house minister ministers
secretary speaker deputy chair order question questions answer debate point intervention
""".split())
CONNECTORS = frozenset({"of", "the", "and", "to", "for", "in", "on"})


def is_formula(term: str) -> bool:
    """On the fixed list, or a phrase made only of its words and connector words."""
    if term in PARLIAMENTARY_FORMULAS:
        return True
    parts = term.split("_")
    return len(parts) > 1 and all(p in PARLIAMENTARY_FORMULAS or p in CONNECTORS for p in parts) \
        and any(p in PARLIAMENTARY_FORMULAS for p in parts)


def tokenized_tfidf(documents, run_params, *, formulas_on: bool):
    """The run's tokens (formulas on or off) and their TF-IDF, in process."""
    from newslens.analysis.tfidf import fit_tfidf
    from newslens.text.tokenization import tokenize_documents

    settings = run_params.tokenize.model_copy(update={"formulas": formulas_on})
    result = tokenize_documents(documents, settings, run_params.language, n_jobs=1)
    by_doc: dict[str, list[str]] = {}
    for doc_id, sentence in zip(result.tokens["doc_id"], result.tokens["tokens"]):
        by_doc.setdefault(doc_id, []).extend(sentence)
    return result, fit_tfidf(list(by_doc), by_doc.__getitem__, run_params.keywords)


def top_terms(tfidf, *, k: int, seed: int) -> list[list[str]]:
    """Top 10 terms of each topic of an NMF fit, topics by prevalence."""
    import numpy as np

    from newslens.analysis import topics

    doc_topic, components = topics.fit_model("nmf", tfidf.matrix, k, seed)
    order = np.argsort(-topics.normalize_rows(doc_topic).mean(axis=0), kind="stable")
    return [list(tfidf.terms[np.argsort(-components[t], kind="stable")[:10]]) for t in order]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("params", type=Path, help="a run's params file")
    parser.add_argument("--k", type=int, default=20, help="topics per model (default 20)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="NMF seeds (default 0 1 2)")
    args = parser.parse_args(argv)

    from newslens.corpus.ingest import ingest
    from newslens.params import load_run

    run = load_run(str(args.params))
    documents = ingest(run.params).documents
    print(f"{run.name}: {len(documents):,} documents; k = {args.k}; seeds {args.seeds}")
    print("formula list:", ", ".join(sorted(PARLIAMENTARY_FORMULAS)))
    totals = {}
    for formulas_on in (False, True):
        label = "on" if formulas_on else "off"
        counted = 0
        result, tfidf = tokenized_tfidf(documents, run.params, formulas_on=formulas_on)
        for seed in args.seeds:
            terms = top_terms(tfidf, k=args.k, seed=seed)
            hits = sum(any(map(is_formula, topic[:3])) for topic in terms)
            counted += hits
            print(f"\nformulas {label}, seed {seed}: {hits} of {len(terms)} topics have a formula in their top 3")
            for number, topic in enumerate(terms, start=1):
                mark = "*" if any(map(is_formula, topic[:3])) else " "
                print(f" {mark} {number:2}  {', '.join(topic)}")
        learned = result.formulas.table
        print(f"\nlearned with formulas {label}: {len(learned)} "
              f"({', '.join(f'{k}: {n}' for k, n in learned['kind'].value_counts().items()) or 'none'}); "
              + "; ".join(result.formulas.notes))
        if len(learned):
            print("  " + ", ".join(learned["formula"]))
        totals[label] = counted
    n_topics = args.k * len(args.seeds)
    print(f"\ntopics with a formula in their top 3 (of {n_topics}, over {len(args.seeds)} seeds): "
          f"off {totals['off']}, on {totals['on']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
