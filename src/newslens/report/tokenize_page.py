"""The tokenize report (notebooks/02-tokenize.ipynb): one function per display cell.

Each function shows part of a :class:`~newslens.text.tokenization.TokenizeResult`, in the
notebook's order; none computes a number the result does not hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from newslens import config
from newslens.analysis.short_texts import ShortTexts
from newslens.report import markup, plots

if TYPE_CHECKING:
    from newslens.text.tokenization import TokenizeResult
    from newslens.wording import Words

# Tokens per document above which the histogram's axis is logarithmic: beyond a few hundred
# tokens, the long documents would squeeze the short ones into the first bars.
LOG_SCALE_ABOVE = 200


def overview(result: TokenizeResult, words: Words) -> None:
    """The run's title, and what the stage made: documents, sentences, tokens, vocabulary, stop words."""
    stats = result.stats
    markup.show_heading(result.title, level=2)
    markup.show_text(
        f"{words.count(stats['documents'])}, {stats['sentences']:,} sentences and "
        f"{stats['tokens']:,} kept tokens; a vocabulary of {stats['vocabulary']:,} terms, of which "
        f"{result.kept_phrases:,} are phrases. Lemmas are "
        f"{'on' if result.lemmatize else 'off'}; {result.stopwords:,} stop words.")
    unified, repaired = stats.get("spellings_unified", 0), stats.get("damaged_words_repaired", 0)
    markup.show_text(
        f"Spelling: {unified:,} variant{'s' if unified != 1 else ''} counted as one term with another "
        f"(British and American spellings both in the corpus, and house styles such as \u201cper cent\u201d "
        f"or \u201cmln\u201d; a run can keep every spelling apart). Words that lost a character upstream keep its mark (\ufffd) "
        f"and stay one word; {repaired:,} of them {'was' if repaired == 1 else 'were'} repaired to the intact "
        "form the corpus also holds.", css_class="note")


def top_terms(result: TokenizeResult) -> None:
    """The most frequent kept terms, as bars."""
    plots.barh(result.top_terms, title="Most frequent terms", xlabel="occurrences")


def top_phrases(result: TokenizeResult) -> None:
    """The most frequent kept phrases, as bars, or a note that no phrase was learned."""
    if result.top_phrases.empty:
        markup.show_text("No phrase reached the run's thresholds.", css_class="note")
    else:
        plots.barh(result.top_phrases, title="Most frequent phrases", xlabel="occurrences", color=plots.PALETTE[2])


def rank_frequency(result: TokenizeResult) -> None:
    """The kept terms' frequencies by rank (Zipf)."""
    plots.zipf(result.frequencies)


def vocabulary_growth(result: TokenizeResult) -> None:
    """The vocabulary's growth over the tokens read, and its Heaps fit at display precision."""
    plots.heaps(result.heaps_curve, result.heaps_k, result.heaps_beta)
    heaps_k, heaps_beta = plots.heaps_parameters(result.heaps_k, result.heaps_beta)
    markup.show_text(f"Heaps' law fit: V = K·nᵝ with K = {heaps_k:.4g} and β = {heaps_beta:.3f}.", css_class="note")


def tokens_per_document(result: TokenizeResult, words: Words) -> None:
    """A histogram of the kept tokens per document."""
    per_doc = result.tokens_per_document
    plots.histogram(per_doc, title=f"Kept tokens per {words.unit}", xlabel="tokens",
                    log=per_doc.max() > LOG_SCALE_ABOVE)


def stopword_sources(result: TokenizeResult) -> None:
    """How many stop words each source gives, and the corpus-derived ones by name."""
    markup.show_table(result.stopword_counts)
    if result.corpus_stopwords:
        markup.show_text("Corpus-derived: " + ", ".join(result.corpus_stopwords), css_class="note")


def learned_formulas(result: TokenizeResult) -> None:
    """The formulas learned from the corpus with their evidence, and why a detector skipped."""
    for note in result.formula_notes:
        markup.show_text(f"Formulas, {note}.", css_class="note")
    if len(result.formulas):
        markup.show_table(result.formulas)
    elif not result.formula_notes:
        markup.show_text("No formula met the rules in this run.", css_class="note")


def odd_input(result: TokenizeResult) -> None:
    """The odd documents and the tokens each filter dropped, counted."""
    markup.show_table(result.odd_input)


def medium_markers(result: TokenizeResult, words: Words) -> None:
    """Whether the corpus is one of short texts, and the markers of the medium its texts hold."""
    texts = ShortTexts.of_median(result.stats["median_tokens_per_document"])
    markup.show_text(f"The corpus was {texts.evidence(words.unit)}.", css_class="note")
    markup.show_table(result.markers)


def focus_document(result: TokenizeResult, words: Words) -> None:
    """The focus document (or the run's first), one line per sentence as the later stages see it."""
    markup.show_text(f"{'Focus' if result.focus else 'The first ' + words.unit}: {result.focus_title}",
                     css_class="note")
    markup.show_html(markup.tokens_html(result.focus_sentences, result.focus_display))


def saved_files(run) -> None:
    """What the stage saves for the later stages: the small files to download, the large ones named
    as local outputs of a build, with the command that writes them."""
    folder, params_file = run.processed_dir, config.relative_to_root(run.params_file)
    stopwords = markup.download_link(folder / "stopwords.txt", "the stop-word list")
    phrases = markup.download_link(folder / "phrases.csv", "the phrases found", "text/csv")
    local = " and ".join(f"<code>{markup.escape(config.relative_to_root(folder / name))}</code>"
                         for name in ("tokens.parquet", "vocabulary.parquet"))
    markup.show_html(f"<p>Saved with this report: {stopwords}; {phrases}. The tokens and the vocabulary are "
                     f"too large to ship in a page: they are local outputs of a build, {local}, written by "
                     f"<code>make report PARAMS={markup.escape(params_file)}</code>.</p>")
