"""The ingest report (stage 01): one function per display cell of ``notebooks/01-ingest.ipynb``.

Each shows part of an :class:`newslens.corpus.ingest.IngestResult` and computes nothing:
the numbers are the stage's, these functions only word, format and draw them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from newslens.corpus.citations import run_citations
from newslens.corpus.near_duplicates import NEAR_DUPLICATE_JACCARD
from newslens.corpus.periods import format_date
from newslens.report import markup, plots, prose
from newslens.report.distinctive import is_missing_group

if TYPE_CHECKING:
    from newslens.corpus.ingest import IngestResult
    from newslens.wording import Words

LOG_SCALE_ABOVE_WORDS = 200  # a longest unit over this many words spreads short and long ones: log axis
LENGTH_DECIMALS = 1  # words per unit: a tenth of a word is as fine as a mean or a spread is read
# A chart names as many groups as it can show legibly: the bars the largest SHOWN_GROUPS, the
# stacked chart over time as many as the palette has colours (the rest stacked as one band).
SHOWN_GROUPS = 25
STACKED_GROUPS = len(plots.PALETTE)


def overview(result: IngestResult, words: Words) -> None:
    """The run's title, what it holds and what the log accounts for; the notes, and why it stops if empty."""
    markup.show_heading(result.title, level=2)
    first, last = (None, None) if result.first_date is None else \
        (format_date(result.first_date), format_date(result.last_date))
    span = "with no dates" if first is None else f"dated {first}" if first == last else f"dated from {first} to {last}"
    markup.show_text(
        f"This run holds {words.count(result.n_units)}{by_source(result.documents, words)}, {span}. "
        f"The ingest log accounts for {result.n_entries:,} input files and rows: "
        + ", ".join(f"{n:,} {status}" for status, n in result.status_counts.items())
        + ".")
    for note in result.notes:
        markup.show_text(note[0].upper() + note[1:] + ".", css_class="note")
    if result.empty:
        markup.show_text(result.empty[0].upper() + result.empty[1:]
                         + ". The run stops here; the log below says what was read.", css_class="note")


def by_source(documents, words: Words) -> str:
    """Where the units come from: " from 9 outlets", or per source when there are several
    (" from 2 sources: 3,780 from builtin:news-articles (9 outlets) and 1 from data/raw/seed/ (outlet seed)").

    Groups are counted by source, so a source that is its own group (the news run's seed) is never
    counted among the other source's groups.
    """
    def groups(frame) -> str:
        named = sorted({g for g in frame["group"] if not is_missing_group(g)})
        if not named:
            return f"no {words.group}"
        return f"{words.group} {named[0]}" if len(named) == 1 else words.count(len(named), "group")

    if documents.empty or "source" not in documents:
        return ""
    sources = list(dict.fromkeys(documents["source"]))
    if len(sources) == 1:
        return f" from {groups(documents)}"
    parts = [f"{int((documents['source'] == s).sum()):,} from {s} ({groups(documents[documents['source'] == s])})"
             for s in sources]
    return f" from {len(sources)} sources: {prose.listed(parts)}"


def sources(run_sources) -> None:
    """Where each source of the run comes from: what to cite and its licence."""
    markup.show_heading("Sources and how to cite them", level=3)
    markup.show_html(markup.citations_html(run_citations(run_sources)))


def group_sizes(result: IngestResult, words: Words) -> None:
    """A bar chart of the units per group (nothing when the run has no units)."""
    if not len(result.per_group):
        return
    shown = result.per_group.iloc[:SHOWN_GROUPS]
    title = f"{words.units.capitalize()} per {words.group}"
    if len(shown) < len(result.per_group):
        rest = result.per_group.iloc[SHOWN_GROUPS:]
        title = f"{title}: the {len(shown)} largest of {len(result.per_group):,}"
        markup.show_text(f"The other {len(rest):,} {words.groups} hold {int(rest.sum()):,} {words.units} "
                         f"({int(rest.max()):,} at most); every count is in the ingest log.", css_class="note")
    plots.barh(shown, title=title, xlabel=words.units)


