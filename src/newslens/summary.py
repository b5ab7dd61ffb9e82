"""Stage 05: the one-page summary, read from the earlier stages' outputs.

Nothing here computes a new result: it loads the saved tables and turns them
into short plain-language sentences for a reader who never saw the notebooks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd



@dataclass
class Outputs:
    """The saved results of stages 01–04 for one run."""

    documents: pd.DataFrame
    log: pd.DataFrame
    token_stats: dict
    focus_terms: pd.DataFrame
    similar: pd.DataFrame
    keyness: pd.DataFrame
    topics: pd.DataFrame
    doc_topics: pd.DataFrame
    k_choice: dict
    vocabulary: pd.DataFrame


def load_outputs(folder: Path) -> Outputs:
    """Read every table the summary shows from ``data/processed/<run>/``."""
    return Outputs(
        documents=pd.read_parquet(folder / "documents.parquet"),
        log=pd.read_csv(folder / "ingest_log.csv"),
        token_stats=json.loads((folder / "tokenize_stats.json").read_text(encoding="utf-8")),
        focus_terms=pd.read_csv(folder / "focus_keywords.csv"),
        similar=pd.read_csv(folder / "similar.csv"),
        keyness=pd.read_parquet(folder / "keyness.parquet"),
        topics=pd.read_csv(folder / "topics.csv"),
        doc_topics=pd.read_parquet(folder / "doc_topics.parquet"),
        k_choice=json.loads((folder / "k_choice.json").read_text(encoding="utf-8")),
        vocabulary=pd.read_parquet(folder / "vocabulary.parquet"),
    )


def _list(items: list[str]) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def focus_sentence(out: Outputs, focus_ids: list[str]) -> str:
    """Which document the report centres on: title, group and date when known."""
    focus = out.documents[out.documents["doc_id"].isin(focus_ids)].iloc[0]
    details = [str(v) for v in (focus["group"],) if isinstance(v, str) and v]
    if pd.notna(focus["date"]):
        details.append(f"{focus['date']:%d %B %Y}")
    title = focus["title"] if isinstance(focus["title"], str) and focus["title"] else focus["parent_id"]
    return f"Focus: “{title}”" + (f" ({', '.join(details)})." if details else ".")


def corpus_sentence(out: Outputs, unit: str) -> str:
    """What the corpus is: size, groups, dates, and what was left out."""
    docs = out.documents
    groups = docs["group"].fillna("(none)").value_counts()
    dated = docs["date"].dropna()
    span = (f" from {dated.min():%d %B %Y} to {dated.max():%d %B %Y}" if len(dated) else "")
    skipped = int((out.log["status"] == "skipped").sum())
    duplicates = int((out.log["status"] == "duplicate").sum())
    return (f"The corpus holds {len(docs):,} {unit}s in {len(groups)} group(s){span}. "
            f"The largest groups are {_list([f'{g} ({n:,})' for g, n in groups.head(3).items()])}. "
            f"{duplicates:,} exact duplicates were merged and {skipped:,} inputs were skipped "
            f"(each listed with its reason in the ingest report).")


def keywords_sentence(out: Outputs, display: dict[str, str]) -> str:
    """The focus document's most distinctive terms, in words."""
    if out.focus_terms.empty:
        return "This run has no focus document."
    terms = [display.get(t, t) for t in out.focus_terms["term"].head(8)]
    rare = out.focus_terms[out.focus_terms["share_elsewhere"] < 0.01]
    return (f"The terms that most set the focus article apart are {_list(terms)}. "
            f"{len(rare)} of its top {len(out.focus_terms)} terms appear in fewer than 1% of the "
            "other documents.")


def similar_sentence(out: Outputs) -> str:
    """Where the nearest neighbours come from."""
    if out.similar.empty:
        return "With no focus document there are no neighbours to list."
    groups = out.similar["group"].value_counts()
    best = out.similar.iloc[0]
    return (f"Its closest neighbour is “{best['title']}” ({best['group']}, similarity "
            f"{best['similarity']:.2f}). Of the {len(out.similar)} most similar documents, "
            f"{_list([f'{n} from {g}' for g, n in groups.items()])}.")


def topics_sentence(out: Outputs) -> str:
    """How many topics, why, and the largest ones."""
    top = out.topics.head(3)
    return (f"The topic model found {len(out.topics)} topics. {out.k_choice['reason']}. "
            f"The most prevalent are {_list([f'“{r.label}” ({r.prevalence:.0%})' for r in top.itertuples()])}.")


def outlet_lines(out: Outputs, display: dict[str, str], n: int = 5) -> pd.DataFrame:
    """Each group's most over-used terms, one row per group."""
    table = out.keyness[(out.keyness["by"] == "group") & (out.keyness["direction"] == "over")]
    if table.empty:
        return pd.DataFrame(columns=["group", "distinctive terms"])
    rows = (table.sort_values(["group", "rank"]).groupby("group").head(n).groupby("group")["term"]
            .agg(lambda terms: ", ".join(display.get(t, t) for t in terms)))
    return rows.rename("distinctive terms").reset_index()


def links_html() -> str:
    """Links to the detailed reports of the same run (relative, so they work from disk)."""
    from newslens.stages import detailed_reports

    items = "".join(f'<li><a href="{s.name}.html">{s.title}</a>: {s.about}</li>' for s in detailed_reports())
    return f"<ul>{items}</ul>"
