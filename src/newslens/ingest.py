"""Stage 01: read every source, clean, split into units, deduplicate.

Outputs ``documents.parquet`` (one row per document or unit) and
``ingest_log.csv``, which accounts for every input file and row: ingested,
merged as a duplicate, skipped (with the reason) or read as metadata.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from newslens import config
from newslens.clean import clean_text, clean_title
from newslens.params import RunParams
from newslens.sentences import split_paragraphs, split_text_sentences
from newslens.sources import RawDocument, Skipped, read_source

logger = logging.getLogger(__name__)

DOCUMENT_COLUMNS = [
    "doc_id", "parent_id", "unit_index", "source", "location", "group", "title",
    "date", "dateline", "text", "n_chars", "n_words", "encoding", "near_duplicate_of",
]
LOG_COLUMNS = ["source", "location", "status", "reason", "doc_id"]
NEAR_DUPLICATE_JACCARD = 0.8
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]+")


@dataclass
class IngestResult:
    """What the ingest stage produced, before it is written."""

    documents: pd.DataFrame
    log: pd.DataFrame
    changes: pd.DataFrame  # one row per repair kind: kind, count
    examples: pd.DataFrame  # a few before/after pairs of cleaned texts
    date_problems: list[str] = field(default_factory=list)


def base_doc_id(raw: RawDocument) -> str:
    """A stable, readable id: the builtin or table id, a file's stem, or a content hash."""
    if raw.source.startswith("builtin:"):
        prefix = raw.source.split(":", 1)[1]
    else:
        prefix = raw.location.split(":", 1)[0].rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if raw.source_id is not None and ":" not in raw.location:
        return _ID_UNSAFE.sub("-", raw.source_id)
    if raw.source_id is not None:
        return f"{prefix}-{_ID_UNSAFE.sub('-', raw.source_id)}"
    digest = hashlib.sha1(raw.text.encode("utf-8")).hexdigest()[:12]
    return f"{prefix}-{digest}"


def split_units(text: str, unit: str) -> list[str]:
    """Cut a cleaned text into the run's units: the document, paragraphs or sentences."""
    if unit == "document":
        return [text]
    if unit == "paragraph":
        return split_paragraphs(text)
    return split_text_sentences(text)


def parse_dates(raw_dates: pd.Series) -> tuple[pd.Series, list[str]]:
    """Parse dates leniently to day precision; return the values that could not be parsed.

    A value with a UTC offset keeps its own calendar day; dates outside pandas' nanosecond
    range (1677-2262, e.g. a ``9999-12-31`` placeholder) count as unparseable.
    """
    try:
        parsed = pd.to_datetime(raw_dates, errors="coerce", format="mixed")
        parsed = parsed.dt.tz_localize(None) if getattr(parsed.dt, "tz", None) else parsed
    except ValueError:  # mixed UTC offsets, or offsets beside naive dates: parse one by one
        parsed = pd.to_datetime(raw_dates.map(lambda v: _local_time(pd.to_datetime(v, errors="coerce"))))
    parsed = parsed.dt.normalize()
    parsed = parsed.where((parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max))
    failed = raw_dates.notna() & parsed.isna()
    return parsed.astype("datetime64[ns]"), sorted(set(raw_dates[failed].astype(str)))


def _local_time(stamp):
    return stamp.tz_localize(None) if isinstance(stamp, pd.Timestamp) and stamp.tzinfo else stamp


def _fingerprint(text: str) -> str:
    return hashlib.sha1(" ".join(text.casefold().split()).encode("utf-8")).hexdigest()


def _unique_id(candidate: str, taken: set[str], text: str) -> str:
    if candidate not in taken:
        return candidate
    suffixed = f"{candidate}-{_fingerprint(text)[:8]}"
    counter = 2
    while suffixed in taken:
        suffixed = f"{candidate}-{_fingerprint(text)[:8]}-{counter}"
        counter += 1
    return suffixed


