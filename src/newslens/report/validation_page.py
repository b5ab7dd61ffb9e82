"""Validation by hand as a reader of the reports sees it: what the coders' answers say.

The topics report and the summary show :func:`validation_section` and :func:`summary_line`,
from the answers :mod:`newslens.analysis.validation` reads back; until there are any, they say
that the topics have not been validated by hand, and link the page a coder answers
(:mod:`newslens.report.validation_form`).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from newslens.analysis import validation
from newslens.analysis.validation import MIN_ANSWERS, SHARE_FLOOR, UNREADABLE_BELOW, Validation
from newslens.report.markup import escape, show_html, table_html

PAGE = "validate.html"


# ---------------------------------------------------------------- what the answers say

def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless one: "1 word question", "30 topic questions"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _interval(low: float, high: float) -> str:
    return "" if low != low else f"{low:.2f} to {high:.2f}"


def not_validated(result: Validation, params_file: str) -> str:
    """The sentence of a run without answers: not validated, and how to validate it."""
    return (f"<p>The topics have not been validated by hand yet: no coder has answered the word- and "
            f"topic-intrusion questions for this model (Chang et al. 2009). A coder answers them in "
            f'<a href="{PAGE}">the validation page</a> (about 20 minutes, offline; '
            f"<code>make validate PARAMS={escape(params_file)} CODER=name</code> builds it with their name "
            f"filled in); the file they download goes in <code>validation/{escape(result.run)}/</code>, and "
            f"the next build scores it here.</p>")


def files_html(result: Validation) -> str:
    """The answer files that were not used, each with why."""
    unused = result.files[result.files["status"] != "accepted"]
    if unused.empty:
        return ""
    items = "".join(f"<li><code>{escape(row.file)}</code>: {escape(row.status)}, {escape(row.reason)}</li>"
                    for row in unused.itertuples(index=False))
    return f"<p>Answer files not used:</p><ul>{items}</ul>"


def summary_sentence(result: Validation) -> str:
    """The validation in one or two sentences (the summary's, and the start of the topics section's)."""
    o = result.overall
    coders = f"{o['coders']} coder{'s' if o['coders'] != 1 else ''}"
    parts = []
    if o["word_answers"]:
        low, high = o["precision_ci"]
        parts.append(f"in {counted(o['word_answers'], 'word question')} they found the intruding word "
                     f"{o['precision']:.0%} of the time (95% interval {low:.0%} to {high:.0%})")
    if o["topic_answers"]:
        low, high = o["log_odds_ci"]
        parts.append(f"in {counted(o['topic_answers'], 'topic question')} they found the intruding topic "
                     f"{o['topic_found']:.0%} of the time, a mean topic log odds of {o['log_odds']:.2f} "
                     f"(95% interval {_interval(low, high)}; 0 is perfect)")
    unreadable = result.words.loc[result.words["unreadable"], "label"].tolist()
    tail = (f" {len(unreadable)} topic{'s' if len(unreadable) != 1 else ''} could not be read: "
            f"{', '.join(unreadable)}." if unreadable else "")
    return f"Validated by hand by {coders}: {'; '.join(parts)}.{tail}"


def topic_table(result: Validation) -> pd.DataFrame:
    """Per topic: the word questions' precision and the topic questions' log odds, with intervals."""
    odds = result.odds.set_index("topic")
    rows = []
    for row in result.words.itertuples(index=False):
        theirs = odds.loc[row.topic]
        rows.append({"Topic": row.topic, "Label": row.label,
                     "Intruding word found": f"{row.found} of {row.answers}" if row.answers else "",
                     "Share found": None if math.isnan(row.precision) else row.precision,
                     "Share 95% interval": _interval(row.low, row.high),
                     "Topic questions": int(theirs["answers"]),
                     "Topic log odds": None if math.isnan(theirs["log_odds"]) else theirs["log_odds"],
                     "Log odds 95% interval": _interval(theirs["low"], theirs["high"]),
                     "Readable": "no" if row.unreadable else ""})
    return pd.DataFrame(rows)


def section_html(result: Validation, params_file: str) -> str:
    """The topics report's section: the figures, per topic, and the files not used."""
    if not result.validated:
        return not_validated(result, params_file) + files_html(result)
    agreement = [f"{kind} questions {value:.2f}" for kind, value in result.agreement.items() if value is not None]
    agreed = (f" Agreement between coders (Krippendorff's alpha, 1 is full agreement): {', '.join(agreement)}."
              if agreement else " With one coder, agreement between coders cannot be measured.")
    notes = (f"<p class=\"note\">A topic is marked as not readable when its coders found the intruding word "
             f"in fewer than {UNREADABLE_BELOW:.0%} of at least {MIN_ANSWERS} answers. Topic log odds: the log "
             f"of the intruding topic's share of the document minus the log of the chosen one's "
             f"(shares below {SHARE_FLOOR:.1%} count as {SHARE_FLOOR:.1%}), by the document's main topic; "
             "intervals: Wilson for shares, bootstrap over questions for log odds.</p>")
    table = table_html(topic_table(result), numeric_format={"Share found": ".2f", "Topic log odds": ".2f"})
    return (f"<p>{escape(summary_sentence(result))}{escape(agreed)} Answers for model "
            f"{escape(result.model)}, from <code>validation/{escape(result.run)}/</code>.</p>"
            f"{table}{notes}{files_html(result)}")


def shown_params(params_file) -> str:
    """A run's params file as a reader types it: relative to the project (else params/<name>)."""
    from newslens import config

    params_file = Path(params_file)
    try:
        return params_file.resolve().relative_to(config.PROJECT_ROOT).as_posix()
    except ValueError:  # a run outside the project: its params file's name
        return f"params/{params_file.name}"


def _checked(stage_run) -> tuple[Validation, str]:
    """The answers of the stage's run, scored, and its params file as a reader types it."""
    return validation.check(stage_run), shown_params(stage_run.params_file)


def validation_section(stage_run) -> None:
    """Display the topics report's section on the validation by hand (reads and scores the answers)."""
    show_html(section_html(*_checked(stage_run)))


def summary_line(stage_run) -> None:
    """Display the summary's line on the validation by hand (reads and scores the answers)."""
    result, params_file = _checked(stage_run)
    if result.validated:
        show_html(f"<p>{escape(summary_sentence(result))} <a href=\"04-topics.html\">Per topic</a>.</p>")
    else:
        show_html(not_validated(result, params_file))
