"""Answers of the validation by hand, read back and scored (Chang et al. 2009).

A coder answers a run's items (:mod:`newslens.analysis.validation_items`) in
``reports/<run>/validate.html`` and downloads a CSV; a researcher places it under
``validation/<run>/``, committed with the project. This module reads every ``*.csv`` there,
refuses what does not fit (another run's answers, a malformed file, a coder who answered
twice: each with the file and the reason) and lists as stale the answers drawn from a model
that has since been refitted. Nothing refused enters the scores:

* **Model precision** of a topic: the share of its word-intrusion answers that found the
  intruder, with a Wilson 95% interval. A topic with at least :data:`MIN_ANSWERS` answers and a
  precision below :data:`UNREADABLE_BELOW` is marked as one the coders could not read.
* **Topic log odds** of a topic-intrusion answer: log θ(d, intruder) − log θ(d, chosen), 0 when
  the coder found the intruder and below 0 otherwise (the further below, the more the chosen
  topic belongs to the document). A share below :data:`SHARE_FLOOR` counts as that floor: the
  mixtures hold zeros, whose logarithm is minus infinity. Its mean per topic (the document's
  main topic) and overall, with 95% bootstrap intervals over items.
* **Agreement** between coders, with two or more: Krippendorff's alpha (nominal, the option each
  coder chose per item), from the ``krippendorff`` package, per kind of item.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


MAX_OPTIONS = 6            # a word item's options (top five and the intruder); a topic item has four
OPTION_COLUMNS = [f"option_{i}" for i in range(1, MAX_OPTIONS + 1)]
COLUMNS = ["run", "coder", "model", "item", "kind", "topic", "doc_id", *OPTION_COLUMNS, "intruder", "chosen"]
KINDS = ("word", "topic")
UNREADABLE_BELOW = 0.5     # a topic whose coders found the intruder less often than this ...
MIN_ANSWERS = 3            # ... in at least this many answers is marked as not readable
SHARE_FLOOR = 0.001        # a topic's share of a document in the log odds is at least this
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 0
Z95 = 1.959963984540054    # the normal quantile of a 95% interval
DIGITS = 2                 # precision and log odds are shown with two decimals
HASH_CHARS = 12            # the model hash's hex digits in file names and answers
SECONDS = {"word": 10, "topic": 30}  # a coder's time per item, for the estimate the page shows


class Refused(ValueError):
    """An answers file that does not fit: its reason, for the report's list."""


@dataclass
class Validation:
    """What the answers under ``validation/<run>/`` say about the run's topics."""

    run: str
    model: str                      # the hash of the model the reports show
    folder: Path                    # validation/<run>/
    files: pd.DataFrame             # file, coder, status (accepted, refused, stale), reason, answers
    answers: pd.DataFrame           # the accepted answers (COLUMNS, with correct and log_odds)
    words: pd.DataFrame             # per topic: answers, coders, found, precision, low, high, unreadable
    odds: pd.DataFrame              # per topic: answers, items, log_odds, low, high
    overall: dict[str, Any] = field(default_factory=dict)
    agreement: dict[str, float | None] = field(default_factory=dict)

    @property
    def validated(self) -> bool:
        return not self.answers.empty


def model_hash(identities: dict[str, Any]) -> str:
    """The first 12 hex digits of the sha256 of the model's identities (model, k and each topic's terms).

    ``reports/<run>/topics.json`` records them; a refit that changes any topic's top terms
    changes the hash, and answers drawn from the old model become stale.

    >>> model_hash({"k": 2, "model": "nmf", "topics": [{"id": 1, "terms": ["a"]}, {"id": 2, "terms": ["b"]}]})
    '5178d4db2283'
    """
    payload = {"model": identities.get("model"), "k": identities.get("k"), "topics": identities.get("topics")}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


# ---------------------------------------------------------------- reading a file