def _collect(items: Iterable[RawDocument | Skipped], unit: str, state: dict) -> None:
    """Clean, split and deduplicate one source's items into ``state``."""
    for item in items:
        if isinstance(item, Skipped):
            status = "metadata" if item.reason.startswith("sidecar metadata") else "skipped"
            state["log"].append((item.source, item.location, status, item.reason, None))
            continue
        cleaned = clean_text(item.text)
        state["changes"].update(cleaned.changes)
        if not cleaned.text.strip():
            state["log"].append((item.source, item.location, "skipped", "empty after cleaning", None))
            continue
        if cleaned.text != item.text.strip() and len(state["examples"]) < 200:
            state["examples"].append((item.location, item.text, cleaned.text, dict(cleaned.changes)))
        fingerprint = _fingerprint(cleaned.text)
        if fingerprint in state["seen"]:
            kept = state["seen"][fingerprint]
            state["log"].append((item.source, item.location, "duplicate", f"exact duplicate of {kept}", kept))
            continue
        doc_id = _unique_id(base_doc_id(item), state["ids"], cleaned.text)
        state["ids"].add(doc_id)
        state["seen"][fingerprint] = doc_id
        state["log"].append((item.source, item.location, "ingested", "", doc_id))
        units = split_units(cleaned.text, unit)
        for index, unit_text in enumerate(units):
            unit_id = doc_id if unit == "document" else f"{doc_id}#{unit[0]}{index + 1:03d}"
            state["rows"].append({
                "doc_id": unit_id, "parent_id": doc_id, "unit_index": index,
                "source": item.source, "location": item.location, "group": item.group,
                "title": clean_title(item.title), "date": item.date, "dateline": cleaned.dateline,
                "text": unit_text, "encoding": item.encoding,
            })


def ingest(params: RunParams) -> IngestResult:
    """Run the ingest stage in memory and return documents, log and cleaning summary."""
    state = {"rows": [], "log": [], "changes": Counter(), "examples": [], "seen": {}, "ids": set()}
    for source in params.sources:
        logger.info("reading %s", source.label)
        items = tqdm(read_source(source), desc=f"ingest {source.label}", unit="doc", mininterval=2)
        _collect(items, params.unit, state)
    documents = pd.DataFrame(state["rows"], columns=[c for c in DOCUMENT_COLUMNS
                                                     if c not in ("n_chars", "n_words", "near_duplicate_of")])
    documents["date"], date_problems = parse_dates(documents["date"])
    for value in date_problems:
        logger.warning("unparseable date %r: kept the document, date left empty", value)
    documents["n_chars"] = documents["text"].str.len().astype("int64")
    documents["n_words"] = documents["text"].str.split().str.len().astype("int64")
    documents["near_duplicate_of"] = flag_near_duplicates(documents)
    log = pd.DataFrame(state["log"], columns=LOG_COLUMNS)
    changes = pd.DataFrame(sorted(state["changes"].items()), columns=["kind", "count"])
    examples = pd.DataFrame(state["examples"], columns=["location", "before", "after", "changes"])
    logger.info("ingested %d documents; log has %d entries", len(documents), len(log))
    return IngestResult(documents[DOCUMENT_COLUMNS], log, changes, examples, date_problems)


