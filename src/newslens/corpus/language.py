"""The language of each document: detected (py3langid), decided against the run's language, counted.

Every document's language is detected (:func:`detect_language`) and stored with its
confidence; ingest skips or keeps those in another language (``other_languages``), and
its report counts them (:func:`language_counts`) and warns when most of a corpus is in
one other language (:func:`language_warning`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

# py3langid 0.4.0 (a maintained fork of langid.py: naive Bayes over byte n-grams, 97 languages,
# a 4.6 MB wheel, numpy only) rather than lingua-language-detector 2.2.0 (more accurate on
# short texts, but its models take hundreds of MB and its accuracy matters least where we need
# it: a document of a few sentences). Measured here: 1,000 news articles (3.6 M characters) in
# 6.1 s whole, 1.7 s to load the model once per process; at most DETECT_CHARS characters are
# read per document. The confidence is the normalised probability, rounded (the same on every CPU).
MIN_WORDS_TO_DETECT = 8  # fewer words: no reliable detection; taken as the run's language
MIN_CONFIDENCE = 0.9  # a language other than the run's below this is taken as the run's (uncertain)
DETECT_CHARS = 2_000  # the start of a document is enough to tell its language
MOSTLY_OTHER_SHARE = 0.5  # a corpus more than this share in one other language gets a warning


class Detected(NamedTuple):
    """A document's language: what the run takes it as, what the detector said, and how sure it was."""

    language: str  # the run's language unless another was detected with confidence
    detected: str | None  # the detector's answer; None when the text is too short to detect
    confidence: float | None

    @property
    def how(self) -> str:
        if self.detected is None:
            return f"too short to detect (under {MIN_WORDS_TO_DETECT} words): taken as the run's language"
        if self.detected != self.language:
            return (f"detected {self.detected} below {MIN_CONFIDENCE:.0%} confidence: "
                    "taken as the run's language")
        return "detected"


def _identifier():
    from newslens.corpus.language_id import identifier  # numba: imported where texts are detected

    return identifier()


def detect_language(text: str, run_language: str) -> Detected:
    """The language of one text (py3langid), decided against the run's language.

    Lowercased first (the model reads an all-capitals heading as another language), and
    only its first :data:`DETECT_CHARS` characters. A text of fewer than
    :data:`MIN_WORDS_TO_DETECT` words is not detected and is taken as the run's language,
    and so is another language detected with less than :data:`MIN_CONFIDENCE`.

    >>> detect_language("Die Bundesregierung hat am Mittwoch einen Gesetzentwurf zur Rente beschlossen.", "de")
    Detected(language='de', detected='de', confidence=0.98)
    >>> detect_language("Ja.", "de").how
    "too short to detect (under 8 words): taken as the run's language"
    """
    head = text[:DETECT_CHARS]
    if len(head.split(None, MIN_WORDS_TO_DETECT)) < MIN_WORDS_TO_DETECT:
        return Detected(run_language, None, None)
    found, confidence = _identifier().classify(head.lower())
    confidence = round(float(confidence), 2)
    if found != run_language and confidence < MIN_CONFIDENCE:
        return Detected(run_language, found, confidence)
    return Detected(found, found, confidence)


def skip_reason(found: Detected, run_language: str) -> str:
    """The ingest log's reason for a document skipped for its language."""
    return f"detected language {found.detected} ({found.confidence:.2f}), run language {run_language}"


def language_counts(documents: pd.DataFrame, log: pd.DataFrame | None = None) -> pd.DataFrame:
    """Units by the language the run takes them as and how that was decided; skipped documents too."""
    taken = documents["language"].fillna("")
    detected = documents["detected_language"]
    how = np.where(detected.isna(), "too short to detect: taken as the run's language",
                   np.where(detected.to_numpy() == taken.to_numpy(), "detected",
                            "uncertain: taken as the run's language"))
    counts = (pd.DataFrame({"language": taken, "how": how}).groupby(["language", "how"]).size()
              .rename("units").reset_index())
    if log is not None:
        skipped = log.loc[(log["status"] == "skipped") & log["reason"].fillna("").str.startswith("detected language ")]
        if len(skipped):
            langs = skipped["reason"].str.extract(r"^detected language (\S+)")[0]
            extra = langs.value_counts().rename("units").rename_axis("language").reset_index()
            extra["how"] = "detected: skipped (other_languages: skip)"
            counts = pd.concat([counts, extra[["language", "how", "units"]]], ignore_index=True)
    return counts.sort_values(["units", "language", "how"], ascending=[False, True, True], ignore_index=True)


def language_warning(counts: pd.DataFrame, run_language: str) -> str | None:
    """A warning when most of the corpus (skipped documents included) is in one other language."""
    total = int(counts["units"].sum())
    if not total:
        return None
    by_language = counts.groupby("language")["units"].sum()
    other = by_language.drop(run_language, errors="ignore")
    if other.empty:
        return None
    language, n = other.idxmax(), int(other.max())
    if n / total <= MOSTLY_OTHER_SHARE:
        return None
    return (f"most of this corpus is not in the run's language ({run_language}): {n:,} of {total:,} "
            f"units ({n / total:.0%}) are detected as {language}; set `language: {language}` if that is "
            "the corpus's language")