def read_answers(path: Path) -> pd.DataFrame:
    """One coder's answers file as a table of :data:`COLUMNS` (all text); :class:`Refused` if malformed."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise Refused(f"not a readable CSV file ({exc})") from None
    if not rows:
        raise Refused("holds no answers")
    missing = [c for c in COLUMNS if c not in rows[0]]
    if missing:
        raise Refused(f"lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if any(None in row or any(v is None for v in row.values()) for row in rows):
        raise Refused("has rows with more or fewer cells than its header")
    answers = pd.DataFrame(rows, columns=list(rows[0]))[COLUMNS].astype(str)
    for column in ("run", "coder", "model"):
        values = answers[column].unique()
        if len(values) != 1 or not values[0].strip():
            raise Refused(f"its {column} is not one value in every row")
    if answers["item"].duplicated().any():
        raise Refused(f"answers item {answers.loc[answers['item'].duplicated(), 'item'].iloc[0]} twice")
    for row in answers.itertuples(index=False):
        options = [getattr(row, c) for c in OPTION_COLUMNS if getattr(row, c) != ""]
        if row.kind not in KINDS:
            raise Refused(f"item {row.item}: unknown kind {row.kind!r}")
        if row.intruder not in options or row.chosen not in options:
            raise Refused(f"item {row.item}: its {'intruder' if row.intruder not in options else 'answer'} "
                          f"is not among its options")
    return answers


def check_answers(answers: pd.DataFrame, run: str, model: str, mixture: pd.DataFrame) -> None:
    """:class:`Refused` if ``answers`` are another run's or name topics or documents the model lacks."""
    if answers["run"].iloc[0] != run:
        raise Refused(f"answers for run {answers['run'].iloc[0]!r}, not {run!r}")
    if answers["model"].iloc[0] != model:
        return  # stale, not malformed: the caller lists it
    topics = {str(t) for t in mixture.columns}
    for row in answers.itertuples(index=False):
        if row.topic not in topics:
            raise Refused(f"item {row.item}: the model has no topic {row.topic!r}")
        if row.kind == "topic":
            options = [getattr(row, c) for c in OPTION_COLUMNS if getattr(row, c) != ""]
            if row.doc_id not in mixture.index:
                raise Refused(f"item {row.item}: the run has no document {row.doc_id!r}")
            if not set(options) <= topics:
                raise Refused(f"item {row.item}: its options are not the model's topics")


