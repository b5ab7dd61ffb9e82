"""Validation by hand as a reader sees it: the page a coder answers, and what the answers say.

The page (``reports/<run>/validate.html``, written by ``make validate``) holds the run's items
(:mod:`newslens.analysis.validation_items`) in a ``validation`` view
(``templates/newslens/validation.js``). The same view answers in a JupyterLab output
(:func:`show`). The topics report and the summary show :func:`validation_section`, from the
answers :mod:`newslens.analysis.validation` read back; until there are any, they say that the
topics have not been validated by hand, and how to do it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from newslens.analysis import validation
from newslens.analysis.validation import MIN_ANSWERS, SECONDS, SHARE_FLOOR, UNREADABLE_BELOW, Validation
from newslens.report.markup import escape, show_html, table_html
from newslens.report.views import report_css, view_html

PAGE = "validate.html"


# ---------------------------------------------------------------- the page a coder answers

def view_markup(data: dict[str, Any], *, label: str = "Validation by hand") -> str:
    """The items' view: a note as fallback (answering needs JavaScript), the items as data."""
    counts = pd.Series([item["kind"] for item in data["items"]], dtype=object).value_counts()
    fallback = (f'<p class="note nl-static">{len(data["items"])} items ({counts.get("word", 0)} word, '
                f'{counts.get("topic", 0)} topic). Answering them needs JavaScript; this page runs '
                "offline and sends nothing anywhere.</p>")
    return view_html("validation", data, fallback, label=label)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def instructions(data: dict[str, Any]) -> str:
    """What the coder is asked to do, in plain words, and how long it takes."""
    counts = pd.Series([item["kind"] for item in data["items"]], dtype=object).value_counts()
    words, topics = int(counts.get("word", 0)), int(counts.get("topic", 0))
    unit = str(data.get("unit") or "document")
    article = "an" if unit[:1].lower() in "aeiou" else "a"
    return (f"<p>These {_count(words + topics, 'question')} check whether people can read the run's topics "
            f"(Chang et al. 2009, “Reading Tea Leaves”). In {_count(words, '<strong>word</strong> question')}, "
            "five words are the top words of one topic and one word comes from another topic: pick the "
            f"odd one out. In {_count(topics, '<strong>topic</strong> question')}, {article} {escape(unit)} is "
            "shown with three of its main topics and one topic that is hardly in it: pick the topic that does "
            f"not belong. Answer from the words alone; guessing is fine. It takes about "
            f"{_count(max(1, data['minutes']), 'minute')} (some {SECONDS['word']} seconds a word question, "
            f"{SECONDS['topic']} a topic question).</p>"
            "<p>The page keeps your answers while it is open and sends nothing anywhere. When every "
            "question is answered, a link appears: download the file and give it to the researcher.</p>")


def page_html(data: dict[str, Any], title: str) -> str:
    """The whole page before :func:`newslens.report.views.finish_page`: head, instructions, the view."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} · validation</title><style>{report_css()}</style></head><body>"
            f'<main class="jp-Notebook"><h1>Validate the topics by hand</h1>'
            f'<p class="meta">{escape(title)} · model {escape(data["model"])}</p>'
            f"{instructions(data)}{view_markup(data)}</main></body></html>\n")


def no_model_page(title: str, run: str) -> str:
    """The page of a run without a topic model: nothing to validate."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)} · validation</title><style>{report_css()}</style></head><body>"
            f'<main class="jp-Notebook"><h1>Validate the topics by hand</h1><p>Run <code>{escape(run)}</code> '
            "has no topic model, so there is nothing to validate.</p></main></body></html>\n")


def items_for(run, *, coder: str = "", items: int | None = None) -> dict[str, Any] | None:
    """The items of ``run`` (a :class:`newslens.params.Run`) as the view's data; None without a model.

    ``items`` topic-intrusion items (default :data:`newslens.analysis.validation_items.TOPIC_ITEMS`).
    """
    import json

    from newslens import stages
    from newslens.analysis import validation_items
    from newslens.wording import run_words

    identities = stages.run_file_path(stages.stage("04-topics"), "identities", run.name, run.params_file)
    if not (run.processed_dir / "doc_topics.parquet").exists() or not identities.exists():
        raise FileNotFoundError(f"run {run.name} has no topics yet: build them first with "
                                f"`make report PARAMS={_shown_params(run.params_file)}`")
    if not json.loads(identities.read_text(encoding="utf-8")).get("k"):
        return None
    n_topic = validation_items.TOPIC_ITEMS if items is None else items
    data = validation_items.draw(run.name, run.processed_dir, identities, n_topic_items=n_topic)
    data.update(coder=coder.strip(), unit=run_words(run.params).unit)
    return data


def show(data: dict[str, Any]) -> None:
    """Answer the items in a notebook output (the same view as the page)."""
    show_html(instructions(data) + view_markup(data))


def answer(params_file: str, *, coder: str = "", items: int | None = None) -> None:
    """Answer a run's items in this notebook's output, as on its validation page: in JupyterLab,
    ``validation_page.answer("params/news.yaml", coder="ann")``; the download link comes at the end."""
    from newslens.params import load_run

    run = load_run(params_file)
    data = items_for(run, coder=coder, items=items)
    if data is None:
        show_html(f"<p>Run <code>{escape(run.name)}</code> has no topic model, so there is nothing to validate.</p>")
    else:
        show(data)


# ---------------------------------------------------------------- what the answers say

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
        parts.append(f"in {_count(o['word_answers'], 'word question')} they found the intruding word "
                     f"{o['precision']:.0%} of the time (95% interval {low:.0%} to {high:.0%})")
    if o["topic_answers"]:
        low, high = o["log_odds_ci"]
        parts.append(f"in {_count(o['topic_answers'], 'topic question')} they found the intruding topic "
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


def _shown_params(params_file) -> str:
    """A run's params file as a reader types it: relative to the project (else params/<name>)."""
    from newslens import config

    params_file = Path(params_file)
    try:
        return params_file.resolve().relative_to(config.PROJECT_ROOT).as_posix()
    except ValueError:  # a run outside the project: its params file's name
        return f"params/{params_file.name}"


def _checked(stage_run) -> tuple[Validation, str]:
    """The answers of the stage's run, scored, and its params file as a reader types it."""
    return validation.check(stage_run), _shown_params(stage_run.params_file)


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
