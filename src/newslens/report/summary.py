"""Stage 05: the one-page summary, read from the earlier stages' outputs.

Nothing here computes a new result: :func:`run` loads the saved tables and turns them
into short plain-language sentences for a reader who never saw the notebooks, and the
tables and series its charts show (:class:`SummaryResult`); the stage writes no data.
The sentences use the run's own nouns (:class:`newslens.wording.Words`: "3,824
articles from 9 outlets", "1 speech"), and a run without a focus document gets
an overview of the corpus instead of sections about a focus it does not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from newslens.corpus.focus import resolve_focus
from newslens.analysis import topic_explorer_data
from newslens.analysis import topic_views
from newslens.analysis.limits import read_limits
from newslens.report import distinctive, limits_prose, prose
from newslens.report.distinctive import group_sizes, is_missing_group
from newslens.report.robustness import robustness_sentence
from newslens.files import read_parquet
from newslens.wording import Words

if TYPE_CHECKING:
    from newslens.corpus.periods import Resolution
    from newslens.stages import StageRun

# How many topics a table shows: all of them up to this k ...
ALL_TOPICS_UP_TO = 15
# ... else the largest topics that together hold this share of the weight, and at least this many.
TOPIC_WEIGHT_SHOWN = 0.8
MIN_TOPICS_SHOWN = 10
MAX_TOPICS_SHOWN = 15  # a summary table stays one screen long; the topics report has them all
# The focus's topic-mixture chart leaves out topics below 2% of its weight: slivers no reader can
# compare (the topics report's chart cuts at 1%, with more room).
MIXTURE_SHOWN = 0.02
# The terms the summary's chart shows: a focus's few distinctive terms, or the corpus's top terms.
FOCUS_TERMS_CHARTED = 12
CORPUS_TERMS_CHARTED = 15


@dataclass
class Outputs:
    """The saved results of stages 01–04 for one run."""

    documents: pd.DataFrame
    log: pd.DataFrame
    token_stats: dict
    focus_terms: pd.DataFrame
    similar: pd.DataFrame
    keyness: pd.DataFrame
    group_sizes: pd.DataFrame  # keyness_groups.csv: every group and period, compared or why not
    topics: pd.DataFrame
    topic_periods: pd.DataFrame  # topic_periods.parquet: mean topic weight per period (topics × periods)
    k_choice: dict
    vocabulary: pd.DataFrame
    corpus_terms: pd.DataFrame
    focus_topics: pd.DataFrame  # the focus's mixture with its weak and mixed parts (empty without a focus)
    limits: dict | None = None  # limits.json: the dated span, the focus in it, the similarity floor


def load_outputs(folder: Path) -> Outputs:
    """Read every table the summary shows from ``data/processed/<run>/``."""
    return Outputs(
        documents=read_parquet(folder / "documents.parquet", without=("text",)),
        log=pd.read_csv(folder / "ingest_log.csv"),
        token_stats=json.loads((folder / "tokenize_stats.json").read_text(encoding="utf-8")),
        focus_terms=pd.read_csv(folder / "focus_keywords.csv"),
        similar=pd.read_csv(folder / "similar.csv"),
        keyness=pd.read_parquet(folder / "keyness.parquet"),
        group_sizes=pd.read_csv(folder / "keyness_groups.csv", keep_default_na=False),
        topics=pd.read_csv(folder / "topics.csv"),
        topic_periods=topic_views.read_periods(folder),
        k_choice=json.loads((folder / "k_choice.json").read_text(encoding="utf-8")),
        vocabulary=pd.read_parquet(folder / "vocabulary.parquet"),
        corpus_terms=pd.read_csv(folder / "corpus_terms.csv"),
        focus_topics=pd.read_csv(folder / "focus_topics.csv"),
        limits=read_limits(folder / "limits.json"),
    )


def _groups_clause(sizes: pd.Series, missing: int, words: Words) -> str:
    """ "from 9 outlets. The largest are …" for the corpus sentence (starts after the unit count)."""
    if sizes.empty:
        return f", and no {words.unit} names its {words.group}."
    if len(sizes) == 1:
        clause = f", {'from' if missing else 'all from'} one {words.group}, {sizes.index[0]}."
    else:
        largest = [f"{sizes.index[0]} ({words.count(int(sizes.iloc[0]))})",
                   *[f"{g} ({n:,})" for g, n in sizes.iloc[1:3].items()]]
        which = "They are" if len(sizes) <= 3 else f"The largest of the {len(sizes):,} are"
        clause = f" from {words.count(len(sizes), 'group')}. {which} {prose.listed(largest)}."
    if missing:
        no_group = f"{prose.counted(missing, words.unit)} {'has' if missing == 1 else 'have'} no {words.group}"
        clause = clause[:-1] + f"; {no_group}."
    return clause


def _dates_sentence(dates: pd.Series, words: Words, time_view: bool, limits: dict | None = None,
                    noun: str | None = None) -> str:
    """When the units date from. A focus dated outside the others' span is said apart, with the gap
    (a span from the corpus's first date to the focus's would hide it); a concentrated corpus says
    where most of its units fall (:mod:`newslens.report.limits_prose`)."""
    dated = dates.dropna()
    if dated.empty:
        lack = f"No {words.unit} carries a date"
        return lack + (", so this summary has no view over time." if time_view else ".")
    undated = len(dates) - len(dated)
    outside = limits_prose.span_sentence(limits, words, noun)
    if outside:
        return outside + (f" {prose.counted(undated, words.unit)} {'has' if undated == 1 else 'have'} no date."
                          if undated else "")
    first, last = prose.day(dated.min()), prose.day(dated.max())
    span = first if first == last else f"from {first} to {last}"
    concentrated = limits_prose.concentration_clause(limits) if limits else None
    span += f", {concentrated}" if concentrated else ""
    if len(dated) == len(dates):
        return f"{'It is' if len(dates) == 1 else 'All are'} dated {span}."
    return (f"{prose.counted(len(dated), words.unit)} {'is' if len(dated) == 1 else 'are'} dated, {span}; "
            f"{undated:,} {'is' if undated == 1 else 'are'} not.")


def _ingest_sentence(log: pd.DataFrame) -> str:
    skipped = int((log["status"] == "skipped").sum())
    duplicates = int((log["status"] == "duplicate").sum())
    merged = (f"{prose.counted(duplicates, 'exact duplicate')} {'was' if duplicates == 1 else 'were'} merged"
              if duplicates else "no exact duplicate was found")
    left = (f"{prose.counted(skipped, 'input')} {'was' if skipped == 1 else 'were'} skipped"
            if skipped else "no input was skipped")
    where = " (the ingest report lists each with its reason)" if skipped or duplicates else ""
    return prose.capitalized(f"{merged} and {left}{where}.")


def focus_sentence(out: Outputs, focus_ids: list[str]) -> str:
    """Which document the report centres on: title, group and date when known."""
    focus = out.documents[out.documents["doc_id"].isin(focus_ids)].iloc[0]
    details = [] if is_missing_group(focus["group"]) else [str(focus["group"])]
    if pd.notna(focus["date"]):
        details.append(prose.day(focus["date"]))
    title = focus["title"] if isinstance(focus["title"], str) and focus["title"] else focus["parent_id"]
    return f"Focus: “{title}”" + (f" ({', '.join(details)})." if details else ".")


def corpus_sentence(out: Outputs, words: Words, *, time_view: bool = False, noun: str | None = None,
                    focus_ids: list[str] | tuple[str, ...] = ()) -> str:
    """What the corpus is: size, groups, dates, and what was left out.

    ``time_view`` says the summary would show time, so a run without dates says it has none.
    With the run's limits (``out.limits``), a focus dated outside the other units' span is said
    with the gap, a concentrated corpus says where most units fall, and a stretch where one group
    holds nearly every unit is named; ``noun`` is what the focus is called. A group that holds
    nothing but the focus (``focus_ids``; the news run's "seed") is the focus's own source, named
    apart and not counted among the groups.

    >>> docs = pd.DataFrame({"group": ["Con", "Lab", "Con", None],
    ...                      "date": pd.to_datetime(["2001-05-01", "2003-01-02", None, None])})
    >>> log = pd.DataFrame({"status": ["ingested"] * 4 + ["duplicate"]})
    >>> print(corpus_sentence(Outputs(docs, log, *[None] * 11), Words("speech", "party")))
    The corpus holds 4 speeches from 2 parties. They are Con (2 speeches) and Lab (1); 1 speech has no party. 2 speeches are dated, from 1 May 2001 to 2 January 2003; 2 are not. 1 exact duplicate was merged and no input was skipped (the ingest report lists each with its reason).
    """
    docs = out.documents
    sizes, missing = group_sizes(docs)
    coverage = limits_prose.coverage_sentence(out.limits, words)
    own = focus_groups(docs, focus_ids)
    if own:
        focus_units = int(docs["group"].isin(own).sum())
        rest = len(docs) - focus_units
        the_focus = f"the focus {noun or words.unit}" if focus_units == 1 else f"the {focus_units:,} {words.units} of the focus"
        held = (f"The corpus holds {words.count(len(docs))}: {the_focus} (its own source, {prose.listed(own)}) "
                f"and {rest:,}")
        return (f"{held}{_groups_clause(sizes.drop(own), missing, words)} "
                f"{_dates_sentence(docs['date'], words, time_view, out.limits, noun)} "
                f"{coverage + ' ' if coverage else ''}{_ingest_sentence(out.log)}")
    return (f"The corpus holds {words.count(len(docs))}{_groups_clause(sizes, missing, words)} "
            f"{_dates_sentence(docs['date'], words, time_view, out.limits, noun)} "
            f"{coverage + ' ' if coverage else ''}{_ingest_sentence(out.log)}")


def focus_groups(documents: pd.DataFrame, focus_ids) -> list[str]:
    """The named groups that hold only focus units, when other groups hold the rest (else none).

    >>> docs = pd.DataFrame({"doc_id": ["f", "a", "b"], "group": ["seed", "BBC", "CNN"]})
    >>> focus_groups(docs, ["f"]), focus_groups(docs, []), focus_groups(docs.iloc[:1], ["f"])
    (['seed'], [], [])
    """
    if not len(focus_ids):
        return []
    named = documents[~documents["group"].map(is_missing_group)]
    in_focus = named["doc_id"].isin(list(focus_ids))
    only = sorted(set(named.loc[in_focus, "group"]) - set(named.loc[~in_focus, "group"]))
    return only if (~in_focus).any() else []


def covers_everything(out: Outputs, focus_ids: list[str]) -> bool:
    """True when the focus is every unit of the run (the seed run: one article, all its sentences)."""
    return bool(focus_ids) and set(out.documents["doc_id"]) <= set(focus_ids)


def focus_noun(words: Words, focus_ids: list[str]) -> str:
    """What the focus is called: one unit ("the focus speech"), or the document its units make up."""
    return words.unit if len(focus_ids) == 1 else "document"


def keywords_sentence(out: Outputs, display: dict[str, str], words: Words, focus_ids: list[str]) -> str:
    """The focus document's most distinctive terms, in words."""
    if out.focus_terms.empty:
        return "This run has no focus document."
    terms = [display.get(t, t) for t in out.focus_terms["term"].head(8)]
    if covers_everything(out, focus_ids):
        return (f"The focus is every {words.unit} of the run, so no other {words.unit} is there to set it apart "
                f"from: these are the terms with the most weight across its {words.units} (TF-IDF among them), "
                f"not terms that distinguish it: {prose.listed(terms)}.")
    said = f"The terms that most set the focus {focus_noun(words, focus_ids)} apart are {prose.listed(terms)}."
    rare = int((out.focus_terms["share_elsewhere"] < 0.01).sum())
    caveat = limits_prose.terms_caveat(out.limits, words, focus_noun(words, focus_ids))
    return (f"{said} {rare} of its top {len(out.focus_terms)} terms {'appears' if rare == 1 else 'appear'} "
            f"in fewer than 1% of the other {words.units}." + (f" {caveat}" if caveat else ""))


def similar_sentence(out: Outputs, words: Words, focus_ids: list[str]) -> str:
    """Where the nearest neighbours come from."""
    if out.similar.empty:
        if covers_everything(out, focus_ids):
            return f"The focus is every {words.unit} of the run, so there is no other {words.unit} to compare."
        return f"With no focus document there are no {words.units} to rank by similarity."
    labels = out.similar["group"].where(~out.similar["group"].map(is_missing_group), None)
    groups = labels.value_counts()
    parts = [f"{n} from {g}" for g, n in groups.head(4).items()]
    rest = int(groups.iloc[4:].sum())
    if rest:
        parts.append(f"{rest} from {prose.counted(len(groups) - 4, 'other ' + words.group)}")
    if labels.isna().any():
        parts.append(f"{int(labels.isna().sum())} with no {words.group}")
    best = out.similar.iloc[0]
    where = best["group"] if not is_missing_group(best["group"]) else f"no {words.group}"
    title = best["title"] if isinstance(best["title"], str) and best["title"] else best.get("doc_id", "untitled")
    floor = limits_prose.floor_sentence(out.limits, words)
    return (f"Its closest neighbour is “{title}” ({where}, similarity {best['similarity']:.2f}). "
            f"Of the {prose.counted(len(out.similar), 'most similar ' + words.unit)}, {prose.listed(parts)}."
            + (f" {floor}" if floor else ""))


def similar_table(out: Outputs, words: Words) -> pd.DataFrame:
    """The focus's most similar units as the summary lists them, each marked when it clears the floor."""
    table = out.similar[["rank", "title", "group", "date", "similarity"]].rename(columns={"group": words.group})
    return limits_prose.mark_floor(table, out.limits)


def topics_sentence(out: Outputs) -> str:
    """How many topics, why, and the largest ones."""
    if out.topics.empty:
        return f"{out.k_choice['reason']}."
    top = out.topics.head(3)
    said = (f"The topic model found {len(out.topics)} topics. {out.k_choice['reason']}. "
            f"The most prevalent are {prose.listed([f'“{r.label}” ({r.prevalence:.0%})' for r in top.itertuples()])}.")
    mixed = int(out.topics["mixed"].sum()) if "mixed" in out.topics else 0
    if mixed:
        said += (f" {prose.counted(mixed, 'topic')} {'is' if mixed == 1 else 'are'} marked mixed: among the "
                 "least coherent and least exclusive of the model, each more a blend of subjects than one.")
    incoherent = int(out.topics["incoherent"].sum()) if "incoherent" in out.topics else 0
    if incoherent:
        said += (f" {prose.counted(incoherent, 'topic')} {'is' if incoherent == 1 else 'are'} marked incoherent: "
                 f"{'its' if incoherent == 1 else 'their'} top terms appear together less often than chance "
                 "(coherence below 0), so the label names words, not a subject.")
    return said


def topics_shown(topics: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The topics a summary table shows, and the note that says where the others are.

    The rule: every topic when k ≤ 15; otherwise the largest topics (``topics`` is
    ordered by prevalence) that together hold 80% of the topic weight, never
    fewer than 10 and never more than 15. The note counts the topics left out and their share of the weight.

    >>> topics = pd.DataFrame({"topic": range(20), "prevalence": [0.3, 0.2] + [0.5 / 18] * 18})
    >>> shown, note = topics_shown(topics)
    >>> len(shown), note
    (13, 'The 7 smaller topics (19% of the weight) are in the topics report.')
    """
    if len(topics) <= ALL_TOPICS_UP_TO:
        return topics, None
    weight = topics["prevalence"].to_numpy(dtype=float)
    cumulative = weight.cumsum() / weight.sum()
    # The first topic whose running share reaches 80% (a small tolerance for rounded prevalences).
    reach = int((cumulative < TOPIC_WEIGHT_SHOWN - 1e-9).sum()) + 1
    n = min(len(topics), MAX_TOPICS_SHOWN, max(MIN_TOPICS_SHOWN, reach))
    if n == len(topics):
        return topics, None
    hidden = len(topics) - n
    share = weight[n:].sum() / weight.sum()
    smaller = "smaller topic" if hidden == 1 else f"{hidden} smaller topics"
    verb = "is" if hidden == 1 else "are"
    return topics.head(n), f"The {smaller} ({share:.0%} of the weight) {verb} in the topics report."


def corpus_terms_sentence(out: Outputs, display: dict[str, str], words: Words, n: int = 8) -> str:
    """The corpus's top terms by mean TF-IDF, in words."""
    terms = [display.get(t, t) for t in out.corpus_terms["term"].head(n)]
    return (f"Over all {words.units}, the terms with the highest mean TF-IDF weight are {prose.listed(terms)}.")


def time_sentence(resolution, over_time: pd.DataFrame, words: Words) -> str:
    """How the view over time was binned, or why there is none."""
    if over_time.shape[1] < 2:
        return f"The dated {words.units} do not span more than one {resolution.name}, so there is no time axis."
    return (f"The mean topic weight of the {words.units} of each {resolution.name}, for the topics in "
            f"the table above: {resolution.evidence}.")


def links_html() -> str:
    """Links to the detailed reports of the same run (relative, so they work from disk)."""
    from newslens.stages import detailed_reports

    items = "".join(f'<li><a href="{s.name}.html">{s.title}</a>: {s.about}</li>' for s in detailed_reports())
    return f"<ul>{items}</ul>"


# ---------------------------------------------------------------- the stage

@dataclass(frozen=True)
class SummaryResult:
    """What the summary page shows, every part read from the earlier stages' outputs."""

    title: str
    focus_ids: tuple[str, ...]        # the units the run centres on; empty without a focus
    noun: str                         # what the focus is called: its unit, or "document"
    focus: str | None                 # which document the report centres on
    corpus: str                       # what the corpus is
    terms: str                        # the focus's distinctive terms, else the corpus's top terms, in words
    top_terms: pd.Series              # their weights by display form, for the chart (TF-IDF, or mean TF-IDF)
    similar_sentence: str | None      # where the focus's nearest neighbours come from
    similar: pd.DataFrame             # rank, title, the run's group noun, date, similarity
    topics_sentence: str
    n_topics: int                     # 0 when the corpus was too small for a topic model
    topics: pd.DataFrame              # the topics a table shows: topic, label, prevalence, top_terms
    topics_note: str | None           # where the topics left out are
    explorer: dict[str, Any] | None   # the topics stage's explorer, compacted
    robustness: str | None            # how the findings hold across variants (make sensitivity)
    mixture: pd.Series | None         # the focus's topic mixture, largest first, when there is one
    mixture_sentence: str | None
    group_lines: pd.DataFrame         # each group's most over-used terms
    group_lines_note: str | None
    over_time: pd.DataFrame | None    # topic prevalence per period, topics of the table, when shown
    resolution: Resolution | None     # the periods of ``over_time``
    time_sentence: str | None
    links: str                        # HTML links to the detailed reports
    whole_run: bool = False           # the focus is every unit of the run: nothing to set it apart from

    @property
    def modelled(self) -> bool:
        """True when the run has a topic model (a corpus too small for one has none)."""
        return self.n_topics > 0


def _top_terms(out: Outputs, display: dict[str, str], focus_ids: list[str]) -> pd.Series:
    """The chart's terms by display form: the focus's by TF-IDF weight, else the corpus's by mean weight."""
    terms, column = ((out.focus_terms.head(FOCUS_TERMS_CHARTED), "score") if focus_ids
                     else (out.corpus_terms.head(CORPUS_TERMS_CHARTED), "mean_tfidf"))
    return terms.set_index(terms["term"].map(lambda t: display.get(t, t)))[column]


def _mixture(out: Outputs, focus_ids: list[str], noun: str) -> tuple[pd.Series | None, str | None]:
    """The focus's topic mixture and the sentence naming its main topic; (None, None) without both."""
    if not (focus_ids and len(out.topics)):
        return None, None
    mixture = topic_views.focus_mixture(out.focus_topics)
    said = f"The {noun} is mostly “{mixture.index[0]}” ({mixture.iloc[0]:.0%} of its weight)."
    caveats = topic_views.focus_caveats(out.focus_topics, noun, MIXTURE_SHOWN)
    return mixture, f"{said} {caveats}" if caveats else said


def _over_time(out: Outputs, shown: int, words: Words) -> tuple[pd.DataFrame, Resolution, str]:
    """Topic prevalence per period (the ``shown`` topics of the table), its periods and sentence."""
    from newslens.corpus.periods import choose_resolution

    over_time = out.topic_periods  # the topics stage's table (topic_views.prevalence_over_time)
    resolution = choose_resolution(out.documents["date"], precision=out.documents.get("date_precision"))
    return over_time.head(shown), resolution, time_sentence(resolution, over_time, words)


def run(stage_run: StageRun) -> SummaryResult:
    """Stage 05: read stages 01–04's outputs and say what they found; nothing is written."""
    out = load_outputs(stage_run.processed_dir)
    words = stage_run.words
    display = dict(zip(out.vocabulary["term"], out.vocabulary["display"]))
    focus_ids = resolve_focus(out.documents, stage_run.params.focus)
    noun = focus_noun(words, focus_ids)
    modelled = len(out.topics) > 0
    shown, topics_note = topics_shown(out.topics)
    mixture, mixture_said = _mixture(out, focus_ids, noun)
    lines, lines_note = distinctive.group_lines(out.keyness, out.group_sizes, out.documents, display, words)
    # Without a focus, the summary shows the topics over time instead of a focus's mixture.
    timed = not focus_ids and modelled and out.documents["date"].notna().any()
    over_time, resolution, time_said = _over_time(out, len(shown), words) if timed else (None, None, None)
    return SummaryResult(
        title=stage_run.params.title, focus_ids=tuple(focus_ids), noun=noun,
        focus=focus_sentence(out, focus_ids) if focus_ids else None,
        corpus=corpus_sentence(out, words, time_view=not focus_ids and modelled, noun=noun, focus_ids=focus_ids),
        terms=(keywords_sentence(out, display, words, focus_ids) if focus_ids
               else corpus_terms_sentence(out, display, words)),
        top_terms=_top_terms(out, display, focus_ids),
        similar_sentence=similar_sentence(out, words, focus_ids) if focus_ids else None,
        similar=similar_table(out, words),
        topics_sentence=topics_sentence(out), n_topics=len(out.topics),
        topics=shown[["topic", "label", "prevalence", "top_terms"]], topics_note=topics_note,
        explorer=topic_explorer_data.compact(topic_explorer_data.load(stage_run.input("topic_explorer.json"))),
        robustness=robustness_sentence(stage_run.run_file("sensitivity"), f"focus {noun}"),
        mixture=mixture, mixture_sentence=mixture_said, group_lines=lines, group_lines_note=lines_note,
        over_time=over_time, resolution=resolution, time_sentence=time_said, links=links_html(),
        whole_run=covers_everything(out, focus_ids))