def over_time(result: IngestResult, words: Words) -> None:
    """The units per period, stacked by group, with the resolution's reason; a note when nothing is dated."""
    if result.over_time.empty:
        markup.show_text(f"No {words.unit} in this run carries a date.", css_class="note")
        return
    markup.show_text(f"Counted {result.resolution.reason}.", css_class="note")
    period = result.resolution.name
    plots.stacked_bars(fold_groups(result.over_time, STACKED_GROUPS, words.groups),
                       title=f"{words.units.capitalize()} per {period}, by {words.group}",
                       ylabel=f"{words.units} per {period}")


def fold_groups(table, limit: int, groups: str = "groups"):
    """``table`` (periods × groups) with at most ``limit`` columns: the largest, then one for the rest.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [1, 1], "b": [5, 0], "c": [0, 2], "d": [1, 0]})
    >>> fold_groups(t, 3).columns.tolist()
    ['b', 'a', '2 other groups']
    """
    if len(table.columns) <= limit:
        return table
    totals = table.sum().sort_values(ascending=False, kind="stable")
    kept, rest = list(totals.index[:limit - 1]), list(totals.index[limit - 1:])
    folded = table[kept].copy()
    folded[f"{len(rest):,} other {groups}"] = table[rest].sum(axis=1)
    return folded


def outside_period(result: IngestResult) -> None:
    """The units dated outside the main period, which the chart leaves out (nothing when there are none)."""
    if len(result.outside):
        markup.show_table(result.outside.assign(date=result.outside["date"].map(format_date)),
                          caption="Dated outside the main period (not in the chart)")


def length_histogram(result: IngestResult, words: Words) -> None:
    """A histogram of words per unit, on a log scale when the longest is long (nothing without units)."""
    if result.n_units:
        plots.histogram(result.documents["n_words"], title=f"Words per {words.unit}", xlabel="words",
                        log=result.lengths["max"] > LOG_SCALE_ABOVE_WORDS)


def length_table(result: IngestResult) -> None:
    """Words per unit in one row: count, mean, spread, quartiles, extremes (nothing without units)."""
    if result.n_units:
        markup.show_table(result.lengths.round(LENGTH_DECIMALS).rename("words").to_frame().T
                          .reset_index(drop=True))


def languages(result: IngestResult, words: Words) -> None:
    """The units by language and how it was decided, and the warning when most are in another language."""
    markup.show_table(result.languages,
                      caption=f"{words.units.capitalize()} by language (run language: {result.run_language})")
    if result.language_warning:
        markup.show_text("Warning: " + result.language_warning + ".", css_class="note")


# Each change cleaning counts, as a reader reads it.
CHANGE_WORDS = {"apostrophe_repaired": "apostrophe repaired (a \u201c?\u201d that stood for \u2019)",
                "quote_repaired": "quotation mark repaired",
                "dash_repaired": "dash repaired",
                "question_mark_kept": "question mark kept as written",
                "stray_period_removed": "stray full stop removed",
                "lowercase_sentence_joined": "sentence broken before a lower-case word joined",
                "period_to_comma": "full stop before a clause made a comma",
                "lost_character_marked": "lost character marked \ufffd",
                "damaged_word_kept": "word with a lost character kept as it is"}


def cleaning(result: IngestResult) -> None:
    """How often each kind of repair was made, and a few before/after excerpts."""
    changes = result.changes.assign(kind=result.changes["kind"].map(lambda k: CHANGE_WORDS.get(k, k.replace("_", " "))))
    markup.show_table(changes.rename(columns={"kind": "change", "count": "times"}))
    markup.show_table(result.excerpts, caption="A few before/after excerpts")


def ingest_log(result: IngestResult, words: Words) -> None:
    """The log's counts by status and reason, and how many units are flagged as near-duplicates."""
    markup.show_table(result.log_summary)
    markup.show_html(f"<p>{markup.download_link(result.log_path, 'Download the full log, row by row', 'text/csv')}"
                     "</p>")
    near, one = result.near_duplicates, result.near_duplicates == 1
    markup.show_text(f"{words.count(near)} {'is' if one else 'are'} flagged as "
                     f"{'a near-duplicate' if one else 'near-duplicates'} of an earlier one "
                     f"(word 5-gram Jaccard ≥ {NEAR_DUPLICATE_JACCARD}); {'it is' if one else 'they are'} kept.",
                     css_class="note")