def flag_near_duplicates(documents: pd.DataFrame, *, threshold: float = NEAR_DUPLICATE_JACCARD,
                         chunk_size: int = 2000) -> pd.Series:
    """For each document, the doc_id of an earlier near-duplicate (word 5-gram Jaccard ≥ threshold).

    Near-duplicates are flagged, not removed: wire copy republished with small
    edits is still a separate publication.
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    result = pd.Series([None] * len(documents), index=documents.index, dtype=object)
    if len(documents) < 2:
        return result
    shingles = HashingVectorizer(analyzer="word", ngram_range=(5, 5), n_features=2**22,
                                 binary=True, norm=None, alternate_sign=False,
                                 lowercase=True).transform(documents["text"])
    sizes = np.asarray(shingles.sum(axis=1)).ravel()
    doc_ids = documents["doc_id"].to_numpy()
    for start in range(0, shingles.shape[0], chunk_size):
        block = (shingles[start:start + chunk_size] @ shingles.T).tocoo()
        rows, cols, shared = block.row + start, block.col, block.data
        earlier = cols < rows
        rows, cols, shared = rows[earlier], cols[earlier], shared[earlier]
        union = sizes[rows] + sizes[cols] - shared
        similar = (union > 0) & (shared / np.maximum(union, 1) >= threshold)
        for row, col in sorted(zip(rows[similar], cols[similar])):
            if result.iloc[row] is None:
                result.iloc[row] = doc_ids[col]
    return result


def resolve_focus(documents: pd.DataFrame, focus: str | None) -> list[str]:
    """The doc_ids the run centres on: a doc_id, or every unit of a source file path."""
    if not focus:
        return []
    by_id = documents.loc[(documents["doc_id"] == focus) | (documents["parent_id"] == focus), "doc_id"]
    if by_id.empty:
        wanted = focus.rstrip("/")
        path = Path(os.path.normpath(config.resolve_path(wanted)))  # ./a.txt or /abs/a.txt as logged
        if path.is_relative_to(config.PROJECT_ROOT):
            wanted = path.relative_to(config.PROJECT_ROOT).as_posix()
        by_id = documents.loc[documents["location"].isin([focus.rstrip("/"), wanted]), "doc_id"]
    if by_id.empty:
        raise ValueError(f"focus: {focus!r} matches no doc_id or source file of this run; "
                         "give a doc_id from documents.parquet or a file path listed in ingest_log.csv")
    return by_id.tolist()


def write_outputs(result: IngestResult, out_dir) -> None:
    """Write documents.parquet, ingest_log.csv and cleaning.csv atomically into ``out_dir``."""
    from newslens.io import write_csv, write_parquet

    write_parquet(result.documents, out_dir / "documents.parquet")
    write_csv(result.log, out_dir / "ingest_log.csv")
    write_csv(result.changes, out_dir / "cleaning.csv")


def log_summary(log: pd.DataFrame) -> pd.DataFrame:
    """Counts of the ingest log by status and reason (duplicate targets folded together)."""
    reasons = log["reason"].fillna("").str.replace(r"^exact duplicate of .*$", "exact duplicate", regex=True)
    summary = (log.assign(reason=reasons).groupby(["status", "reason"], dropna=False)
               .size().rename("entries").reset_index())
    return summary.sort_values(["status", "entries", "reason"], ascending=[True, False, True],
                               ignore_index=True)


def change_snippets(before: str, after: str, *, context: int = 40, limit: int = 3) -> list[tuple[str, str]]:
    """Up to ``limit`` short before/after excerpts around the places cleaning changed."""
    import difflib

    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    snippets = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (before[i1:i2] + after[j1:j2]).isspace():  # also whitespace dropped or added
            continue
        snippets.append((before[max(0, i1 - context):i2 + context].strip(),
                         after[max(0, j1 - context):j2 + context].strip()))
        if len(snippets) == limit:
            break
    return snippets


def counts_over_time(documents: pd.DataFrame, *, freq: str = "W") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Documents per period and group, over the dense part of the date range.

    Returns the wide table (periods × groups) and the documents dated far from
    the rest — beyond three interquartile ranges from the quartiles, such as a
    2022 article set among 2016–2017 news — so that a few outliers do not
    stretch the axis over years. They are listed, never dropped.
    """
    dated = documents.dropna(subset=["date"])
    if dated.empty:
        return pd.DataFrame(), dated
    q1, q3 = dated["date"].quantile([0.25, 0.75])
    spread = max(q3 - q1, pd.Timedelta(days=7))
    inside = dated["date"].between(q1 - 3 * spread, q3 + 3 * spread)
    table = (dated[inside].assign(group=dated["group"].fillna("(none)"))
             .set_index("date").groupby("group").resample(freq)["doc_id"].count()
             .unstack("group", fill_value=0).sort_index())
    order = table.sum().sort_values(ascending=False).index
    return table[order], dated[~inside]
