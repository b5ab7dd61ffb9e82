"""The summary's one line on robustness: how its findings hold across preprocessing variants.

``make sensitivity`` reruns the run under preprocessing variants and commits what held as
``reports/<run>/sensitivity.json``; this reads that file, so a clean build writes the same line.
"""

from __future__ import annotations

import json
from pathlib import Path

from newslens.report.prose import listed

# What each parameter a sensitivity variant changes is called in the robustness line.
_VARIANT_FACTORS = {"tokenize.lemmatize": "the lemmas", "tokenize.phrases": "the phrases",
                    "tokenize.stopword_max_df": "the stop-word threshold",
                    "keywords.min_df": "the minimum document frequency"}


def robustness_sentence(path: Path, focus_noun: str = "focus document") -> str | None:
    """One line on how the findings hold across preprocessing variants (``make sensitivity``), or None.

    It reads the committed ``reports/<run>/sensitivity.json``, so a clean build writes the same line.
    """
    if not path.exists():
        return None
    result = json.loads(path.read_text(encoding="utf-8"))
    n = result["variants"]
    if not n:
        return None
    parts = []
    keywords = result["focus_keywords"][:10]
    if keywords:
        held = sum(k["held"] == n for k in keywords)
        parts.append(f"{held} of the {focus_noun}'s {len(keywords)} top keywords hold in all {n} variants")
    topics = sorted(t["topic"] for t in result["topics"] if t["held"] >= n - 1)
    parts.append(f"topic{'s' if len(topics) != 1 else ''} {listed(topics)} hold{'s' if len(topics) == 1 else ''} "
                 f"in at least {n - 1}" if topics else f"no topic holds in {n - 1} or more")
    keyness = result["keyness"]
    if keyness:
        kept = sum(k["held"] == n for k in keyness)
        parts.append(f"{kept} of {len(keyness)} keyness terms stay in their group's list in all {n}")
    sentence = "; ".join(parts)
    factors = {key for variant in result.get("grid", []) for key in variant.get("changes", {})}
    changed = [name for key, name in _VARIANT_FACTORS.items() if key in factors] or ["the preprocessing"]
    return (f"Robustness: {sentence}. The {n} preprocessing variants change {listed(changed)} "
            "(see the sensitivity report).")