def collect(folder: Path, run: str, model: str, mixture: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every answers file of ``folder``: the accepted answers, and each file's status and reason."""
    status, accepted = [], {}
    for path in sorted(Path(folder).glob("*.csv")) if Path(folder).is_dir() else []:
        try:
            answers = read_answers(path)
            check_answers(answers, run, model, mixture)
        except Refused as exc:
            status.append({"file": path.name, "coder": "", "status": "refused", "reason": str(exc), "answers": 0})
            continue
        coder = answers["coder"].iloc[0]
        if answers["model"].iloc[0] != model:
            status.append({"file": path.name, "coder": coder, "status": "stale", "answers": len(answers),
                           "reason": f"drawn from model {answers['model'].iloc[0]}; the topics have been "
                                     f"refitted since (model {model})"})
            continue
        accepted[path.name] = answers
        status.append({"file": path.name, "coder": coder, "status": "accepted", "reason": "", "answers": len(answers)})
    files = pd.DataFrame(status, columns=["file", "coder", "status", "reason", "answers"])
    by_coder = files[files["status"] == "accepted"].groupby("coder")["file"].apply(list)
    for coder, names in by_coder.items():
        if len(names) > 1:  # which of them counts is not ours to guess: none does
            refused = files["file"].isin(names)
            files.loc[refused, "status"] = "refused"
            files.loc[refused, "reason"] = f"coder {coder!r} answered more than once ({', '.join(names)})"
            for name in names:
                accepted.pop(name)
    frames = list(accepted.values())
    answers = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return answers, files


# ---------------------------------------------------------------- scores

def wilson(found: int, n: int) -> tuple[float, float]:
    """The Wilson score 95% interval of a proportion ``found / n`` (NaN for n = 0).

    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.4902, 0.9433]
    """
    if n == 0:
        return math.nan, math.nan
    p, z2 = found / n, Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At 0 and at n the bound is exactly the share; the formula leaves a rounding error there.
    return (0.0 if found == 0 else max(0.0, centre - half)), (1.0 if found == n else min(1.0, centre + half))


def bootstrap_mean(values: pd.Series, items: pd.Series, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """A 95% percentile interval of the mean of ``values``, resampling whole items (NaN with none)."""
    if values.empty:
        return math.nan, math.nan
    groups = [g.to_numpy(dtype=float) for _, g in values.groupby(items.to_numpy(), sort=True)]
    sums, counts = np.array([g.sum() for g in groups]), np.array([len(g) for g in groups])
    draws = np.random.default_rng(seed).integers(0, len(groups), size=(BOOTSTRAP_DRAWS, len(groups)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def log_odds(answers: pd.DataFrame, mixture: pd.DataFrame) -> pd.Series:
    """Each topic-intrusion answer's log θ(d, intruder) − log θ(d, chosen), shares floored at SHARE_FLOOR."""
    def share(doc_id: str, topic: str) -> float:
        return max(float(mixture.at[doc_id, int(topic)]), SHARE_FLOOR)

    return pd.Series([0.0 if row.chosen == row.intruder else
                      math.log(share(row.doc_id, row.intruder)) - math.log(share(row.doc_id, row.chosen))
                      for row in answers.itertuples(index=False)], index=answers.index, dtype=float)


def agreement(answers: pd.DataFrame) -> dict[str, float | None]:
    """Krippendorff's alpha (nominal) per kind of item: None with fewer than two coders, or no item
    answered by two, or when every answer is the same (alpha is then undefined)."""
    out: dict[str, float | None] = {}
    for kind in KINDS:
        part = answers[answers["kind"] == kind]
        shared = part.groupby("item")["coder"].nunique()
        if part["coder"].nunique() < 2 or not (shared >= 2).any():
            out[kind] = None
            continue
        import krippendorff

        table = part.pivot(index="coder", columns="item", values="chosen")
        codes = {value: i for i, value in enumerate(sorted(part["chosen"].unique()))}
        data = table.map(codes.get).to_numpy(dtype=float)  # missing answers: NaN
        try:
            value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
        except (ValueError, ZeroDivisionError):
            value = math.nan
        out[kind] = None if math.isnan(value) else round(value, DIGITS)
    return out


def score(answers: pd.DataFrame, mixture: pd.DataFrame, topics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Per topic model precision and topic log odds, and the overall figures, all rounded for display."""
    answers = answers.assign(correct=answers["chosen"] == answers["intruder"])
    words, odds = answers[answers["kind"] == "word"], answers[answers["kind"] == "topic"]
    odds = odds.assign(log_odds=log_odds(odds, mixture))
    word_rows, odds_rows = [], []
    for topic, label in zip(topics["topic"].astype(str), topics["label"]):
        mine = words[words["topic"] == topic]
        found, n = int(mine["correct"].sum()), len(mine)
        low, high = wilson(found, n)
        precision = found / n if n else math.nan
        word_rows.append({"topic": int(topic), "label": label, "answers": n, "coders": mine["coder"].nunique(),
                          "found": found, "precision": precision, "low": low, "high": high,
                          "unreadable": bool(n >= MIN_ANSWERS and precision < UNREADABLE_BELOW)})
        theirs = odds[odds["topic"] == topic]
        low, high = bootstrap_mean(theirs["log_odds"], theirs["item"])
        odds_rows.append({"topic": int(topic), "label": label, "answers": len(theirs),
                          "items": theirs["item"].nunique(),
                          "log_odds": theirs["log_odds"].mean() if len(theirs) else math.nan,
                          "low": low, "high": high})
    found, n = int(words["correct"].sum()), len(words)
    overall = {"coders": answers["coder"].nunique(), "word_answers": n, "topic_answers": len(odds),
               "word_items": words["item"].nunique(), "topic_items": odds["item"].nunique(),
               "precision": found / n if n else math.nan, "precision_ci": wilson(found, n),
               "log_odds": odds["log_odds"].mean() if len(odds) else math.nan,
               "log_odds_ci": bootstrap_mean(odds["log_odds"], odds["item"]),
               "topic_found": float(odds["correct"].mean()) if len(odds) else math.nan}
    rounding = ["precision", "low", "high", "log_odds"]
    word_table, odds_table = pd.DataFrame(word_rows), pd.DataFrame(odds_rows)
    for table in (word_table, odds_table):
        for column in set(rounding) & set(table.columns):
            table[column] = table[column].astype(float).round(DIGITS) + 0.0  # + 0.0: no "-0.00"
    overall = {k: (tuple(_shown(x) for x in v) if isinstance(v, tuple) else
                   _shown(v) if isinstance(v, float) else v) for k, v in overall.items()}
    return word_table, odds_table, overall


def _shown(value: float) -> float:
    """A float at display precision (two decimals), never -0.0."""
    return round(float(value), DIGITS) + 0.0


def validate(run: str, folder: Path, identities_path: Path, doc_topics_path: Path, topics_path: Path) -> Validation:
    """Read the answers under ``folder`` for the run's model and score those that fit."""
    identities = json.loads(Path(identities_path).read_text(encoding="utf-8"))
    model = model_hash(identities)
    topics = pd.read_csv(topics_path)
    mixture = answered_mixtures(doc_topics_path, answered_documents(folder), topics["topic"])
    answers, files = collect(folder, run, model, mixture)
    words, odds, overall = score(answers, mixture, topics)
    answers = answers.assign(correct=answers["chosen"] == answers["intruder"])
    return Validation(run, model, Path(folder), files, answers, words, odds, overall, agreement(answers))


def answered_documents(folder: Path) -> list[str]:
    """The documents any readable answers file under ``folder`` names, sorted (those it refuses are
    refused again, with their reason, when the answers are collected)."""
    named: set[str] = set()
    for path in sorted(Path(folder).glob("*.csv")) if Path(folder).is_dir() else []:
        try:
            named.update(read_answers(path)["doc_id"])
        except Refused:
            continue
    return sorted(named - {""})


def answered_mixtures(doc_topics_path: Path, doc_ids: list[str], topic_ids) -> pd.DataFrame:
    """Documents × topics (every topic of the model, ascending) of ``doc_ids``' mixtures, read from
    doc_topics.parquet with a filter: the answers name a few hundred documents, and the table has a
    row per document and topic of the whole corpus (1.5 million at 60,600 documents and k = 25)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    dataset = ds.dataset(doc_topics_path, format="parquet")
    wanted = pa.array(doc_ids, type=dataset.schema.field("doc_id").type)  # typed, also when empty
    table = dataset.to_table(columns=["doc_id", "topic", "weight"], filter=ds.field("doc_id").isin(wanted)).to_pandas()
    mixture = table.pivot(index="doc_id", columns="topic", values="weight")
    return mixture.reindex(columns=pd.Index(sorted(int(t) for t in set(topic_ids)), name="topic"))


def check(stage_run) -> Validation:
    """The validation of a stage's run (topics or summary): its answers folder, its model and its topics."""
    def table(name: str) -> Path:  # the topics stage's own output, or a later stage's input
        return stage_run.processed_dir / name if name in stage_run.stage.outputs else stage_run.input(name)

    return validate(stage_run.name, stage_run.run_file("validation"), stage_run.run_file("identities"),
                    table("doc_topics.parquet"), table("topics.csv"))
