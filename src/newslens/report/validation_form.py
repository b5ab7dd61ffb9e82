"""The page a coder answers: word- and topic-intrusion items in a ``validation`` view.

The page (``reports/<run>/validate.html``, written by ``make report`` and, with a coder's name,
``make validate``) holds the run's items (:mod:`newslens.analysis.validation_items`) as the
view's data; ``templates/newslens/validation.js`` asks them one at a time and offers the answers
as a CSV. The same view answers in a JupyterLab output (:func:`answer`, :func:`show`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from newslens.analysis.validation import SECONDS
from newslens.report.markup import escape, show_html
from newslens.report.validation_page import PAGE, counted, shown_params
from newslens.report.views import report_css, view_html

__all__ = ["PAGE", "answer", "instructions", "items_for", "no_model_page", "page_html", "show", "view_markup"]


def view_markup(data: dict[str, Any], *, label: str = "Validation by hand") -> str:
    """The items' view: a note as fallback (answering needs JavaScript), the items as data."""
    counts = pd.Series([item["kind"] for item in data["items"]], dtype=object).value_counts()
    fallback = (f'<p class="note nl-static">{len(data["items"])} items ({counts.get("word", 0)} word, '
                f'{counts.get("topic", 0)} topic). Answering them needs JavaScript; this page runs '
                "offline and sends nothing anywhere.</p>")
    return view_html("validation", data, fallback, label=label)


def instructions(data: dict[str, Any]) -> str:
    """What the coder is asked to do, in plain words, and how long it takes."""
    counts = pd.Series([item["kind"] for item in data["items"]], dtype=object).value_counts()
    words, topics = int(counts.get("word", 0)), int(counts.get("topic", 0))
    unit = str(data.get("unit") or "document")
    article = "an" if unit[:1].lower() in "aeiou" else "a"
    return (f"<p>These {counted(words + topics, 'question')} check whether people can read the run's topics "
            f"(Chang et al. 2009, “Reading Tea Leaves”). In {counted(words, '<strong>word</strong> question')}, "
            "five words are the top words of one topic and one word comes from another topic: pick the "
            f"odd one out. In {counted(topics, '<strong>topic</strong> question')}, {article} {escape(unit)} is "
            "shown with three of its main topics and one topic that is hardly in it: pick the topic that does "
            f"not belong. Answer from the words alone; guessing is fine. It takes about "
            f"{counted(max(1, data['minutes']), 'minute')} (some {SECONDS['word']} seconds a word question, "
            f"{SECONDS['topic']} a topic question).</p>"
            "<p>The page keeps your answers while it is open and sends nothing anywhere. When every "
            "question is answered, a link appears: download the file and give it to the researcher.</p>")


def page_html(data: dict[str, Any], title: str, provenance: str = "") -> str:
    """The whole page before :func:`newslens.report.views.finish_page`: head, instructions, the view
    and ``provenance`` (HTML, the pipeline's block)."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} · validation</title><style>{report_css()}</style></head><body>"
            f'<main class="jp-Notebook"><h1>Validate the topics by hand</h1>'
            f'<p class="meta">{escape(title)} · model {escape(data["model"])}</p>'
            f"{instructions(data)}{view_markup(data)}{provenance}</main></body></html>\n")


def no_model_page(title: str, run: str, provenance: str = "") -> str:
    """The page of a run without a topic model: nothing to validate."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)} · validation</title><style>{report_css()}</style></head><body>"
            f'<main class="jp-Notebook"><h1>Validate the topics by hand</h1><p>Run <code>{escape(run)}</code> '
            f"has no topic model, so there is nothing to validate.</p>{provenance}</main></body></html>\n")


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
                                f"`make report PARAMS={shown_params(run.params_file)}`")
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
    ``validation_form.answer("params/news.yaml", coder="ann")``; the download link comes at the end."""
    from newslens.params import load_run

    run = load_run(params_file)
    data = items_for(run, coder=coder, items=items)
    if data is None:
        show_html(f"<p>Run <code>{escape(run.name)}</code> has no topic model, so there is nothing to validate.</p>")
    else:
        show(data)
