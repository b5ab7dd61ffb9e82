"""Topic identities and labels: a topic keeps its id across reruns, and its human label with it.

Topics are ordered by prevalence, then matched to the last committed run's topics
(``reports/<run>/topics.json``) by the one matcher
(:func:`newslens.analysis.topic_quality.match_topics`: optimal pairs on top-term Jaccard
overlap), so a topic keeps its id across reruns and small changes. Labels
(``params/<run>.labels.yaml``) are keyed by those ids.
"""

from __future__ import annotations

import json
from pathlib import Path

from newslens.analysis.topic_quality import TopicsError, match_topics

MATCH_MIN_JACCARD = 0.2


def assign_ids(current: list[list[str]], previous: dict[int, list[str]]) -> list[int]:
    """Stable ids for the current topics (in prevalence order), reusing matched previous ids."""
    prev_ids = sorted(previous)
    matched = {c: prev_ids[p] for p, c, overlap in match_topics([previous[i] for i in prev_ids], current)
               if overlap >= MATCH_MIN_JACCARD}
    next_id = max(prev_ids, default=0) + 1
    ids = []
    for index in range(len(current)):
        if index in matched:
            ids.append(matched[index])
        else:
            ids.append(next_id)
            next_id += 1
    return ids


def load_identities(path: Path) -> dict[int, list[str]]:
    """The previous committed run's topics: stable id → top terms.

    Read from the last commit (``git show HEAD:<path>``) when the project is a git
    checkout, so trying other settings locally never shifts the ids that the
    committed labels refer to; otherwise from the file as it is on disk.
    """
    committed = _committed_text(path)
    if committed is None:
        if not path.exists():
            return {}
        committed = path.read_text(encoding="utf-8")
    data = json.loads(committed)
    return {int(topic["id"]): list(topic["terms"]) for topic in data.get("topics", [])}


def _committed_text(path: Path) -> str | None:
    """A file's content at HEAD, or None outside git or when it is not committed."""
    from newslens import config, vcs

    try:
        relative = Path(path).resolve().relative_to(config.PROJECT_ROOT).as_posix()
    except ValueError:
        return None
    return vcs.show("HEAD", relative)


def load_labels(path: Path, ids: list[int]) -> tuple[dict[int, str], list[str]]:
    """Human labels keyed by stable topic id, and the labels whose topic is gone.

    Raises :class:`TopicsError` on a malformed file: not a mapping, a key that is
    not a positive integer, or a label that is not a non-empty string.
    """
    import yaml

    if not path.exists():
        return {}, []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise TopicsError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TopicsError(f"{path.name}: expected a mapping of topic id → label, got {type(raw).__name__}")
    labels = {}
    for key, label in raw.items():
        if isinstance(key, bool) or not isinstance(key, int) or key < 1:
            raise TopicsError(f"{path.name}: topic id {key!r} is not a positive integer "
                              "(keys are the stable topic ids shown in the topics report)")
        if not isinstance(label, str) or not label.strip():
            raise TopicsError(f"{path.name}: label for topic {key} must be a non-empty string, got {label!r}")
        labels[key] = label.strip()
    return {k: v for k, v in labels.items() if k in ids}, unused_labels(labels, ids)


def unused_labels(labels: dict[int, str], ids: list[int]) -> list[str]:
    """One line (or none) naming the labels whose topic is not in this run.

    >>> unused_labels({3: "Brexit", 99: "Syria", 7: "Courts"}, [1, 3, 5])
    ['2 labels name topics this model does not have (7 “Courts”, 99 “Syria”): their topics disappeared in a refit, or the ids never existed; they are not used.']
    """
    unused = sorted(set(labels) - set(ids))
    if not unused:
        return []
    named = ", ".join(f"{key} “{labels[key]}”" for key in unused[:8]) + (", …" if len(unused) > 8 else "")
    if len(unused) == 1:
        return [f"1 label names a topic this model does not have ({named}): its topic disappeared in a refit, "
                "or the id never existed; it is not used."]
    return [f"{len(unused)} labels name topics this model does not have ({named}): their topics disappeared in "
            "a refit, or the ids never existed; they are not used."]
